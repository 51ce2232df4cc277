"""A tiny extra assignment, "quiz", that the grading-security tests add to a scratch course: two questions,
each with a visible and a hidden test, graded in a few seconds per submission. Attack submissions are
variants of its reference solution (tests/test_tampering.py); nbgrader runs exactly as for the real ones."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course import grading, release
from course.course import Course
from course.notebooks import cell_by_id, solution_notebook, write

QUIZ = "quiz"
POINTS = {"test_add": 1.0, "test_mean": 1.0}


def _cell(gid, source, kind):
    meta = {"grade_id": gid, "schema_version": 3, "grade": kind == "test", "solution": kind == "solution",
            "locked": kind != "solution"}
    if kind == "test":
        meta["points"] = POINTS[gid]
    return new_code_cell(source.strip("\n"), metadata={"nbgrader": meta})


def master():
    """The instructor's notebook: setup, helpers, two questions with visible and hidden tests."""
    nb = new_notebook(cells=[
        new_markdown_cell("# Quiz\nTwo small functions."),
        _cell("setup", "import math\nimport warnings\n\nimport numpy as np\n\nTOLERANCE = {'rel': 1e-9}", "provided"),
        _cell("helpers", '''
def check_close(what, got, want):
    """Assert that got equals want (numbers or arrays), compared as float64 arrays."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    assert np.allclose(got, want, rtol=TOLERANCE["rel"], atol=0), f"{what}: got {got}, expected {want}"
''', "provided"),
        _cell("add", '''
def add(a, b):
    """a + b"""
    ### BEGIN SOLUTION
    return a + b
    ### END SOLUTION
''', "solution"),
        _cell("test_add", '''
check_close("add(2, 3)", add(2, 3), 5)
### BEGIN HIDDEN TESTS
check_close("add(-1.5, 4.25) in the hidden quiz test", add(-1.5, 4.25), 2.75)
check_close("add of arrays in the hidden quiz test", add(np.arange(3.0), 1.0), [1.0, 2.0, 3.0])
### END HIDDEN TESTS
''', "test"),
        _cell("mean", '''
def mean(xs):
    """The average of a list of numbers, as a float."""
    ### BEGIN SOLUTION
    return float(np.mean(xs))
    ### END SOLUTION
''', "solution"),
        _cell("mean_examples", "MEAN_EXAMPLES = {'small': [1.0, 2.0, 6.0]}", "provided"),
        _cell("test_mean", '''
check_close("mean of the small example", mean(MEAN_EXAMPLES["small"]), 3.0)
### BEGIN HIDDEN TESTS
assert abs(mean([1, 1e9]) - 500000000.5) < 1e-3, "hidden quiz check: mean of [1, 1e9]"
assert math.isclose(mean(np.linspace(0, 1, 101)), 0.5), "hidden quiz check: mean of a linspace"
### END HIDDEN TESTS
''', "test"),
    ])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata.language_info = {"name": "python"}
    return nb


def add_quiz(root):
    """Write the quiz master into the scratch course at root and release it (gradebook entries included)."""
    write(master(), Path(root) / "source" / QUIZ / f"{QUIZ}.ipynb")
    release.release(Course.at(root), [QUIZ])


def reference():
    return solution_notebook(master())


def variant(edits=(), extra=(), drop=()):
    """The reference with cells replaced ({grade_id: source}), new plain cells inserted after a cell
    ((after_grade_id, source)), and cells dropped (grade ids)."""
    nb = reference()
    for gid, source in dict(edits).items():
        cell_by_id(nb, gid).source = source.strip("\n")
    for after, source in extra:
        index = nb.cells.index(cell_by_id(nb, after))
        nb.cells.insert(index + 1, new_code_cell(source.strip("\n")))
    nb.cells = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") not in drop]
    return nb


def submit(root, student, nb, assignment=QUIZ, filename=None):
    path = Path(root) / "submitted" / student / assignment / (filename or f"{assignment}.ipynb")
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, str):
        path.write_text(nb)
    else:
        nbformat.write(nb, str(path))
    return path


def autograde(root, assignment, *options):
    """Plain `nbgrader autograde` in the course root, as an instructor would type it. It exits 1 when some
    submission could not be graded (the others are graded all the same): the caller checks."""
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment, "--create", "--force",
                           *options], cwd=root, env=env, capture_output=True, text=True, check=False)


def scores(root, assignment):
    """{student: {test id: score}} from the gradebook."""
    return {r.student: {k: v[0] for k, v in r.tests.items()} for r in grading.scores(Course.at(root)[assignment])}


def graded_cell(root, student, gid, assignment=QUIZ):
    nb = nbformat.read(str(Path(root) / "autograded" / student / assignment / f"{assignment}.ipynb"), as_version=4)
    return cell_by_id(nb, gid)
