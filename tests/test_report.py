"""The class report (`python -m course autograde` / `report`): grades.csv, per-question pass rates, a
score histogram, the per-test failure table and the commonest failing tests with their messages.

Built on a copy of the demo course (reference, blank and buggy submissions, graded once per session)
plus a damaged submission, through the command line, which resumes: only the new file is graded.
"""

import contextlib
import csv
import html
import io
import shutil

import pytest
from checkout import COURSE

from course import cli, report
from course.course import Course
from course.notebooks import HIDDEN_BEGIN, HIDDEN_END, grade_cells, marked_lines

pytestmark = pytest.mark.slow  # grades submissions with nbgrader: minutes

A = "model_fitting"


@pytest.fixture(scope="module")
def course(demo_course, tmp_path_factory):
    root = tmp_path_factory.mktemp("report") / "course"
    shutil.copytree(demo_course["root"], root, ignore=shutil.ignore_patterns(".venv"))  # its set-up's own venv
    damaged = root / "submitted" / "broken" / A / f"{A}.ipynb"
    damaged.parent.mkdir(parents=True)
    damaged.write_text("{ not a notebook")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["autograde", A, "--workers", "2", "--root", str(root)])
    return {"root": root, "code": code, "log": out.getvalue(), "demo": demo_course["rows"],
            "dir": root / "reports" / A}


def test_autograde_command_resumes_and_reports_what_it_could_not_grade(course):
    assert course["code"] == 1, "a submission could not be graded: the command says so in its exit status"
    log = course["log"]
    assert "1 graded" not in log and "3 skipped" in log, log
    assert "not graded: broken: nbformat.reader.NotJSONError" in log, log
    assert f"class report: {course['dir'] / 'report.html'}" in log


def test_report_files_are_written(course):
    import matplotlib.image

    for png in ["histogram.png", "test_failures.png"]:
        image = matplotlib.image.imread(course["dir"] / png)
        assert image.shape[0] > 200 and image.shape[1] > 400, png
    with open(course["dir"] / "grades.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert set(rows) == {"reference", "blank", "buggy", "broken"}
    assert rows["broken"]["status"].startswith("not graded: nbformat.reader.NotJSONError")
    assert all(rows[s]["status"] == "graded" for s in ["reference", "blank", "buggy"])
    assert float(rows["reference"]["core"]) == float(rows["reference"]["core_max"]) > 0


def test_pass_rates_and_failure_messages(course):
    rep = report.class_report(Course.at(course["root"])[A])
    tests = grade_cells(COURSE[A].master())
    assert [t.id for t in rep.tests] == list(tests)
    graded = {s: row for (a, s), row in course["demo"].items() if a == A}
    for t in rep.tests:
        failed = sum(graded[s].tests[t.id][0] < t.points for s in graded)
        assert (t.graded, t.failed, t.passed) == (3, failed, 3 - failed), t.id
        assert sum(t.messages.values()) == failed, f"one message per failure: {t.messages}"
    by_id = {t.id: t for t in rep.tests}
    assert by_id["test_one_hot"].messages == {"NotImplementedError": 1}, "the blank release fails it"
    update = by_id["test_update"].messages  # failed by blank (not implemented) and buggy (lr applied twice)
    assert update["NotImplementedError"] == 1 and any(m.startswith("AssertionError: ") for m in update)
    # What the class got wrong: the buggy submission's lr_applied_twice is named by its message (the catalog's).
    mistakes = {q.id: q for q in rep.mistakes}
    assert [q.id for q in rep.mistakes] == list(tests)
    groups = mistakes["test_update"].groups
    assert mistakes["test_update"].lost == 2 and sum(g.students for g in groups) == 2
    assert ["lr_applied_twice"] in [g.bugs for g in groups], groups
    assert [g.bugs for g in mistakes["test_one_hot"].groups] == [[]], "NotImplementedError is no catalog bug"
    text = (course["dir"] / "report.html").read_text()
    assert "What the class got wrong" in text and "lr_applied_twice" in text
    assert "`test_update`" in (course["dir"] / "mistakes.md").read_text()
    top = report.most_failed(rep, top=3)
    assert [t.failed for t in top] == sorted((t.failed for t in rep.tests), reverse=True)[:3]


def test_report_html_shows_results_and_messages_but_no_hidden_test_source(course):
    text = html.unescape((course["dir"] / "report.html").read_text())
    assert "test_failures.png" in text and "histogram.png" in text
    assert "Pass rate per question" in text and "What the class got wrong" in text
    assert "broken" in text and "NotJSONError" in text, "the not-graded submission is listed with its error"
    secret = marked_lines(COURSE[A].master(), HIDDEN_BEGIN, HIDDEN_END, min_length=20)
    assert len(secret) > 20
    assert not [line for line in secret if line in text], "hidden test source leaked into the report"


def test_report_command_rewrites_the_report(course, monkeypatch, capsys):
    (course["dir"] / "report.html").unlink()
    assert cli.main(["report", A, "--root", str(course["root"])]) == 0
    assert (course["dir"] / "report.html").is_file()
    assert "class report:" in capsys.readouterr().out
