"""A day on the production topology, played out: runs, the run queue, pools, Celery processes, quotas.

Why a simulation rather than a formula: a step holds a worker process and a pool slot for as long
as its slowest endpoint, its endpoints share their (app, endpoint) quota with every other tenant's
step of the same media, and runs are admitted only as others end, so which limit binds depends
on all of them at once. The rules below are deploy/dagster.production.yaml's and dagster-celery's:

- every run is launched at the start (the daily schedule launches one per tenant); at most
  `max_runs` are in progress, the rest wait in the queue, first in first out; runs admitted at
  one instant submit their steps run by run (each run process submits its own);
- a run starts `run_start_s` after it is admitted (its run process), then asks for a slot of each
  media's pool (`pool_limit` slots each) for its steps; a step that has its slot is a Celery task,
  taken by the first free worker process (`processes` in all), first in first out;
- a step costs `step_s[media]` of its process beyond its calls (start-up, the last writes, checks),
  then runs its parts: each part starts when the parts of the step it reads are done and makes its
  calls; the calls of every part on one (media, endpoint), across all steps, share that
  endpoint's rate equally (the Redis governor shares the quota);
- a run ends `run_end_s` after its last step.

Nothing is sampled: the day is a fluid model, advanced from one event (a part's calls done, a
timer expiring) to the next.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.capacity_model import WAIT, WAIT_UNTIL, Endpoint, PartPlan, StepPlan, endpoint_calls

_EPS = 1e-9


@dataclass(frozen=True)
class Shape:
    """The topology's limits: Celery worker processes, slots per media pool, runs in progress."""

    processes: int
    pool_limit: int
    max_runs: int


@dataclass(frozen=True)
class Overheads:
    """What a run and a step cost beyond their calls (measured on the prod-local topology)."""

    run_start_s: float
    step_s: dict[str, float]
    run_end_s: float


@dataclass
class StepTimes:
    run: int
    media: str
    queued: float = 0.0  # slot granted: a Celery task
    started: float = 0.0  # taken by a worker process
    ended: float = 0.0


@dataclass
class Day:
    """What the simulation found."""

    wall_s: float
    steps: list[StepTimes]
    runs_ended: list[float]
    busy_s: dict[Endpoint, float]  # seconds each endpoint had calls to make

    def chains(self) -> dict[str, dict[str, float]]:
        """Per media: first step start to last step end, and the longest step."""
        by_media: dict[str, list[StepTimes]] = defaultdict(list)
        for step in self.steps:
            by_media[step.media].append(step)
        return {
            media: {
                "steps": len(steps),
                "chain_s": round(max(s.ended for s in steps) - min(s.started for s in steps), 1),
                "longest_step_s": round(max(s.ended - s.started for s in steps), 1),
                "wait_for_a_process_s": round(max(s.started - s.queued for s in steps), 1),
            }
            for media, steps in sorted(by_media.items())
        }


@dataclass
class _Part:
    plan: PartPlan
    step: _Step
    phase: int = -1  # index into plan.calls while running; -1 before it starts
    left: float = 0.0
    done: bool = False


@dataclass
class _Step:
    plan: StepPlan
    times: StepTimes
    parts: list[_Part] = field(default_factory=list)
    seq: int = 0  # the order its run submitted it in (runs in the order they started)


class _Clock:
    """Timers and call flows, advanced together to the next event."""

    def __init__(self, rates: dict[Endpoint, float]) -> None:
        self.now = 0.0
        self.rates = rates
        self.timers: list[list] = []  # [seconds left, callback]
        self.flows: list[_Part] = []
        self.busy: dict[Endpoint, float] = defaultdict(float)

    def after(self, seconds: float, callback: Callable[[], None]) -> None:
        self.timers.append([max(0.0, seconds), callback])

    def _endpoint(self, part: _Part) -> Endpoint:
        return (part.step.plan.media, part.plan.calls[part.phase][0])

    def _waits(self, part: _Part) -> bool:
        """A phase of waiting (an agency's async tasks): seconds pass at one a second, no quota."""
        return part.plan.calls[part.phase][0] in (WAIT, WAIT_UNTIL)

    def advance(self) -> list[Callable[[], None]] | None:
        """Move to the next event; its callbacks (None when nothing is left to happen)."""
        if not self.timers and not self.flows:
            return None
        sharing = Counter(self._endpoint(p) for p in self.flows if not self._waits(p))
        speed = {
            id(p): 1.0 if self._waits(p) else self.rates[self._endpoint(p)] / sharing[self._endpoint(p)]
            for p in self.flows
        }
        dt = min([t[0] for t in self.timers] + [p.left / speed[id(p)] for p in self.flows])
        self.now += dt
        for endpoint in sharing:
            self.busy[endpoint] += dt
        fired = []
        for timer in self.timers:
            timer[0] -= dt
        fired += [t[1] for t in self.timers if t[0] <= _EPS]
        self.timers = [t for t in self.timers if t[0] > _EPS]
        for part in self.flows:
            part.left -= speed[id(part)] * dt
        finished = [p for p in self.flows if p.left <= _EPS * max(1.0, speed[id(p)])]
        self.flows = [p for p in self.flows if p not in finished]
        return fired + [lambda p=p: self.next_phase(p) for p in finished]

    def next_phase(self, part: _Part) -> None:
        """Start the part's next endpoint (skipping calls of none), or mark the part done."""
        part.phase += 1
        while part.phase < len(part.plan.calls) and part.plan.calls[part.phase][1] <= 0:
            part.phase += 1
        if part.phase < len(part.plan.calls):
            what, n = part.plan.calls[part.phase]
            part.left = max(_EPS, n - self.now) if what == WAIT_UNTIL else float(n)
            self.flows.append(part)
        else:
            part.done = True


