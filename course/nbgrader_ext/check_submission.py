"""CheckSubmission: nbgrader's first sanitize step for this course (wired in by nbgrader_config.py).

It rejects a notebook of another assignment or without nbgrader metadata, resets each cell's nbgrader
metadata to the master's (the gradebook's copy, the one nbgrader grades against), drops invented grade ids and all
but the last copy of a duplicated cell, puts back deleted instructor cells (course/integrity/restore.py, which the
otter edition's plugin runs too). nbgrader's DeduplicateIds and OverwriteCells run after it; GuardedExecute then
scans the code the student wrote for what a person must review (course/integrity/review.py).
"""

import copy

from nbgrader.preprocessors import NbGraderPreprocessor

from ..cells import grade_id, is_locked
from ..course import Assignment, Course
from ..inspection import NotebookRejected, identify
from ..integrity.restore import restore
from .graded_master import graded_master


class CheckSubmission(NbGraderPreprocessor):
    """Sanitize step (see the module docstring): runs before nbgrader's DeduplicateIds and OverwriteCells."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        assignment = Assignment(Course.of(self.config), info["assignment"])
        today = assignment.master()
        # The gradebook's copy, which OverwriteCells restores from next (today's source/ gives the cells' order).
        master = graded_master(resources, order=today) or today
        why = identify(nb, assignment)
        if why:
            raise NotebookRejected(f"{info['student']}/{info['assignment']}: {why}")
        reference = [{"id": grade_id(c), "locked": is_locked(c), "cell_type": c.cell_type, "source": c.source,
                      "metadata": copy.deepcopy(dict(c.metadata))} for c in master.cells if grade_id(c)]
        for change in restore(nb, reference, key="nbgrader", field="grade_id"):
            self.log.warning("%s", change)
        nb.metadata.pop("course", None)  # what the grader records there (GuardedExecute) is the grader's to write
        return nb, resources
