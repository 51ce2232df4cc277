"""Inspecting one submitted notebook file, before it is graded (intake) and while (CheckSubmission).

- inspect_submission(path, assignment) -> Report: can this file be autograded, what will grading fix
  or ignore, and which code should a human read. fix_name() gives a renamed download ("Copy of
  model_fitting.ipynb", "model_fitting (1).ipynb") the name nbgrader expects. Intake calls both.
- identify(nb, assignment): is this the assignment's notebook at all (used by CheckSubmission too).
- suspicious(nb, master): student code a person must read (course/integrity/review.py: code that reaches for what the tests
  keep, or tampers with the grader), for intake's report; scan() and withheld() give it to GuardedExecute.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .cells import grade_id, is_locked, is_solution, is_test
from .integrity import review

_COPY_NAME = re.compile(r"^(copy of\s+)*(?P<stem>.+?)(\s*\(\d+\)|\s*-\s*copy(\s*\d+)?|\s*copy)*(\.ipynb)+$", re.IGNORECASE)


class NotebookRejected(ValueError):
    """This notebook cannot be autograded as the assignment; the message says why and what to do."""


def ids(nb):
    return [grade_id(c) for c in nb.cells if grade_id(c)]


def suspicious(nb, master):
    """[(cell index, line number, line, why)] for student code a human should read (course.integrity.review's findings: every
    cell but the master's locked ones, whose source is replaced while grading anyway)."""
    return [(f.cell, f.line, f.code, f.why + (" (its questions are withheld until then)" if f.severity == review.WITHHOLD
                                              else "")) for f in scan(nb, master)]


def master_plan(master):
    """course.integrity.review.plan() of an nbgrader master: its code cells as tests, provided (locked) cells and solutions."""
    cells = []
    for cell in master.cells:
        if cell.cell_type != "code":
            continue
        kind = "test" if is_test(cell) else "provided" if is_locked(cell) else "solution" if is_solution(cell) else None
        if kind:
            cells.append((grade_id(cell), kind, cell.source))
    return review.plan(cells)


def notebook_cells(nb):
    """[(index, grade id or None, source)] of an nbgrader notebook's code cells."""
    return [(i, grade_id(c), c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def scan(nb, master):
    """course.integrity.review's findings in an nbgrader notebook, against its master."""
    return review.scan_cells(notebook_cells(nb), master_plan(master))


def withheld(findings, nb, master, end_to_end=frozenset()):
    """{test id: [why]}: the tests of nb whose points wait for a person (course.integrity.review.withheld_tests)."""
    return review.withheld_tests(findings, notebook_cells(nb), master_plan(master), end_to_end)


def identify(nb, assignment):
    """None if nb is the notebook of the Assignment, else why not: its grade ids are closest to another master's of
    the course (masters may share a few ids, like "setup"), or it has none of the assignment's."""
    present = set(ids(nb))
    masters = {a.name: set(ids(a.master())) for a in assignment.course}
    similarity = {name: len(present & m) / len(present | m) for name, m in masters.items() if present & m}
    if not similarity:
        return ("the notebook has none of the assignment's nbgrader cell metadata (was it re-created, or its cells "
                "pasted into a new notebook?): grade it by hand, or ask the student for the downloaded original")
    best = max(similarity, key=similarity.get)
    if best != assignment.name:
        return f"this is the notebook of another assignment ({best}), not {assignment}"
    return None


def expected_name(filename, assignment):
    """The notebook name nbgrader needs if filename is a renamed download of it, else None."""
    m = _COPY_NAME.match(Path(filename).name.strip())
    return f"{assignment}.ipynb" if m and m.group("stem").strip().lower() == assignment.lower() else None


@dataclass
class Report:
    path: Path
    assignment: str
    problems: list = field(default_factory=list)  # why it cannot be autograded; a person must act
    notes: list = field(default_factory=list)  # what grading fixes or ignores by itself
    review: list = field(default_factory=list)  # suspicious code, for a person to read
    rename_to: str | None = None  # the name nbgrader needs, when the file has another

    @property
    def ok(self):
        return not self.problems

    def __str__(self):
        lines = [f"{self.path}: {'ok' if self.ok else 'CANNOT BE AUTOGRADED'}"]
        lines += [f"  problem: {p}" for p in self.problems] + [f"  note: {n}" for n in self.notes]
        lines += [f"  review: cell {i}, line {n}: {why}: {code}" for i, n, code, why in self.review]
        return "\n".join(lines)


def inspect_submission(path, assignment):
    """Check one submitted file of an Assignment (see the module docstring). Reads it; changes nothing."""
    path, name = Path(path), assignment.name
    report = Report(path, name)
    text = path.read_bytes().decode("utf-8", errors="replace")
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        report.problems.append(f"not valid JSON ({exc}): the file is damaged; ask the student to download the "
                               "notebook again (File > Download > Download .ipynb)")
        return report
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 (nbformat raises many kinds)
        report.problems.append(f"not a Jupyter notebook ({type(exc).__name__}: {exc})")
        return report
    why = identify(nb, assignment)
    if why:
        report.problems.append(why)
        return report
    if path.name != f"{name}.ipynb":
        report.rename_to = f"{name}.ipynb"
        report.notes.append(f"named {path.name!r}: nbgrader grades only {report.rename_to!r} (fix_name renames it)")
    master = assignment.master()
    master_ids, seen = set(ids(master)), ids(nb)
    for gid in sorted(set(seen) - master_ids):
        report.notes.append(f"cell {gid!r} is not in the master: graded as an ordinary cell")
    for gid in sorted({g for g in seen if seen.count(g) > 1}):
        report.notes.append(f"cell {gid!r} appears {seen.count(gid)} times: the last copy is graded, with the "
                            "master's source")
    for cell in master.cells:
        if is_locked(cell) and grade_id(cell) not in seen:
            report.notes.append(f"instructor cell {grade_id(cell)!r} is missing: grading puts the master's back")
    links = sorted(p.name for p in path.parent.rglob("*") if p.is_symlink() or not (p.is_file() or p.is_dir()))
    if links:  # nbgrader copies the folder following links: a link to a master would put it in the student's folder
        report.problems.append(f"links or special files in the submission folder ({', '.join(links)}): remove them")
    others = [p.name for p in path.parent.iterdir() if p != path and not p.name.startswith(".")]
    if others:
        report.notes.append(f"other files next to the notebook ({', '.join(sorted(others))}): copied into the "
                            "grading folder, where the notebook could read them but not import them")
    report.review = suspicious(nb, master)
    return report


def fix_name(path, assignment):
    """Rename a renamed download of an Assignment back to <assignment>.ipynb (when that name is free). Returns the
    path."""
    path = Path(path)
    target = path.with_name(f"{assignment.name}.ipynb")
    if path != target and not target.exists() and (expected_name(path.name, assignment.name) or
                                                   not identify(nbformat.read(str(path), as_version=4), assignment)):
        path.rename(target)
        return target
    return path
