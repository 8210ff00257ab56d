"""Injected failures and latency, drawn per request from one seeded random stream per media.

No vendor publishes failure rates or latencies; these are simulator knobs so the platform's retry,
timeout and parsing paths can be exercised on purpose (see [media.*.faults] / [media.*.latency]).
"""

from __future__ import annotations

import json
import math
import random
import threading
from dataclasses import dataclass
from enum import StrEnum

from ark_sim.config import FaultConfig, LatencyConfig, SimConfig

_5XX_STATUSES = (502, 503, 504)
_REASONS = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}


class FaultKind(StrEnum):
    """In the order they are drawn. The first three never reach the API: no body code, no headers."""

    HTTP_5XX = "http_5xx"  # an HTML error page from the gateway
    TIMEOUT = "timeout"  # the request is held, then the connection dropped
    RESET = "reset"  # the connection is closed without any response
    MALFORMED = "malformed"  # HTTP 200 whose JSON body is cut short
    BUSY = "busy"  # HTTP 200 with the media's "system busy" body code
    WRONG_TYPES = "wrong_types"  # HTTP 200, code 0, but a field of the envelope has the wrong type

    @property
    def transport(self) -> bool:
        return self in (FaultKind.HTTP_5XX, FaultKind.TIMEOUT, FaultKind.RESET)


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int | None = None  # HTTP_5XX: 502, 503 or 504
    hold_s: float = 0.0  # TIMEOUT: how long to hold the request before dropping it
    variant: int = 0  # WRONG_TYPES: which field is mistyped (see `mistype`)


class FaultInjector:
    """Decides, per request, which fault (if any) to inject and how long to delay (thread-safe)."""

    def __init__(self, config: SimConfig) -> None:
        self._faults = {m: c.faults.model_copy() for m, c in config.media.items()}
        self._latency = {m: c.latency.model_copy() for m, c in config.media.items()}
        self._seed = config.fault_seed
        self._rngs = {m: random.Random(f"{config.fault_seed}:{m}") for m in config.media}
        self._lock = threading.Lock()

    def decide(self, media: str) -> Fault | None:
        with self._lock:
            rates = self._faults[media]
            draw = self._rngs[media].random()
            status = _5XX_STATUSES[self._rngs[media].randrange(len(_5XX_STATUSES))]
        edge = 0.0
        for kind in FaultKind:
            edge += getattr(rates, kind.value)
            if draw < edge:
                if kind is FaultKind.HTTP_5XX:
                    return Fault(kind, status=status)
                if kind is FaultKind.TIMEOUT:
                    return Fault(kind, hold_s=rates.timeout_hold_s)
                if kind is FaultKind.WRONG_TYPES:
                    # drawn only for this fault, so other faults' streams stay as they were
                    with self._lock:
                        variant = self._rngs[media].randrange(WRONG_TYPE_VARIANTS)
                    return Fault(kind, variant=variant)
                return Fault(kind)
        return None

    def cursor_loop(self, media: str) -> bool:
        """Cursor-paged endpoints answer `has_more` forever with a cursor that never advances."""
        with self._lock:
            return self._faults[media].cursor_loop

    def cursor_ignored(self, media: str) -> bool:
        """Cursor-paged endpoints ignore the cursor parameters and answer in page mode (`page_info`).

        How the media pick the mode of a first cursor call that carries no cursor has no source;
        this is the answer a client must not read as the last page.
        """
        with self._lock:
            return self._faults[media].cursor_ignored

    def huge_page_kb(self, media: str) -> int:
        """Every successful answer is padded to about this many KiB (0 = off)."""
        with self._lock:
            return self._faults[media].huge_page_kb

    def latency_s(self, media: str) -> float:
        """A lognormal delay around the configured median; 0 when the median is 0."""
        with self._lock:
            latency = self._latency[media]
            if latency.median_ms <= 0:
                return 0.0
            return latency.median_ms / 1000 * math.exp(latency.sigma * self._rngs[media].gauss(0.0, 1.0))

    def update(self, media: str, **changes: float) -> dict:
        """Change fault rates and/or latency at run time; returns the media's new settings."""
        fault_keys = set(FaultConfig.model_fields)
        latency_keys = set(LatencyConfig.model_fields)
        unknown = sorted(set(changes) - fault_keys - latency_keys)
        if unknown:
            raise ValueError(
                f"unknown fault knobs {unknown}; known: {', '.join(sorted(fault_keys | latency_keys))}"
            )
        with self._lock:
            faults = FaultConfig.model_validate(
                {**self._faults[media].model_dump(), **{k: v for k, v in changes.items() if k in fault_keys}}
            )
            latency = LatencyConfig.model_validate(
                {
                    **self._latency[media].model_dump(),
                    **{k: v for k, v in changes.items() if k in latency_keys},
                }
            )
            self._faults[media], self._latency[media] = faults, latency
        return self.settings(media)

    def settings(self, media: str) -> dict:
        with self._lock:
            return {"faults": self._faults[media].model_dump(), "latency": self._latency[media].model_dump()}

    def reseed(self) -> None:
        """Restart every media's random stream (so a reset simulator replays the same faults)."""
        with self._lock:
            self._rngs = {m: random.Random(f"{self._seed}:{m}") for m in self._faults}


