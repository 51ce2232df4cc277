"""The class report's HTML (course/templates/class_report.html.j2): what it shows, every value escaped."""

import dataclasses
import html
import re
from collections import Counter

from traitlets.config import Config

from course.grading import GradeRow
from course.mistakes import Group, QuestionMistakes
from course.report import ClassReport, QuestionStats, render_html
from course.term import Term


def report():
    on_time = {"late_hours": 0.0, "submitted": "2026-10-30 20:00:00", "penalty": 0.0}
    a = "model_fitting"
    rows = [GradeRow("alice", a, status="graded", core=90.0, core_max=90.0, total=90.0, final=90.0, **on_time),
            GradeRow("bob", a, status="graded", core=45.5, core_max=90.0, total=50.5, final=40.4, late_hours=25.5,
                     submitted="2026-10-31 23:30:00", penalty=10.1),
            GradeRow("<script>eve</script>", a, status="not graded: x", core_max=90.0, **on_time),
            GradeRow("<i>mallory</i>", a, status="needs review: test_relu", core=68.0, core_max=90.0, total=68.0,
                     final=68.0, **on_time)]
    tests = [QuestionStats("test_update", 6.0, True, 2, 1, Counter({"AssertionError: got <b>1</b>, expected 2": 1})),
             QuestionStats("test_relu", 4.0, False, 2, 0)]
    config = Config()
    config.Term.due_dates = {"model_fitting": "2026-10-30 22:00"}
    config.Term.late_penalty_per_day = 0.1
    return ClassReport("model_fitting", rows, tests,
                       not_graded={"<script>eve</script>": "NotJSONError: <not a notebook>"},
                       review={"<i>mallory</i>": {"test_relu": "cell 3, line 2: globals: reads the notebook's "
                                                               "namespace (x = globals()['<b>y</b>'])"}},
                       term=Term(config=config),
                       mistakes=[QuestionMistakes("test_update", 6.0, 2, 1, [
                           Group("AssertionError: got <b>1</b>, expected 2", 1, ["lr_applied_twice"])]),
                                 QuestionMistakes("test_relu", 4.0, 2, 0)])


def test_the_report_shows_the_class_and_escapes_what_students_wrote():
    page = render_html(report())
    assert "<script>" not in page and "<b>1</b>" not in page, "student-controlled text must be escaped"
    text = html.unescape(re.sub(r"<[^>]+>", "", page))  # what a reader sees
    assert "<i>mallory</i>" not in page and "<b>y</b>" not in page
    assert "4 submissions, 3 graded, 1 not graded, 1 needing review" in text
    assert "mean 67.8, median 68.0, min 45.5, max 90 (out of 90)" in text
    assert re.search(r"<i>mallory</i>\s*test_relu\s*cell 3, line 2: globals", text), "who needs review, and why"
    assert re.search(r"test_update \(6 points\)\s*50% \(1 / 2\)\s*1\s*AssertionError: got <b>1</b>, expected 2\s*"
                     r"lr_applied_twice", text), "what the class got wrong, with the catalog bug"
    assert "test_relu (4 points)" not in text, "a question nobody lost is not in that table"
    assert "Not run yet: python -m course similarity model_fitting" in text
    assert "<script>eve</script>" in text and "NotJSONError: <not a notebook>" in text
    assert 'style="width:50%"' in page and 'style="width:100%"' in page
    assert "Due 2026-10-30 22:00 UTC; the policy: 10% of the score per day" in text
    assert re.search(r"bob\s*2026-10-31 23:30:00\s*25.5 h\s*50.5\s*10.1\s*40.4", text), "the late one, by how much"
    assert not re.search(r"alice\s*2026-10-30", text), "on time: not in the late table"


def test_no_graded_submission_says_so():
    r = report()
    r.rows = [row for row in r.rows if row.status.startswith("not graded")]
    assert "no graded submission" in render_html(r)


def test_no_due_date_says_where_to_set_one():
    r = report()
    r.term = Term()
    r.rows = [dataclasses.replace(row, late_hours=0.0) for row in r.rows]  # no due date: nobody is late
    assert "No due date set (c.Term.due_dates in nbgrader_config.py)" in render_html(r)


def test_students_in_flagged_pairs_are_marked(tmp_path):
    r = report()
    r.similar = {"<i>mallory</i>": ["bob"], "bob": ["<i>mallory</i>"]}
    (tmp_path / "similarity.html").write_text("")
    page = render_html(r, tmp_path)
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert '<a href="similarity.html">' in page and "<i>mallory</i>" not in page
    assert "2 student(s) in flagged pairs" in text and re.search(r"<i>mallory</i>\s*bob", text)
