"""Grading time on the Gradescope path: wall seconds of one `otter run` of the reference submission, next to
the nbgrader path's autograde of the same submission (benchmarks/autograde.py measures that one alone).

Builds the otter edition (`python -m course otter`, untimed), then times `otter run -a ZIP -o DIR sub.ipynb`
as an instructor types it, several times after an untimed warm-up run; the kernel trains with the grading
budgets (the plugin sets COURSE_AUTOGRADER=otter). The datasets come from $COURSE_DATA_DIR or the cache.

    python benchmarks/otter_run.py [assignment ...] [--reps 3] [--warmup 1]
"""

import argparse
import tempfile
from pathlib import Path

from common import course, machine, median_runs, timed

from course import otter
from course.notebooks import read
from course.otter.submissions import as_otter, otter_run, scores
from course.submissions import reference


def measure(assignment, reps, warmup, work):
    name = assignment.name
    out = otter.build(assignment, work)
    student = read(out / "student" / f"{name}.ipynb")
    zip_path = out / "autograder" / f"{name}-autograder.zip"
    sub = as_otter(reference(assignment), student)
    seen = {}

    def once():
        results, _ = otter_run(zip_path, sub, name)
        seen["scores"] = scores(results)

    times = timed(once, reps=reps, warmup=warmup)
    return times, sum(seen["scores"].values())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", nargs="*")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args(argv)
    print(machine())
    print(f"{'assignment':<16} {'score':>7}  otter run seconds: median (runs)")
    with tempfile.TemporaryDirectory(prefix="bench-otter-") as tmp:
        for assignment in course().select(args.assignment):
            name = assignment.name
            times, score = measure(assignment, args.reps, args.warmup, Path(tmp))
            print(f"{name:<16} {score:>7g}  {median_runs(times, fmt='{:.1f}')}", flush=True)


if __name__ == "__main__":
    main()
