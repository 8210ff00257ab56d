"""A faithful simulator of the gdt, jrtt and wx media APIs on loopback: the ground truth for tests,
demos and benchmarks (contracts: /work/shared/research/media_apis.md; choices: docs/media/).

    with running_simulator(SimConfig.load(overrides={"profile": "small"})) as sim:
        sim.url("gdt")  # http://127.0.0.1:PORT/gdt
"""

from ark_sim.config import SimConfig
from ark_sim.server import RunningSimulator, build_app, running_simulator, serve
from ark_sim.world import World

__all__ = ["RunningSimulator", "SimConfig", "World", "build_app", "running_simulator", "serve"]
