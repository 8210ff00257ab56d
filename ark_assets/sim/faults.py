"""Injected failures and latency, drawn per request from one seeded random stream per media.

No vendor publishes failure rates or latencies; these are simulator knobs so the platform's retry,
timeout and parsing paths can be exercised on purpose (see [media.*.faults] / [media.*.latency]).
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass
from enum import StrEnum

from ark_assets.media import Media
from ark_assets.sim.config import FaultConfig, LatencyConfig, SimConfig

_5XX_STATUSES = (502, 503, 504)
_REASONS = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}


class FaultKind(StrEnum):
    """In the order they are drawn. The first three never reach the API: no body code, no headers."""

    HTTP_5XX = "http_5xx"  # an HTML error page from the gateway
    TIMEOUT = "timeout"  # the request is held, then the connection dropped
    RESET = "reset"  # the connection is closed without any response
    MALFORMED = "malformed"  # HTTP 200 whose JSON body is cut short
    BUSY = "busy"  # HTTP 200 with the media's "system busy" body code

    @property
    def transport(self) -> bool:
        return self in (FaultKind.HTTP_5XX, FaultKind.TIMEOUT, FaultKind.RESET)


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int | None = None  # HTTP_5XX: 502, 503 or 504
    hold_s: float = 0.0  # TIMEOUT: how long to hold the request before dropping it


class FaultInjector:
    """Decides, per request, which fault (if any) to inject and how long to delay (thread-safe)."""

    def __init__(self, config: SimConfig) -> None:
        self._faults = {m: c.faults.model_copy() for m, c in config.media.items()}
        self._latency = {m: c.latency.model_copy() for m, c in config.media.items()}
        self._seed = config.fault_seed
        self._rngs = {m: random.Random(f"{config.fault_seed}:{m}") for m in Media}
        self._lock = threading.Lock()

    def decide(self, media: Media) -> Fault | None:
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
                return Fault(kind)
        return None

    def latency_s(self, media: Media) -> float:
        """A lognormal delay around the configured median; 0 when the median is 0."""
        with self._lock:
            latency = self._latency[media]
            if latency.median_ms <= 0:
                return 0.0
            return latency.median_ms / 1000 * math.exp(latency.sigma * self._rngs[media].gauss(0.0, 1.0))

    def update(self, media: Media, **changes: float) -> dict:
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

    def settings(self, media: Media) -> dict:
        with self._lock:
            return {"faults": self._faults[media].model_dump(), "latency": self._latency[media].model_dump()}

    def reseed(self) -> None:
        """Restart every media's random stream (so a reset simulator replays the same faults)."""
        with self._lock:
            self._rngs = {m: random.Random(f"{self._seed}:{m}") for m in Media}


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
