"""Drift seen: the record fields each materialization saw, against the tenant's previous partition.

Every fetching asset's materialization records the fields its records carried (`record_fields`,
tallied by the row spool: `io/fields.py`). Before its rows are written they are compared with the
fields of the tenant's latest earlier partition (up to a week back); a field that appeared or
vanished is in the materialization's metadata (`fields_appeared`, `fields_vanished`) and alerts
once (Sentry, the first tenant and run to see that change; `ark:drift:*` remembers it 30 days).

What to do about it is a policy per media, `ARK_<MEDIA>_DRIFT_POLICY` (Fivetran's "allow all /
allow columns / block"):
- `store_all` (default): records are stored as the media sent them;
- `declared_only`: only the fields the call asks for by name (`fields`; a custom report's
  `dimensions` and `metrics`) are stored, the others are listed in `record_fields_dropped`; an
  endpoint that names no fields is stored whole (its metadata says so);
- `fail`: a drift fails the asset before anything of it is written (the stored rows stay).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetRecordsFilter, DagsterInstance, MetadataValue

from ark_assets.assets.parts import Part, PartResult, StepContext
from ark_assets.fetch.outcome import Outcome
from ark_assets.io.fields import FieldTally
from ark_assets.io.rows import Row
from ark_assets.media.api import ApiSpec
from ark_assets.media.declare import AccountDataset, MediaDefinition
from ark_assets.partitions import partition_key, split_key
from ark_assets.settings import media_settings
from ark_assets.settings.media import DRIFT_POLICIES

POLICIES = DRIFT_POLICIES
STORE_ALL, DECLARED_ONLY, FAIL = POLICIES
FIELDS_KEY = "record_fields"
LOOK_BACK_DAYS = 7
ALERTED_FOR_S = 30 * 86_400
NESTED = ("dimensions", "metrics")  # request lists naming a record's nested fields (custom reports)


def drift_policy(media: MediaDefinition) -> str:
    """`ARK_<MEDIA>_DRIFT_POLICY` (the settings check it against POLICIES)."""
    return media_settings(media.name).drift_policy


def declared_fields(api: ApiSpec, dataset: AccountDataset, day: date) -> frozenset[str] | None:
    """The record fields a dataset's call asks for by name on `day` (None: it names none)."""
    endpoint = api.endpoint(dataset.endpoint)
    params: dict[str, Any] = {**endpoint.fixed_params, **dataset.params(day)}
    if endpoint.call_params is not None:
        params |= dict(endpoint.call_params(params))
    names = set(params.get("fields") or ())
    names |= {f"{group}.{name}" for group in NESTED for name in params.get(group) or ()}
    return frozenset(names) or None


def _keep(record: Any, declared: frozenset[str], dropped: set[str]) -> Any:
    if not isinstance(record, dict):
        return record
    kept: dict[str, Any] = {}
    for key, value in record.items():
        inner = {n.split(".", 1)[1] for n in declared if n.startswith(f"{key}.")}
        if key in declared:
            kept[key] = value
        elif inner and isinstance(value, dict):
            kept[key] = {k: v for k, v in value.items() if k in inner}
            dropped.update(f"{key}.{k}" for k in value if k not in inner)
        else:
            dropped.add(key)
    return kept


def by_policy(
    to_rows: Callable[[Outcome], Iterable[Row]], step: StepContext, dataset: AccountDataset, tally: FieldTally
) -> Callable[[Outcome], Iterable[Row]]:
    """`to_rows` under the step's media's policy: with `declared_only`, records keep the fields the
    call names only (the others noted in `tally.dropped`); otherwise as it is."""
    media = step.media
    if drift_policy(media) != DECLARED_ONLY:
        return to_rows
    declared = declared_fields(step.media_api.api_spec(media), dataset, step.day)
    if declared is None:
        return to_rows

    def rows(outcome: Outcome) -> Iterable[Row]:
        records = [_keep(r, declared, tally.dropped) for r in outcome.records or []]
        return to_rows(replace(outcome, records=records))

    return rows


def previous_fields(
    instance: DagsterInstance, key: AssetKey, day: date, tenant: str
) -> tuple[date, list[str]] | None:
    """The fields of the tenant's latest earlier partition that recorded any (a week back at most)."""
    partitions = [str(partition_key(day - timedelta(days=n), tenant)) for n in range(1, LOOK_BACK_DAYS + 1)]
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=key, asset_partitions=partitions), limit=LOOK_BACK_DAYS * 5
    ).records
    found = [
        (split_key(r.partition_key)[0], r.asset_materialization.metadata.get(FIELDS_KEY)) for r in records
    ]
    found = [(d, list(v.value)) for d, v in found if v is not None and v.value]
    return max(found, key=lambda f: f[0]) if found else None


def _alert_once(step: StepContext, part: Part, appeared: list[str], vanished: list[str], since: date) -> None:
    digest = hashlib.sha1(repr((appeared, vanished)).encode()).hexdigest()[:16]
    key = f"ark:drift:{step.media.name}:{part.name}:{digest}"
    sets = step.redis.sets
    with sets.errors():
        first = sets.client().set(key, "1", nx=True, ex=ALERTED_FOR_S)
    if first:
        step.run_log.sentry.capture_message(
            f"{part.key.to_user_string()}: record fields changed since {since}: "
            f"appeared {', '.join(appeared) or '-'}; vanished {', '.join(vanished) or '-'}",
            tenant=step.tenant,
            media=step.media.name,
            level="warning",
            data_date=str(step.day),
            run_id=step.run_id,
            extra={"fields_appeared": appeared, "fields_vanished": vanished},
        )


def drift_gate(
    context: AssetExecutionContext, step: StepContext, part: Part, result: PartResult
) -> str | None:
    """Record the fields `result` saw in its metadata and report a drift; with policy `fail`, the
    reason the asset must not be written (None: write it)."""
    tally, policy = result.spool.fields, drift_policy(step.media)
    seen = tally.fields
    drift: dict[str, Any] = {FIELDS_KEY: MetadataValue.json(seen), "drift_policy": policy}
    if tally.dropped:
        drift["record_fields_dropped"] = MetadataValue.json(sorted(tally.dropped))
    previous = previous_fields(context.instance, part.key, step.day, step.tenant) if seen else None
    if previous is not None:
        since, before = previous
        appeared, vanished = sorted(set(seen) - set(before)), sorted(set(before) - set(seen))
        if appeared or vanished:
            drift |= {
                "fields_appeared": ", ".join(appeared),
                "fields_vanished": ", ".join(vanished),
                "fields_since": str(since),
            }
            _alert_once(step, part, appeared, vanished, since)
            if policy == FAIL:
                return (
                    f"{part.key.to_user_string()}: record fields changed since {since} (appeared "
                    f"{', '.join(appeared) or '-'}; vanished {', '.join(vanished) or '-'}) and "
                    f"ARK_{step.media.name.upper()}_DRIFT_POLICY=fail: nothing written, the stored "
                    "rows are kept"
                )
    result.metadata |= drift
    return None
