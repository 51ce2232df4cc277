"""course/preflight.py: what an assignment needs to be graded, checked before the first grading kernel starts."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from worlds import serve

from course import data
from course.course import Assignment, Course
from course.nbgrader_ext import preflight
from course.nbgrader_ext.preflight import GradingSetupError, needed_datasets


def notebook(*sources, provided=None):
    cells = [new_code_cell(s) for s in sources]
    if provided:
        cell = new_code_cell(provided)
        cell.metadata["nbgrader"] = {"grade_id": "provided_data", "locked": True}
        cells.insert(0, cell)
    return new_notebook(cells=cells)


@pytest.mark.parametrize("sources, expected", [
    (["x = load_mnist()"], {"mnist": True}),
    (["def held():\n    return load_mnist()[1]"], {"mnist": True}),  # inside a function: still needed
    (["try:\n    c = load_cifar10()\nexcept DatasetError:\n    c = None"], {"cifar10": False}),
    (["try:\n    c = data.load_cifar10()\nexcept (OSError, DatasetError) as e:\n    pass"], {"cifar10": False}),
    (["try:\n    c = load_cifar10()\nexcept ValueError:\n    pass"], {"cifar10": True}),  # not handled: needed
    (["try:\n    c = load_cifar10()\nexcept DatasetError:\n    c = load_mnist()"], {"cifar10": False, "mnist": True}),
    (["try:\n    load_mnist()\nexcept DatasetError:\n    pass", "load_mnist()"], {"mnist": True}),
    (["%matplotlib inline\nx = load_mnist()"], {"mnist": True}),  # IPython syntax is understood
    (["print('no data')"], {}),
])
def test_needed_datasets_reads_the_loader_calls(sources, expected):
    assert needed_datasets(notebook(*sources)) == expected


def test_the_provided_loader_itself_needs_nothing():
    nb = notebook("print(1)", provided="def load_mnist():\n    pass\nload_cifar10()")
    assert needed_datasets(nb) == {}


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.delenv("COURSE_DATA_MIRROR", raising=False)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    with serve(tmp_path) as (url, requested):
        monkeypatch.setattr(data, "MNIST_MIRRORS", [url])
        monkeypatch.setattr(data, "CIFAR10_MIRRORS", [url])
        yield requested


def test_a_required_dataset_that_cannot_be_had_is_a_problem_with_the_loaders_message(no_data):
    notes = []
    problems = preflight.ensure_datasets({"mnist": True, "cifar10": False}, log=notes.append)
    assert len(problems) == 1 and "the dataset mnist is needed to grade" in problems[0]
    assert "Could not download train-images-idx3-ubyte.gz" in problems[0] and "COURSE_DATA_DIR" in problems[0]
    assert len(notes) == 1 and "cifar10 is not here" in notes[0]
    assert not any("cifar" in path for path in no_data), "an optional dataset is not downloaded for grading"


def write_master(root, name, source):
    path = root / "source" / name / f"{name}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(notebook(source), str(path))


def test_require_ready_lists_every_problem_and_checks_once_when_ready(tmp_path, no_data, monkeypatch):
    write_master(tmp_path, "hw", "x = load_mnist()")
    course = Course.at(tmp_path)
    monkeypatch.setattr(preflight, "sandbox_problem", lambda: "bubblewrap (bwrap) is not installed.")
    with pytest.raises(GradingSetupError) as info:
        preflight.require_ready([Assignment(course, "hw"), Assignment(course, "missing")])
    text = str(info.value)
    assert text.startswith("Nothing was graded") and "bubblewrap (bwrap) is not installed" in text
    assert "no master notebook for 'missing'" in text and "the dataset mnist is needed" in text

    monkeypatch.setattr(preflight, "sandbox_problem", lambda: None)
    monkeypatch.setattr(preflight, "ensure_datasets", lambda needed, log: [])
    preflight.require_ready([course["hw"]])
    monkeypatch.setattr(preflight, "problems", lambda *a, **k: pytest.fail("checked twice"))
    preflight.require_ready([course["hw"]])


def test_the_nbgrader_hook_stops_nbgrader_with_the_message(tmp_path, no_data, monkeypatch):
    write_master(tmp_path, "hw2", "x = load_mnist()")
    monkeypatch.setattr(preflight, "sandbox_problem", lambda: None)
    with pytest.raises(SystemExit) as info:  # nbgrader catches Exception around its hook, not SystemExit
        preflight.nbgrader_hook(str(tmp_path), assignment="*", student="*",
                                notebooks=[str(tmp_path / "submitted" / "s" / "hw2" / "hw2.ipynb")])
    assert "the dataset mnist is needed to grade" in str(info.value.code)


def test_grading_off_linux_says_to_use_linux(monkeypatch):
    from course.nbgrader_ext import sandbox

    monkeypatch.delenv(sandbox.OPT_OUT, raising=False)
    monkeypatch.setattr(sandbox.sys, "platform", "darwin")
    problem = sandbox.sandbox_problem()
    assert "grading needs Linux" in problem and "darwin" in problem and f"{sandbox.OPT_OUT}=1" in problem
    monkeypatch.setenv(sandbox.OPT_OUT, "1")
    assert sandbox.sandbox_problem() is None, "the grader opted out of the sandbox, at their own risk"
