"""course/cells.py: one meaning of "test", "solution" and "locked", nbgrader's own."""

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from course import cells


def cell(kind="code", **meta):
    c = new_code_cell("x = 1") if kind == "code" else new_markdown_cell("text")
    if meta:
        c.metadata["nbgrader"] = {"grade_id": "c", **meta}
    return c


@pytest.mark.parametrize("c, test, answer, solution, locked", [
    (cell(), False, False, False, False),  # a student's own cell
    (cell(grade=True, locked=True, points=3), True, False, False, True),  # a test
    (cell(grade=True, points=3), True, False, False, True),  # a test without the flag: nbgrader restores it anyway
    (cell(solution=True), False, False, True, False),  # a TODO
    (cell(solution=True, locked=True), False, False, True, False),  # never restored over the student's code
    (cell(locked=True), False, False, False, True),  # provided code
    (cell("markdown", grade=True, solution=True, points=2), False, True, True, False),  # a written answer
])
def test_predicates_follow_nbgrader(c, test, answer, solution, locked):
    assert (cells.is_test(c), cells.is_written_answer(c), cells.is_solution(c), cells.is_locked(c)) == \
        (test, answer, solution, locked)


def test_metadata_accessors():
    c = cell(grade=True, points=2.5)
    assert cells.grade_id(c) == "c" and cells.points(c) == 2.5 and cells.nbgrader_meta(cell()) == {}
