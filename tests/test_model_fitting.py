"""The model_fitting master: each defect of the seed assignment stays fixed (see docs/model_fitting.md)."""

import ast
import contextlib
import importlib.util
import io
import warnings

import numpy as np
import pytest
from checkout import COURSE, ROOT

from course.cells import grade_id, is_grade
from course.notebooks import HIDDEN_BEGIN, HIDDEN_END, SOLUTION_BEGIN, SOLUTION_END, cell_by_id, read
from tests.test_data import write_fake_cifar10

NAME = "model_fitting"
# Cells that train on MNIST or CIFAR-10, and the test that needs them: not run by the in-process grading below.
TRAINING = {"train_mnist", "test_mnist_accuracy", "grid", "grid_plots", "curves", "load_cifar", "train_cifar"}


def quiet_call(fn, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def cell_source(gid, nb=None):
    """A master cell's code with solutions and hidden tests in place (marker lines dropped)."""
    nb = nb or COURSE[NAME].master()
    markers = (SOLUTION_BEGIN, SOLUTION_END, HIDDEN_BEGIN, HIDDEN_END)
    return "\n".join(line for line in cell_by_id(nb, gid).source.split("\n") if not any(m in line for m in markers))


def run_cell(ns, gid, nb=None):
    quiet_call(exec, compile(cell_source(gid, nb), f"<{NAME}:{gid}>", "exec"), ns)


def small_model(ns, hidden="tanh", output="softmax", dtype=np.float64, seed=0):
    np.random.seed(seed)
    return ns["SimpleModel"]([ns["DenseLayer"](4, 5, hidden, "xavier", dtype=dtype),
                              ns["DenseLayer"](5, 3, output, "xavier", dtype=dtype)])


def model_loss(ns, model, X, Y, loss_name):
    return ns["LOSSES"][loss_name][0](model.forward(X), Y)


def numerical_layer_grad(ns, model, X, Y, loss_name, layer, h=1e-6):
    grad = np.zeros_like(layer.W)
    for idx in np.ndindex(layer.W.shape):
        old = layer.W[idx]
        layer.W[idx] = old + h
        up = model_loss(ns, model, X, Y, loss_name)
        layer.W[idx] = old - h
        down = model_loss(ns, model, X, Y, loss_name)
        layer.W[idx] = old
        grad[idx] = (up - down) / (2 * h)
    return grad


# ---- 1. softmax + cross-entropy: the gradient enters once ----

def seed_script():
    spec = importlib.util.spec_from_file_location("seed_model_fitting", ROOT / "benchmarks" / "seed_model_fitting.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cross_entropy_gradient_passes_the_softmax_once(mf_ns):
    # Seed: d_cross_entropy already returned dL/dz, and the softmax layer multiplied it by its Jacobian again.
    rng = np.random.default_rng(0)
    model = small_model(mf_ns)
    X, Y = rng.normal(size=(6, 4)), np.eye(3)[rng.integers(0, 3, size=6)]
    mf_ns["compute_gradients"](model, X, Y, "cross_entropy")
    want = numerical_layer_grad(mf_ns, model, X, Y, "cross_entropy", model.layers[0])
    assert np.allclose(model.layers[0].dW, want, atol=1e-7)
    model.backward(mf_ns["d_cross_entropy"](model.forward(X), Y))  # the seed's way: through d_softmax again
    assert not np.allclose(model.layers[0].dW, want, atol=1e-3), "the seed's backward would pass this check"


@pytest.mark.slow
def test_seed_backward_trains_far_worse_on_mnist():
    # The seed's figure: 38.66% validation accuracy after 5 epochs; benchmarks/seed_model_fitting.py reproduces it
    # exactly (both runs, 5 epochs). Here: one epoch of the same run, seed backward against ours.
    seed = seed_script()
    buggy, fixed = seed.run(seed_backward=True, epochs=1), seed.run(seed_backward=False, epochs=1)
    assert abs(buggy[0] - 8.8) < 3.0, f"seed backward after 1 epoch: {buggy[0]:.2f}% (the seed's run gives 8.80%)"
    assert abs(fixed[0] - 61.58) < 3.0, f"fixed backward after 1 epoch: {fixed[0]:.2f}% (61.58% on the reference machine)"


# ---- 2. one update, learning rate once ----

def test_the_first_layer_skips_its_input_gradient(mf_ns, monkeypatch):
    # Found by benchmarks/vectorized_mlp.py: dL/dx of the first layer (the data) cost as much as its dW, unused.
    rng = np.random.default_rng(0)
    model = small_model(mf_ns)
    X, Y = rng.normal(size=(6, 4)), np.eye(3)[rng.integers(0, 3, size=6)]
    returned = []
    for layer in model.layers:
        def spy(*args, _backward=layer.backward, **kwargs):
            returned.append(_backward(*args, **kwargs))
            return returned[-1]
        monkeypatch.setattr(layer, "backward", spy)
    mf_ns["compute_gradients"](model, X, Y, "cross_entropy")
    assert returned[0].shape == (6, 5) and returned[1] is None, "only the first layer may skip dL/dx"
    want = numerical_layer_grad(mf_ns, model, X, Y, "cross_entropy", model.layers[0])
    assert np.allclose(model.layers[0].dW, want, atol=1e-7)
    dx = mf_ns["DenseLayer"].backward(model.layers[0], rng.normal(size=(6, 5)))
    assert dx.shape == (6, 4), "by default backward returns dL/dx"


def test_update_applies_the_learning_rate_once_and_has_no_twin(mf_ns):
    # Seed: update() computed W += lr * v * lr; a second method, correct_update(), did it right.
    assert not hasattr(mf_ns["SimpleModel"], "correct_update")
    model = small_model(mf_ns)
    layer = model.layers[0]
    W0 = layer.W.copy()
    layer.dW, layer.db = np.ones_like(layer.W), np.ones_like(layer.b)
    model.layers[1].dW, model.layers[1].db = np.zeros_like(model.layers[1].W), np.zeros_like(model.layers[1].b)
    model.update(lr=0.1, momentum=0.9, decay=0.0)
    assert np.allclose(layer.W, W0 - 0.1)


def test_master_decays_weights_not_biases(mf_ns):
    # The master's choice, stated in the text; decaying the biases too (the seed, PyTorch's SGD) is accepted:
    # hidden test_update takes both, and the catalog's variant decay_on_biases keeps full marks.
    model = small_model(mf_ns)
    for layer in model.layers:
        layer.b[...] = 1.0
        layer.dW, layer.db = np.zeros_like(layer.W), np.zeros_like(layer.b)
    W0 = model.layers[0].W.copy()
    model.update(lr=0.1, momentum=0.0, decay=0.5)
    assert np.allclose(model.layers[0].W, W0 * (1 - 0.05)) and np.all(model.layers[0].b == 1.0)


# ---- 3. names are checked ----

@pytest.mark.parametrize("kwargs, match", [({"activation": "softmx"}, "unknown activation"),
                                           ({"activation": "Relu"}, "unknown activation"),
                                           ({"init": "glorot"}, "unknown init")])
def test_unknown_activation_or_init_raises(mf_ns, kwargs, match):
    # Seed: ACT_FNS.get(name, relu) stored relu for any unknown name (forward then failed with a bare KeyError),
    # and any unknown init silently drew N(0, 0.01^2) weights.
    with pytest.raises(ValueError, match=match):
        mf_ns["DenseLayer"](4, 3, **{"activation": "relu", "init": "he", **kwargs})


def test_unknown_loss_and_cross_entropy_without_softmax_raise(mf_ns):
    model = small_model(mf_ns, output="linear")
    X, Y = np.ones((2, 4)), np.eye(3)[:2]
    with pytest.raises(ValueError, match="unknown loss"):
        mf_ns["compute_gradients"](model, X, Y, "hinge")
    with pytest.raises(ValueError, match="softmax"):
        mf_ns["compute_gradients"](model, X, Y, "cross_entropy")
    with pytest.raises(ValueError, match="unknown loss"):
        mf_ns["train_model"](model, X, Y, X, Y, epochs=1, loss_name="mse", verbose=False)


# ---- 4. d_softmax without a per-sample loop ----

def function_has_loop(source, name):
    fn = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef) and n.name == name)
    return any(isinstance(n, (ast.For, ast.While, ast.comprehension)) for n in ast.walk(fn))


