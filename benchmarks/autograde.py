"""Autograding time: wall seconds to autograde one reference submission, and each part's share.

Builds a scratch copy of the course, generates the release, submits the reference solution and
times the course's autograde (nbgrader's autograder with nbgrader_config.py: sandboxed kernel, every
cell, hidden tests, gradebook) several times after an untimed warm-up run. Per-part shares come from
the execution timestamps nbgrader records in the autograded notebook (of the last run); a bar chart
shows them (benchmarks/out/autograde.png).

    python benchmarks/autograde.py [assignment ...] [--reps 3] [--warmup 1] [--plot PATH]
"""

import argparse
import functools
import re
import tempfile
from datetime import datetime
from pathlib import Path

from common import add_plot_option, course, machine, median_runs, save_figure, timed

from course import grading, release
from course.grading import autograde_class
from course.notebooks import offscreen_pyplot, read
from course.submissions import reference, write_submission


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


def plot(results, path):
    """One bar per assignment: the share of each notebook part in its cells' time (totals in the labels)."""
    plt = offscreen_pyplot()
    fig, ax = plt.subplots(figsize=(9, 1.4 + 0.8 * len(results)))
    colors = plt.get_cmap("tab20").colors
    for row, parts in enumerate(results.values()):
        left, total = 0.0, sum(parts.values()) or 1.0
        for k, (part, secs) in enumerate(parts.items()):
            share = 100 * secs / total
            ax.barh(row, share, left=left, color=colors[k % len(colors)], edgecolor="white")
            if share >= 8:  # room for a label
                ax.text(left + share / 2, row, f"{part}\n{secs:.1f} s", ha="center", va="center", fontsize=7)
            left += share
    ax.set_yticks(range(len(results)), [f"{name}\n{sum(parts.values()):.1f} s" for name, parts in results.items()])
    ax.invert_yaxis()
    ax.set(xlim=(0, 100), xlabel="share of the cells' execution time (%)",
           title="Autograding one submission: where the time goes")
    return save_figure(fig, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("assignment", nargs="*")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first")
    add_plot_option(parser, "autograde")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    results = {}
    for name in args.assignment or course().names:
        with tempfile.TemporaryDirectory() as tmp:
            copy = release.copy_course(course(), tmp)
            a = copy[name]
            release.release(copy, [name])
            write_submission(reference(a), a, "reference")
            grade = functools.partial(autograde_class, a, students=["reference"], force=True, feedback=False,
                                      progress=False)
            walls = timed(grade, reps=args.reps, warmup=args.warmup)
            score = grading.scores(a)[0]
            parts = part_times(read(a.notebook("autograded", "reference")))
        total = sum(parts.values())
        print(f"\n{name}: autograde one reference submission, median of {args.reps} after {args.warmup} "
              f"warm-up: {median_runs(walls, '{:.1f}')} s wall; "
              f"score {score.core:.0f}/{score.core_max:.0f} + {score.extra:.0f} extra")
        print(f"{'part':<28}{'seconds':>10}{'share':>8}")
        for part, secs in parts.items():
            print(f"{part:<28}{secs:>10.1f}{secs / total:>8.0%}")
        print(f"{'cells in total':<28}{total:>10.1f}")
        results[name] = parts
    if args.plot:
        print(f"\nplot: {plot(results, Path(args.plot))}")


if __name__ == "__main__":
    main()
