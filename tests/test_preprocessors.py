"""Unit tests of the course's nbgrader preprocessors and their pure functions, one preprocessor at a time, as
nbgrader's own tests do (no kernel, no grading run: tests/test_tampering.py grades them end to end)."""

import html
import json
import logging
import os

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output
from quiz_course import QUIZ, master, variant
from traitlets.config import Config

from course.cells import grade_id, nbgrader_meta
from course.inspection import NotebookRejected
from course.nbgrader_ext.check_submission import CheckSubmission
from course.nbgrader_ext.graded_master import graded_master
from course.nbgrader_ext.guarded_execute import GuardedExecute, remove_special_files
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
    for line in sorted(f for f in marked_lines(master(), HIDDEN_BEGIN, HIDDEN_END) if '"' in f):
        assert line in forms and json.dumps(line)[1:-1] in forms and html.escape(line) in forms, line
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


# ---------------------------------------------------------------- GuardedExecute (no kernel: its own decisions)


def scored(outputs, guarded=True):
    """The outputs a test cell keeps after GuardedExecute scored it (token: the run's completion marker)."""
    pre = GuardedExecute()
    pre._token = "TOKEN"
    cell = new_code_cell("assert True", metadata={"nbgrader": {"grade_id": "t", "grade": True, "points": 1}})
    cell.outputs = outputs
    pre._score_on_errors_only(cell, guarded)
    return cell.outputs


def stream(text, name="stdout"):
    return new_output("stream", name=name, text=text)


def test_a_test_that_ran_to_its_end_keeps_its_points_and_a_warning_is_no_failure():
    outs = scored([stream("a warning\n", "stderr"), stream("ok\nTOKEN\n")])
    assert [o.output_type for o in outs] == ["stream", "stream"] and all(o.name == "stdout" for o in outs)
    assert "TOKEN" not in "".join(o.text for o in outs), "the completion token never reaches students"


def test_a_test_cut_short_or_unguarded_scores_zero():
    assert scored([stream("no token\n")])[-1].ename == "IncompleteTest"
    assert scored([stream("TOKEN\n")], guarded=False)[-1].ename == "GradingGuardError"
    error = new_output("error", ename="AssertionError", evalue="wrong", traceback=[])
    assert [o.output_type for o in scored([error])] == ["error"], "a failure stays a failure"


def test_a_displayed_value_is_not_read_as_partial_credit():
    outs = scored([new_output("execute_result", data={"text/plain": "0.5"}, execution_count=3), stream("TOKEN\n")])
    assert outs[0].output_type == "display_data" and "execution_count" not in outs[0]


def test_links_and_pipes_left_in_the_folder_are_removed(tmp_path):
    (tmp_path / "kept.txt").write_text("x")
    (tmp_path / "answers.ipynb").symlink_to("/etc/passwd")
    os.mkfifo(tmp_path / "pipe")
    remove_special_files(tmp_path, logging.getLogger("test_preprocessors"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt"]


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's add_submission, on its own objects
def test_apply_late_penalty_stores_the_due_date_and_the_policy_on_the_score_with_hand_grades(tmp_path):
    from datetime import datetime

    from nbgrader.api import Gradebook

    from course.nbgrader_ext.late_penalty import ApplyLatePenalty

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.add_assignment(QUIZ, duedate=datetime(2026, 10, 1, 12, 0))  # stale: the Term's wins
        gb.add_notebook(QUIZ, QUIZ)
        gb.add_grade_cell("auto", QUIZ, QUIZ, max_score=8, cell_type="code")
        gb.add_grade_cell("written", QUIZ, QUIZ, max_score=2, cell_type="markdown")
        gb.add_student("s")
        gb.add_student("t")
        for student, when in (("s", datetime(2026, 10, 31, 13, 0)), ("t", datetime(2026, 10, 30, 11, 0))):
            gb.add_submission(QUIZ, student, timestamp=when)
            for name, auto, manual in (("auto", 8, None), ("written", None, 2)):
                grade = gb.find_grade(name, QUIZ, QUIZ, student)
                grade.auto_score, grade.manual_score = auto, manual
        late = gb.find_submission_notebook(QUIZ, QUIZ, "s")
        late.late_submission_penalty = 1.6  # what autograding stored: 20% of the 8 autograded points
        gb.db.commit()
    pre = ApplyLatePenalty(config=Config({"Term": {"late_penalty_per_day": 0.1,
                                                   "due_dates": {QUIZ: "2026-10-30 12:00"}}}))
    for student in ("s", "t"):
        pre.preprocess(nbformat.v4.new_notebook(), {"nbgrader": {**resources(tmp_path, url)["nbgrader"],
                                                                 "student": student}})
    with Gradebook(url) as gb:
        assert gb.find_assignment(QUIZ).duedate == datetime(2026, 10, 30, 12, 0)
        assert gb.find_submission_notebook(QUIZ, QUIZ, "s").late_submission_penalty == pytest.approx(2.0), \
            "25 h late: 20% of 10 points, the hand-graded 2 included"
        assert gb.find_submission_notebook(QUIZ, QUIZ, "t").late_submission_penalty is None, "on time: none"


# ---------------------------------------------------------------- FeedbackSummary

@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's add_submission, on its own objects
def test_feedback_summary_says_how_late_what_it_cost_and_which_tests_lost_points(tmp_path):
    from datetime import datetime

    from nbgrader.api import Gradebook

    from course.nbgrader_ext.feedback_summary import FeedbackSummary

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.add_assignment(QUIZ, duedate=datetime(2026, 10, 30, 12, 0))
        gb.add_student("s")
        gb.add_submission(QUIZ, "s", timestamp=datetime(2026, 10, 31, 13, 0))  # 25 h late
    test = nbformat.v4.new_code_cell("assert f() == 2", metadata={"nbgrader": {
        "grade": True, "grade_id": "test_f", "points": 5, "score": 0.0, "solution": False, "locked": True}})
    test.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="f() is <b>1</b>, expected 2",
                                           traceback=["..."])]
    nb = nbformat.v4.new_notebook(cells=[test])
    pre = FeedbackSummary(config=Config({"Term": {"late_penalty_per_day": 0.1, "grace_minutes": 15}}))
    info = {**resources(tmp_path, url)["nbgrader"], "student": "s", "score": 3.5, "max_score": 10.0,
            "late_penalty": 1.5}
    nb, _ = pre.preprocess(nb, {"nbgrader": info})
    summary = nb.cells[0].source
    assert nb.cells[0].cell_type == "markdown" and nb.cells[1] is test
    assert "**3.5 / 10** after the late penalty" in summary
    assert "Submitted 2026-10-31 13:00 UTC, 25.0 hours after the due date (2026-10-30 12:00 UTC)" in summary
    assert "counts 2 days: it cost **1.5 points** (5 before the penalty, 3.5 after)" in summary
    assert "- `test_f` (0 / 5): <code>AssertionError: f() is &lt;b&gt;1&lt;/b&gt;, expected 2</code>" in summary


def test_feedback_summary_of_an_on_time_submission_says_nothing_of_lateness():
    from course.nbgrader_ext.feedback_summary import lateness_lines
    from course.term import Term

    term = Term(config=Config({"Term": {"late_penalty_per_day": 0.1, "grace_minutes": 15}}))
    assert lateness_lines(term, None, None, 0, 0, 10) == []
    from datetime import UTC, datetime

    due = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
    (line,) = lateness_lines(term, due, due, 600, 0, 10)
    assert "0.2 hours after the due date" in line and "cost nothing: within the grace period" in line
