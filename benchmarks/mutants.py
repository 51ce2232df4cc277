"""Mutation analysis: wall time of `python -m course mutants <a>` (every mutant of every solution region graded by
the master's tests on the worker pool), and the score per question.

Each repetition runs the command in a fresh process (as an instructor types it, --workers 2 by default); the
median of --reps runs is printed with every run, then the command's own table from the last run.

    python benchmarks/mutants.py [assignment ...] [--reps 3] [--workers 2]
"""

import argparse
import os
import subprocess
import sys
import time

from common import ROOT, machine, median_runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", nargs="*", default=["autograd_mlp", "model_fitting"])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(machine())
    for name in args.assignment:
        times, out = [], ""
        for _ in range(args.reps):
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "course", "mutants", name, "--workers", str(args.workers)],
                                  cwd=ROOT, capture_output=True, text=True, env=dict(os.environ), check=True)
            times.append(time.perf_counter() - start)
            out = proc.stdout
        print(f"{name}: {median_runs(times, '{:.0f}')} s with {args.workers} workers")
        print(out)


if __name__ == "__main__":
    main()
