"""The similarity report on a class: wall time of `course similarity` for classes of 100 and 300 students.

The class is tests/class_of.py's: honest students made of independently written versions of every function, with
planted copies (renamed, reordered, re-commented, a bug added) of a few of them. Each size is written once into a
scratch copy of the course; then `similarity()` (reading every notebook, fingerprinting, comparing every pair) is
timed, median of --reps runs after a warm-up. Prints the pairs flagged, and whether every planted pair ranks above
every honest one.

    python benchmarks/similarity.py [--sizes 100 300] [--reps 3]
"""

import argparse
import sys
import tempfile
from pathlib import Path

from common import ROOT, course, machine, median_runs, timed

sys.path.insert(0, str(ROOT / "tests"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    from class_of import A, compose

    from course.release import copy_course
    from course.similarity import similarity

    print(machine())
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            a = copy_course(course(), Path(tmp) / "course")[A]
            copies = [(change, i) for i, change in enumerate(["renamed", "reordered", "recommented", "buggy"] * 2)]
            honest = size - len(copies) - 2  # and one minimal student, one who handed in the release
            planted = compose(a, honest, [(c, i * 7 % honest) for c, i in copies], minimal=1)
            reports = []
            times = timed(lambda a=a, reports=reports: reports.append(similarity(a)), reps=args.reps)
            report = reports[-1]
            pairs = {tuple(sorted((copy, source))) for copy, source in planted.items()}
            copied = [p.score for p in report.pairs if (p.a, p.b) in pairs]
            honest = [p for p in report.pairs if p.a.startswith("honest") and p.b.startswith("honest")]
            flagged_honest = [p for p in honest if p.flagged]
            print(f"{size} students ({len(report.code)} compared, {len(report.pairs)} pairs sharing a passage): "
                  f"{median_runs(times)} s; {len(report.flagged)} pair(s) flagged; planted: {len(pairs)}, lowest "
                  f"score {min(copied):.2f}, all flagged: {all(p.flagged for p in report.pairs if (p.a, p.b) in pairs)}"
                  f"; honest pairs flagged: {len(flagged_honest)} of {len(honest)} (highest "
                  f"{max((p.score for p in honest), default=0):.2f}; composed from 4 versions of each function, two "
                  f"honest students often chose the same versions)")


if __name__ == "__main__":
    main()
