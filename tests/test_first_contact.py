"""First contact: the README's set-up and main job on a fresh machine, for each kind of user (tests/worlds.py).

- a fresh machine with internet (a local mirror): the demo gives the reference full marks, the grader downloads
  each file once, and the sandboxed kernels read it (test_pipeline.py checks the grades the same run gave);
- an unprivileged instructor account runs all of it (created when the suite runs as root);
- offline without data, without bubblewrap, or where bubblewrap cannot sandbox: grading stops within seconds,
  before anyone is graded, with one message saying what to do and no traceback;
- plain `nbgrader autograde` gets the same data and the same checks.
"""

import os
import shutil
import sqlite3
import time
from pathlib import Path

import nbformat
import pytest
import worlds
from checkout import COURSE

from course.data import MNIST_FILES
from course.nbgrader_ext.preflight import needed_datasets
from course.submissions import reference

ASSIGNMENTS = COURSE.names
SETUP, DEMO = worlds.readme_block("## Set up and run")


def test_readme_setup_is_one_command_then_one_for_the_main_job():
    assert SETUP == "./setup.sh" and DEMO.endswith("python -m course demo"), (SETUP, DEMO)


@pytest.mark.slow
def test_setup_as_typed_installs_the_course_and_checks_the_sandbox(first_contact):
    setup = first_contact["setup"]
    assert setup.returncode == 0, f"{SETUP} failed:\n{setup.stdout[-3000:]}\n{setup.stderr[-3000:]}"
    assert (first_contact["root"] / ".venv" / "bin" / "python").exists()
    assert "setup: done" in setup.stdout and "Traceback" not in setup.stderr, setup.stderr[-3000:]


@pytest.mark.slow
def test_fresh_machine_demo_reports_all_as_expected(first_contact):
    demo = first_contact["demo"]
    assert demo.returncode == 0, f"{DEMO} exited {demo.returncode}:\n{demo.stdout[-4000:]}\n{demo.stderr[-3000:]}"
    assert "All as expected" in demo.stdout
    for name in ASSIGNMENTS:
        for student in ("reference", "blank", "buggy"):
            assert any(line.startswith(student) and name in line and line.rstrip().endswith("graded")
                       for line in demo.stdout.splitlines()), f"no status line for {name}/{student}"
    assert "Traceback" not in demo.stderr


@pytest.mark.slow
def test_the_grader_downloaded_each_file_once_and_the_kernels_read_it(first_contact, demo_course):
    requested = first_contact["requested"]
    for file in MNIST_FILES:
        assert requested.count(f"/mnist/{file}") == 1, f"{file} was requested {requested.count(f'/mnist/{file}')} times"
        assert (first_contact["home"] / ".cache" / "dlfs" / "mnist" / file).is_file()
    # The MNIST questions pass only where the sandboxed kernel read the data: the reference has full marks.
    for name in ASSIGNMENTS:
        assert needed_datasets(COURSE[name].master())["mnist"]
        row = demo_course["rows"][(name, "reference")]
        assert row.core == row.core_max, row.tests


@pytest.mark.slow
def test_an_unprivileged_instructor_account_runs_the_readme(first_contact):
    if first_contact["unprivileged"]:
        pytest.skip(first_contact["unprivileged"])
    assert first_contact["user"] == worlds.UNPRIVILEGED or os.geteuid() != 0
    assert first_contact["root"].stat().st_uid != 0 or os.geteuid() != 0
    assert first_contact["demo"].returncode == 0


# ---------------------------------------------------------------- what stops grading, within seconds


@pytest.fixture
def clone():
    base = worlds.scratch("dlfs-clone-")
    root = worlds.clean_clone(base / "course")
    yield root, base / "home"
    shutil.rmtree(base, ignore_errors=True)


def nothing_graded(root):
    assert not list(root.glob("autograded/*/*")), "something was graded"
    assert not (root / "feedback").exists() and not (root / "grades.csv").exists()
    db = root / "gradebook.db"
    if db.exists():
        with sqlite3.connect(db) as con:
            tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
            if "submitted_assignment" in tables:
                assert con.execute("select count(*) from submitted_assignment").fetchone()[0] == 0


def run_demo(root, env):
    start = time.perf_counter()
    proc = worlds.run_as_typed(DEMO, root, env, timeout=300)
    return proc, time.perf_counter() - start


