"""The otter-grader plugin that grades a submission the way nbgrader does here (Gradescope or `otter run`).

Installed in the grading environment from the autograder zip (files/course-otter-plugin/, a distribution with
this file alone: it imports nothing but the standard library and otter), named in the zip's otter_config.json.

- before_grading: sets COURSE_AUTOGRADER=otter, which the notebook's kernel inherits; the master's setup cell
  reads it (like nbgrader's NBGRADER_EXECUTION) to train with the small grading budgets.
- before_execution: what nbgrader's OverwriteCells and this course's CheckSubmission do: every provided
  (locked) cell and every `grader.check` cell gets the instructor's source back, a deleted one is put back
  after the cell it followed, a duplicated one counts once (its last copy), and cell metadata a student could
  use to steer otter (`otter` keys) is dropped. The student's own cells and answers stay as they are.

- before_execution also puts the nbgrader path's grading guard (course/nbgrader_ext/kernel_guard.py) into the
  notebook: a first cell installs it before any student code runs, a cell after each provided cell records the
  names tests rely on, and each hidden test restores them (and numpy, math, builtins, the shell) before it runs.

The instructor's cells come from the plugin's configuration (`cells`: the student notebook's identified cells
in order, each {"id", "locked", "cell_type", "source"}; `guard`: {"install": code, "remember": {id: names}}),
written by `python -m course otter`.
"""

import copy
import os
import uuid

from otter.plugins import AbstractOtterPlugin

CELL_KEY = "course"  # cell.metadata["course"]["id"]: which instructor cell this is
GRADING_VARIABLE = "COURSE_AUTOGRADER"
GUARD_MODULE = "_dlfs_guard"  # as course.nbgrader_ext.guarded_execute names it in the kernel


def cell_id(cell):
    return cell.get("metadata", {}).get(CELL_KEY, {}).get("id")


def restore(nb, reference):
    """Put the instructor's cells of `reference` (a list of dicts, in notebook order) back into nb, in place.

    Returns a list of what was changed, one line each (for the grading log)."""
    import nbformat

    changes = []
    known = {r["id"]: r for r in reference}
    last = {cell_id(c): i for i, c in enumerate(nb.cells) if cell_id(c) in known}
    for i, cell in enumerate(nb.cells):
        cell.get("metadata", {}).pop("otter", None)  # per-cell test calls are otter's, never a student's
        gid = cell_id(cell)
        if gid is None:
            continue
        if gid not in known or last[gid] != i:
            cell.metadata.pop(CELL_KEY, None)  # an earlier copy, or an id the course never gave: an ordinary cell
            changes.append(f"cell {i} ({gid}): {'a later copy is graded' if gid in known else 'unknown id'}")
            continue
        ref = known[gid]
        if ref["locked"] and (cell.cell_type != ref["cell_type"] or cell.source != ref["source"]):
            changes.append(f"cell {i} ({gid}): edited; the instructor's version is graded")
            fresh = _new_cell(ref)
            nb.cells[i] = fresh
    present = {cell_id(c) for c in nb.cells}
    anchor = None
    for ref in reference:
        if ref["locked"] and ref["id"] not in present:
            where = max((i for i, c in enumerate(nb.cells) if cell_id(c) == anchor), default=-1) + 1
            note = nbformat.v4.new_markdown_cell(f"*The autograder put back the next cell ({ref['id']}): it was "
                                                 "missing from the submission.*")
            nb.cells[where:where] = [note, _new_cell(ref)]
            present.add(ref["id"])
            changes.append(f"cell {ref['id']}: missing; put back")
        if ref["id"] in present:
            anchor = ref["id"]
    return changes


def add_guard(nb, install, remember):
    """Insert, in place, the cell that installs the guard (first) and one after each provided cell whose names
    the guard must remember (cells without an id: the student cannot name them)."""
    import nbformat

    cells = [nbformat.v4.new_code_cell(install)]
    for cell in nb.cells:
        cells.append(cell)
        names = remember.get(cell_id(cell)) if cell.cell_type == "code" else None
        if names:
            cells.append(nbformat.v4.new_code_cell(f"__import__('sys').modules[{GUARD_MODULE!r}].remember({names!r})"))
    nb.cells = cells


def _new_cell(ref):
    import nbformat

    make = nbformat.v4.new_code_cell if ref["cell_type"] == "code" else nbformat.v4.new_markdown_cell
    cell = make(ref["source"])
    cell.metadata[CELL_KEY] = {"id": ref["id"]}
    cell["id"] = uuid.uuid4().hex[:8]
    return cell


class RestoreProvidedCells(AbstractOtterPlugin):
    """Grade the instructor's provided cells and checks, not the student's copies (see the module docstring)."""

    def before_grading(self, config):
        os.environ[GRADING_VARIABLE] = "otter"

    def before_execution(self, submission):
        if isinstance(submission, str):  # a .py submission: nothing to restore
            return submission
        nb = copy.deepcopy(submission)
        self.changes = restore(nb, self.plugin_config.get("cells", []))
        guard = self.plugin_config.get("guard")
        if guard:
            add_guard(nb, guard["install"], guard.get("remember", {}))
        return nb

    def generate_report(self):
        changes = getattr(self, "changes", [])
        if not changes:
            return ""
        return "The autograder graded the instructor's version of these cells:\n" + "\n".join(
            f"- {c}" for c in changes)
