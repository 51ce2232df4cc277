"""The otter-grader plugin that grades a submission the way nbgrader does here (Gradescope or `otter run`).

Installed in the grading environment from the autograder zip (files/course-otter-plugin/, a distribution of this
file and course/integrity/: they import nothing but the standard library, nbformat and otter), named in the zip's
otter_config.json.

- before_grading: sets COURSE_AUTOGRADER=otter, which the notebook's kernel inherits; the master's setup cell
  reads it (like nbgrader's NBGRADER_EXECUTION) to train with the small grading budgets.
- before_execution: what nbgrader's OverwriteCells and this course's CheckSubmission do: every provided
  (locked) cell and every `grader.check` cell gets the instructor's source back, a deleted one is put back
  after the cell it followed, a duplicated one counts once (its last copy), and cell metadata a student could
  use to steer otter (`otter` keys) is dropped. The student's own cells and answers stay as they are.

- before_execution also puts the nbgrader path's grading guard (course/integrity/guard.py) into the
  notebook: a first cell installs it before any student code runs (its referee refuses notebook code the
  autograder's own files too: the tests and this plugin's configuration), a cell after each provided cell records
  the names tests rely on, and each hidden test enters and leaves the guard around its code: the names restored, the
  trusted copies of earlier questions' functions lent, its own handed to the guard once it is over.
- before_execution scans the code the student wrote (course/integrity/review.py); after_grading withholds (scores 0, with
  the reason) every question that code could have won, until a person regrades it on Gradescope.

The instructor's cells come from the plugin's configuration (`cells`: the student notebook's identified cells
in order, each {"id", "locked", "cell_type", "source"}; `guard`: {"install": code, "remember": {id: names}}),
written by `python -m course otter`.
"""

import copy
import os

from otter.plugins import AbstractOtterPlugin

from ..integrity import review
from ..integrity.guard import GUARD_MODULE, install_code
from ..integrity.restore import restore as restore_cells

CELL_KEY = "course"  # cell.metadata["course"]["id"]: which instructor cell this is
CHECK_PREFIX = "check_"  # the id of a question's grader.check cell: CHECK_PREFIX + the question
GRADING_VARIABLE = "COURSE_AUTOGRADER"


def cell_id(cell):
    return cell.get("metadata", {}).get(CELL_KEY, {}).get("id")


def restore(nb, reference):
    """Put the instructor's cells of `reference` (the plugin's `cells`: dicts in notebook order) back into nb, in
    place, source included (course/integrity/restore.py). Returns what was changed, one line each."""
    for cell in nb.cells:
        cell.get("metadata", {}).pop("otter", None)  # per-cell test calls are otter's, never a student's
    return restore_cells(nb, reference, key=CELL_KEY, field="id", overwrite=True)


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


def otter_cells(nb):
    """[(index, instructor id or None, source)] of a restored otter notebook's code cells, each grader.check cell
    standing for the question it runs (so that course/integrity/review.py sees the tests where they run)."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        gid = cell_id(cell)
        if gid and gid.startswith(CHECK_PREFIX):
            gid = gid[len(CHECK_PREFIX):]
        out.append((i, gid, cell.source))
    return out


class RestoreProvidedCells(AbstractOtterPlugin):
    """Grade the instructor's provided cells and checks, not the student's copies (see the module docstring)."""

    def before_grading(self, config):
        os.environ[GRADING_VARIABLE] = "otter"
        # otter runs the notebook in ./submission (the current folder), its tests in ./tests, the zip in ../source
        self.forbidden = [os.path.abspath("tests"), os.path.abspath(os.path.join("..", "source"))]

    def before_execution(self, submission):
        if isinstance(submission, str):  # a .py submission: nothing to restore
            return submission
        nb = copy.deepcopy(submission)
        self.changes = restore(nb, self.plugin_config.get("cells", []))
        plan = self.plugin_config.get("review")
        if plan:
            cells = otter_cells(nb)
            self.findings = review.scan_cells(cells, plan["plan"])
            self.withheld = review.withheld_tests(self.findings, cells, plan["plan"], frozenset(plan["end_to_end"]))
        guard = self.plugin_config.get("guard")
        if guard:
            install = install_code(guard["trusted"], guard["student"], getattr(self, "forbidden", ()))
            add_guard(nb, install, guard.get("remember", {}))
        return nb

    def after_grading(self, results):
        for question, reasons in sorted(getattr(self, "withheld", {}).items()):
            try:
                if results.get_score(question):
                    results.update_score(question, 0)
                    self.reasons = getattr(self, "reasons", {}) | {question: reasons}
            except (KeyError, ValueError):  # a question this submission's results do not have
                continue
        results.set_plugin_data(type(self).__module__ + "." + type(self).__name__, review.summary(
            getattr(self, "findings", []), [], getattr(self, "reasons", {})))

    def generate_report(self):
        lines = []
        changes = getattr(self, "changes", [])
        if changes:
            lines.append("The autograder graded the instructor's version of these cells:")
            lines += [f"- {c}" for c in changes]
        for question, reasons in sorted(getattr(self, "reasons", {}).items()):
            lines.append(f"{review.WITHHELD}: {question} passed, but its points are withheld until a person has read "
                         "the code behind it: " + "; ".join(reasons))
        return "\n".join(lines)
