"""Smoke tests of benchmarks/: the scripts' pieces run on tiny sizes and agree with each other.

No timing is asserted (timings depend on the machine); the benchmarks themselves are run by hand,
see docs/benchmarks.md.
"""

import math
import subprocess
import sys

import autograde
import common
import grid
import numpy as np
import pytest
import scalar_engine
import vectorized_mlp as vm
from checkout import ROOT


def test_timed_warms_up_then_times_each_run():
    calls = []
    times = common.timed(lambda: calls.append(1), reps=3, warmup=2)
    assert len(calls) == 5 and len(times) == 3 and all(t >= 0 for t in times)
    assert common.median_runs([3.0, 1.0, 2.0]) == "2.00 (runs: 3.00, 1.00, 2.00)"
    assert common.thread_env(1, {})["OPENBLAS_NUM_THREADS"] == "1"
    assert "cores" in common.machine() and "load average" in common.machine()


@pytest.fixture(scope="module")
def batch():
    return {name: vm.load_data(dtype, samples=64) for name, dtype in vm.DTYPES.items()}


@pytest.mark.parametrize("dtype_name, impls, tol", [
    ("float64", ["master", "layers"], 1e-9),  # the losses clip p at 1e-12 in two ways
    ("float32", ["master", "layers"], 1e-5),
])
def test_the_numpy_implementations_agree_on_one_step(batch, dtype_name, impls, tol):
    x, y, labels = batch[dtype_name]
    results = []
    for impl in impls:
        step, weights = vm.trainer(impl, vm.DTYPES[dtype_name])
        loss = step(x, y, labels)
        assert math.isfinite(loss) and 2.0 < loss < 2.6, f"{impl}: first loss {loss} (about ln 10 expected)"
        assert all(W.dtype == vm.DTYPES[dtype_name] for W, _ in weights()), f"{impl} does not run in {dtype_name}"
        results.append((impl, loss, weights()))
    start = vm.initial_weights()
    _, loss0, weights0 = results[0]
    assert not np.allclose(weights0[0][0], start[0][0], atol=1e-9), "the step left the weights unchanged"
    for impl, loss, weights in results[1:]:
        assert loss == pytest.approx(loss0, rel=tol), f"{impl} and {results[0][0]}: different losses"
        for (W, b), (W0, b0) in zip(weights, weights0):
            np.testing.assert_allclose(W, W0, rtol=0, atol=tol, err_msg=f"{impl}: weights after the step")
            np.testing.assert_allclose(b, b0, rtol=0, atol=tol, err_msg=f"{impl}: biases after the step")


def test_pytorch_agrees_on_one_step(batch):
    pytest.importorskip("torch")
    x, y, labels = batch["float64"]
    step, weights = vm.trainer("layers", np.float64)
    torch_step, torch_weights = vm.trainer("torch", np.float64)
    assert torch_step(x, y, labels) == pytest.approx(step(x, y, labels), rel=1e-12)
    for (W, b), (Wt, bt) in zip(weights(), torch_weights()):
        np.testing.assert_allclose(Wt, W, atol=1e-12)
        np.testing.assert_allclose(bt, b, atol=1e-12)


def test_measure_times_epochs_and_reports_the_loss():
    out = vm.measure("layers", "float32", reps=2, samples=256)
    assert len(out["times"]) == 2 and all(t > 0 for t in out["times"])
    assert 0 < out["loss_epoch1"] < 2.4  # four steps of SGD from ln 10
    assert vm.matmul_peak("float64", n=64, reps=1) > 0


@pytest.mark.slow
def test_vectorized_script_takes_turns_and_prints_a_row_per_implementation(tmp_path):
    png = tmp_path / "vm.png"
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "vectorized_mlp.py"), "--samples", "128",
                          "--reps", "1", "--rounds", "2", "--dtypes", "float64", "--plot", str(png)],
                         capture_output=True, text=True, check=True).stdout
    rows = [line for line in out.splitlines() if line.startswith("1       float64")]
    assert {"master", "layers"} <= {line.split()[2] for line in rows}, out
    assert all("(" in line and "-" in line for line in rows), "each row shows the median and its range"
    assert png.stat().st_size > 0


def test_autograde_plot_draws_the_parts(tmp_path):
    parts = {"autograd_mlp": {"Setup": 0.5, "Part 6": 95.6, "Part 7 (extra credit)": 0.9},
             "model_fitting": {"Setup": 1.0, "Part 7": 2.1, "Part 8": 1.6}}
    assert autograde.plot(parts, tmp_path / "autograde.png").stat().st_size > 0


def test_grid_runs_the_masters_grid_cell():
    out = grid.spawn(threads=1, grading=True)  # a fresh process; the grading budget: 256 images, 1 epoch
    assert out["runs"] == 324 and out["images"] == 256 and out["epochs"] == 1 and out["seconds"] > 0


@pytest.mark.parametrize("engine", ["seed", "master"])
def test_scalar_engine_measures_both_engines(engine):
    assert scalar_engine.measure(engine, steps=1) > 0
