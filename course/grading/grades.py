"""A student's scores from the gradebook (core, extra credit, by hand, total, late penalty, final, status), and
grades.csv."""

import csv
from pathlib import Path

from .. import EXTRA_CREDIT_PREFIX
from ..notebooks import grade_cells, manual_cells, read
from ..paths import master_path, notebook_path
from ..term import term
from .gradebook import gradebook_state, gradebook_url, lateness
from .runlog import grading_log, grading_status

NEEDS_REVIEW = "needs review"  # a status: some tests' points wait for a person (the formgrader lists them)


def flagged(root, name, student):
    """Whether grading flagged the student's code for a person (course/integrity/review.py; the graded notebook's metadata)."""
    path = notebook_path(root, "autograded", student, name)
    return path.is_file() and bool(read(path).metadata.get("course", {}).get("review", {}).get("needs_review"))


def counted(row):
    """Whether a grade row is a complete grading (its points withheld for review included)."""
    return row["status"] == "graded" or row["status"].startswith(NEEDS_REVIEW)


def scores(name, root, db_url=None):
    """Per student: autograded 'core' and 'extra' (credit) scores with their maxima, hand-graded 'manual'
    (0 until a grader scores the written answers in the formgrader), 'total', 'tests': {id: (score, max)},
    'submitted' (UTC, from timestamp.txt), 'late_hours', 'penalty' (the Term's late policy on the total), 'final'
    (total - penalty: the number that goes to the LMS), 'review' (the autograded tests whose points are withheld until
    a person has looked: course/integrity/review.py) and 'status': 'graded', 'needs review: tests' while some are withheld, or
    'not graded: why' when the gradebook lacks a score for some test."""
    root = Path(root)
    master = read(master_path(name, root))
    points, manual_points = grade_cells(master), manual_cells(master)
    rows, log, test_ids = [], grading_log(root, name), list(grade_cells(master))
    policy, url = term(root), gradebook_url(root, db_url)
    late = lateness(url, name)
    for student, entry in sorted(gradebook_state(url, name).items()):
        tests = {k: v[:2] for k, v in entry["grades"].items() if k in points}
        manual = {k: v[:2] for k, v in entry["grades"].items() if k in manual_points}
        core = {k: v for k, v in tests.items() if not k.startswith(EXTRA_CREDIT_PREFIX)}
        extra = {k: v for k, v in tests.items() if k.startswith(EXTRA_CREDIT_PREFIX)}
        row = {"student": student, "assignment": name,
               "core": sum(s for s, _ in core.values()), "core_max": sum(m for _, m in core.values()),
               "extra": sum(s for s, _ in extra.values()), "extra_max": sum(m for _, m in extra.values()),
               "manual": sum(s for s, _ in manual.values()), "manual_max": sum(manual_points.values()),
               "tests": tests, "status": grading_status(root, name, student, entry, test_ids, log.get(student)),
               "review": sorted(k for k, v in entry["grades"].items() if k in points and len(v) > 3 and v[3])}
        if row["status"] == "graded" and (row["review"] or flagged(root, name, student)):
            what = ", ".join(row["review"]) or "code flagged while grading, no points withheld"
            row["status"] = f"{NEEDS_REVIEW}: {what}"
        row["total"] = row["core"] + row["manual"] + row["extra"]
        when, seconds = late.get(student, (None, 0.0))
        row["submitted"] = when.strftime("%Y-%m-%d %H:%M:%S") if when else ""
        row["late_hours"] = round(seconds / 3600, 2)
        row["penalty"] = policy.penalty(row["total"], seconds)
        row["final"] = round(row["total"] - row["penalty"], 6)
        rows.append(row)
    return rows


GRADE_FIELDS = ["student", "assignment", "core", "core_max", "manual", "manual_max", "extra", "extra_max", "total",
                "submitted", "late_hours", "penalty", "final", "status"]


def write_grades(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=GRADE_FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def print_table(rows):
    print(f"{'student':<14}{'assignment':<16}{'autograded':>13}{'by hand':>14}{'extra credit':>16}{'late':>9}"
          f"{'final':>8}  status")
    for r in rows:
        late = f"{r['late_hours']:.1f} h" if r["late_hours"] else ""
        print(f"{r['student']:<14}{r['assignment']:<16}{r['core']:>7.1f} / {r['core_max']:<4.0f}"
              f"{r['manual']:>7.1f} / {r['manual_max']:<4.0f}{r['extra']:>9.1f} / {r['extra_max']:<4.0f}{late:>9}"
              f"{r['final']:>8.1f}  {r['status']}")
