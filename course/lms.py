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

Feedback goes back too (`pack_feedback`), as a zip each LMS takes in bulk, each student's feedback HTML named as
their file was in the LMS's download (intake records those names), which is how the LMS matches it to the student:
- Canvas (the assignment's *Download submissions*, then *Re-upload submissions*): flat, the download's name with
  .html for .ipynb, e.g. smithjane_LATE_102_9002_Copy of model_fitting (1).html; Canvas attaches each file to the
  student's submission as a comment.
- Moodle (*Upload multiple feedback files in a zip*): the download's participant prefix kept, folder or flat, e.g.
  Jane Smith_777_assignsubmission_file_/model_fitting.html; Moodle adds it to the student's feedback files.
"""

import csv
import dataclasses
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import EXTRA_CREDIT_PREFIX
from .grading import scores, submitted_students
from .intake import CANVAS, MOODLE, Enrolled, recorded_names
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


@dataclass
class FeedbackPack:
    path: Path
    packed: dict = field(default_factory=dict)  # student -> name in the zip
    warnings: list = field(default_factory=list)

    def lines(self):
        return [f"{self.path}: feedback for {len(self.packed)} student(s)"] + [f"  warning: {w}" for w in self.warnings]


def feedback_name(member, lms):
    """The name `lms` matches a student's feedback file by, from their file's name in its download (a zip member);
    None when that name does not carry what the LMS needs."""
    path = PurePosixPath(member)
    html = path.with_suffix(".html")
    if lms == "canvas":
        return html.name if CANVAS.match(path.name) else None
    if MOODLE.match(path.name) or MOODLE.match(path.parent.name):
        return str(html)
    return None


def pack_feedback(assignment, lms, generate=True):
    """reports/<a>/feedback_<lms>.zip: every graded student's feedback HTML, named for the LMS's bulk upload.
    With `generate`, nbgrader's generate_feedback runs first (the hand grades and the late penalty as they stand
    now). Students without a submission get nothing; a graded student whose feedback or LMS name is missing is
    named in the warnings."""
    from .release import feedback

    if generate:
        feedback(assignment)
    names = recorded_names(assignment)
    result = FeedbackPack(assignment.reports / f"feedback_{lms}.zip")
    result.path.parent.mkdir(parents=True, exist_ok=True)
    rows = {r.student: r for r in scores(assignment)}
    with zipfile.ZipFile(result.path, "w", zipfile.ZIP_DEFLATED) as zf:
        for student in submitted_students(assignment):
            html = assignment.notebook("feedback", student).with_suffix(".html")
            member = names.get(student)
            name = feedback_name(member, lms) if member else None
            if not html.is_file():
                row = rows.get(student)
                why = "not graded" if row is None else row.status if not row.counted else "nbgrader wrote none"
                result.warnings.append(f"{student}: no feedback ({why}; see reports/{assignment}/autograde_log.csv)")
            elif name is None:
                result.warnings.append(f"{student}: feedback not packed: their file in the export "
                                       f"({member or 'none recorded by intake'}) is not named the way {lms} names "
                                       f"its downloads, so {lms} could not match it; send "
                                       f"{html.relative_to(assignment.root)} yourself")
            else:
                zf.write(html, name)
                result.packed[student] = name
    return result