def test_offline_without_data_stops_within_seconds_with_the_loaders_message(clone):
    root, home = clone
    proc, seconds = run_demo(root, worlds.user_env(home))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert seconds < 60, f"took {seconds:.0f} s to give up"
    assert "Nothing was graded" in proc.stderr
    assert "Could not download train-images-idx3-ubyte.gz" in proc.stderr and "COURSE_DATA_DIR=X" in proc.stderr
    assert "COURSE_DATA_MIRROR" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    nothing_graded(root)
    assert not (root / "gradebook.db").exists(), "the gradebook was written before the set-up was checked"


def path_without(tmp, name):
    """A PATH like this machine's, minus the program `name`: links to every other program in its folders."""
    bin_dir = tmp / f"bin-without-{name}"
    bin_dir.mkdir(parents=True)
    for folder in os.environ["PATH"].split(os.pathsep):
        if folder.startswith(str(worlds.VENV)) or not os.path.isdir(folder):
            continue
        for entry in os.scandir(folder):
            target = bin_dir / entry.name
            if entry.name != name and not target.exists() and os.access(entry.path, os.X_OK):
                target.symlink_to(entry.path)
    return str(bin_dir)


def test_without_bubblewrap_it_says_to_install_it_and_grades_nobody(clone):
    root, home = clone
    with worlds.serve(worlds.SHARED_DATA) as (url, _):
        env = worlds.user_env(home, COURSE_DATA_MIRROR=url)
        env["PATH"] = path_without(root.parent, "bwrap")
        proc, seconds = run_demo(root, env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "bubblewrap (bwrap) is not installed" in proc.stderr and "./setup.sh" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout and seconds < 60
    nothing_graded(root)


def test_where_bubblewrap_cannot_sandbox_it_says_how_to_allow_it(clone):
    root, home = clone
    fake = root.parent / "fake-bin"
    fake.mkdir()
    (fake / "bwrap").write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace, likely because "
                                "the kernel does not allow non-privileged user namespaces.' >&2\nexit 1\n")
    (fake / "bwrap").chmod(0o755)
    with worlds.serve(worlds.SHARED_DATA) as (url, _):
        env = worlds.user_env(home, COURSE_DATA_MIRROR=url)
        env["PATH"] = f"{fake}{os.pathsep}{env['PATH']}"
        proc, _ = run_demo(root, env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "bubblewrap cannot create a sandbox here" in proc.stderr and "sysctl" in proc.stderr
    assert "No permissions to create new namespace" in proc.stderr
    nothing_graded(root)


# ---------------------------------------------------------------- plain nbgrader autograde

A = "model_fitting"


def submit_reference(root, student="alice"):
    path = root / "submitted" / student / A / f"{A}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(reference(COURSE[A]), str(path))


def test_course_autograde_stops_before_grading_without_data(clone):
    root, home = clone
    submit_reference(root)
    proc = worlds.run_as_typed(f". .venv/bin/activate && python -m course autograde {A}", root, worlds.user_env(home),
                               timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Nothing was graded" in proc.stderr and "Could not download train-images-idx3-ubyte.gz" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    nothing_graded(root)
    assert not (root / "reports").exists() and not (root / "gradebook.db").exists()


def test_plain_nbgrader_autograde_stops_before_grading_without_data(clone):
    root, home = clone
    submit_reference(root)
    proc = worlds.run_as_typed(f". .venv/bin/activate && nbgrader autograde {A}", root, worlds.user_env(home),
                               timeout=300)
    assert proc.returncode != 0
    assert "Nothing was graded" in proc.stderr and "Could not download train-images-idx3-ubyte.gz" in proc.stderr
    assert not (root / "autograded" / "alice").exists()
    nothing_graded(root)


@pytest.mark.slow
def test_plain_nbgrader_autograde_fetches_the_data_once_and_grades_full_marks(clone):
    root, home = clone
    submit_reference(root)
    with worlds.serve(worlds.SHARED_DATA) as (url, requested):
        env = worlds.user_env(home, COURSE_DATA_MIRROR=url)
        proc = worlds.run_as_typed(f". .venv/bin/activate && python -m course release {A} && nbgrader autograde {A}",
                                   root, env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert sorted(requested) == sorted(f"/mnist/{f}" for f in MNIST_FILES), "each file once, nothing optional"
    graded = nbformat.read(str(root / "autograded" / "alice" / A / f"{A}.ipynb"), as_version=4)
    errors = [(c.metadata.get("nbgrader", {}).get("grade_id"), o.get("ename"), o.get("evalue"))
              for c in graded.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, errors
    assert Path(home / ".cache" / "dlfs" / "mnist").is_dir()
