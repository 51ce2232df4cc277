"""End to end: release, autograde the demo submissions, feedback, grades (one run shared by these tests)."""

import csv
import dataclasses
import json
import re
import shutil

import pytest
from checkout import COURSE, ROOT

from course import EXTRA_CREDIT_PREFIX, demo, release
from course.course import Course
from course.nbgrader_ext.preflight import GradingSetupError
from course.notebooks import HIDDEN_BEGIN, HIDDEN_END, grade_cells, manual_cells, marked_lines
from course.paths import colab_url
from course.report import lost_points

ASSIGNMENTS = COURSE.names


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_reference_submission_gets_full_marks(demo_course, name):
    row = demo_course["rows"][(name, "reference")]
    lost = {k: v for k, v in row.tests.items() if v[0] < v[1]}
    assert not lost, f"the reference solution lost points: {lost}"
    written = sum(manual_cells(COURSE[name].master()).values())
    assert row.core == row.core_max == 100 - written, "autograded points; written answers are graded by hand"


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_blank_release_earns_no_more_than_done_for_you_points(demo_course, name):
    # Every graded point of these assignments needs student code: done-for-you parts are worth 0.
    row = demo_course["rows"][(name, "blank")]
    assert row.total == 0, f"the blank release earned points: {row.tests}"


@pytest.mark.slow
def test_buggy_submission_loses_points_in_the_questions_with_bugs(demo_course):
    row = demo_course["rows"][("autograd_mlp", "buggy")]
    failed = {k for k, (score, top) in row.tests.items() if score < top}
    for expected in ["test_multiply", "test_forward_values", "test_train_step"]:
        assert expected in failed, f"{expected} should fail for bugs {COURSE['autograd_mlp'].catalog.DEMO}"
    assert not any(k.startswith(("test_add", EXTRA_CREDIT_PREFIX)) for k in failed), \
        f"untouched questions lost points: {failed}"


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_feedback_shows_results_but_no_hidden_test_source(demo_course, name):
    files = release.feedback_files(demo_course["course"][name])
    assert len(files) == len([k for k in demo_course["rows"] if k[0] == name])
    secret = marked_lines(COURSE[name].master(), HIDDEN_BEGIN, HIDDEN_END, min_length=20)
    assert len(secret) > 20
    for path in files:
        text = release.html_text(path)
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{path.name} shows hidden test source: {leaked[:3]}"
        assert "BEGIN HIDDEN TESTS" not in text
    buggy = re.sub(r"\s+", " ", release.html_text(demo_course["root"] / "feedback" / "buggy" / name / f"{name}.html"))
    lost = lost_points(demo_course["course"][name], demo_course["rows"][(name, "buggy")])
    assert lost, "the buggy submission lost no points"
    for test, message in lost.items():  # the message the test raised, as the autograded notebook holds it
        assert message.split(": ", 1)[-1][:60] in buggy, f"the feedback lacks {test}'s message: {message}"


@pytest.mark.slow
def test_grades_csv_has_one_row_per_submission(demo_course):
    with open(demo_course["root"] / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    assert {(r["assignment"], r["student"]) for r in rows} == set(demo_course["rows"])
    for r in rows:
        if r["student"] == "reference":
            assert float(r["core"]) == float(r["core_max"]) > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_committed_release_equals_a_fresh_generation(demo_course, name):
    fresh = json.loads(demo_course["course"][name].release_path.read_text())
    committed = json.loads(COURSE[name].release_path.read_text())
    assert fresh == committed, "release/ is stale: run `python -m course release` and commit the result"


def test_release_folder_holds_only_the_notebooks():
    files = sorted(p.relative_to(ROOT / "release") for p in (ROOT / "release").rglob("*") if p.is_file())
    assert [str(f) for f in files] == [f"{n}/{n}.ipynb" for n in ASSIGNMENTS]


def test_publish_copies_release_and_readme_with_colab_links(tmp_path):
    dest = release.publish(COURSE, tmp_path / "student", github="someone/course-student")
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert files == ["README.md"] + [f"{n}/{n}.ipynb" for n in ASSIGNMENTS]
    readme = (dest / "README.md").read_text()
    for name in ASSIGNMENTS:
        url = colab_url(name, "someone/course-student")
        assert url in readme
        assert url in (dest / name / f"{name}.ipynb").read_text(), "the notebook's badge should point to the new repo"
        assert "BEGIN SOLUTION" not in (dest / name / f"{name}.ipynb").read_text()


@pytest.mark.slow
def test_every_assignment_has_a_buggy_demo_student(demo_course):
    for name in ASSIGNMENTS:
        assert COURSE[name].catalog.DEMO and (name, "buggy") in demo_course["rows"]


@pytest.mark.slow
def test_grade_points_match_the_master(demo_course):
    for name in ASSIGNMENTS:
        row = demo_course["rows"][(name, "reference")]
        assert {k: v[1] for k, v in row.tests.items()} == grade_cells(COURSE[name].master())


@pytest.mark.slow
def test_demo_names_the_failing_tests_when_the_reference_misses_full_marks(demo_course, tmp_path):
    """What the demo prints when the reference solution loses points: each failing test and its first error line
    (here the buggy submission's grading stands in for a broken reference)."""
    name, root = "autograd_mlp", tmp_path / "course"
    (root / "autograded" / "reference").mkdir(parents=True)
    shutil.copytree(demo_course["root"] / "source", root / "source")
    shutil.copytree(demo_course["root"] / "autograded" / "buggy" / name, root / "autograded" / "reference" / name)
    buggy = dataclasses.replace(demo_course["rows"][(name, "buggy")], student="reference")
    run = type("Run", (), {"failed": {"blank": "nbformat.reader.NotJSONError: not a notebook"}})()
    problems = demo.demo_problems(Course.at(root)[name], [buggy], run)
    assert problems[0] == "autograd_mlp/blank: not graded: nbformat.reader.NotJSONError: not a notebook"
    text = problems[1]
    assert text.startswith(f"autograd_mlp/reference: the reference solution scored {buggy.core:g}/100 (extra")
    for test in ["test_multiply", "test_forward_values", "test_train_step"]:
        assert re.search(rf"\n    {test}: \w+Error: \S", text), text


def test_demo_exits_non_zero_when_it_found_problems(monkeypatch, capsys):
    from course import cli

    monkeypatch.setattr(demo, "demo", lambda course, names: ([], ["autograd_mlp/reference: ..."]))
    assert cli.main(["demo", "--root", str(ROOT)]) == 1
    monkeypatch.setattr(demo, "demo", lambda course, names: ([], []))
    assert cli.main(["demo", "--root", str(ROOT)]) == 0

    def not_ready(course, names):
        raise GradingSetupError("Nothing was graded: the grader's set-up is not ready.\n\nno bubblewrap")

    monkeypatch.setattr(demo, "demo", not_ready)
    assert cli.main(["demo", "--root", str(ROOT)]) == 2
    assert "no bubblewrap" in capsys.readouterr().err
