"""Catalog of autograd_mlp submissions: realistic bugs (each must lose points in its own question) and
correct variants written differently from the master (each must keep full marks).

Edits are (grade_id, text in the reference solution, replacement); text None replaces the whole cell.
Every replaced text must occur exactly once, so a change to the master cannot silently disarm an entry.
`python -m course catalog --write` turns this file into docs/catalog.md.
"""

# Cells that train on MNIST, and the tests that need them: the in-process grading skips them
# (tests/test_catalog.py); the training loop itself is graded by test_train_step / test_train_learns.
SKIP = {"train_base", "plot_training_results", "test_base_model", "improve", "test_improved_model",
        "train_vec_run", "ec_test_train_vec"}

BUGS = {
    "multiply_overwrites_grad": {
        "what": "multiply's backward uses = instead of +=",
        "edits": [("multiply", "a['grad'] += b['data'] * out['grad']", "a['grad'] = b['data'] * out['grad']")],
        "fails": ["test_multiply"],
        "also": ["test_forward_gradients", "test_cross_entropy_gradient", "test_train_step", "test_train_learns"],
    },
    "relu_passes_everything": {
        "what": "relu's backward lets the gradient through for negative inputs",
        "edits": [("relu", "if a['data'] > 0:\n            a['grad'] += out['grad']", "a['grad'] += out['grad']")],
        "fails": ["test_relu"],
        "also": ["test_forward_gradients", "test_cross_entropy_gradient", "test_train_step", "test_train_learns"],
    },
    "forward_drops_bias": {
        "what": "forward starts each neuron from 0 instead of its bias",
        "edits": [("forward", "act = neuron['b']", "act = create_value(0.0)")],
        "fails": ["test_forward_values"],
        "also": ["test_forward_gradients", "test_forward_structure", "test_get_accuracy", "test_train_step",
                 "test_train_learns"],
    },
    "train_never_zeroes_grads": {
        "what": "the training loop never resets gradients",
        "edits": [("train", "for p in params:\n                p['grad'] = 0.0\n", "")],
        "fails": ["test_train_step"],
        "also": ["test_train_learns"],
    },
    "matmul_vec_transposed": {
        "what": "matmul_vec's gradient for b is transposed",
        "edits": [("vec_ops", "b['grad'] += a['data'].T @ out['grad']", "b['grad'] += out['grad'].T @ a['data']")],
        "fails": ["ec_test_vec_ops"],
        "also": ["ec_test_vec_model"],
    },
}

VARIANTS = {}

# The "realistic bugs" student of `python -m course demo`.
DEMO = ["multiply_overwrites_grad", "forward_drops_bias", "train_never_zeroes_grads"]
