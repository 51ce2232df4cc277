"""Catalog of model_fitting submissions: realistic bugs (each must lose points in its own question) and
correct variants written differently from the master (each must keep full marks).

Edits are (grade_id, text in the reference solution, replacement); text None replaces the whole cell.
Every replaced text must occur exactly once, so a change to the master cannot silently disarm an entry.
`python -m course catalog --write` turns this file into docs/catalog.md.
"""

# Cells that train on MNIST or CIFAR-10, and the test that needs them: the in-process grading skips them.
SKIP = {"train_mnist", "test_mnist_accuracy", "grid", "grid_plots", "curves", "load_cifar", "train_cifar"}

BUGS = {
    "softmax_jacobian_twice": {
        "what": "the softmax Jacobian is applied on top of d_cross_entropy, which is already dL/dz",
        "edits": [("compute_gradients", "model.backward(d_loss(preds, Y), wrt_logits=fused)",
                   "model.backward(d_loss(preds, Y))")],
        "fails": ["test_model_gradients"],
        "also": [],
    },
    "lr_applied_twice": {
        "what": "the update multiplies by the learning rate twice",
        "edits": [("simple_model", "layer.W += layer.vW\n            layer.b += layer.vb",
                   "layer.W += lr * layer.vW\n            layer.b += lr * layer.vb")],
        "fails": ["test_update"],
        "also": [],
    },
    "l2_gradient_not_averaged": {
        "what": "d_l2 forgets the 1/N of the batch mean",
        "edits": [("regression_losses", "return (pred - target) / pred.shape[0]", "return pred - target")],
        "fails": ["test_regression_losses", "test_model_gradients"],
        "also": [],
    },
    "relu_derivative_everywhere": {
        "what": "d_relu tests out >= 0, which holds for every relu output",
        "edits": [("activations", "return (out > 0).astype(out.dtype)", "return (out >= 0).astype(out.dtype)")],
        "fails": ["test_activation_derivatives", "test_dense_backward", "test_model_gradients"],
        "also": [],
    },
    "decay_on_biases": {
        "what": "weight decay is applied to the biases too",
        "edits": [("simple_model", "layer.vb = momentum * layer.vb - lr * layer.db",
                   "layer.vb = momentum * layer.vb - lr * (layer.db + decay * layer.b)")],
        "fails": ["test_update"],
        "also": [],
    },
}

VARIANTS = {}

# The "realistic bugs" student of `python -m course demo`.
DEMO = ["softmax_jacobian_twice", "lr_applied_twice"]
