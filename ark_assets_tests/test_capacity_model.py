"""Contract: the capacity plan's model (bench/capacity_model.py, bench/capacity_sim.py) plays a day by
the topology's rules, and reads its calls from the declarations (no service needed).

- an endpoint's rate is shared by every step calling it; a pool of one slot, or one worker
  process, makes steps wait their turn; runs wait for the queue's limit; a step's and a run's own
  costs add to its calls;
- a part starts when the parts of its step it reads are done (an account list before the
  datasets of its accounts);
- a part's wait (an agency's async report tasks) takes time but no quota; an agency's tasks follow
  one another by the media's cooldown and are polled at a backoff;
- a tenant's steps make, for each dataset as declared: a task per agency and time line on a bulk
  path, a call per batch of an agent's ids, else a call per account it asks (an activity-filtered
  dataset asks no idle account) and time line.
"""

from __future__ import annotations

from datetime import date

import pytest

from ark_assets.media.registry import all_media
from ark_sim.config import SimConfig
from ark_sim.world import World
from bench import capacity_model as model
from bench.capacity_sim import Overheads, Shape, quota_bound_s, simulate

DAY = date(2024, 5, 1)
TIMING = model.TaskTiming(cooldown_s=300.0, ready_s=7.0, poll_s=2.0)
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


def _tenant(**knobs: float) -> model.Tenant:
    config = SimConfig.load(overrides={"profile": "small", "profiles": {"small": knobs}})
    return model.Tenant(World(config), config, "T100117", DAY, TIMING)


def test_a_wait_takes_time_but_no_quota() -> None:
    step = model.StepPlan("m", (model.PartPlan("report", (), ((model.WAIT, 30), ("data", 10))),))
    day = simulate([[step], [step]], RATES, Shape(processes=2, pool_limit=4, max_runs=10), FREE)
    assert day.wall_s == pytest.approx(32.0)  # both wait side by side, then share the rate
    assert model.endpoint_calls([step]) == {("m", "data"): 10}


def test_an_agencys_tasks_follow_one_another_by_the_cooldown() -> None:
    assert TIMING.chain_s(3) == pytest.approx(2 * 300 + 14)  # polled at 2, 6, 14 s: ready at 7
    assert TIMING.polls(3) == 9


def test_a_tenants_calls_follow_the_declarations() -> None:
    tenant = _tenant(dormant_share=0.4)
    world = tenant.world
    steps = {s.media: s for s in model.tenant_steps(tenant)}
    for media in all_media():
        api, declared = media.api_for(None), media.assets_for(None)  # the default version's paths
        calls = {p.name: dict(p.calls) for p in steps[media.name].parts}
        tiers = {listing.name: listing.tier for listing in declared.account_lists}
        for dataset in declared.datasets:
            accounts = [
                a for u in dataset.upstream for a in world.accounts(media.name, "T100117", tier=tiers[u])
            ]
            spec, lines = api.endpoint(dataset.endpoint), max(1, len(dataset.time_lines))
            if spec.bulk is not None:  # a task per agency and time line, and its file
                agencies = len({agent for _, agent in accounts})
                assert calls[dataset.name][spec.bulk.add] == agencies * lines
                assert calls[dataset.name][spec.bulk.files] == agencies * lines
            elif dataset.batch:
                assert calls[dataset.name] == {spec.name: _batches(accounts, dataset.batch)}
            elif dataset.activity and declared.families is None:  # no idle account asked
                active = sum(world.spends(media.name, a, DAY) for a, _ in accounts)
                assert calls[dataset.name][spec.name] == active * lines
            elif not dataset.activity:
                assert calls[dataset.name] == {spec.name: len(accounts) * lines}
        assert all(not calls[a.name] for a in declared.agent_lists)  # agent lists call no API


def _batches(accounts: list[tuple[int, int]], size: int) -> int:
    per_agent: dict[int, int] = {}
    for _, agent in accounts:
        per_agent[agent] = per_agent.get(agent, 0) + 1
    return sum(-(-n // size) for n in per_agent.values())
