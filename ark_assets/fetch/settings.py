"""The engine's knobs (re-exported by `engine.py`); the app it runs as is a `MediaApp`
(`media/declare.py`), the platform's one type for an app's credentials."""

from __future__ import annotations

from dataclasses import dataclass, field

from ark_assets.fetch.governor import GovernorSettings
from ark_assets.fetch.latency import LatencySettings


@dataclass(frozen=True)
class EngineSettings:
    """Knobs of one engine; the defaults suit the media's documented limits.

    max_in_flight: sources fetched concurrently per endpoint (bounds memory and connections).
    timeout_s: per HTTP call at most (the latency-aware timeout is shorter once the endpoint has
    answered a few times, see `latency`). max_attempts: per page for transient errors (5xx,
    timeouts, resets, malformed bodies, system busy). max_throttled_attempts: per page when
    throttled. backoff_s / backoff_max_s: jittered exponential backoff between attempts.
    download_timeout_s: per download of a file (an async report's): files are larger than answers.
    """

    max_in_flight: int = 100
    timeout_s: float = 30.0
    max_attempts: int = 6
    max_throttled_attempts: int = 30
    backoff_s: float = 0.2
    backoff_max_s: float = 10.0
    download_timeout_s: float = 600.0
    governor: GovernorSettings = field(default_factory=GovernorSettings)
    latency: LatencySettings = field(default_factory=LatencySettings)
