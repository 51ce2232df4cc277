"""What an nbgrader cell is, in one place: the predicates of nbgrader.utils, and the course's few on top.

nbgrader's own meaning is the one that counts while grading (OverwriteCells restores every cell that
nbgrader.utils.is_locked calls locked: grade cells and cells marked read-only, never solution cells), so
every module and test of this course asks these functions rather than reading the metadata itself.
"""

from nbgrader import utils


def nbgrader_meta(cell):
    """The cell's nbgrader metadata ({} for a cell nbgrader does not know)."""
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell):
    return nbgrader_meta(cell).get("grade_id")


def is_grade(cell):
    """A graded cell: an autograded test (code) or a written answer (markdown)."""
    return bool(utils.is_grade(cell))


def is_solution(cell):
    """A cell the student writes (a TODO)."""
    return bool(utils.is_solution(cell))


def is_locked(cell):
    """A cell nbgrader restores from the master while grading: tests and provided code, never solutions."""
    return bool(utils.is_locked(cell))


def is_test(cell):
    """An autograded test cell."""
    return cell.cell_type == "code" and is_grade(cell)


def is_written_answer(cell):
    """A written answer, graded by hand."""
    return cell.cell_type == "markdown" and is_grade(cell)


def points(cell):
    return float(nbgrader_meta(cell).get("points", 0))


# The course's own cell metadata, beside nbgrader's: {"course": {"role": ...}} in a master. A role says what a
# cell is for, so that the tooling can leave it out where it is not wanted (tests that load a master's definitions,
# the in-process grading of the catalog, benchmarks, calibration); the release drops the key.
COURSE_KEY = "course"
ROLES = {
    "loads": "loads a dataset",
    "trains": "trains a model (minutes at full size)",
    "demonstrates": "only shows the student something (plots, a look inside a model, a comparison)",
}


def role(cell):
    """The cell's role (one of ROLES), or None."""
    meta = cell.get("metadata", {}).get(COURSE_KEY)
    return meta.get("role") if isinstance(meta, dict) else None
