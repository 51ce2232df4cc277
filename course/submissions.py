"""Example submissions built from a master at run time: the reference, the blank release, and
versions with realistic bugs. They exercise the grader end to end without storing any student work."""

import nbformat

from . import master_path, release_path
from .notebooks import cell_by_id, read, solution_notebook

# name -> (assignment, [(grade_id of the cell, text in the reference solution, buggy text)], what it is,
#          the test cells that must lose points).
# Each replacement must match exactly once, so a change to the master cannot silently disarm a bug.
BUGS = {
    "multiply_overwrites_grad": ("autograd_mlp", [
        ("multiply", "a['grad'] += b['data'] * out['grad']", "a['grad'] = b['data'] * out['grad']"),
    ], "multiply's backward uses = instead of +=", ["test_multiply"]),
    "relu_passes_everything": ("autograd_mlp", [
        ("relu", "if a['data'] > 0:\n            a['grad'] += out['grad']", "a['grad'] += out['grad']"),
    ], "relu's backward lets gradient through for negative inputs", ["test_relu"]),
    "forward_drops_bias": ("autograd_mlp", [
        ("forward", "act = neuron['b']", "act = create_value(0.0)"),
    ], "forward starts each neuron from 0 instead of its bias", ["test_forward_values", "test_forward_gradients"]),
    "train_never_zeroes_grads": ("autograd_mlp", [
        ("train", "for p in params:\n                p['grad'] = 0.0\n", ""),
    ], "the training loop never resets gradients", ["test_train_step"]),
    "matmul_vec_transposed": ("autograd_mlp", [
        ("vec_ops", "b['grad'] += a['data'].T @ out['grad']", "b['grad'] += out['grad'].T @ a['data']"),
    ], "matmul_vec's gradient for b is transposed", ["ec_test_vec_ops"]),
    "softmax_jacobian_twice": ("model_fitting", [
        ("compute_gradients", "model.backward(d_loss(preds, Y), wrt_logits=fused)", "model.backward(d_loss(preds, Y))"),
    ], "the softmax Jacobian is applied on top of d_cross_entropy, which is already dL/dz", ["test_model_gradients"]),
    "lr_applied_twice": ("model_fitting", [
        ("simple_model", "layer.W += layer.vW\n            layer.b += layer.vb",
         "layer.W += lr * layer.vW\n            layer.b += lr * layer.vb"),
    ], "the update multiplies by the learning rate twice", ["test_update"]),
    "l2_gradient_not_averaged": ("model_fitting", [
        ("regression_losses", "return (pred - target) / pred.shape[0]", "return pred - target"),
    ], "d_l2 forgets the 1/N of the batch mean", ["test_regression_losses", "test_model_gradients"]),
    "relu_derivative_everywhere": ("model_fitting", [
        ("activations", "return (out > 0).astype(out.dtype)", "return (out >= 0).astype(out.dtype)"),
    ], "d_relu tests out >= 0, which holds for every relu output",
        ["test_activation_derivatives", "test_dense_backward", "test_model_gradients"]),
    "decay_on_biases": ("model_fitting", [
        ("simple_model", "layer.vb = momentum * layer.vb - lr * layer.db",
         "layer.vb = momentum * layer.vb - lr * (layer.db + decay * layer.b)"),
    ], "weight decay is applied to the biases too", ["test_update"]),
}

# The "realistic bugs" student of the demo.
DEMO_BUGS = ["multiply_overwrites_grad", "forward_drops_bias", "train_never_zeroes_grads",
             "softmax_jacobian_twice", "lr_applied_twice"]


def reference(assignment, root=None, keep_hidden_tests=False):
    """The master with every solution in place and the hidden tests removed (or kept, unmarked)."""
    return solution_notebook(read(master_path(assignment, root) if root else master_path(assignment)),
                             keep_hidden_tests)


def blank(assignment, root=None):
    """The release as a student receives it."""
    return read(release_path(assignment, root) if root else release_path(assignment))


def with_bugs(assignment, names, root=None, keep_hidden_tests=False):
    """The reference with the named bugs planted."""
    nb = reference(assignment, root, keep_hidden_tests)
    for name in names:
        owner, edits = BUGS[name][:2]
        if owner != assignment:
            raise ValueError(f"bug {name!r} belongs to {owner}, not {assignment}")
        for gid, old, new in edits:
            cell = cell_by_id(nb, gid)
            count = cell.source.count(old)
            if count != 1:
                raise ValueError(f"bug {name!r}: expected the text once in cell {gid!r}, found it {count} times")
            cell.source = cell.source.replace(old, new)
    return nb


def demo_submissions(assignment, root=None):
    """{student id: notebook} for the demo: reference, blank and (where bugs exist) buggy."""
    subs = {"reference": reference(assignment, root), "blank": blank(assignment, root)}
    bugs = [b for b in DEMO_BUGS if BUGS[b][0] == assignment]
    if bugs:
        subs["buggy"] = with_bugs(assignment, bugs, root)
    return subs


def write_submission(nb, root, student, assignment):
    path = root / "submitted" / student / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path
