"""The autograd_mlp master: each defect of the seed assignment stays fixed (see docs/autograd_mlp.md)."""

import ast
import contextlib
import copy
import io
import math
import random
import sys

import nbformat
import numpy as np
import pytest
from checkout import COURSE, ROOT

from course.cells import grade_id, is_grade
from course.notebooks import PROVIDED, cell_by_id, grade_in_process
from course.submissions import apply_edits, reference


def quiet_call(fn, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return fn(*args, **kwargs)


def test_tqdm_is_imported_as_the_function_not_the_module(mlp_ns):
    # Seed: `import tqdm as tqdm`, then `tqdm(...)` -> TypeError: 'module' object is not callable.
    assert callable(mlp_ns["tqdm"]) and not isinstance(mlp_ns["tqdm"], type(sys))


def test_progress_bar_is_built_once_per_epoch_not_per_sample(mlp_ns, monkeypatch):
    # Seed: the bar was created inside the per-sample loop (one new bar per sample).
    made = []
    real = mlp_ns["tqdm"]

    def counting_tqdm(*args, **kwargs):
        made.append(kwargs.get("desc"))
        return real(*args, **kwargs)

    monkeypatch.setitem(mlp_ns, "tqdm", counting_tqdm)
    model, X, Y = mlp_ns["tiny_problem"](seed=0, n=12)
    quiet_call(mlp_ns["train"], model, X, Y, X, Y, X, Y, epochs=3, learning_rate=0.01)
    assert len(made) == 3, f"expected one progress bar per epoch, got {len(made)}"


def test_train_is_called_with_arguments_in_signature_order():
    # Seed: train(model, X_train, Y_train_oh, X_test, X_val, Y_val_oh, Y_test_oh, ...) mixed them up.
    nb = COURSE["autograd_mlp"].master()
    calls = []
    for cell in nb.cells:
        if cell.cell_type != "code" or is_grade(cell):
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "train" and len(node.args) == 7:
                calls.append([getattr(a, "id", "?") for a in node.args])
    assert calls, "the notebook trains with train(...)"
    for args in calls:
        if len(set(args[1::2])) == 1 and len(set(args[2::2])) == 1:
            continue  # one batch to train, validate and test on: the memorization check, on purpose
        roles = ["model", "X", "Y", "X", "Y", "X", "Y"]
        sets = [None, "train|more", "train|more", "val", "val", "test", "test"]
        for arg, role, which in zip(args, roles, sets):
            if which is None:
                continue
            assert arg.startswith(role) and any(w in arg.lower() for w in which.split("|")), \
                f"train called as train({', '.join(args)}): arguments out of order"


def test_backward_handles_graphs_deeper_than_the_recursion_limit(mlp_ns):
    # Seed: a recursive topological sort raised RecursionError beyond ~1000 levels.
    x = mlp_ns["create_value"](0.5)
    y = x
    for _ in range(3 * sys.getrecursionlimit()):
        y = mlp_ns["add"](y, x)
    mlp_ns["backward"](y)
    assert x["grad"] == 3 * sys.getrecursionlimit() + 1


def test_backward_frees_the_graph_unless_asked_to_keep_it(mlp_ns):
    ns = mlp_ns
    a, b = ns["create_value"](2.0), ns["create_value"](3.0)
    out = ns["multiply"](ns["add"](a, b), b)
    ns["backward"](out, retain_graph=True)
    assert out["_prev"], "retain_graph=True keeps the graph"
    ns["backward"](out)
    assert out["_prev"] == [] and a["grad"] == 6.0, "a second backward adds to the leaves; the graph is then freed"


def test_data_comes_from_the_course_loader_not_fetch_openml():
    # Seed: sklearn's fetch_openml needed the network at grading time.
    text = COURSE["autograd_mlp"].master_path.read_text()
    assert "fetch_openml" not in text and "load_mnist()" in text


def test_default_output_activation_is_softmax(mlp_ns):
    # Seed: the default output layer was 'linear', whose outputs cross_entropy_loss cannot take.
    random.seed(0)
    m = mlp_ns["initialize_model"](4, [3, 2])
    assert m["activations"] == ["relu", "softmax"]
    with pytest.raises(ValueError, match="unknown activation"):
        mlp_ns["initialize_model"](4, [3, 2], activations=["relu", "softmx"])
    with pytest.raises(ValueError, match="one activation per layer"):
        mlp_ns["initialize_model"](4, [3, 2], activations=["relu"])


def test_vectorized_default_ends_in_softmax_and_the_fused_loss_checks_it(mlp_ns):
    # Seed: initialize_model_vec defaulted to a sigmoid output, which the fused softmax loss silently mis-differentiated.
    mlp = mlp_ns["initialize_model_vec"]([4, 3, 2])
    assert mlp["activations"][-1] == "softmax"
    sig = mlp_ns["initialize_model_vec"]([4, 3, 2], activations=["relu", "sigmoid"])
    pred, _ = mlp_ns["forward_vec"](sig, np.ones((4, 5)))
    with pytest.raises(ValueError, match="softmax"):
        mlp_ns["categorical_crossentropy_loss_vec"](pred, np.eye(2)[:, [0, 1, 0, 1, 0]])


def test_forward_vec_spares_the_images_a_gradient(mlp_ns):
    # Found by benchmarks/vectorized_mlp.py: the images' gradient W0.T @ G cost as much as dW0 and was thrown away.
    np.random.seed(0)
    mlp = mlp_ns["initialize_model_vec"]([6, 4, 3], activations=["relu", "softmax"])
    pred, cache = mlp_ns["forward_vec"](mlp, np.random.default_rng(0).normal(size=(6, 5)))
    mlp_ns["backward_vec"](mlp_ns["categorical_crossentropy_loss_vec"](pred, np.eye(3)[:, [0, 1, 2, 0, 1]]))
    assert cache[0]["requires_grad"] is False and not np.any(cache[0]["grad"]), "the images got a gradient"
    assert np.any(mlp["parameters"][0]["grad"]), "the first layer's weights got no gradient"
    a, b = (mlp_ns["create_value_vec"](np.ones((2, 2))) for _ in range(2))
    out = mlp_ns["matmul_vec"](a, b)
    out["grad"] = np.ones((2, 2))
    out["_backward"]()
    assert np.all(b["grad"] == 2), "a node without the flag must still get its gradient"


def test_softmax_vec_backward_is_the_true_jacobian_product(mlp_ns):
    # Seed: softmax_vec passed the gradient through unchanged, wrong for any loss but the fused one.
    rng = np.random.default_rng(0)
    a = mlp_ns["create_value_vec"](rng.normal(size=(4, 3)))
    out = mlp_ns["softmax_vec"](a)
    G = rng.normal(size=(4, 3))
    out["grad"] = G
    out["_backward"]()
    s = out["data"]
    want = np.stack([(np.diag(s[:, j]) - np.outer(s[:, j], s[:, j])) @ G[:, j] for j in range(3)], axis=1)
    assert np.allclose(a["grad"], want)


def test_log_backward_uses_the_clamped_input(mlp_ns):
    # Seed hint: 1/a, infinite at a = 0 although the forward pass clamps a to 1e-10.
    a = mlp_ns["create_value"](0.0)
    out = mlp_ns["log_op"](a)
    out["grad"] = 1.0
    out["_backward"]()
    assert math.isfinite(a["grad"]) and a["grad"] == pytest.approx(1e10)


def test_training_reports_accuracy_without_a_second_pass_over_the_training_set(mlp_ns, monkeypatch):
    # Seed: every epoch ran get_accuracy over all training images again (as many forwards as training).
    calls = []
    real = mlp_ns["forward"]
    monkeypatch.setitem(mlp_ns, "forward", lambda m, x: calls.append(1) or real(m, x))
    model, X, Y = mlp_ns["tiny_problem"](seed=0, n=10)
    Xv, Yv = X[:, :4], Y[:, :4]
    quiet_call(mlp_ns["train"], model, X, Y, Xv, Yv, Xv, Yv, epochs=2, learning_rate=0.01)
    assert len(calls) == 2 * 10 + 4, \
        "train: one forward per training sample and one per test sample (validation runs in NumPy, without forward)"


def test_points_and_no_classes_rule():
    nb = COURSE["autograd_mlp"].master()
    for cell in nb.cells:
        if cell.cell_type == "code" and grade_id(cell) not in PROVIDED:  # the data loader may define its error
            assert not any(isinstance(n, ast.ClassDef) for n in ast.walk(ast.parse(cell.source))), \
                "no classes: dicts, lists and functions only"
    assert "def create_value(" in cell_by_id(nb, "create_value").source
    assert cell_by_id(nb, "create_value").metadata["nbgrader"]["locked"]


def test_catalog_edits_leave_valid_python():
    # An edit that breaks the indentation would crash the cell instead of planting the bug it names.
    cat = COURSE["autograd_mlp"].catalog
    entries = {**cat.BUGS, **cat.VARIANTS, **cat.GRADING_MODE_BUGS, **cat.GRADING_MODE_VARIANTS}
    base = reference(COURSE["autograd_mlp"])
    for name, entry in entries.items():
        nb = apply_edits(nbformat.from_dict(copy.deepcopy(base)), entry["edits"], name)
        for gid in {gid for gid, _, _ in entry["edits"]}:
            compile(cell_by_id(nb, gid).source, f"<{name}: {gid}>", "exec")


def one_blas_thread():
    """Grading kernels use one BLAS thread (nbgrader_config.py); so does in-process grading, where it can."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1)


GRADING_MODE = COURSE["autograd_mlp"].catalog


@pytest.mark.parametrize("name", sorted(GRADING_MODE.GRADING_MODE_BUGS) + sorted(GRADING_MODE.GRADING_MODE_VARIANTS))
def test_train_vec_entries_with_grading_budgets(name, monkeypatch):
    # ec_test_train_vec needs the vectorized MNIST run, which tests/test_catalog.py leaves out: grade these
    # entries here with that run kept, at the budgets the autograder uses (a few seconds each).
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    entry = {**GRADING_MODE.GRADING_MODE_BUGS, **GRADING_MODE.GRADING_MODE_VARIANTS}[name]
    nb = apply_edits(reference(COURSE["autograd_mlp"], keep_hidden_tests=True), entry["edits"], name)
    with one_blas_thread():
        failed, crashed = grade_in_process(nb, COURSE["autograd_mlp"].left_out(keep={"ec_test_train_vec"}))
    if name in GRADING_MODE.GRADING_MODE_VARIANTS:
        assert not failed and not crashed, f"{entry['what']}: lost points in {failed}; crashed: {crashed}"
    else:
        assert set(failed) == set(entry["fails"]), f"{entry['what']}: expected {entry['fails']} to fail, got {failed}"


def test_docs_describe_the_catalog_as_it_is():
    cat = COURSE["autograd_mlp"].catalog
    text = (ROOT / "docs" / "autograd_mlp.md").read_text()
    assert f"{len(cat.BUGS)} realistic bugs and {len(cat.VARIANTS)} correct variants" in text
    for name in [*cat.GRADING_MODE_BUGS, *cat.GRADING_MODE_VARIANTS]:
        assert f"`{name}`" in text, f"docs/autograd_mlp.md should list the grading-mode entry {name}"
