"""The class report's HTML (course/templates/class_report.html.j2): what it shows, every value escaped."""

import html
import re
from collections import Counter

from course.report import render_html


def report():
    rows = [{"student": "alice", "status": "graded", "core": 90.0, "core_max": 90.0},
            {"student": "bob", "status": "graded", "core": 45.5, "core_max": 90.0},
            {"student": "<script>eve</script>", "status": "not graded: x", "core": 0.0, "core_max": 90.0}]
    tests = [{"id": "test_update", "points": 6.0, "hidden": True, "graded": 2, "failed": 1, "passed": 1, "rate": 0.5,
              "messages": Counter({"AssertionError: got <b>1</b>, expected 2": 1})},
             {"id": "test_relu", "points": 4.0, "hidden": False, "graded": 2, "failed": 0, "passed": 2, "rate": 1.0,
              "messages": Counter()}]
    return {"assignment": "model_fitting", "rows": rows, "tests": tests,
            "not_graded": {"<script>eve</script>": "NotJSONError: <not a notebook>"}}


def test_the_report_shows_the_class_and_escapes_what_students_wrote():
    page = render_html(report())
    assert "<script>" not in page and "<b>1</b>" not in page, "student-controlled text must be escaped"
    text = html.unescape(re.sub(r"<[^>]+>", "", page))  # what a reader sees
    assert "3 submissions, 2 graded, 1 not graded" in text
    assert "mean 67.8, median 67.8, min 45.5, max 90 (out of 90)" in text
    assert "test_update (hidden tests)" in text and "1 × AssertionError: got <b>1</b>, expected 2" in text
    assert "<script>eve</script>" in text and "NotJSONError: <not a notebook>" in text
    assert 'style="width:50%"' in page and 'style="width:100%"' in page


def test_no_graded_submission_says_so():
    r = report()
    r["rows"] = [row for row in r["rows"] if row["status"] != "graded"]
    assert "no graded submission" in render_html(r)
