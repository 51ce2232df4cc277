"""Shared fixtures: the offline data folder, the masters' code loaded in-process, a scratch course."""

import contextlib
import io
import os
from pathlib import Path

import pytest

from course import ROOT, master_path
from course.notebooks import read, run_cells, solution_notebook
from course.pipeline import copy_course

# CI and graders work offline: point the loader at the shared copy unless told otherwise.
_default_data = ROOT.parent / "shared" / "data"
if not os.environ.get("COURSE_DATA_DIR") and _default_data.is_dir():
    os.environ["COURSE_DATA_DIR"] = str(_default_data)
elif os.environ.get("COURSE_DATA_DIR"):
    os.environ["COURSE_DATA_DIR"] = str(Path(os.environ["COURSE_DATA_DIR"]).resolve())

# Cells that train models or only demonstrate: skipped when the tests load a master's definitions.
HEAVY_CELLS = {"train_base", "plot_training_results", "improve", "train_vec_run",
               "train_mnist", "grid", "grid_plots", "curves", "load_cifar", "train_cifar"}


def load_definitions(assignment, skip=HEAVY_CELLS):
    """Run the reference solution's definition cells (no training, no test cells) in a fresh namespace."""
    with contextlib.redirect_stdout(io.StringIO()):
        return run_cells(solution_notebook(read(master_path(assignment))), skip=skip, label=assignment)


@pytest.fixture(scope="session")
def mlp_ns():
    """The autograd_mlp reference solution, definitions only."""
    return load_definitions("autograd_mlp")


@pytest.fixture(scope="session")
def mf_ns():
    """The model_fitting reference solution, definitions only."""
    return load_definitions("model_fitting")


@pytest.fixture(scope="session")
def demo_course(tmp_path_factory):
    """A scratch course on which the README's main job (`python -m course demo`) has run."""
    from course import pipeline

    root = copy_course(tmp_path_factory.mktemp("course"))
    with contextlib.redirect_stdout(io.StringIO()) as out:
        rows = pipeline.demo(root)
    return {"root": root, "rows": {(r["assignment"], r["student"]): r for r in rows}, "log": out.getvalue()}
