"""Run one command and print its exit status, peak RSS and CPU (`wait4`'s rusage) as JSON.

Why a separate, tiny process: on Linux a child's ru_maxrss starts from the high-water mark of the
memory it was spawned from (exec records the old mm's peak, and `subprocess` spawns with vfork, so
that is the parent's). Spawned straight from the harness, which holds the simulator world and every
result, each client would report at least the harness's peak. Spawned from this ~10 MB process,
the inherited floor is below any Python client's own footprint, so the number is the client's.

    python -m bench.spawn REPORT.json -- CMD ARG...   ->   REPORT.json: {"status": 0, "maxrss_kb": 61234, ...}

With `--tree` this process is also the child subreaper of everything the command starts
(`PR_SET_CHILD_SUBREAPER`): a process whose parent exits without waiting for it -- a
multiprocessing forkserver, a step process of a run that ended -- is handed to us instead of to
init, so after the command exits we wait for every descendant, and `RUSAGE_CHILDREN` then holds the
CPU of the whole process tree (a process's CPU reaches its waiter, and through it ours).

    python -m bench.spawn --tree REPORT.json -- CMD ARG...   ->   "tree_cpu_s": CPU of the whole tree
"""

import ctypes
import json
import os
import resource
import subprocess
import sys
import time

_PR_SET_CHILD_SUBREAPER = 36
_TREE_WAIT_S = 60.0  # descendants still running this long after the command are stuck


def _subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _reap_descendants() -> int:
    """Wait for every remaining descendant (each is ours once its parent is gone); returns how many."""
    reaped, deadline = 0, time.monotonic() + _TREE_WAIT_S
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid == 0:
            time.sleep(0.05)
        else:
            reaped += 1
    return reaped


def main() -> None:
    args = sys.argv[1:]
    tree = bool(args) and args[0] == "--tree"
    if tree:
        args = args[1:]
    if len(args) < 3 or args[1] != "--":
        sys.exit("usage: python -m bench.spawn [--tree] REPORT.json -- CMD ARG...")
    report, argv = args[0], args[2:]
    if tree:
        _subreaper()
    proc = subprocess.Popen(argv)  # stdin/stdout/stderr as the harness redirected ours
    _, status, usage = os.wait4(proc.pid, 0)
    result = {
        "status": os.waitstatus_to_exitcode(status),
        "maxrss_kb": usage.ru_maxrss,
        "cpu_s": usage.ru_utime + usage.ru_stime,
    }
    if tree:
        result["orphans_reaped"] = _reap_descendants()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        result |= {
            "tree_cpu_s": children.ru_utime + children.ru_stime,
            "tree_user_s": children.ru_utime,
            "tree_sys_s": children.ru_stime,
        }
    with open(report, "w", encoding="utf-8") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main()
