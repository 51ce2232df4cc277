"""course/calibrate.py's pure parts: seeds shifted, thresholds from many seeds, written to the manifest and from
there to the master's setup cell; the manifest's measures agree with the notebook."""

import ast

import pytest
from checkout import COURSE

from course import calibrate
from course.manifest import ManifestError, validate
from course.notebooks import cell_by_id, parse_cell
from course.release import copy_course, sync


def test_shift_seeds_moves_every_literal_seed():
    src = "np.random.seed(42)\nrng = np.random.default_rng(7)\nrandom.seed(0)\nx = 42"
    assert calibrate.shift_seeds(src, 1000) == \
        "np.random.seed(1042)\nrng = np.random.default_rng(1007)\nrandom.seed(1000)\nx = 42"


def test_thresholds_are_the_worst_seed_minus_the_margin_floored():
    results = {0: {"mnist": 93.4, "base": 50.0}, 1: {"mnist": 91.7, "base": 52.5}, 2: {"mnist": 92.0, "base": 49.9}}
    report = calibrate.summarize(results, ["mnist", "base"])
    assert report["mnist"]["accs"] == [93.4, 91.7, 92.0] and report["mnist"]["min"] == 91.7
    assert report["mnist"]["threshold"] == 88.0 and report["mnist"]["margin"] == pytest.approx(3.7)
    assert report["base"]["threshold"] == 46.0 and report["base"]["max"] == 52.5
    table = calibrate.format_report("model_fitting", report, 3)
    assert "| mnist | 91.7 | 92.4 | 93.4 | 0.74 | 88 | 3.7 |" in table


def test_write_thresholds_goes_to_the_manifest_then_the_setup_cells_line(tmp_path):
    course = copy_course(COURSE, tmp_path / "course")
    a = course["model_fitting"]
    manifest_before = a.folder.joinpath("manifest.toml").read_text()
    calibrate.write_thresholds(a, {"mnist": {"threshold": 87.0}})
    assert a.manifest.measures["mnist"]["threshold"] == 87.0
    after = a.folder.joinpath("manifest.toml").read_text()
    assert after == manifest_before.replace("threshold = 90.0", "threshold = 87.0"), "comments and layout kept"
    setup = cell_by_id(a.master(), "setup").source
    assert "GRADING_THRESHOLDS = {'mnist': 87.0}" in setup
    before = cell_by_id(COURSE["model_fitting"].master(), "setup").source
    assert setup.replace("{'mnist': 87.0}", "") == before.replace(before.split("GRADING_THRESHOLDS = ")[1]
                                                                  .split("\n")[0], "")
    assert sync(a) == [], "the master and its manifest agree"


def test_fixed_bars_are_reported_not_calibrated_and_never_written(tmp_path):
    results = {0: {"base": 50.0, "improved - base": 4.0}, 1: {"base": 60.0, "improved - base": 1.5}}
    report = calibrate.summarize(results, ["base", "improved - base"], fixed={"improved - base": 0.0})
    assert report["improved - base"]["threshold"] == 0.0 and report["improved - base"]["margin"] == 1.5
    assert report["base"]["threshold"] == 47.0
    a = copy_course(COURSE, tmp_path / "course")["autograd_mlp"]
    calibrate.write_thresholds(a, report)
    assert "bar" in a.manifest.measures["improved - base"] and "threshold" not in a.manifest.measures["improved - base"]
    setup = cell_by_id(a.master(), "setup").source
    assert "GRADING_THRESHOLDS = {'base': 47.0, 'improved': 62.0, 'vectorized': 88.0}" in setup


@pytest.mark.parametrize("name", COURSE.names)
def test_the_manifests_measures_are_the_notebooks(name):
    """What calibrate measures and the bars it reports against are the manifest's; the master's setup cell carries
    the same thresholds (`course sync`), and its tests state the same full-size targets: budget(target,
    GRADING_THRESHOLDS['name'])."""
    a = COURSE[name]
    measures = a.manifest.measures
    assert measures, f"{name}: its manifest names no [measures]"
    setup = cell_by_id(a.master(), "setup").source
    assert a.manifest.thresholds_line() in setup.split("\n"), "run `python -m course sync`"
    stated = {}
    for cell in a.master().cells:
        tree = parse_cell(cell.source) if cell.cell_type == "code" else None
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "budget" and len(node.args) == 2:
                full, grading = node.args
                if isinstance(grading, ast.Subscript) and getattr(grading.value, "id", "") == "GRADING_THRESHOLDS":
                    stated[grading.slice.value] = full.value
    assert stated == {k: m["target"] for k, m in measures.items() if "target" in m}


def test_a_manifest_with_a_measure_and_no_bar_is_refused():
    with pytest.raises(ManifestError, match="exactly one of threshold"):
        validate({"measures": {"base": {"expression": "acc(model)", "target": 75.0}}}, "manifest.toml")
    with pytest.raises(ManifestError, match="needs expression"):
        validate({"measures": {"base": {"threshold": 7.0}}}, "manifest.toml")
