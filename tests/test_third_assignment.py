"""Adding an assignment is adding one folder: tests/assignments/logistic_regression/ (its master, manifest and catalog,
nothing else) copied into source/ of a clean clone, and every command an instructor types works on it as on the
course's own assignments, with no change to any code: release, the demo, the otter edition, calibration, the catalog.

The assignment is a real one: a sigmoid, a loss with its gradient, gradient descent and a trained classifier
(an end-to-end test with a calibrated threshold), on synthetic data (no download).
"""

import math
import re
import shutil

import pytest
import worlds
from checkout import ROOT

from course.course import Course
from course.notebooks import cell_by_id, grade_in_process, leaks, read
from course.otter.submissions import as_otter
from course.otter.submissions import grade_in_process as otter_grade_in_process
from course.submissions import reference, variant, with_bugs

NAME = "logistic_regression"
FOLDER = ROOT / "tests" / "assignments" / NAME
COMMANDS = [f"python -m course release {NAME}", f"python -m course demo {NAME}", f"python -m course otter {NAME}",
            f"python -m course calibrate {NAME} --seeds 3 --write", "python -m course catalog --write"]


@pytest.fixture(scope="module")
def added():
    base = worlds.scratch("dlfs-third-")
    root = worlds.clean_clone(base / "course")
    before = {p.relative_to(root) for p in root.rglob("*") if p.is_file() and ".venv" not in p.parts}
    shutil.copytree(FOLDER, root / "source" / NAME, ignore=shutil.ignore_patterns("__pycache__"))
    after = {p.relative_to(root) for p in root.rglob("*") if p.is_file() and ".venv" not in p.parts}
    env = worlds.user_env(base / "home")
    runs = {line: worlds.run_as_typed(f". .venv/bin/activate && {line}", root, env, timeout=900) for line in COMMANDS}
    yield {"root": root, "added": sorted(map(str, after - before)), "runs": runs}
    shutil.rmtree(base, ignore_errors=True)


def test_the_folder_is_the_whole_assignment():
    assert sorted(p.name for p in FOLDER.iterdir() if p.name != "__pycache__") == \
        ["catalog.py", f"{NAME}.ipynb", "manifest.toml"]


@pytest.mark.slow
def test_one_folder_of_three_files_adds_the_assignment(added):
    assert added["added"] == [f"source/{NAME}/catalog.py", f"source/{NAME}/{NAME}.ipynb",
                              f"source/{NAME}/manifest.toml"]
    for line, proc in added["runs"].items():
        assert proc.returncode == 0, f"{line} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        assert "Traceback" not in proc.stderr, f"{line}:\n{proc.stderr[-3000:]}"


@pytest.mark.slow
def test_it_is_released_with_nothing_of_the_instructors(added):
    released = added["root"] / "release" / NAME
    assert sorted(p.name for p in released.iterdir()) == [f"{NAME}.ipynb"]
    assert not leaks(read(released / f"{NAME}.ipynb"))


@pytest.mark.slow
def test_the_demo_grades_it_as_expected(added):
    out = added["runs"][f"python -m course demo {NAME}"].stdout
    assert "All as expected" in out, out[-3000:]
    course = Course.at(added["root"])
    from course.grading import scores

    rows = {r.student: r for r in scores(course[NAME])}
    assert rows["reference"].core == rows["reference"].core_max == 100
    assert rows["blank"].core == 0 and 0 < rows["buggy"].core < 100


@pytest.mark.slow
def test_the_otter_edition_builds_and_grades_the_reference(added):
    out = added["root"] / "dist" / "otter" / NAME
    student = read(out / "student" / f"{NAME}.ipynb")
    a = Course.at(added["root"])[NAME]
    got = otter_grade_in_process(as_otter(reference(a), student), out / "autograder" / f"{NAME}-autograder.zip",
                                 a.left_out())
    assert got == {"test_sigmoid": 20.0, "test_loss_and_grad": 30.0, "test_train": 20.0}, got


@pytest.mark.slow
def test_calibration_writes_its_threshold_to_the_manifest_and_the_master(added):
    a = Course.at(added["root"])[NAME]
    out = added["runs"][f"python -m course calibrate {NAME} --seeds 3 --write"].stdout
    row = re.search(r"^\| accuracy \| ([\d.]+) \| [\d.]+ \| [\d.]+ \| [\d.]+ \| (\d+) \| ([\d.]+) \|$", out, re.MULTILINE)
    assert row, out
    worst, threshold = float(row.group(1)), float(row.group(2))
    assert threshold == math.floor(worst - 3.0), "the worst of the seeds, 3 points of margin"
    assert a.manifest.measures["accuracy"]["threshold"] == threshold
    assert a.manifest.thresholds_line() == f"GRADING_THRESHOLDS = {{'accuracy': {threshold:.1f}}}"
    assert a.manifest.thresholds_line() in cell_by_id(a.master(), "setup").source.split("\n")


@pytest.mark.slow
def test_the_catalog_doc_lists_it(added):
    text = (added["root"] / "docs" / "catalog.md").read_text()
    assert f"## {NAME}" in text and "`gradient_not_averaged`" in text


def test_its_catalog_holds_in_process():
    """Every bug loses points in its own question, saying so; every variant keeps full marks (the cells that train
    or only demonstrate left out, by their roles)."""
    course = Course.at(ROOT)
    base = worlds.scratch("dlfs-third-catalog-")
    try:
        (base / "source").mkdir()
        shutil.copytree(FOLDER, base / "source" / NAME)
        a = Course(base)[NAME]
        assert a.left_out() == {"train_run", "plot_boundary", "test_accuracy"}
        assert grade_in_process(reference(a, keep_hidden_tests=True), a.left_out()) == ([], {})
        for bug, entry in a.catalog.BUGS.items():
            messages = {}
            failed, crashed = grade_in_process(with_bugs(a, [bug], keep_hidden_tests=True), a.left_out(),
                                               messages=messages)
            assert failed == entry["fails"] and not crashed, (bug, failed, crashed)
            assert all(w in messages[failed[0]] for w in entry["says"]), (bug, messages)
        for name in a.catalog.VARIANTS:
            assert grade_in_process(variant(a, name, keep_hidden_tests=True), a.left_out()) == ([], {}), name
    finally:
        shutil.rmtree(base, ignore_errors=True)
    assert NAME not in course.names, "the assignment lives in the tests, not in the course"
