"""Unit tests of the course's nbgrader preprocessors and their pure functions, one preprocessor at a time, as
nbgrader's own tests do (no kernel, no grading run: tests/test_tampering.py grades them end to end)."""

import logging

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output
from quiz_course import QUIZ, master, variant
from traitlets.config import Config

from course.cells import grade_id, nbgrader_meta
from course.inspection import NotebookRejected
from course.nbgrader_ext.check_submission import CheckSubmission
from course.nbgrader_ext.graded_master import graded_master
from course.nbgrader_ext.scrub_feedback import REDACTED, ScrubFeedback, hidden_lines, redact, scrub_cell
from course.notebooks import HIDDEN_BEGIN, HIDDEN_END, cell_by_id, marked_lines, write


@pytest.fixture
def course(tmp_path):
    write(master(), tmp_path / "source" / QUIZ / f"{QUIZ}.ipynb")
    return tmp_path


def resources(root, db_url=None):
    info = {"assignment": QUIZ, "student": "s", "notebook": QUIZ}
    if db_url:
        info["db_url"] = db_url
    return {"nbgrader": info}


def check(root, nb, db_url=None):
    pre = CheckSubmission(config=Config({"CourseDirectory": {"root": str(root)}}))
    pre.log = logging.getLogger("test_preprocessors")
    return pre.preprocess(nb, resources(root, db_url))[0]


# ---------------------------------------------------------------- CheckSubmission


def test_check_submission_resets_metadata_to_the_masters(course):
    nb = variant()
    meta = nbgrader_meta(cell_by_id(nb, "test_add"))
    meta["points"], meta["locked"] = 100, False  # a student "gives" themselves points and unlocks the test
    out = check(course, nb)
    assert nbgrader_meta(cell_by_id(out, "test_add")) == nbgrader_meta(cell_by_id(master(), "test_add"))


def test_check_submission_keeps_the_last_copy_of_a_duplicated_cell_and_drops_invented_ids(course):
    nb = variant()
    nb.cells.insert(1, nbformat.from_dict(cell_by_id(nb, "add")))  # an earlier copy of the solution cell
    invented = new_code_cell("x = 1", metadata={"nbgrader": {"grade_id": "bonus", "grade": True, "points": 50}})
    nb.cells.append(invented)
    out = check(course, nb)
    ids = [grade_id(c) for c in out.cells if grade_id(c)]
    assert ids.count("add") == 1 and "bonus" not in ids
    assert not nbgrader_meta(out.cells[1]), "the earlier copy is graded as an ordinary cell"


def test_check_submission_puts_back_deleted_instructor_cells_in_place(course):
    out = check(course, variant(drop=["helpers", "test_mean"]))
    ids = [grade_id(c) for c in out.cells if grade_id(c)]
    assert ids == [grade_id(c) for c in master().cells if grade_id(c)]
    assert any("put back the next cell (helpers)" in c.source for c in out.cells if c.cell_type == "markdown")


def test_check_submission_rejects_another_assignments_notebook(course):
    nb = variant()
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    with pytest.raises(NotebookRejected, match="none of the assignment's nbgrader cell metadata"):
        check(course, nb)


def test_graded_master_is_none_without_a_gradebook_copy(course):
    assert graded_master(resources(course)) is None
    assert graded_master(resources(course, f"sqlite:///{course / 'gradebook.db'}")) is None


# ---------------------------------------------------------------- ScrubFeedback


def test_hidden_lines_come_in_every_quoted_form():
    forms = hidden_lines(master())
    line = next(f for f in marked_lines(master(), HIDDEN_BEGIN, HIDDEN_END) if '"' in f)
    assert line in forms and line.replace('"', '\\"') in forms and line.replace('"', "&quot;") in forms
    assert redact(f"print({line})", forms) == f"print({REDACTED})"


def test_scrub_cell_drops_hidden_regions_and_keeps_only_the_errors_last_line():
    cell = nbformat.from_dict(cell_by_id(master(), "test_add"))
    assert HIDDEN_BEGIN in cell.source
    cell.outputs = [new_output("error", ename="AssertionError", evalue="add(2, 3): got 6, expected 5",
                               traceback=["Traceback ...", "  hidden_line()", "AssertionError: add(2, 3): got 6"])]
    scrub_cell(cell, hidden_lines(master()))
    assert HIDDEN_BEGIN not in cell.source and "check_close" in cell.source, "the visible test stays"
    assert cell.outputs[0]["traceback"] == ["AssertionError: add(2, 3): got 6, expected 5"]


def test_scrub_feedback_redacts_printed_hidden_tests(course):
    secret = max(hidden_lines(master()), key=len)
    nb = variant()
    cell_by_id(nb, "add").outputs = [new_output("stream", name="stdout", text=f"the test: {secret}\n")]
    pre = ScrubFeedback(config=Config({"CourseDirectory": {"root": str(course)}}))
    out = pre.preprocess(nb, resources(course))[0]
    assert cell_by_id(out, "add").outputs[0]["text"] == f"the test: {REDACTED}\n"