def simulate(
    runs: list[list[StepPlan]], rates: dict[Endpoint, float], shape: Shape, overheads: Overheads
) -> Day:
    """Play out a day of `runs` (one list of steps per run, launched at time 0)."""
    clock = _Clock(rates)
    queued_runs = deque(range(len(runs)))
    in_progress: set[int] = set()
    left_in_run = {i: len(steps) for i, steps in enumerate(runs)}
    pool_waiting: dict[str, deque[_Step]] = defaultdict(deque)
    pool_used: Counter[str] = Counter()
    celery: deque[_Step] = deque()
    free = [shape.processes]
    running: list[_Step] = []
    all_steps: list[_Step] = []
    ended: list[float] = []

    def run_started(i: int) -> None:
        for plan in runs[i]:
            step = _Step(plan, StepTimes(run=i, media=plan.media), seq=len(all_steps))
            step.parts = [_Part(p, step) for p in plan.parts]
            all_steps.append(step)
            pool_waiting[plan.media].append(step)

    def step_ready(step: _Step) -> None:
        running.append(step)

    def run_ended(i: int) -> None:
        in_progress.discard(i)
        ended.append(clock.now)

    def settle() -> None:
        """Every move that takes no time, until none is left."""
        moved = True
        while moved:
            moved = False
            while queued_runs and len(in_progress) < shape.max_runs:
                i = queued_runs.popleft()
                in_progress.add(i)
                clock.after(overheads.run_start_s, lambda i=i: run_started(i))
                moved = True
            # steps get their pool slots in the order their runs submitted them (run by run, as
            # each run process submits its own), not media by media
            while heads := [w[0] for m, w in pool_waiting.items() if w and pool_used[m] < shape.pool_limit]:
                step = min(heads, key=lambda s: s.seq)
                pool_waiting[step.plan.media].popleft()
                pool_used[step.plan.media] += 1
                step.times.queued = clock.now
                celery.append(step)
                moved = True
            while celery and free[0] > 0:
                step = celery.popleft()
                free[0] -= 1
                step.times.started = clock.now
                clock.after(overheads.step_s[step.plan.media], lambda s=step: step_ready(s))
                moved = True
            for step in list(running):
                inside = {p.plan.name for p in step.parts}
                done = {p.plan.name for p in step.parts if p.done}
                for part in step.parts:
                    if part.phase == -1 and all(u in done or u not in inside for u in part.plan.upstream):
                        clock.next_phase(part)
                        moved = True
                if all(p.done for p in step.parts):
                    running.remove(step)
                    step.times.ended = clock.now
                    free[0] += 1
                    pool_used[step.plan.media] -= 1
                    left_in_run[step.times.run] -= 1
                    if left_in_run[step.times.run] == 0:
                        clock.after(overheads.run_end_s, lambda i=step.times.run: run_ended(i))
                    moved = True

    settle()
    while (fired := clock.advance()) is not None:
        for callback in fired:
            callback()
        settle()
    return Day(clock.now, [s.times for s in all_steps], ended, dict(clock.busy))


def quota_bound_s(runs: list[list[StepPlan]], rates: dict[Endpoint, float]) -> tuple[float, Endpoint]:
    """The day's floor whatever the topology: the busiest endpoint's calls at its rate."""
    calls: Counter[Endpoint] = Counter(endpoint_calls(s for steps in runs for s in steps))
    busiest = max(calls, key=lambda e: calls[e] / rates[e])
    return calls[busiest] / rates[busiest], busiest
