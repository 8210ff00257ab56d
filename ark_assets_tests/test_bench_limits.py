"""The load bench's limits (`bench/limits.py`), from a simulator config and counters; no service.

The contract: an endpoint's quota time is (calls that took quota - its buckets' capacity) / its
refill rate, throttles and transport faults taking no quota; a per-account endpoint waits for
one tenant's listing chain of its media first; the run's quota-bound limit is its slowest
endpoint; the CPU-bound estimate is CPU seconds over cores.
"""

from __future__ import annotations

import pytest

from ark_sim.config import SimConfig
from bench.limits import cpu_bound, endpoint_limits, quota_bound, quota_calls, rate_and_capacity

# gdt/wx: 20,000 calls/min with a 10 s bucket; jrtt: 500/s (sim.toml as shipped)
CONFIG = SimConfig.load()


def test_rates_and_capacities_follow_the_tighter_bucket() -> None:
    assert rate_and_capacity(CONFIG, "gdt", "funds/get") == pytest.approx((20000 / 60, 20000 * 10 / 60))
    assert rate_and_capacity(CONFIG, "jrtt", "advertiser/fund/get") == (500.0, 500.0)


def test_throttles_and_transport_faults_take_no_quota() -> None:
    outcomes = {"0": 900, "11017": 50, "http_503": 30, "timeout": 10, "reset": 5}
    assert quota_calls(outcomes, throttles=50) == 900


def test_the_slowest_endpoint_after_its_listing_chain_is_the_limit() -> None:
    counters = {
        "requests": {
            "jrtt agent/advertiser/select": {"0": 1500},  # 3 tenants
            "jrtt advertiser/info": {"0": 3000},
            "jrtt report/agent/get_v2": {"0": 300},
            "jrtt report/ad/get": {"0": 77_708, "40100": 900},
            "gdt daily_reports/get": {"0": 100_000},
        },
        "throttles": {"jrtt report/ad/get": 900},
    }
    listings = {
        "jrtt": [("agent/advertiser/select", "advertiser/info"), ("report/agent/get_v2",)],
        "gdt": [("advertiser/get",)],
    }
    limits = {f"{e.media} {e.endpoint}": e for e in endpoint_limits(counters, CONFIG, listings, tenants=3)}
    report = limits["jrtt report/ad/get"]
    # one tenant's first tier: 500 select calls fit the 500-call bucket, 1000 info calls take 1 s
    assert report.lead_s == pytest.approx(1.0)
    assert report.quota_s == pytest.approx((77_708 - 500) / 500)
    assert report.phase == "per-account" and limits["jrtt advertiser/info"].lead_s == 0.0
    daily = limits["gdt daily_reports/get"]
    assert daily.quota_s == pytest.approx((100_000 - 20000 * 10 / 60) / (20000 / 60))
    bound, slowest = quota_bound(limits.values())
    assert slowest is daily and bound == pytest.approx(daily.quota_s)


def test_the_cpu_bound_estimate_spreads_cpu_over_the_cores() -> None:
    assert cpu_bound(400.0, 2) == 200.0