@pytest.mark.parametrize("gid, name", [("d_softmax", "d_softmax"), ("one_hot", "one_hot")])
def test_no_python_loop_over_samples(gid, name):
    # Seed: d_softmax built a Jacobian per sample in a Python loop; one_hot looped over the labels.
    assert not function_has_loop(cell_source(gid), name)


def test_d_softmax_equals_the_jacobian_product_of_every_row(mf_ns):
    rng = np.random.default_rng(1)
    s, g = mf_ns["stable_softmax"](rng.normal(size=(8, 5))), rng.normal(size=(8, 5))
    want = np.stack([g[i] @ mf_ns["softmax_jacobian"](s[i]) for i in range(8)])  # kept for teaching
    assert np.allclose(mf_ns["d_softmax"](g, s), want)


# ---- 5. validation loss for every loss; 6. the grid has every loss ----

@pytest.mark.parametrize("loss_name", ["cross_entropy", "huber", "l1", "l2"])
def test_validation_loss_is_the_training_loss(mf_ns, loss_name):
    # Seed: val_loss was 0.0 for every loss but cross-entropy (the second version used Huber for all of them).
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(40, 4)), np.eye(3)[rng.integers(0, 3, size=40)]
    model = small_model(mf_ns, dtype=np.float32)
    hist = quiet_call(mf_ns["train_model"], model, X[:30], Y[:30], X[30:], Y[30:], epochs=2, batch_size=8,
                      lr=0.05, momentum=0.9, loss_name=loss_name)
    assert all(v > 0 for v in hist["val_loss"])
    assert hist["val_loss"][-1] == pytest.approx(model_loss(mf_ns, model, X[30:], Y[30:], loss_name), rel=1e-5)


