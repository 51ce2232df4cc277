"""Shared fixtures: the offline data folder, the masters' code loaded in-process, a scratch course."""

import contextlib
import io
import os
import shutil
from pathlib import Path

import pytest
import worlds
from checkout import ROOT

from course import master_path
from course.notebooks import read, run_cells, solution_notebook

# CI and graders work offline: point the loader at the shared copy unless told otherwise.
if not os.environ.get("COURSE_DATA_DIR") and worlds.SHARED_DATA.is_dir():
    os.environ["COURSE_DATA_DIR"] = str(worlds.SHARED_DATA)
elif os.environ.get("COURSE_DATA_DIR"):
    os.environ["COURSE_DATA_DIR"] = str(Path(os.environ["COURSE_DATA_DIR"]).resolve())

# Cells that train models or only demonstrate: skipped when the tests load a master's definitions.
HEAVY_CELLS = {"overfit_tiny_batch", "train_base", "plot_training_results", "inspect_base_model", "improve",
               "engines_agree", "train_vec_run",
               "train_mnist", "grid", "grid_plots", "curves", "load_cifar", "train_cifar"}


def load_definitions(assignment, skip=HEAVY_CELLS):
    """Run the reference solution's definition cells (no training, no test cells) in a fresh namespace."""
    with contextlib.redirect_stdout(io.StringIO()):
        return run_cells(solution_notebook(read(master_path(assignment, ROOT))), skip=skip, label=assignment)


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
    from course import assignments, grading

    demo = first_contact["demo"]
    assert demo.returncode == 0, f"the demo failed ({demo.returncode}):\n{demo.stdout[-4000:]}\n{demo.stderr[-4000:]}"
    root = first_contact["root"]
    rows = [row for name in assignments(root) for row in grading.scores(name, root)]
    return {"root": root, "rows": {(r["assignment"], r["student"]): r for r in rows}, "log": demo.stdout}
