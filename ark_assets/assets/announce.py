"""The seed's `redis_channel`: when a media's step ends, one small JSON message on a Redis channel.

Downstream systems that listen (a report refresh, a data-ready flag) learn that a tenant's day of
a media is stored without polling Dagster. Off unless a channel is configured (`ARK_REDIS_CHANNEL`,
or the Redis resource's `channel` in a run's config). The message is our choice (the notes name
the parameter, not a format); version 1, one line of JSON:

    {"event": "ark.media_step.finished", "version": 1, "status": "SUCCEEDED" | "FAILED",
     "tenant": "T100117", "media": "gdt", "date": "2026-11-25", "run_id": "<Dagster run id>",
     "output": "HBASE" | "FILE" | "NONE",
     "assets": [{"asset": "gdt/funds", "rows": 6987, "accounts_failed": 0}, ...],
     "rows": 21000, "failed_accounts": ["1234", ...], "failed_accounts_total": 0,
     "not_stored": ["gdt/x"], "error": "why the step failed" | null,
     "finished_at": "2026-11-26T00:41:07Z"}

`assets` lists the step's assets that were stored, `rows` what they stored; `failed_accounts` the
accounts whose fetch failed (at most 200; `failed_accounts_total` counts all); `not_stored` the
selected assets the step did not store, and `error` why the step failed (a FAILED step). No
token, secret or address is in it (the error goes through `core/redact.py` all the same). Redis
pub/sub delivers to whoever listens at that moment and keeps nothing: a listener that must not
miss a day also reads the run log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from dagster import AssetKey, Failure, Output

from ark_assets.assets.failures import FAILED_JSON
from ark_assets.clients.errors import ServiceUnavailable
from ark_assets.core.redact import redact_text
from ark_assets.resources.redis_store import RedisResource

EVENT = "ark.media_step.finished"
MAX_LISTED = 200


@dataclass
class StepAnnouncement:
    """What one media step stored, gathered from its outputs as they pass."""

    media: str
    day: date
    tenant: str
    run_id: str
    output: str
    selected: list[AssetKey]
    assets: list[dict[str, Any]] = field(default_factory=list)
    failed_accounts: list[str] = field(default_factory=list)
    error: str | None = None

    def watch(self, events: Iterable[Any], publish: Callable[[StepAnnouncement], None]) -> Iterator[Any]:
        """Pass the step's events on, noting each stored asset; `publish` when the step has ended,
        failed or not (a step being cancelled announces nothing)."""
        try:
            for event in events:
                yield event  # Dagster stores an Output before the step goes on
                if isinstance(event, Output):
                    self._stored(event)
        except Exception as exc:
            described = exc.description if isinstance(exc, Failure) else None
            self.error = described or f"{type(exc).__name__}: {exc}"
            publish(self)
            raise
        publish(self)

    def _stored(self, output: Output) -> None:
        names = {key.to_python_identifier(): key.to_user_string() for key in self.selected}
        asset = names.get(output.output_name, output.output_name)
        value = getattr(output.metadata.get(FAILED_JSON), "value", None) or {}
        failed = [str(a) for a in value.get("account_ids", [])]
        self.failed_accounts += failed
        self.assets.append(
            {"asset": asset, "rows": getattr(output.value, "rows", 0), "accounts_failed": len(failed)}
        )

    def message(self) -> str:
        stored = {a["asset"] for a in self.assets}
        body = {
            "event": EVENT,
            "version": 1,
            "status": "FAILED" if self.error is not None else "SUCCEEDED",
            "tenant": self.tenant,
            "media": self.media,
            "date": self.day.isoformat(),
            "run_id": self.run_id,
            "output": self.output,
            "assets": self.assets,
            "rows": sum(a["rows"] for a in self.assets),
            "failed_accounts": sorted(set(self.failed_accounts))[:MAX_LISTED],
            "failed_accounts_total": len(set(self.failed_accounts)),
            "not_stored": sorted(
                k.to_user_string() for k in self.selected if k.to_user_string() not in stored
            ),
            "error": redact_text(self.error)[:1000] if self.error is not None else None,
            "finished_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        return json.dumps(body, ensure_ascii=False)


def publisher(redis: RedisResource, log: Any) -> Callable[[StepAnnouncement], None]:
    """Publishes on the Redis resource's `channel` (nothing when it is empty, or when the step ran no
    asset: a check evaluated alone). A Redis that is down costs the announcement, not the stored
    day: it is logged."""

    def publish(announcement: StepAnnouncement) -> None:
        if not redis.channel or not announcement.selected:
            return
        try:
            listeners = redis.sets.publish(redis.channel, announcement.message())
        except ServiceUnavailable as exc:
            log.warning(
                f"the step's announcement on Redis channel {redis.channel!r} was not published: {exc}"
            )
            return
        log.info(f"announced on Redis channel {redis.channel!r} ({listeners} listening)")

    return publish
