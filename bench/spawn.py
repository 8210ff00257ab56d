"""Run one command and print its exit status and peak RSS (`wait4`'s ru_maxrss) as JSON.

Why a separate, tiny process: on Linux a child's ru_maxrss starts from the high-water mark of the
memory it was spawned from (exec records the old mm's peak, and `subprocess` spawns with vfork, so
that is the parent's). Spawned straight from the harness, which holds the simulator world and every
result, each client would report at least the harness's peak. Spawned from this ~10 MB process,
the inherited floor is below any Python client's own footprint, so the number is the client's.

    python -m bench.spawn REPORT.json -- CMD ARG...   ->   REPORT.json: {"status": 0, "maxrss_kb": 61234}
"""

import json
import os
import subprocess
import sys


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit("usage: python -m bench.spawn REPORT.json -- CMD ARG...")
    report, argv = sys.argv[1], sys.argv[3:]
    proc = subprocess.Popen(argv)  # stdin/stdout/stderr as the harness redirected ours
    _, status, rusage = os.wait4(proc.pid, 0)
    with open(report, "w", encoding="utf-8") as out:
        json.dump({"status": os.waitstatus_to_exitcode(status), "maxrss_kb": rusage.ru_maxrss}, out)


if __name__ == "__main__":
    main()
