"""Shared fixtures: the offline data folder, the masters' code loaded in-process, a scratch course."""

import contextlib
import io
import os
import shutil
from pathlib import Path

import pytest
import worlds
from checkout import COURSE

from course.course import Course
from course.notebooks import left_out, run_cells, solution_notebook

# CI and graders work offline: point the loader at the shared copy unless told otherwise.
if not os.environ.get("COURSE_DATA_DIR") and worlds.SHARED_DATA.is_dir():
    os.environ["COURSE_DATA_DIR"] = str(worlds.SHARED_DATA)
elif os.environ.get("COURSE_DATA_DIR"):
    os.environ["COURSE_DATA_DIR"] = str(Path(os.environ["COURSE_DATA_DIR"]).resolve())

def load_definitions(name):
    """Run the reference solution's cells in a fresh namespace: no test cells, none that trains or only demonstrates,
    and no data that the rest does not read (course.notebooks.left_out)."""
    master = COURSE[name].master()
    with contextlib.redirect_stdout(io.StringIO()):
        return run_cells(solution_notebook(master), skip=left_out(master), label=name)


@pytest.fixture(scope="session")
def mlp_ns():
    """The autograd_mlp reference solution, definitions only."""
    return load_definitions("autograd_mlp")


@pytest.fixture(scope="session")
def mf_ns():
    """The model_fitting reference solution, definitions only."""
    return load_definitions("model_fitting")


@pytest.fixture(scope="session")
def first_contact():
    """The README's set-up and main job, run as typed by a newcomer on a fresh machine (tests/worlds.py)."""
    base = worlds.scratch("dlfs-first-contact-")
    try:
        yield worlds.first_contact(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def demo_course(first_contact):
    """The course in which the newcomer's `python -m course demo` ran: its root and grade rows."""
    from course import grading

    demo = first_contact["demo"]
    assert demo.returncode == 0, f"the demo failed ({demo.returncode}):\n{demo.stdout[-4000:]}\n{demo.stderr[-4000:]}"
    course = Course.at(first_contact["root"])
    rows = [row for assignment in course for row in grading.scores(assignment)]
    return {"root": course.root, "course": course, "rows": {(r.assignment, r.student): r for r in rows},
            "log": demo.stdout}
