"""A student's scores from the gradebook (core, extra credit, by hand, total, late penalty, final, status), and
grades.csv."""

import csv
import dataclasses
from dataclasses import dataclass, field

from .. import EXTRA_CREDIT_PREFIX
from ..notebooks import grade_cells, manual_cells, read
from .gradebook import gradebook_state, lateness
from .runlog import grading_log, grading_status

NEEDS_REVIEW = "needs review"  # a status: some tests' points wait for a person (the formgrader lists them)


@dataclass
class GradeRow:
    """One student's grade for one assignment, from the gradebook."""

    student: str
    assignment: str
    core: float = 0.0  # autograded points of the core tests, out of core_max
    core_max: float = 0.0
    extra: float = 0.0  # extra credit (tests whose id starts with EXTRA_CREDIT_PREFIX), out of extra_max
    extra_max: float = 0.0
    manual: float = 0.0  # written answers graded by hand (0 until a grader scores them), out of manual_max
    manual_max: float = 0.0
    tests: dict = field(default_factory=dict)  # autograded test id -> (score, max)
    status: str = "graded"  # 'graded', 'needs review: tests', or 'not graded: why'
    review: list = field(default_factory=list)  # tests whose points are withheld until a person has looked
    total: float = 0.0  # core + manual + extra
    submitted: str = ""  # UTC, from timestamp.txt
    late_hours: float = 0.0
    penalty: float = 0.0  # the Term's late policy on the total
    final: float = 0.0  # total - penalty: the number that goes to the LMS

    @property
    def counted(self):
        """A complete grading (its points withheld for review included)."""
        return self.status == "graded" or self.status.startswith(NEEDS_REVIEW)

    @property
    def full_marks(self):
        return self.core + self.extra >= self.core_max + self.extra_max


def flagged(assignment, student):
    """Whether grading flagged the student's code for a person (course/integrity/review.py; the graded notebook's
    metadata)."""
    path = assignment.notebook("autograded", student)
    return path.is_file() and bool(read(path).metadata.get("course", {}).get("review", {}).get("needs_review"))


def scores(assignment):
    """A GradeRow per student of the Assignment in its course's gradebook. 'status': 'graded', 'needs review:
    tests' while some tests' points are withheld for a person (course/integrity/review.py), or 'not graded: why'
    when the gradebook lacks a score for some test."""
    master = assignment.master()
    points, manual_points = grade_cells(master), manual_cells(master)
    rows, log, test_ids = [], grading_log(assignment), list(grade_cells(master))
    policy = assignment.course.term
    late = lateness(assignment)
    for student, entry in sorted(gradebook_state(assignment).items()):
        tests = {k: v[:2] for k, v in entry["grades"].items() if k in points}
        manual = {k: v[:2] for k, v in entry["grades"].items() if k in manual_points}
        core = {k: v for k, v in tests.items() if not k.startswith(EXTRA_CREDIT_PREFIX)}
        extra = {k: v for k, v in tests.items() if k.startswith(EXTRA_CREDIT_PREFIX)}
        row = GradeRow(student, assignment.name,
                       core=sum(s for s, _ in core.values()), core_max=sum(m for _, m in core.values()),
                       extra=sum(s for s, _ in extra.values()), extra_max=sum(m for _, m in extra.values()),
                       manual=sum(s for s, _ in manual.values()), manual_max=sum(manual_points.values()), tests=tests,
                       status=grading_status(assignment, student, entry, test_ids, log.get(student)),
                       review=sorted(k for k, v in entry["grades"].items() if k in points and len(v) > 3 and v[3]))
        if row.status == "graded" and (row.review or flagged(assignment, student)):
            what = ", ".join(row.review) or "code flagged while grading, no points withheld"
            row.status = f"{NEEDS_REVIEW}: {what}"
        row.total = row.core + row.manual + row.extra
        when, seconds = late.get(student, (None, 0.0))
        row.submitted = when.strftime("%Y-%m-%d %H:%M:%S") if when else ""
        row.late_hours = round(seconds / 3600, 2)
        row.penalty = policy.penalty(row.total, seconds)
        row.final = round(row.total - row.penalty, 6)
        rows.append(row)
    return rows


GRADE_FIELDS = ["student", "assignment", "core", "core_max", "manual", "manual_max", "extra", "extra_max", "total",
                "submitted", "late_hours", "penalty", "final", "status"]


def write_grades(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=GRADE_FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(dataclasses.asdict(r) for r in rows)


def print_table(rows):
    print(f"{'student':<14}{'assignment':<16}{'autograded':>13}{'by hand':>14}{'extra credit':>16}{'late':>9}"
          f"{'final':>8}  status")
    for r in rows:
        late = f"{r.late_hours:.1f} h" if r.late_hours else ""
        print(f"{r.student:<14}{r.assignment:<16}{r.core:>7.1f} / {r.core_max:<4.0f}"
              f"{r.manual:>7.1f} / {r.manual_max:<4.0f}{r.extra:>9.1f} / {r.extra_max:<4.0f}{late:>9}"
              f"{r.final:>8.1f}  {r.status}")