def test_grid_is_the_seed_grid_with_l1_and_l2():
    # Seed: the grid ran cross-entropy and Huber only (its train_model raised on 'l1' and 'l2').
    tree = ast.parse(cell_by_id(COURSE[NAME].master(), "grid").source)
    grid = next(ast.literal_eval(n.value) for n in tree.body
                if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == "GRID")
    assert grid == {"lr": [1e-3, 1e-2, 1e-1], "momentum": [0.0, 0.9, 0.99], "decay": [0.0, 1e-4, 1e-3],
                    "activation": ["relu", "tanh", "sigmoid"], "loss": ["cross_entropy", "huber", "l1", "l2"]}


def test_grid_selects_on_validation_never_on_test():
    # Seed: every one of the grid's runs was also scored on the test set, inviting selection on test data.
    nb = COURSE[NAME].master()
    source = cell_by_id(nb, "grid").source + cell_by_id(nb, "grid_plots").source + cell_by_id(nb, "curves").source
    assert "X_test" not in source and "y_test" not in source


# ---- 7. CIFAR-10: the section runs, or is skipped cleanly ----

def test_cifar_section_runs_on_a_small_archive(mf_ns, tmp_path, monkeypatch):
    # Seed: CIFAR was promised ("try CIFAR after confirming MNIST works") but never loaded or trained.
    sha = write_fake_cifar10(tmp_path / "cifar10", n_per_batch=12)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_CIFAR10_SHA256", sha)
    ns = dict(mf_ns)
    run_cell(ns, "load_cifar")
    assert ns["cifar_ok"] and ns["xc_train"].shape == (60, 32, 32, 3)
    run_cell(ns, "train_cifar")
    sizes = [(layer.W.shape, layer.activation_name) for layer in ns["cifar_model"].layers]
    assert sizes == [((3072, 256), "relu"), ((256, 128), "relu"), ((128, 10), "softmax")]
    assert len(ns["cifar_history"]["val_acc"]) == 15 and all(np.isfinite(ns["cifar_history"]["train_loss"]))
    assert ns["cifar_pred"].shape == (12,)


