"""CheckSubmission: nbgrader's first sanitize step for this course (wired in by nbgrader_config.py).

It rejects a notebook of another assignment or without nbgrader metadata, resets each cell's nbgrader
metadata to the master's (the gradebook's copy, the one nbgrader grades against), drops invented grade ids and all but the last copy of a duplicated cell, puts
back deleted instructor cells. nbgrader's DeduplicateIds and OverwriteCells run after it; GuardedExecute then
scans the code the student wrote for what a person must review (course/review.py).
"""

import copy
import uuid
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from ..cells import grade_id, is_locked, nbgrader_meta
from ..inspection import NotebookRejected, identify, ids
from ..paths import master_path
from .graded_master import graded_master


class CheckSubmission(NbGraderPreprocessor):
    """Sanitize step (see the module docstring): runs before nbgrader's DeduplicateIds and OverwriteCells."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        root = Path(self.config.get("CourseDirectory", {}).get("root") or ".").resolve()
        today = nbformat.read(str(master_path(info["assignment"], root)), as_version=4)
        # The gradebook's copy, which OverwriteCells restores from next (today's source/ gives the cells' order).
        master = graded_master(resources, order=today) or today
        why = identify(nb, info["assignment"], root)
        if why:
            raise NotebookRejected(f"{info['student']}/{info['assignment']}: {why}")
        reference = {grade_id(c): c for c in master.cells if grade_id(c)}
        last = {grade_id(c): i for i, c in enumerate(nb.cells) if grade_id(c)}
        for i, cell in enumerate(nb.cells):
            gid = grade_id(cell)
            if gid in reference and last[gid] == i:
                cell.metadata["nbgrader"] = copy.deepcopy(nbgrader_meta(reference[gid]))
            elif "nbgrader" in cell.get("metadata", {}):
                # nbgrader's DeduplicateIds would leave `"nbgrader": {}` on the earlier copies of a cell, and its
                # metadata check then stops the grading of the whole class (SchemaTooOldError).
                why = "a later copy is graded" if gid in reference else "it is not in the master"
                self.log.warning("cell %d (grade id %r): %s; graded as an ordinary cell", i, gid, why)
                del cell.metadata["nbgrader"]
        self._restore_missing(nb, master)
        nb.metadata.pop("course", None)  # what the grader records there (GuardedExecute) is the grader's to write
        return nb, resources

    def _restore_missing(self, nb, master):
        """Put back each instructor (locked) cell missing from nb, after the master cell it follows there."""
        present = set(ids(nb))
        anchor = None  # the latest master cell found in nb
        for cell in master.cells:
            gid = grade_id(cell)
            if is_locked(cell) and gid not in present:
                where = max((i for i, c in enumerate(nb.cells) if grade_id(c) == anchor), default=-1) + 1
                restored = copy.deepcopy(cell)
                restored["id"] = uuid.uuid4().hex[:8]
                if restored.cell_type == "code":
                    restored.outputs, restored.execution_count = [], None
                note = nbformat.v4.new_markdown_cell(f"*The autograder put back the next cell ({gid}): it was "
                                                     "missing from the submission.*")
                nb.cells[where:where] = [note, restored]
                present.add(gid)
                self.log.warning("instructor cell %r was missing: restored from the master", gid)
            if gid in present:
                anchor = gid
