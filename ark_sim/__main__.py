"""`python -m ark_sim ...` is `ark-sim ...` (how `SimulatorProcess` starts a server)."""

from ark_sim.cli import main

main(prog_name="ark-sim")
