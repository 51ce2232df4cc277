"""Grading throughput: nbgrader's sequential `nbgrader autograde` vs course.grading's parallel workers.

Builds a scratch course with N model_fitting submissions (reference solutions, the catalog's bugs, blank
releases), then grades all of them with `nbgrader autograde model_fitting --force` (one process, one
submission after the other), with the local process pool of W workers, and with a Dask LocalCluster of W
workers (its start-up included), in one run (--repeat R: R rounds, medians). Prints wall seconds,
speed-up, submissions per core-minute and the load average around each run (other jobs on the machine
slow the parallel runs most: compare runs made with the machine otherwise idle), and checks that every
run gave the same scores.

    python benchmarks/parallel_autograde.py [--submissions 20] [--workers 2] [--repeat 1] [--no-dask]
"""

import argparse
import os
import statistics
import tempfile
import time

from common import course, machine

from course import grading, release
from course.grading import autograde_class
from course.submissions import blank, reference, with_bugs, write_submission

A = "model_fitting"


def make_class(assignment, n):
    """n submissions: half reference solutions, then one per catalog bug in turn, and two blank releases."""
    bugs = sorted(assignment.catalog.BUGS)
    for i in range(n):
        if i < n // 2:
            nb = reference(assignment)
        elif i >= n - 2:
            nb = blank(assignment)
        else:
            nb = with_bugs(assignment, [bugs[i % len(bugs)]])
        write_submission(nb, assignment, f"s{i:03d}")


def load():
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def core_scores(assignment):
    return {r.student: (r.core, r.status) for r in grading.scores(assignment)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()
    n, w = args.submissions, args.workers
    print(f"machine: {machine()}")
    walls = {}
    with tempfile.TemporaryDirectory() as tmp:
        copy = release.copy_course(course(), tmp)
        a = copy[A]
        release.release(copy, [A])  # nbgrader's gradebook gets the assignment, as before any grading
        make_class(a, n)
        print(f"{n} {A} submissions, graded by nbgrader (hidden tests, training at grading budgets):")
        print(f"  {'run':<34}{'seconds':>8}   load average before -> after")
        expected = None

        def phase(label, key, grade):
            nonlocal expected
            before, start = load(), time.perf_counter()
            run = grade()
            wall = time.perf_counter() - start
            walls.setdefault(key, []).append(wall)
            print(f"  {label:<34}{wall:>8.1f}   {before} -> {load()}", flush=True)
            if run:
                assert len(run.graded) == n and not run.failed, run.summary()
            scores = core_scores(a)
            expected = expected or scores
            assert scores == expected, f"{label}: scores differ from the first run's"

        def sequential():  # nbgrader's command line, as an instructor runs it
            release.nbgrader("autograde", A, "--force", root=copy.root)

        for _ in range(args.repeat):
            phase("nbgrader autograde (sequential)", "sequential", sequential)
            phase(f"process pool, {w} workers", "pool",
                  lambda: autograde_class(a, workers=w, force=True, feedback=False, progress=False))
            if not args.no_dask:
                phase(f"Dask LocalCluster, {w} workers", "dask", lambda: autograde_class(
                    a, workers=w, dask="local", force=True, feedback=False, progress=False))

    graded = sum(1 for _, status in expected.values() if status == "graded")
    print(f"\nsame scores in every run: {graded}/{n} graded, mean core score "
          f"{sum(c for c, _ in expected.values()) / n:.1f}")
    seq = statistics.median(walls["sequential"])
    print(f"{'run':<12}{'seconds':>9}{'speed-up':>10}{'submissions per core-minute':>29}")
    for key, times in walls.items():
        wall, cores = statistics.median(times), 1 if key == "sequential" else w
        print(f"{key:<12}{wall:>9.1f}{seq / wall:>9.2f}x{n / (wall / 60) / cores:>29.2f}")


if __name__ == "__main__":
    main()
