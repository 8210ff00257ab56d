"""Deterministic bad answers: one endpoint (optionally one source) answers with a tampered body.

Random faults (`faults.py`) exercise retries; these rules exercise *validation*: a record with a
field missing, a null id, an id beyond int64, negative money, a body code no table knows. A rule
applies to every matching successful answer until it is cleared, so a test knows exactly which
account gets the bad answer (see docs/media/simulator.md, "Tampered answers").
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ark_sim.common import Outgoing, dumps


@dataclass(frozen=True)
class TamperRule:
    """How one endpoint's answers are altered.

    Args:
        endpoint: the endpoint name (`funds/get`, `advertiser/fund/get`, ...).
        match: query parameters the request must carry with exactly these values (e.g.
            `{"account_id": "123"}`); empty = every request to the endpoint.
        set_fields: fields set on the answer's first record (None becomes JSON null). On a list of
            bare ids (jrtt `agent/advertiser/select`), `id` replaces the first id.
        drop_fields: fields removed from the first record.
        code: answer this body code instead, as the media answers it (its envelope, message and
            trace id; no data): how a test gets a code the simulator never answers by itself
            (Tencent 30104, 11019, 11008; jrtt 40300, 40301, ...). The quota was used all the same.
    """

    endpoint: str
    match: Mapping[str, str] = field(default_factory=dict)
    set_fields: Mapping[str, Any] = field(default_factory=dict)
    drop_fields: tuple[str, ...] = ()
    code: int | None = None

    def matches(self, endpoint: str, query: Mapping[str, str]) -> bool:
        return endpoint == self.endpoint and all(query.get(k) == v for k, v in self.match.items())

    def apply(self, out: Outgoing, coded: Callable[[int, Outgoing], Outgoing]) -> Outgoing:
        """The altered answer; only JSON answers with code 0 are touched. `coded` is the media's
        way of answering a code (`Api.coded`)."""
        try:
            body = json.loads(out.body)
        except ValueError:
            return out
        if not isinstance(body, dict) or body.get("code") != 0:
            return out
        if self.code is not None:
            return coded(self.code, out)
        records = _records(body.get("data"))
        if records:
            first = records[0]
            if isinstance(first, dict):
                for name in self.drop_fields:
                    first.pop(name, None)
                first.update(self.set_fields)
            elif "id" in self.set_fields:
                records[0] = self.set_fields["id"]
        return replace(out, body=dumps(body))


def _records(data: Any) -> list[Any] | None:
    """The answer's record list (`data.list`, `data` itself, or `[data]` for one-object answers)."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in ("list", "child_agent_ids"):
            if isinstance(data.get(key), list):
                return data[key]
        return [data]
    return None


class Tampering:
    """The live rules per media (thread-safe); the server applies them after every API answer."""

    def __init__(self) -> None:
        self._rules: dict[str, list[TamperRule]] = {}
        self._lock = threading.Lock()

    def add(self, media: str, rule: TamperRule) -> None:
        with self._lock:
            self._rules.setdefault(media, []).append(rule)

    def clear(self, media: str | None = None) -> None:
        with self._lock:
            if media:
                self._rules.pop(media, None)
            else:
                self._rules.clear()

    def apply(
        self,
        media: str,
        endpoint: str,
        query: Mapping[str, str],
        out: Outgoing,
        coded: Callable[[int, Outgoing], Outgoing],
    ) -> Outgoing:
        with self._lock:
            rules = [r for r in self._rules.get(media, ()) if r.matches(endpoint, query)]
        for rule in rules:
            out = rule.apply(out, coded)
        return out