def test_cifar_section_is_skipped_without_data(mf_ns):
    ns = dict(mf_ns)

    def no_data():
        raise ns["DatasetError"]("no CIFAR-10 here")
    ns["load_cifar10"] = no_data
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for gid in ["load_cifar", "train_cifar"]:
            exec(compile(cell_source(gid), f"<{gid}>", "exec"), ns)  # noqa: S102 (our own notebook)
    assert ns["cifar_ok"] is False and "skipped" in out.getvalue() and "no CIFAR-10 here" in out.getvalue()


def test_standardize_uses_training_statistics(mf_ns):
    rng = np.random.default_rng(3)
    train = rng.integers(0, 256, size=(10, 32, 32, 3), dtype=np.uint8)
    test = np.full((2, 32, 32, 3), 255, dtype=np.uint8)
    a, b = mf_ns["standardize"](train, test)
    assert a.dtype == np.float32 and a.shape == (10, 3072)
    assert np.all(b > 1.0), "test images are scaled with the training mean and std, not their own"


# ---- 8. activations: leaky ReLU's sign rule, dtypes, overflow ----

def test_leaky_relu_derivative_reads_the_output_sign_only_for_positive_alpha(mf_ns):
    # Seed: d_leaky_relu_out decided from the output's sign; right for alpha > 0, silently wrong otherwise.
    z = np.array([-2.0, -0.5, 0.5, 2.0])
    for alpha in [0.01, 0.2, 1.5]:
        out = mf_ns["leaky_relu"](z, alpha)
        assert np.array_equal(mf_ns["d_leaky_relu_out"](out, alpha), np.where(z > 0, 1.0, alpha))
    for alpha in [0.0, -0.1]:  # alpha = 0: out = 0 for z < 0, and the sign rule would claim slope 1
        with pytest.raises(ValueError, match="alpha"):
            mf_ns["d_leaky_relu_out"](mf_ns["leaky_relu"](z, alpha), alpha)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_and_derivatives_keep_the_dtype(mf_ns, dtype):
    # Seed: d_relu returned float32 even for float64 inputs.
    z = np.linspace(-2, 2, 7).astype(dtype)
    for name, (f, df) in mf_ns["ACT_FNS"].items():
        assert f(z).dtype == dtype and df(f(z)).dtype == dtype, name
    assert mf_ns["stable_softmax"](z.reshape(1, -1)).dtype == dtype


def test_sigmoid_never_overflows(mf_ns):
    # Seed: 1 / (1 + np.exp(-x)) overflowed (RuntimeWarning) for x < -88 in float32, e.g. in diverging grid runs.
    for dtype in [np.float32, np.float64]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            s = mf_ns["sigmoid"](np.array([-1e4, -100.0, 0.0, 100.0, 1e4], dtype=dtype))
        assert np.allclose(s, [0, 0, 0.5, 1, 1]) and s.dtype == dtype


# ---- other seed defects ----

def test_accuracy_accepts_one_hot_labels(mf_ns):
    # Seed: np.mean(preds == labels) with one-hot labels broadcast (N,) against (N, C) into a meaningless number.
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    assert mf_ns["accuracy"](probs, np.array([[1, 0], [0, 1], [0, 1]])) == pytest.approx(200 / 3)
    assert isinstance(mf_ns["accuracy"](probs, np.array([0, 1, 1])), float)


