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

Each submission's time goes into submitted/<student>/<assignment>/timestamp.txt (UTC), where nbgrader reads it
for lateness: from the name when the LMS writes it there (Blackboard's `_attempt_2026-10-30-23-59-00`, nbgrader's
example), else the zip entry's time, read in c.Term.timezone. The LMS's id of each student (Canvas's user id,
Moodle's participant number, both in the export's names; or the roster's) goes into nbgrader's gradebook
(Student.lms_user_id) with every roster student, so that `report --lms` can match grades back.
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from nbgrader.utils import parse_utc

from .inspection import inspect_submission

CANVAS = re.compile(r"^(?P<student>[^_\s]+)_(?:late_)?(?P<lms_id>\d+)_\d+_(?P<file>.+)$", re.IGNORECASE)
MOODLE = re.compile(r"^(?P<student>.+?)_(?P<lms_id>\d+)_assignsubmission_(?:file|onlinetext)_(?P<file>.*)$")
ATTEMPT = re.compile(r"_attempt_(?P<timestamp>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)")  # Blackboard
COPY_OF = re.compile(r"copy of\s+", re.IGNORECASE)
COUNTER = re.compile(r"(\s*\(\d+\)|-\d+)$")  # "name (1)" from browsers, "name-1" from Canvas resubmissions
IGNORED = ("__MACOSX/", ".DS_Store")
LMS_NAMES = "lms_names.json"


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


def lms_id(member):
    """The LMS's id of the student in a zip member's name or folder (Canvas, Moodle), or ''."""
    path = PurePosixPath(member)
    for text in (path.name, path.parent.name):
        for pattern in (CANVAS, MOODLE):
            m = pattern.match(text)
            if m:
                return m.group("lms_id")
    return ""


def submission_time(info, term):
    """When the file was submitted (aware, UTC): the time in its name if the LMS writes one there, else the zip
    entry's time, in the term's time zone."""
    m = ATTEMPT.search(info.filename)
    naive = datetime.strptime(m.group("timestamp"), "%Y-%m-%d-%H-%M-%S") if m else datetime(*info.date_time)
    return term.local(naive)


@dataclass
class Enrolled:
    """A student on the roster: the id grading uses, and what the LMS knows of them."""

    student: str
    lms_id: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""


@dataclass
class IntakeReport:
    assignment: str
    imported: dict = field(default_factory=dict)  # student -> zip member (new or changed)
    unchanged: dict = field(default_factory=dict)  # student -> zip member (same bytes already there)
    renamed: dict = field(default_factory=dict)  # student -> zip member, accepted under another name
    unmatched: list = field(default_factory=list)  # (zip member, reason)
    missing: list = field(default_factory=list)  # roster students without a submission
    review: dict = field(default_factory=dict)  # student -> suspicious lines for a person to read
    submitted: dict = field(default_factory=dict)  # student -> submission time (aware, UTC)
    late: dict = field(default_factory=dict)  # student -> seconds after the due date (late ones only)

    def lines(self):
        out = [(f"{self.assignment}: {len(self.imported)} imported, {len(self.unchanged)} unchanged, "
                f"{len(self.unmatched)} file(s) not matched, {len(self.missing)} roster student(s) without a file")]
        out += [f"  renamed: {member} -> {student}" for student, member in sorted(self.renamed.items())]
        out += [f"  late: {student}, {hours(seconds)} after the due date"
                for student, seconds in sorted(self.late.items())]
        out += [f"  not matched: {member}: {reason}" for member, reason in self.unmatched]
        out += [f"  no submission: {student}" for student in self.missing]
        out += [f"  review {student}: {line}" for student, lines in sorted(self.review.items()) for line in lines]
        return out


def hours(seconds):
    return f"{seconds / 3600:.1f} h"


def read_roster(path):
    """The class as [Enrolled], from one of: the LMS's own export (a Canvas gradebook CSV: Student, ID, ...;
    a Moodle grading worksheet: Identifier, Full name, Email address, ...), or student ids one per line (or in a
    CSV's first column; a header 'id' or 'student' is skipped)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [row for row in csv.reader(f) if row and any(cell.strip() for cell in row)]
    header = [h.strip() for h in rows[0]] if rows else []
    if {"Student", "ID"} <= set(header):  # Canvas: "Last, First", the user id; a "Points Possible" row
        s, i = header.index("Student"), header.index("ID")
        out = []
        for row in rows[1:]:
            name = row[s].strip()
            if not row[i].strip() or "points possible" in name.lower():
                continue
            last, _, first = (part.strip() for part in name.partition(","))
            out.append(Enrolled(student_id(re.sub(r"[^a-z0-9]", "", name.lower())), row[i].strip(), first, last))
        return out
    if "Identifier" in header:  # Moodle's worksheet: "Participant 777", "Ada Lovelace", email
        col = {h: header.index(h) for h in ("Identifier", "Full name", "Email address") if h in header}
        out = []
        for row in rows[1:]:
            name = row[col["Full name"]].strip() if "Full name" in col else ""
            number = row[col["Identifier"]].strip().removeprefix("Participant").strip()
            first, _, last = name.partition(" ")
            email = row[col["Email address"]].strip() if "Email address" in col else ""
            out.append(Enrolled(student_id(name or number), number, first, last, email))
        return out
    ids = [student_id(row[0]) for row in rows]
    return [Enrolled(i) for i in ids if i not in ("id", "student", "student_id")]


def intake(export, assignment, roster=None):
    """Import the zip `export` into the course's submitted/ for an Assignment; returns an IntakeReport (also
    written to reports/<assignment>/intake.csv)."""
    course, name = assignment.course, assignment.name
    report = IntakeReport(name)
    known = course.names
    term = course.term
    due = term.due(name)
    class_list = read_roster(roster) if roster else []
    enrolled = {e.student for e in class_list} if roster else None
    by_lms_id = {e.lms_id: e.student for e in class_list if e.lms_id}
    chosen = {}  # student -> (date, member, data, kind, lines to review)
    with zipfile.ZipFile(export) as zf:
        for info in zf.infolist():
            member = info.filename
            if info.is_dir() or member.startswith(IGNORED) or PurePosixPath(member).name.startswith("._"):
                continue
            if not member.lower().endswith(".ipynb"):
                report.unmatched.append((member, "not a notebook (.ipynb)"))
                continue
            student, kind, reason = parse_member(member, name, known)
            if student is None:
                report.unmatched.append((member, reason))
                continue
            student = by_lms_id.get(lms_id(member), student)  # the roster's id for the LMS's user
            if enrolled is not None and student not in enrolled:
                report.unmatched.append((member, f"student {student!r} is not on the roster"))
                continue
            data = zf.read(info)
            checked = inspect(data, assignment)
            if not checked.ok:
                report.unmatched.append((member, "; ".join(checked.problems)))
                continue
            review = [f"cell {i}, line {n}: {why}: {code}" for i, n, code, why in checked.review]
            entry = (submission_time(info, term), member, data, kind, review)
            if student in chosen:  # several files for one student: keep the newest
                older, entry = sorted([chosen[student], entry], key=lambda e: (e[0], e[1]))
                report.unmatched.append((older[1], f"older duplicate for {student} (kept {entry[1]})"))
            chosen[student] = entry
    for student, (when, member, data, kind, review) in sorted(chosen.items()):
        target = assignment.notebook("submitted", student)
        stamp = target.parent / "timestamp.txt"
        if target.is_file() and target.read_bytes() == data and stamp.is_file():
            report.unchanged[student] = member  # untouched, its time too: a resumed autograde keeps its grade
            when = parse_utc(stamp.read_text().strip()).replace(tzinfo=UTC)  # nbgrader's reading of it
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            stamp.write_text(f"{when.isoformat(' ')}\n")  # nbgrader's format (zip_collect writes the same)
            report.imported[student] = member
        report.submitted[student] = when
        late = (when - due).total_seconds() if due else 0.0
        if late > 0:
            report.late[student] = late
        if kind == "renamed":
            report.renamed[student] = member
        if review:
            report.review[student] = review
    if enrolled is not None:
        report.missing = sorted(enrolled - set(chosen))
    register_students(course, class_list, {student: lms_id(entry[1]) for student, entry in chosen.items()})
    record_names(assignment, {student: entry[1] for student, entry in chosen.items()})
    write_report(report, assignment.reports)
    return report


def record_names(assignment, members):
    """Remember each student's file name in the LMS's export (reports/<a>/lms_names.json, kept across intakes):
    the LMS matches the feedback it takes back by that name (course.lms.pack_feedback)."""
    import json

    path = assignment.reports / LMS_NAMES
    known = json.loads(path.read_text()) if path.is_file() else {}
    known.update(members)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")


def recorded_names(assignment):
    """{student: their file's name in the LMS's export} as intake recorded them."""
    import json

    path = assignment.reports / LMS_NAMES
    return json.loads(path.read_text()) if path.is_file() else {}


def register_students(course, class_list, submitted):
    """The class into nbgrader's gradebook: every roster student and every student with a submission
    (`submitted`: {student: the LMS's id in the export's names, or ''}), with the LMS's id and names (kept when
    already there and not known here)."""
    from nbgrader.api import Gradebook

    known = {e.student: e for e in class_list}
    for student in submitted:
        known.setdefault(student, Enrolled(student))
    course_id = course.config.CourseDirectory.get("course_id", "")
    with Gradebook(course.gradebook, course_id) as gb:
        for student, e in sorted(known.items()):
            fields = {"lms_user_id": e.lms_id or submitted.get(student, ""), "first_name": e.first_name,
                      "last_name": e.last_name, "email": e.email}
            gb.update_or_create_student(student, **{k: v for k, v in fields.items() if v})


def inspect(data, assignment):
    """course.inspection.inspect_submission on the bytes (written to a scratch <assignment>.ipynb): a Report whose
    .problems say why it cannot be autograded (damaged, not a notebook, another assignment's...)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{assignment.name}.ipynb"
        path.write_bytes(data)
        return inspect_submission(path, assignment)


def write_report(report, folder):
    path = folder / "intake.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["file", "student", "status", "reason", "submitted (UTC)", "late by"])

    def when(student):
        stamp = report.submitted.get(student)
        late = report.late.get(student)
        return [stamp.strftime("%Y-%m-%d %H:%M:%S") if stamp else "", hours(late) if late else ""]

    for status, members in (("imported", report.imported), ("unchanged", report.unchanged)):
        for student, member in sorted(members.items()):
            w.writerow([member, student, status, "renamed" if student in report.renamed else "", *when(student)])
    for member, reason in report.unmatched:
        w.writerow([member, "", "not matched", reason, "", ""])
    for student in report.missing:
        w.writerow(["", student, "missing", "on the roster, no file in the export", "", ""])
    path.write_text(buf.getvalue())
    return path
