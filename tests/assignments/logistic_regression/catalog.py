"""Catalog of logistic_regression submissions: realistic bugs (each loses points in its own question, with a message
that says so) and correct variants written differently from the master (each keeps full marks).

Edits are (grade_id, text in the reference solution, replacement); text None replaces the whole cell.
"""

BUGS = {
    "sigmoid_sign_flipped": {
        "what": "sigmoid computes 1 / (1 + e^z): the probability of class 0",
        "edits": [("sigmoid", "np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
                   "np.where(z >= 0, e / (1.0 + e), 1.0 / (1.0 + e))")],
        "fails": ["test_sigmoid"],
        "says": ["sign of z"],
    },
    "sigmoid_overflows": {
        "what": "sigmoid exponentiates -z as is: e^1000 overflows",
        "edits": [("sigmoid", None, "def sigmoid(z):\n    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))")],
        "fails": ["test_sigmoid"],
        "says": ["overflows"],
    },
    "gradient_not_averaged": {
        "what": "loss_and_grad sums dw over the points instead of averaging",
        "edits": [("loss_and_grad", "X.T @ error / len(y)", "X.T @ error")],
        "fails": ["test_loss_and_grad"],
        "says": ["divide by N"],
    },
    "train_gradient_ascent": {
        "what": "train adds the gradient (gradient ascent)",
        "edits": [("train", "w = w - lr * dw", "w = w + lr * dw")],
        "fails": ["test_train"],
        "says": ["against the gradient"],
    },
}

VARIANTS = {
    "sigmoid_logaddexp": {
        "what": "sigmoid through np.logaddexp, stable without a branch",
        "edits": [("sigmoid", None, "def sigmoid(z):\n    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=float)))")],
    },
    "train_in_place": {
        "what": "train updates w in place and keeps the loss history as floats",
        "edits": [("train", "        w = w - lr * dw\n", "        w -= lr * dw\n")],
    },
}

DEMO = ["gradient_not_averaged", "train_gradient_ascent"]