@pytest.mark.parametrize("loss_name", ["l2", "l1", "huber"])
def test_loss_derivatives_match_their_losses(mf_ns, loss_name):
    # Seed: l2/l1/huber averaged over all N*C entries but their derivatives divided by N only (C times too large).
    rng = np.random.default_rng(4)
    P, T = rng.normal(0, 1.5, size=(5, 10)), rng.normal(size=(5, 10))
    loss, d_loss = mf_ns["LOSSES"][loss_name]
    num = np.zeros_like(P)
    for idx in np.ndindex(P.shape):
        up, down = P.copy(), P.copy()
        up[idx] += 1e-6
        down[idx] -= 1e-6
        num[idx] = (loss(up, T) - loss(down, T)) / 2e-6
    assert np.allclose(d_loss(P, T), num, atol=1e-6)


def test_training_uses_the_last_partial_batch(mf_ns):
    # The seed's loop kept the last, smaller batch (correctly weighted): checked, kept, and pinned here.
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(50, 4)), np.eye(3)[rng.integers(0, 3, size=50)]
    model, calls = small_model(mf_ns), []
    real = model.update
    model.update = lambda *a, **k: calls.append(1) or real(*a, **k)
    quiet_call(mf_ns["train_model"], model, X, Y, X, Y, epochs=2, batch_size=16)
    assert len(calls) == 2 * 4


def test_data_comes_from_the_course_loader_not_tensorflow():
    # Seed: tensorflow.keras.datasets, unavailable offline and while grading.
    text = COURSE[NAME].master_path.read_text()
    assert "tensorflow" not in text and "load_mnist()" in text and "load_cifar10()" in text


def test_every_public_name_is_defined_once():
    # Seed: a second "mega cell" redefined every function and class, some with different behaviour.
    names = []
    for cell in COURSE[NAME].master().cells:
        if cell.cell_type == "code" and not is_grade(cell) and \
                grade_id(cell) != "provided_data":
            names += [n.name for n in ast.parse(cell.source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
    for api in ["one_hot", "stable_softmax", "accuracy", "plot_training", "linear", "d_linear", "sigmoid", "d_sigmoid",
                "tanh_act", "d_tanh", "relu", "d_relu", "leaky_relu", "d_leaky_relu_out", "softmax_jacobian",
                "d_softmax", "cross_entropy_loss", "d_cross_entropy", "l2_loss", "d_l2", "l1_loss", "d_l1",
                "huber_loss", "d_huber", "DenseLayer", "SimpleModel", "train_model"]:
        assert api in names, api


def test_train_model_signature_is_the_seed_api(mf_ns):
    import inspect

    params = list(inspect.signature(mf_ns["train_model"]).parameters)
    assert params == ["model", "X_train", "y_train", "X_val", "y_val", "epochs", "batch_size", "lr", "momentum",
                      "decay", "loss_name", "verbose"]
    assert list(inspect.signature(mf_ns["DenseLayer"]).parameters)[:4] == ["input_dim", "output_dim", "activation",
                                                                          "init"]


# ---- grading: the blank release earns nothing (the bug catalog is tests/test_catalog.py) ----

def test_blank_release_fails_every_test():
    release, master = read(COURSE[NAME].release_path), COURSE[NAME].master()
    ns = {"__name__": "__course__"}
    import matplotlib

    matplotlib.use("Agg")
    for cell in release.cells:  # the student's notebook, run as far as it goes
        if cell.cell_type == "code" and grade_id(cell) not in TRAINING and \
                not is_grade(cell):
            with contextlib.suppress(Exception):
                quiet_call(exec, cell.source, ns)
    for cell in master.cells:  # then every test, hidden parts included
        if is_grade(cell) and cell.cell_type == "code":
            with pytest.raises(Exception):  # noqa: B017 -- any error scores 0
                run_cell(dict(ns), grade_id(cell), master)
