"""Import an LMS export (a zip of students' notebooks) into submitted/<student>/<assignment>/<assignment>.ipynb.

File names the LMSs and Colab produce, all understood:

    alice_model_fitting.ipynb, alice - Copy of model_fitting (2).ipynb    student, then the notebook's name
    alice/Copy of model_fitting.ipynb                                     a folder per student
    smithjane_12345_67890_Copy of Copy of model_fitting.ipynb             Canvas (also smithjane_LATE_...)
    Jane Smith_12345_assignsubmission_file_/model_fitting.ipynb           Moodle (folders, or flat)

Colab's "Copy of " prefixes and download counters (" (1)", "-1") are ignored. A notebook renamed by
its student ("homework3.ipynb") is accepted when the student is known from the LMS's part of the name.
Every file goes through course.inspection.inspect_submission (damaged? another assignment's notebook?).
Every file that is not imported is reported with the reason (no student in the name, another
assignment's notebook, not a notebook, an older duplicate, not on the roster...), and so is every
roster student without a submission; suspicious code is listed for a person to review.
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from .inspection import inspect_submission
from .paths import assignments, notebook_path, reports_dir

CANVAS = re.compile(r"^(?P<student>[^_\s]+)_(?:late_)?\d+_\d+_(?P<file>.+)$", re.IGNORECASE)
MOODLE = re.compile(r"^(?P<student>.+?)_\d+_assignsubmission_(?:file|onlinetext)_(?P<file>.*)$")
COPY_OF = re.compile(r"copy of\s+", re.IGNORECASE)
COUNTER = re.compile(r"(\s*\(\d+\)|-\d+)$")  # "name (1)" from browsers, "name-1" from Canvas resubmissions
IGNORED = ("__MACOSX/", ".DS_Store")


def student_id(text):
    """A name as a student id nbgrader can use in paths: lower case, [a-z0-9._-] only."""
    return re.sub(r"[^a-z0-9._-]+", "_", text.strip().lower()).strip("._-")


def clean_name(filename):
    """'Copy of Copy of model_fitting (2).ipynb' -> 'model_fitting'."""
    stem = PurePosixPath(filename).stem if filename.lower().endswith(".ipynb") else filename
    stem = COUNTER.sub("", COPY_OF.sub("", stem).strip())
    return re.sub(r"[\s-]+", "_", stem.strip().lower())


def parse_member(member, assignment, course_assignments):
    """(student or None, kind, reason) for a zip member: kind is 'named' (the file names this assignment) or
    'renamed' (another name, the student known from the LMS's part of the name or the folder); None and
    the reason when the member cannot be matched."""
    path = PurePosixPath(member)
    name, folder = path.name, path.parent.name
    lms_student, file = None, name
    for pattern in (CANVAS, MOODLE):
        m = pattern.match(name)
        if m:
            lms_student, file = m.group("student"), m.group("file")
            break
    m = MOODLE.match(folder)
    folder_student = m.group("student") if m else folder
    cleaned = clean_name(file)
    others = [a for a in course_assignments if a != assignment and cleaned.endswith(a)]
    if others:
        return None, None, f"named for another assignment ({others[0]})"
    if cleaned.endswith(assignment):
        student = student_id(lms_student or cleaned[: -len(assignment)] or folder_student)
        return (student, "named", "") if student else (None, None, "no student in the name")
    if student_id(lms_student or folder_student):
        return student_id(lms_student or folder_student), "renamed", ""
    return None, None, f"no student in the name, and it is not named {assignment}.ipynb"


@dataclass
class IntakeReport:
    assignment: str
    imported: dict = field(default_factory=dict)  # student -> zip member (new or changed)
    unchanged: dict = field(default_factory=dict)  # student -> zip member (same bytes already there)
    renamed: dict = field(default_factory=dict)  # student -> zip member, accepted under another name
    unmatched: list = field(default_factory=list)  # (zip member, reason)
    missing: list = field(default_factory=list)  # roster students without a submission
    review: dict = field(default_factory=dict)  # student -> suspicious lines for a person to read

    def lines(self):
        out = [(f"{self.assignment}: {len(self.imported)} imported, {len(self.unchanged)} unchanged, "
                f"{len(self.unmatched)} file(s) not matched, {len(self.missing)} roster student(s) without a file")]
        out += [f"  renamed: {member} -> {student}" for student, member in sorted(self.renamed.items())]
        out += [f"  not matched: {member}: {reason}" for member, reason in self.unmatched]
        out += [f"  no submission: {student}" for student in self.missing]
        out += [f"  review {student}: {line}" for student, lines in sorted(self.review.items()) for line in lines]
        return out


def read_roster(path):
    """Student ids, one per line or in the first column of a CSV (a header 'id' or 'student' is skipped)."""
    with open(path, newline="") as f:
        ids = [student_id(row[0]) for row in csv.reader(f) if row and row[0].strip()]
    return [i for i in ids if i not in ("id", "student", "student_id")]


def intake(export, assignment, root, roster=None):
    """Import the zip `export` into root/submitted/ for `assignment`; returns an IntakeReport (also written
    to reports/<assignment>/intake.csv)."""
    root = Path(root)
    report = IntakeReport(assignment)
    known = assignments(root)
    enrolled = set(read_roster(roster)) if roster else None
    chosen = {}  # student -> (date, member, data, kind, lines to review)
    with zipfile.ZipFile(export) as zf:
        for info in zf.infolist():
            member = info.filename
            if info.is_dir() or member.startswith(IGNORED) or PurePosixPath(member).name.startswith("._"):
                continue
            if not member.lower().endswith(".ipynb"):
                report.unmatched.append((member, "not a notebook (.ipynb)"))
                continue
            student, kind, reason = parse_member(member, assignment, known)
            if student is None:
                report.unmatched.append((member, reason))
                continue
            if enrolled is not None and student not in enrolled:
                report.unmatched.append((member, f"student {student!r} is not on the roster"))
                continue
            data = zf.read(info)
            checked = inspect(data, assignment, root)
            if not checked.ok:
                report.unmatched.append((member, "; ".join(checked.problems)))
                continue
            review = [f"cell {i}, line {n}: {why}: {code}" for i, n, code, why in checked.review]
            entry = (datetime(*info.date_time), member, data, kind, review)
            if student in chosen:  # several files for one student: keep the newest
                older, entry = sorted([chosen[student], entry], key=lambda e: (e[0], e[1]))
                report.unmatched.append((older[1], f"older duplicate for {student} (kept {entry[1]})"))
            chosen[student] = entry
    for student, (_, member, data, kind, review) in sorted(chosen.items()):
        target = notebook_path(root, "submitted", student, assignment)
        if target.is_file() and target.read_bytes() == data:
            report.unchanged[student] = member  # untouched: a resumed autograde keeps its grade
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            report.imported[student] = member
        if kind == "renamed":
            report.renamed[student] = member
        if review:
            report.review[student] = review
    if enrolled is not None:
        report.missing = sorted(enrolled - set(chosen))
    write_report(report, root)
    return report


def inspect(data, assignment, root):
    """course.inspection.inspect_submission on the bytes (written to a scratch <assignment>.ipynb): a Report whose
    .problems say why it cannot be autograded (damaged, not a notebook, another assignment's...)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{assignment}.ipynb"
        path.write_bytes(data)
        return inspect_submission(path, assignment, root)


def write_report(report, root):
    path = reports_dir(root, report.assignment) / "intake.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["file", "student", "status", "reason"])
    for student, member in sorted(report.imported.items()):
        w.writerow([member, student, "imported", "renamed" if student in report.renamed else ""])
    for student, member in sorted(report.unchanged.items()):
        w.writerow([member, student, "unchanged", "renamed" if student in report.renamed else ""])
    for member, reason in report.unmatched:
        w.writerow([member, "", "not matched", reason])
    for student in report.missing:
        w.writerow(["", student, "missing", "on the roster, no file in the export"])
    path.write_text(buf.getvalue())
    return path
