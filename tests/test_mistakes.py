"""What the class got wrong (course/mistakes.py): messages grouped per question, matched to the catalog's bugs, from
either grading path (the class report's autograded notebooks; a folder of otter-grader results.json files)."""

import json

from checkout import COURSE

from course import cli
from course.mistakes import catalog_messages, class_mistakes, first_error, markdown, normalize, otter_outcomes
from course.release import copy_course

A = "autograd_mlp"


def test_one_mistake_is_one_group_whatever_failed_before_it():
    plain = "AssertionError: add: gradient of input 0 is 1.13086, expected 1.8197. Likely cause: use +="
    after = ("AssertionError: test_forward (forward) failed above, and this test needs it to pass: fix it first "
             "(what follows may only be a consequence). add: gradient of input 0 is 1.130861, expected 1.81970. "
             "Likely cause: use +=")
    assert normalize(plain) == normalize(after)
    assert normalize("is 1.2 expected 3") != normalize("is 1.3 expected 3"), "other numbers: another mistake"


def test_the_table_names_the_catalog_bug_a_message_comes_from():
    known = catalog_messages(COURSE[A])
    assert known, "source/autograd_mlp/catalog_messages.json is up to date (tests/test_catalog.py checks each entry)"
    overwrite = known["add_overwrites_grad"]
    other = "AssertionError: add: gradient of input 0 is 0, expected 1.8197."
    outcomes = [{"test_add": (True, overwrite["message"])}, {"test_add": (True, overwrite["message"])},
                {"test_add": (True, other)}, {}, {"test_multiply": (True, "NotImplementedError")}]
    table = {q.id: q for q in class_mistakes([("test_add", 5), ("test_multiply", 5), ("test_relu", 5)], outcomes,
                                             known)}
    add = table["test_add"]
    assert (add.lost, add.graded, f"{add.share:.0%}") == (3, 5, "60%")
    assert [(g.students, g.bugs) for g in add.groups] == [(2, ["add_overwrites_grad"]), (1, [])]
    assert table["test_relu"].lost == 0
    text = markdown(A, table.values())
    assert "`test_add` (5 points) | 60% (3 / 5) | 2 × " in text and "`add_overwrites_grad`" in text
    assert "test_relu" not in text, "questions nobody lost are left out"


def test_otter_results_give_the_same_table(tmp_path):
    known = catalog_messages(COURSE[A])
    message = known["multiply_own_value"]["message"]
    output = f"test_multiply results:\n    Trying:\n        check()\n    Exception raised:\n        {message}\n"
    folder = tmp_path / "results"
    for i, lost in enumerate([True, True, False]):
        tests = [{"name": "test_add", "score": 5, "max_score": 5, "output": "test_add results: All test cases passed!"},
                 {"name": "test_multiply", "score": 0 if lost else 5, "max_score": 5,
                  "output": output if lost else "ok"}]
        sub = folder / f"student{i}"
        sub.mkdir(parents=True)
        (sub / "results.json").write_text(json.dumps({"tests": [{"name": "Public Tests", "output": "..."}, *tests]}))
    (folder / "notes.json").write_text("[1, 2]")
    tests, outcomes, unread = otter_outcomes(folder)
    assert tests == [("test_add", 5.0), ("test_multiply", 5.0)] and len(outcomes) == 3
    assert list(unread) == [str(folder / "notes.json")]
    course = copy_course(COURSE, tmp_path / "course")
    assert cli.main(["mistakes", A, str(folder), "--root", str(course.root)]) == 0
    text = (course[A].reports / "otter_mistakes.md").read_text()
    assert "`test_multiply` (5 points) | 67% (2 / 3) | 2 × " in text and "`multiply_own_value`" in text, text


def test_the_error_line_of_an_otter_output():
    assert first_error("x\n  AssertionError: it is 3, expected 4\n") == "AssertionError: it is 3, expected 4"
    assert first_error("numpy.linalg.LinAlgError: singular") == "numpy.linalg.LinAlgError: singular"
    assert first_error("") == "lost points without an error message"
