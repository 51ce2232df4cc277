"""Grades back to the LMS: a file the LMS imports as is, one row per student of the class.

- Canvas (Grades > Import): the gradebook CSV, columns Student, ID, SIS User ID, SIS Login ID, Section and the
  assignment's column (c.Term.lms_columns, else the assignment's name: Canvas then creates the assignment), with
  a "Points Possible" row; rows are matched by ID, Canvas's user id.
- Moodle (the assignment's "Upload grading worksheet"): the offline grading worksheet, columns Identifier
  ("Participant N"), Full name, Email address, Status, Grade, Maximum Grade, Grade can be changed, Last modified
  (submission), Last modified (grade), Feedback comments; rows are matched by the participant number.

The class is nbgrader's gradebook's students: intake puts there every roster student and every student with a
submission, with the LMS's id (from the export's names or the roster). The grade is the final score (autograded,
by hand and extra credit, less the late penalty: course/grading/grades.py). A student without a submission gets 0
or a blank cell (c.Term.missing); one whose submission could not be graded gets a blank cell and a warning; one
without an LMS id a warning: nobody is left out silently.
"""

import csv
import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import EXTRA_CREDIT_PREFIX
from .grading import scores
from .intake import Enrolled
from .notebooks import grade_cells, manual_cells

CANVAS_FIELDS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_FIELDS = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                 "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments"]


@dataclass
class LmsRow(Enrolled):
    """One student of the class as the LMS gets it: who (the roster's fields), and their grade."""

    grade: float | str = ""  # the final score; "" leaves the LMS's cell blank
    status: str = ""  # graded (and how late), no submission, or why it was not graded
    submitted: str = ""


@dataclass
class LmsExport:
    path: Path
    rows: list = field(default_factory=list)  # LmsRow per student
    warnings: list = field(default_factory=list)

    def lines(self):
        return [f"{self.path}: {len(self.rows)} students"] + [f"  warning: {w}" for w in self.warnings]


def points_possible(master):
    """What the LMS column is out of: the autograded core and the hand-graded points (extra credit on top)."""
    core = sum(p for gid, p in grade_cells(master).items() if not gid.startswith(EXTRA_CREDIT_PREFIX))
    return core + sum(manual_cells(master).values())


def class_grades(assignment):
    """An LmsRow for every student in the course's gradebook, with their grade for the Assignment."""
    from nbgrader.api import Gradebook

    with Gradebook(assignment.course.gradebook, "") as gb:
        students = [LmsRow(s.id, s.lms_user_id or "", s.first_name or "", s.last_name or "", s.email or "")
                    for s in gb.students]  # what intake registered (course.intake.register_students)
    return grade_rows(students, scores(assignment), assignment.course.term.missing)


def grade_rows(students, graded, missing="zero"):
    """Each student of the class (LmsRows) with the grade the LMS gets, from the GradeRows `graded`: the final
    score; 0 or '' (missing) without a submission; '' when the submission could not be graded (its status says
    why)."""
    by_student = {r.student: r for r in graded}
    out = []
    for s in sorted(students, key=lambda s: s.student):
        row = by_student.get(s.student)
        if row is None:
            grade, status = (0.0 if missing == "zero" else ""), "no submission"
        elif row.status != "graded":
            grade, status = "", row.status
        else:
            grade, status = row.final, "graded" + (f", {row.late_hours:g} h late" if row.late_hours else "")
        out.append(dataclasses.replace(s, grade=grade, status=status, submitted=row.submitted if row else ""))
    return out


def _number(grade, fmt):
    return "" if grade == "" else format(grade, fmt)


def write_canvas(rows, path, column, possible):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CANVAS_FIELDS + [column])
        w.writerow(["Points Possible", "", "", "", "", f"{possible:g}"])
        for r in rows:
            name = f"{r.last_name}, {r.first_name}" if r.last_name and r.first_name else r.student
            w.writerow([name, r.lms_id, "", "", "", _number(r.grade, ".6g")])


def write_moodle(rows, path, column, possible):
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(MOODLE_FIELDS)
        for r in rows:
            submitted = r.status != "no submission"
            w.writerow([f"Participant {r.lms_id}", " ".join(p for p in (r.first_name, r.last_name) if p) or r.student,
                        r.email, "Submitted for grading" if submitted else "No submission",
                        _number(r.grade, ".2f"), f"{possible:.2f}", "Yes", r.submitted or "-", now,
                        f"{column}: {r.status}"])


FORMATS = {"canvas": write_canvas, "moodle": write_moodle}


def export(assignment, lms):
    """Write reports/<assignment>/<lms>.csv (lms: canvas or moodle); returns an LmsExport with the warnings."""
    rows = class_grades(assignment)
    path = assignment.reports / f"{lms}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    FORMATS[lms](rows, path, assignment.course.term.column(assignment.name), points_possible(assignment.master()))
    result = LmsExport(path, rows)
    if not rows:
        result.warnings.append("no students in the gradebook: run `python -m course intake` (with --roster) first")
    for r in rows:
        if not r.lms_id:
            result.warnings.append(f"{r.student}: no {lms} id (the export's file name carried none and the roster "
                                   f"did not list them): the {lms} import will not find this row")
        if r.grade == "" and r.status != "no submission":
            result.warnings.append(f"{r.student}: left blank, {r.status}")
    return result
