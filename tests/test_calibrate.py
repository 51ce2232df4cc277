"""course/calibrate.py's pure parts: seeds shifted, thresholds from many seeds, the master's setup cell rewritten."""

import pytest
from checkout import ROOT

from course import calibrate
from course.notebooks import cell_by_id, read
from course.paths import master_path
from course.release import copy_course


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


def test_write_thresholds_rewrites_only_the_setup_cells_line(tmp_path):
    root = copy_course(ROOT, tmp_path / "course")
    report = {"mnist": {"threshold": 87.0}}
    calibrate.write_thresholds("model_fitting", report, root)
    setup = cell_by_id(read(master_path("model_fitting", root)), "setup").source
    assert "GRADING_THRESHOLDS = {'mnist': 87.0}" in setup
    before = cell_by_id(read(master_path("model_fitting", ROOT)), "setup").source
    assert setup.replace("{'mnist': 87.0}", "") == before.replace(before.split("GRADING_THRESHOLDS = ")[1]
                                                                  .split("\n")[0], "")


def test_fixed_bars_are_reported_not_calibrated_and_never_written(tmp_path):
    results = {0: {"base": 50.0, "improved - base": 4.0}, 1: {"base": 60.0, "improved - base": 1.5}}
    report = calibrate.summarize(results, ["base", "improved - base"], fixed={"improved - base": 0.0})
    assert report["improved - base"]["threshold"] == 0.0 and report["improved - base"]["margin"] == 1.5
    assert report["base"]["threshold"] == 47.0
    root = copy_course(ROOT, tmp_path / "course")
    calibrate.write_thresholds("autograd_mlp", report, root)
    setup = cell_by_id(read(master_path("autograd_mlp", root)), "setup").source
    assert "GRADING_THRESHOLDS = {'base': 47.0}" in setup


def test_full_targets_are_read_from_the_test_cells():
    targets = calibrate.full_targets(read(master_path("autograd_mlp", ROOT)))
    assert targets == {"base": 75.0, "improved": 80.0, "vectorized": 95.0}
    assert set(calibrate.measures("autograd_mlp")) == {"base", "improved", "vectorized", "improved - base"}