def error_page(status: int) -> bytes:
    """The HTML a front proxy answers a 5xx with (the media's JSON never gets this far)."""
    title = f"{status} {_REASONS.get(status, 'Error')}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
        f"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    ).encode()


def truncate(body: bytes) -> bytes:
    """A JSON body cut in the middle, so it no longer parses."""
    return body[: max(1, len(body) // 2)]


# How `mistype` breaks a successful body; the variant is drawn per faulty answer.
WRONG_TYPE_VARIANTS = 4
_PAGING_KEYS = ("page_info", "cursor_page_info", "cursor_info")


def mistype(body: dict, variant: int, code_key: str = "code") -> dict:
    """A successful body with one field of the wrong type (HTTP 200, still "code 0" to a careless eye).

    0: the code as a string ("0"); 1: `data` as a JSON string of itself; 2: the record list inside
    `data` as an object keyed by position; 3: the paging numbers (page, total_page, cursor,
    has_more) as strings. Records themselves are left alone (bad records: `tamper.py`).
    A variant that does not apply to the body (no list, no paging) falls back to 0.
    """
    body = json.loads(json.dumps(body))  # a deep copy
    data = body.get("data")
    if variant == 1 and data is not None:
        body["data"] = json.dumps(data, ensure_ascii=False)
        return body
    if variant == 2:
        # only a list inside `data`: a bare `data` list as an object would read as one record,
        # which is a bad record (docs/RELIABILITY.md, "Bad input"), not a mistyped envelope
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(value, list):
                    data[key] = {str(i): r for i, r in enumerate(value)}
                    return body
    if variant == 3 and isinstance(data, dict):
        info = next((data[k] for k in _PAGING_KEYS if isinstance(data.get(k), dict)), None)
        if info is not None:
            for key in ("page", "total_page", "cursor", "has_more"):
                if key in info:
                    info[key] = str(info[key])
            return body
    body[code_key] = str(body[code_key])
    return body


def pad(body: dict, kib: int) -> dict:
    """A successful body whose records carry a `remark` of filler, about `kib` KiB in all.

    The filler goes into every record (so the stored rows grow too), or into `data` itself when
    the answer is one object (jrtt funds).
    """
    data = body.get("data")
    records: list = []
    if isinstance(data, list):
        records = [r for r in data if isinstance(r, dict)]
    elif isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list) and any(isinstance(r, dict) for r in v)]
        records = [r for r in lists[0] if isinstance(r, dict)] if lists else [data]
    if not records or kib <= 0:
        return body
    share = max(1, kib * 1024 // len(records))
    for record in records:
        record["remark"] = "x" * share
    return body
