"""A faithful, strict simulator of the ad media APIs on loopback (one module per media in
`media/`): the ground truth for tests, demos and benchmarks. Every request is checked against a
contract table per media and API version (`contract.py`; the tables in `media/_*_contract.py`,
each row with its source or marked as the simulator's choice), and docs/media/*.md carry the
same tables (`ark-sim contracts`).

It stands beside the Ark Assets platform and imports nothing of it: it plays the media (serve)
and the upstream systems that fill Redis and `eton` (seed), and says what the platform should
end up with (truth), all from its own world.

Layout: one module per media in `ark_sim/media/` (`gdt.py`, `jrtt.py`, `wx.py`), each exporting
one declaration `MEDIA` (`spec.MediaSpec`: its API, world, Redis keys, tables), discovered by
`ark_sim.media.registry()`. Everything else is generic and names no media: `server` (HTTP,
admin), `contract` (the request check and the docs' tables), `world` / `profiles` (who exists
and what they hold), `config` (+ `sim.toml`), `state`, `tokens`, `quota`, `faults`, `tamper`,
`seed` (+ `eton`), `truth`, `process`, `cli`, `testing`.

    with running_simulator(SimConfig.load(overrides={"profile": "small"})) as sim:  # in-thread
        sim.url(media)  # http://127.0.0.1:PORT/{media}
    with SimulatorProcess(overrides={"profile": "seed"}) as sim:  # its own process
        sim.counters()
    seed_tenant(World(SimConfig.load()), "T100117", day, redis=RedisTarget(), mysql=MySQLTarget())
    truth(World(SimConfig.load()), "T100117", day)  # {"accounts": {...}, "tables": {...}}
"""

from ark_sim.config import SimConfig
from ark_sim.process import SimulatorProcess, SimulatorStartError
from ark_sim.seed import MySQLTarget, RedisTarget, SeedReport, seed_tenant
from ark_sim.server import RunningSimulator, build_app, running_simulator, serve
from ark_sim.truth import truth
from ark_sim.world import World

__all__ = [
    "MySQLTarget",
    "RedisTarget",
    "RunningSimulator",
    "SeedReport",
    "SimConfig",
    "SimulatorProcess",
    "SimulatorStartError",
    "World",
    "build_app",
    "running_simulator",
    "seed_tenant",
    "serve",
    "truth",
]
