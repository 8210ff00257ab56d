"""Contract: the capacity plan's model (bench/capacity_model.py, bench/capacity_sim.py) plays a day by
the topology's rules, and reads its calls from the declarations (no service needed).

- an endpoint's rate is shared by every step calling it; a pool of one slot, or one worker
  process, makes steps wait their turn; runs wait for the queue's limit; a step's and a run's own
  costs add to its calls;
- a part starts when the parts of its step it reads are done (an account list before the
  datasets of its accounts);
- a tenant's steps make one call per account (and time line) for each dataset, as declared.
"""

from __future__ import annotations

import pytest

from ark_assets.media.registry import all_media
from ark_sim.config import SimConfig
from ark_sim.world import World
from bench import capacity_model as model
from bench.capacity_sim import Overheads, Shape, quota_bound_s, simulate

FREE = Overheads(run_start_s=0.0, step_s={"m": 0.0}, run_end_s=0.0)
RATES = {("m", "list"): 10.0, ("m", "data"): 10.0}


def _step(listing: int = 0, data: int = 100) -> model.StepPlan:
    return model.StepPlan(
        "m",
        (
            model.PartPlan("accounts", (), (("list", listing),)),
            model.PartPlan("funds", ("accounts",), (("data", data),)),
        ),
    )


def test_one_step_takes_its_calls_at_its_endpoints_rate() -> None:
    day = simulate([[_step()]], RATES, Shape(processes=2, pool_limit=4, max_runs=10), FREE)
    assert day.wall_s == pytest.approx(10.0)


def test_steps_share_an_endpoints_rate() -> None:
    day = simulate([[_step()], [_step()]], RATES, Shape(processes=2, pool_limit=4, max_runs=10), FREE)
    assert [s.ended for s in day.steps] == pytest.approx([20.0, 20.0])  # 200 calls at 10/s, side by side


@pytest.mark.parametrize(
    "shape",
    [Shape(processes=4, pool_limit=1, max_runs=10), Shape(processes=1, pool_limit=4, max_runs=10)],
    ids=["a pool of one slot", "one worker process"],
)
def test_a_single_slot_or_process_runs_the_steps_in_turn(shape: Shape) -> None:
    day = simulate([[_step()], [_step()]], RATES, shape, FREE)
    assert [t for s in day.steps for t in (s.started, s.ended)] == pytest.approx([0.0, 10.0, 10.0, 20.0])


def test_runs_wait_for_the_queue_and_pay_their_own_costs() -> None:
    costs = Overheads(run_start_s=2.0, step_s={"m": 3.0}, run_end_s=1.0)
    day = simulate([[_step()], [_step()]], RATES, Shape(processes=4, pool_limit=4, max_runs=1), costs)
    # run 1: start 2 + step 3 + calls 10 + end 1 = 16; run 2 is admitted then: 16 + 16
    assert day.runs_ended == pytest.approx([16.0, 32.0])


def test_a_part_waits_for_the_part_it_reads() -> None:
    day = simulate([[_step(listing=50, data=100)]], RATES, Shape(processes=1, pool_limit=1, max_runs=1), FREE)
    assert day.wall_s == pytest.approx(15.0)  # 50 listing calls, then 100 dataset calls
    assert quota_bound_s([[_step(listing=50, data=100)]], RATES) == (pytest.approx(10.0), ("m", "data"))


def test_a_tenants_calls_follow_the_declarations() -> None:
    config = SimConfig.load(overrides={"profile": "small"})
    world = World(config)
    steps = {s.media: s for s in model.tenant_steps(world, config, "T100117")}
    for media in all_media():
        calls = {p.name: dict(p.calls) for p in steps[media.name].parts}
        tiers = {listing.name: listing.tier for listing in media.assets.account_lists}
        for dataset in media.assets.datasets:
            accounts = sum(
                len(world.accounts(media.name, "T100117", tier=tiers[u])) for u in dataset.upstream
            )
            endpoint = media.api.endpoint(dataset.endpoint).name
            assert calls[dataset.name] == {endpoint: accounts * max(1, len(dataset.time_lines))}
        assert all(not calls[a.name] for a in media.assets.agent_lists)  # agent lists call no API
