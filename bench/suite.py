"""Time the non-browser suite as `make test` runs it first (`pytest -n 3 -m "not browser and not cluster"`).

Prints, for each round: wall seconds, CPU seconds (user + sys of pytest and every process it waited for:
workers, servers, subprocesses), the 1-minute load average before and after, and pytest's summary line;
then the best and the median. On a machine shared with other work the wall time follows the load: compare
CPU seconds between versions, and wall seconds only from rounds with a low load average.

Target (issue 15): under 45 s of wall time on a quiet machine of 2 cores.
Usage: python bench/suite.py [--rounds 3] [-- extra pytest arguments]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = [sys.executable, "-m", "pytest", "-n", "3", "-m", "not browser and not cluster", "-q", "-p", "no:cacheprovider"]

# As `make test` runs it: bytecode kept under .cache/pycache even where the environment sets PYTHONDONTWRITEBYTECODE
# (this machine's does; each test process then compiled everything again, 25 s of CPU per run).
ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(ROOT / ".cache" / "pycache")}


def load_average():
    return os.getloadavg()[0]


def one_round(extra):
    """(wall s, CPU s, load before, load after, pytest's last line) of one run of the suite."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = load_average()
    started = time.monotonic()
    done = subprocess.run(COMMAND + extra, cwd=ROOT, capture_output=True, text=True, timeout=1800, env=ENV)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = done.stdout.strip().splitlines()
    return wall, cpu, load_before, load_average(), (lines[-1] if lines else done.stderr[-300:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    rows = []
    for number in range(1, args.rounds + 1):
        wall, cpu, load_before, load_after, summary = one_round(extra)
        rows.append((wall, cpu))
        print(f"round {number}: {wall:6.1f} s wall  {cpu:6.1f} s CPU  load {load_before:.2f} -> {load_after:.2f}"
              f"  | {summary}", flush=True)
    walls, cpus = [w for w, _ in rows], [c for _, c in rows]
    print(f"best   {min(walls):6.1f} s wall  {min(cpus):6.1f} s CPU")
    print(f"median {statistics.median(walls):6.1f} s wall  {statistics.median(cpus):6.1f} s CPU")


if __name__ == "__main__":
    main()
