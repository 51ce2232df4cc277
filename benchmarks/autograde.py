"""Autograding time: wall seconds to autograde one reference submission, and each part's share.

Builds a scratch copy of the course, generates the release, submits the reference solution and
times `nbgrader autograde` (kernel start, every cell, hidden tests, gradebook) several times.
Per-part shares come from the execution timestamps nbgrader records in the autograded notebook.

    python benchmarks/autograde.py [assignment ...] [--reps 3]
"""

import argparse
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course import assignments, pipeline
from course.notebooks import read
from course.submissions import reference, write_submission

COPY = ["source", "release", "course", "nbgrader_config.py"]


def part_times(nb):
    """Seconds spent per '## Part ...' section, from nbclient's execution timestamps."""
    parts, current = {}, "setup"
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^##\s+(Part \d+[^:\n]*|Setup)", cell.source, re.MULTILINE)
            if m:
                current = m.group(1).strip()
            continue
        ex = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in ex and "shell.execute_reply" in ex:
            t0 = datetime.fromisoformat(ex["iopub.execute_input"])
            t1 = datetime.fromisoformat(ex["shell.execute_reply"])
            parts[current] = parts.get(current, 0.0) + (t1 - t0).total_seconds()
    return parts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("assignment", nargs="*")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for name in args.assignment or assignments():
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            for item in COPY:
                src = ROOT / item
                (shutil.copytree if src.is_dir() else shutil.copy2)(src, root / item)
            pipeline.release(root, [name])
            write_submission(reference(name, root), root, "reference", name)
            walls = []
            for _ in range(args.reps):
                t = time.perf_counter()
                pipeline.autograde(name, root, students=["reference"])
                walls.append(time.perf_counter() - t)
            score = pipeline.scores(name, root)[0]
            parts = part_times(read(root / "autograded" / "reference" / name / f"{name}.ipynb"))
        total = sum(parts.values())
        print(f"\n{name}: autograde one reference submission, median of {args.reps}: "
              f"{statistics.median(walls):.1f} s wall (runs: {', '.join(f'{w:.1f}' for w in walls)}); "
              f"score {score['core']:.0f}/{score['core_max']:.0f} + {score['extra']:.0f} extra")
        print(f"{'part':<28}{'seconds':>10}{'share':>8}")
        for part, secs in parts.items():
            print(f"{part:<28}{secs:>10.1f}{secs / total:>8.0%}")
        print(f"{'cells in total':<28}{total:>10.1f}")


if __name__ == "__main__":
    main()
