"""The limits a load run is measured against: what the quotas allow, what the CPU allows.

**Quota-bound limit.** The simulator limits calls per (media, app, endpoint) with token buckets
(`ark_sim/quota.py`): a bucket of `capacity` calls refilled at `rate` calls/s. An endpoint that
had to serve `calls` calls that took quota therefore needs at least `(calls - capacity) / rate`
seconds, however the client paces itself; throttled answers and transport faults take no quota
and are not counted. A media's per-account endpoints can only start once the account lists of
their tenant exist, so they also wait for one tenant's listing calls (their own endpoints' quota
time); the agent lists take no call. The limit of a run is its slowest endpoint:

    limit = max over endpoints E of  lead(E) + max(0, calls(E) - capacity(E)) / rate(E)

with `lead(E)` = the quota time of one tenant's listing chain of E's media for a per-account
endpoint (the jrtt first tier lists, then fetches details: those add up), 0 for a listing one.

**CPU-bound estimate.** Every process of the run (the Dagster runs' process trees, the
simulator, the local services) shares the machine's cores, so the run cannot end before
`cpu seconds / cores`.

Whichever is larger is the bound that applies (the bench reports both).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ark_sim.config import SimConfig

# Answers the simulator files under these outcomes never reached its quota gateway.
TRANSPORT_FAULTS = ("http_", "timeout", "reset")


@dataclass(frozen=True)
class EndpointLimit:
    """One endpoint's quota, what it served, and the time the quota needed for it."""

    media: str
    endpoint: str
    phase: str  # "listing" or "per-account"
    calls: int  # calls that took quota
    throttles: int
    rate: float  # calls/s the quota refills
    capacity: float  # calls the buckets hold when full
    quota_s: float  # max(0, calls - capacity) / rate
    lead_s: float  # the listing chain before it (per-account endpoints)

    @property
    def bound_s(self) -> float:
        return self.lead_s + self.quota_s


def rate_and_capacity(config: SimConfig, media: str, endpoint: str) -> tuple[float, float]:
    """(calls/s, calls held when full) of the tighter of the endpoint's per-second and minute buckets."""
    q = config.quota_limits(media, endpoint)
    buckets = []
    if q.per_second:
        buckets.append((float(q.per_second), float(q.per_second)))
    if q.per_minute:
        buckets.append((q.per_minute / 60, max(1.0, q.per_minute * q.burst_seconds / 60)))
    if not buckets:
        return float("inf"), 0.0
    return min(r for r, _ in buckets), min(c for _, c in buckets)


def quota_calls(outcomes: Mapping[str, int], throttles: int) -> int:
    """Calls of one endpoint that took quota: every answer but throttles and transport faults."""
    answered = sum(n for outcome, n in outcomes.items() if not outcome.startswith(TRANSPORT_FAULTS))
    return max(0, answered - throttles)


def endpoint_limits(
    counters: Mapping[str, Mapping],
    config: SimConfig,
    listings: Mapping[str, Iterable[tuple[str, ...]]],
    tenants: int,
) -> list[EndpointLimit]:
    """Per endpoint the simulator served: its quota time and lead.

    Args:
        counters: the simulator's `/admin/counters` after the run.
        listings: per media, its listing chains (endpoints called one after the other for one
            account list, e.g. `("agent/advertiser/select", "advertiser/info")`).
        tenants: how many tenants the run fetched (a listing chain is one tenant's).
    """
    requests, throttled = counters.get("requests", {}), counters.get("throttles", {})
    calls = {key: quota_calls(by, int(throttled.get(key, 0))) for key, by in requests.items()}
    chains = {media: [tuple(c) for c in chain] for media, chain in listings.items()}
    listing_endpoints = {(m, e) for m, chain in chains.items() for c in chain for e in c}

    def quota_time(media: str, endpoint: str, n: float) -> float:
        rate, capacity = rate_and_capacity(config, media, endpoint)
        return max(0.0, n - capacity) / rate if rate != float("inf") else 0.0

    lead = {
        media: max(
            (
                sum(quota_time(media, e, calls.get(f"{media} {e}", 0) / max(1, tenants)) for e in chain)
                for chain in media_chains
            ),
            default=0.0,
        )
        for media, media_chains in chains.items()
    }
    out = []
    for key, n in sorted(calls.items()):
        media, endpoint = key.split(" ", 1)
        rate, capacity = rate_and_capacity(config, media, endpoint)
        listing = (media, endpoint) in listing_endpoints
        out.append(
            EndpointLimit(
                media=media,
                endpoint=endpoint,
                phase="listing" if listing else "per-account",
                calls=n,
                throttles=int(throttled.get(key, 0)),
                rate=rate,
                capacity=capacity,
                quota_s=quota_time(media, endpoint, n),
                lead_s=0.0 if listing else lead.get(media, 0.0),
            )
        )
    return out


def quota_bound(limits: Iterable[EndpointLimit]) -> tuple[float, EndpointLimit | None]:
    """The quota-bound limit of the run, and the endpoint that sets it."""
    slowest = max(limits, key=lambda e: e.bound_s, default=None)
    return (slowest.bound_s if slowest else 0.0), slowest


def cpu_bound(cpu_s: float, cores: int) -> float:
    """The CPU-bound estimate: every CPU second the run's processes used, spread over the cores."""
    return cpu_s / max(1, cores)
