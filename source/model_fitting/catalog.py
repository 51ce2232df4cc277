"""Catalog of model_fitting submissions: realistic bugs (each must lose points in its own question) and
correct variants written differently from the master (each must keep full marks).

Edits are (grade_id, text in the reference solution, replacement); text None replaces the whole cell.
Each bug names the questions that must catch it (`fails`, its own first) and `says`: words the first
question's message must contain, so that it names this mistake or states plainly what came out.
Every replaced text must occur exactly once, so a change to the master cannot silently disarm an entry.
`python -m course catalog --write` turns this file into docs/catalog.md.

The hidden parts of test_dense_forward, test_dense_backward, test_model_gradients and test_train_model swap
trusted reference versions in for the code their question calls but does not own (activations, softmax,
losses, the layer, the model, compute_gradients), so most bugs cost points in their own question only; "also"
lists a downstream test only where it necessarily runs the buggy code (e.g. backward runs the student's forward).
"""

# The in-process grading of this catalog leaves out the cells that load data, train or only demonstrate, and the
# test of the trained network (course.notebooks.left_out): reading MNIST alone would take longer than grading the
# rest of a notebook.

BUGS = {
    # ---- Part 1: utilities ----
    "one_hot_off_by_one": {
        "what": "one_hot sets column label - 1 (labels taken as 1-based)",
        "edits": [("one_hot", "out[np.arange(labels.shape[0]), labels] = 1.0",
                   "out[np.arange(labels.shape[0]), labels - 1] = 1.0")],
        "fails": ["test_one_hot"],
        "says": ["column labels[i]"],
    },
    "one_hot_width_from_labels": {
        "what": "one_hot makes labels.max() + 1 columns instead of num_classes",
        "edits": [("one_hot", "np.zeros((labels.shape[0], num_classes)", "np.zeros((labels.shape[0], labels.max() + 1)")],
        "fails": ["test_one_hot"],
        "says": ["num_classes"],
    },
    "softmax_without_max_shift": {
        "what": "stable_softmax exponentiates the raw logits: e^1000 overflows to inf and the result is nan",
        "edits": [("stable_softmax", "e = np.exp(z - np.max(z, axis=1, keepdims=True))", "e = np.exp(z)")],
        "fails": ["test_stable_softmax"],
        "says": ["own maximum"],
    },
    "softmax_batch_max": {
        "what": "stable_softmax subtracts the largest logit of the whole batch, not of each row: exact on paper, "
                "but a row far below the batch maximum underflows to 0/0 = nan",
        "edits": [("stable_softmax", "np.max(z, axis=1, keepdims=True)", "np.max(z)")],
        "fails": ["test_stable_softmax"],
        "says": ["own maximum"],
    },
    "softmax_normalized_over_batch": {
        "what": "stable_softmax divides by the sum over axis 0 (each column sums to 1, not each row)",
        "edits": [("stable_softmax", "np.sum(e, axis=1, keepdims=True)", "np.sum(e, axis=0, keepdims=True)")],
        "fails": ["test_stable_softmax"],
        "says": ["axis=1"],
    },
    "accuracy_one_hot_labels_as_given": {
        "what": "accuracy compares the predicted classes with one-hot labels without taking their argmax",
        "edits": [("accuracy", "if labels.ndim == 2:  # one-hot rows\n        labels = labels.argmax(axis=1)\n    ", "")],
        "fails": ["test_accuracy"],
        "says": ["broadcast"],
    },
    "accuracy_fraction": {
        "what": "accuracy returns a fraction in [0, 1] instead of a percentage",
        "edits": [("accuracy", "== labels) * 100.0)", "== labels))")],
        "fails": ["test_accuracy"],
        "says": ["got 0.75"],
    },
    "accuracy_argmax_over_batch": {
        "what": "accuracy takes the argmax over axis 0 (the batch) instead of over each row's classes",
        "edits": [("accuracy", "np.argmax(pred_probs, axis=1)", "np.argmax(pred_probs, axis=0)")],
        "fails": ["test_accuracy"],
        "says": ["broadcast"],
    },
    # ---- Part 2: activations, derivatives, d_softmax ----
    "sigmoid_overflows": {
        "what": "sigmoid computes 1 / (1 + exp(-x)): overflow warnings for large negative x",
        "edits": [("activations", ("e = np.exp(-np.abs(x))  # exponent <= 0: never overflows\n"
                   "    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))"), "return 1.0 / (1.0 + np.exp(-x))")],
        "fails": ["test_activations"],
        "says": ["overflow"],
    },
    "d_sigmoid_is_sigmoid": {
        "what": "d_sigmoid returns s instead of s(1 - s)",
        "edits": [("activations", "return out * (1.0 - out)", "return out")],
        "fails": ["test_activation_derivatives"],
        "says": ["d_sigmoid(out)", "got [0.04743"],
    },
    "d_sigmoid_from_the_input": {
        "what": "d_sigmoid applies sigmoid to its argument again, as if it were given x instead of the output",
        "edits": [("activations", "return out * (1.0 - out)", "return sigmoid(out) * (1.0 - sigmoid(out))")],
        "fails": ["test_activation_derivatives"],
        "says": ["d_sigmoid(out)", "expected [0.04518"],
    },
    "d_tanh_one_minus_out": {
        "what": "d_tanh returns 1 - a instead of 1 - a^2",
        "edits": [("activations", "return 1.0 - out ** 2", "return 1.0 - out")],
        "fails": ["test_activation_derivatives"],
        "says": ["d_tanh(out)"],
    },
    "relu_derivative_everywhere": {
        "what": "d_relu tests out >= 0, which holds for every relu output",
        "edits": [("activations", "return (out > 0).astype(out.dtype)", "return (out >= 0).astype(out.dtype)")],
        "fails": ["test_activation_derivatives"],
        "says": ["d_relu(out)"],
    },
    "leaky_relu_branches_swapped": {
        "what": "leaky_relu scales the positive side by alpha and passes the negative side",
        "edits": [("activations", "np.where(x >= 0, x, alpha * x)", "np.where(x >= 0, alpha * x, x)")],
        "fails": ["test_activations"],
        "says": ["leaky_relu"],
    },
    "d_leaky_relu_zero_for_negatives": {
        "what": "d_leaky_relu_out gives slope 0 for negative outputs (relu's derivative) instead of alpha",
        "edits": [("activations", "deriv[out < 0] = alpha", "deriv[out < 0] = 0")],
        "fails": ["test_activation_derivatives"],
        "says": ["expected [0.01"],
    },
    "d_leaky_relu_fixed_slope": {
        "what": "d_leaky_relu_out hard-codes the slope 0.01 and ignores its alpha argument",
        "edits": [("activations", "deriv[out < 0] = alpha", "deriv[out < 0] = 0.01")],
        "fails": ["test_activation_derivatives"],
        "says": ["alpha=0.2", "got 0.01"],
    },
    "d_softmax_diagonal_only": {
        "what": "d_softmax keeps only the Jacobian's diagonal: g * s * (1 - s)",
        "edits": [("d_softmax", "return softmax_out * (prev_grad - dot)",
                   "return prev_grad * softmax_out * (1 - softmax_out)")],
        "fails": ["test_d_softmax"],
        "says": ["d_softmax on one row"],
    },
    "d_softmax_dot_without_keepdims": {
        "what": "d_softmax's per-row dot product loses keepdims: (N,) broadcasts against (N, C) wrongly",
        "edits": [("d_softmax", "np.sum(prev_grad * softmax_out, axis=1, keepdims=True)",
                   "np.sum(prev_grad * softmax_out, axis=1)")],
        "fails": ["test_d_softmax"],
        "says": ["broadcast"],
    },
    "d_softmax_python_loop": {
        "what": "d_softmax builds the C x C Jacobian of every row in a Python loop (right values, the seed's slowness)",
        "edits": [("d_softmax", ("dot = np.sum(prev_grad * softmax_out, axis=1, keepdims=True)  # (N, 1): g . s per row\n"
                   "    return softmax_out * (prev_grad - dot)"),
                   ("out = np.empty_like(prev_grad)\n"
                   "    for i in range(prev_grad.shape[0]):\n"
                   "        out[i] = prev_grad[i] @ softmax_jacobian(softmax_out[i])\n"
                   "    return out"))],
        "fails": ["test_d_softmax"],
        "says": ["without a python loop"],
    },
    # ---- Part 3: losses ----
    "cross_entropy_summed": {
        "what": "cross_entropy_loss sums over the batch instead of averaging",
        "edits": [("cross_entropy", "return float(-np.sum(targets * log_p) / probs.shape[0])",
                   "return float(-np.sum(targets * log_p))")],
        "fails": ["test_cross_entropy"],
        "says": ["batch mean"],
    },
    "cross_entropy_unclipped": {
        "what": "cross_entropy_loss takes the log of unclipped probabilities: p = 0 costs inf",
        "edits": [("cross_entropy", "np.log(np.clip(probs, 1e-12, None))", "np.log(probs)")],
        "fails": ["test_cross_entropy"],
        "says": ["clip the probabilities"],
    },
    "d_cross_entropy_not_averaged": {
        "what": "d_cross_entropy forgets the 1/N of the batch mean",
        "edits": [("cross_entropy", "return (probs - targets) / probs.shape[0]", "return probs - targets")],
        "fails": ["test_cross_entropy"],
        "says": ["2 times"],
    },
    "d_cross_entropy_wrt_probs": {
        "what": "d_cross_entropy returns dL/dp = -y / (N p) instead of the fused dL/dz = (p - y) / N",
        "edits": [("cross_entropy", "return (probs - targets) / probs.shape[0]",
                   "return -targets / np.clip(probs, 1e-12, None) / probs.shape[0]")],
        "fails": ["test_cross_entropy"],
        "says": ["dl/dp"],
    },
    "l2_loss_mean_over_entries": {
        "what": "l2_loss averages over all N*C entries (the seed's loss) instead of summing each row and averaging "
                "over the batch",
        "edits": [("regression_losses", "return float(0.5 * np.sum((pred - target) ** 2) / pred.shape[0])",
                   "return float(0.5 * np.mean((pred - target) ** 2))")],
        "fails": ["test_regression_losses"],
        "says": ["got 0.65625"],
    },
    "l2_gradient_not_averaged": {
        "what": "d_l2 forgets the 1/N of the batch mean",
        "edits": [("regression_losses", "return (pred - target) / pred.shape[0]", "return pred - target")],
        "fails": ["test_regression_losses"],
        "says": ["2 times"],
    },
    "d_l1_sign_flipped": {
        "what": "d_l1 returns sign(target - pred): the gradient points uphill",
        "edits": [("regression_losses", "np.sign(pred - target)", "np.sign(target - pred)")],
        "fails": ["test_regression_losses"],
        "says": ["sign is flipped"],
    },
    "huber_branches_swapped": {
        "what": "huber_loss uses the linear branch for small errors and the quadratic one for large errors",
        "edits": [("regression_losses", "np.where(np.abs(d) <= delta, 0.5 * d ** 2, delta * (np.abs(d) - 0.5 * delta))",
                   "np.where(np.abs(d) <= delta, delta * (np.abs(d) - 0.5 * delta), 0.5 * d ** 2)")],
        "fails": ["test_regression_losses"],
        "says": ["huber_loss(delta=1)"],
    },
    "huber_threshold_ignores_delta": {
        "what": "huber_loss switches from the quadratic to the linear branch at an error of 1, whatever delta is",
        "edits": [("regression_losses", "np.where(np.abs(d) <= delta,", "np.where(np.abs(d) <= 1.0,")],
        "fails": ["test_regression_losses"],
        "says": ["delta=2"],
    },
    "d_huber_not_clipped": {
        "what": "d_huber returns d / N everywhere (L2's derivative), not clipped to [-delta, delta]",
        "edits": [("regression_losses", "return np.clip(pred - target, -delta, delta) / pred.shape[0]",
                   "return (pred - target) / pred.shape[0]")],
        "fails": ["test_regression_losses"],
        "says": ["clip each error"],
    },
    # ---- Part 4: the dense layer ----
    "xavier_fan_in_only": {
        "what": "Xavier's limit uses sqrt(6 / n_in) instead of sqrt(6 / (n_in + n_out))",
        "edits": [("dense_layer", "np.sqrt(6.0 / (input_dim + output_dim))", "np.sqrt(6.0 / input_dim)")],
        "fails": ["test_dense_init"],
        "says": ["xavier:", "0.0707"],
    },
    "xavier_std_as_limit": {
        "what": "Xavier draws uniform(-s, s) with s = sqrt(2 / (n_in + n_out)), the target standard deviation, "
                "as the limit: weights sqrt(3) times too small",
        "edits": [("dense_layer", "np.sqrt(6.0 / (input_dim + output_dim))", "np.sqrt(2.0 / (input_dim + output_dim))")],
        "fails": ["test_dense_init"],
        "says": ["xavier:", "0.0308"],
    },
    "he_without_factor_two": {
        "what": "He initialization uses std sqrt(1 / n_in) (LeCun's) instead of sqrt(2 / n_in)",
        "edits": [("dense_layer", "np.sqrt(2.0 / input_dim)", "np.sqrt(1.0 / input_dim)")],
        "fails": ["test_dense_init"],
        "says": ["he:", "0.0500"],
    },
    "he_fan_out": {
        "what": "He initialization divides by n_out instead of n_in",
        "edits": [("dense_layer", "np.sqrt(2.0 / input_dim)", "np.sqrt(2.0 / output_dim)")],
        "fails": ["test_dense_init"],
        "says": ["he:", "0.0816"],
    },
    "init_ignores_dtype": {
        "what": "the layer always stores float32 weights, ignoring its dtype argument",
        "edits": [("dense_layer", "self.W = W.astype(dtype)\n        self.b = np.zeros((1, output_dim), dtype=dtype)",
                   "self.W = W.astype(np.float32)\n        self.b = np.zeros((1, output_dim), dtype=np.float32)")],
        "fails": ["test_dense_init"],
        "says": ["dtype argument"],
    },
    "init_reseeds_the_rng": {
        "what": "DenseLayer.__init__ calls np.random.seed(0): every layer of a given shape gets the same weights",
        "edits": [("dense_layer", "if init == 'xavier':\n            limit",
                   "np.random.seed(0)  # reproducible\n        if init == 'xavier':\n            limit")],
        "fails": ["test_dense_init"],
        "says": ["fresh random weights"],
    },
    "bias_is_1d": {
        "what": "the bias is created with shape (output_dim,) instead of (1, output_dim)",
        "edits": [("dense_layer", "self.b = np.zeros((1, output_dim), dtype=dtype)",
                   "self.b = np.zeros(output_dim, dtype=dtype)")],
        "fails": ["test_dense_init"],
        "says": ["(1, 4)"],
    },
    "forward_drops_bias": {
        "what": "forward computes z = x @ W and forgets the bias",
        "edits": [("dense_layer", "self.z = x @ self.W + self.b", "self.z = x @ self.W")],
        "fails": ["test_dense_forward"],
        "says": ["got [[4.0, -1.0]]"],
        "also": ["test_dense_backward"],  # backward runs the student's forward first
    },
    "dW_not_transposed": {
        "what": "backward computes dW = dz.T @ x, the transpose of the weight gradient",
        "edits": [("dense_layer", "self.dW = self.x.T @ grad_z", "self.dW = grad_z.T @ self.x")],
        "fails": ["test_dense_backward"],
        "says": ["broadcast"],
    },
    "db_not_summed": {
        "what": "backward stores db = dz per sample, without the sum over the batch (a missing reduction)",
        "edits": [("dense_layer", "self.db = np.sum(grad_z, axis=0, keepdims=True)", "self.db = grad_z")],
        "fails": ["test_dense_backward"],
        "says": ["shape (6, 3), expected (1, 3)"],
    },
    "db_averaged": {
        "what": "backward averages db over the batch: a second 1/N on top of the loss's",
        "edits": [("dense_layer", "self.db = np.sum(grad_z, axis=0, keepdims=True)",
                   "self.db = np.mean(grad_z, axis=0, keepdims=True)")],
        "fails": ["test_dense_backward"],
        "says": ["0.1667 times"],
    },
    "dW_accumulates": {
        "what": "backward adds to dW (+=) instead of assigning it: gradients of earlier batches are never cleared",
        "edits": [("dense_layer", "self.dW = self.x.T @ grad_z", "self.dW += self.x.T @ grad_z")],
        "fails": ["test_dense_backward"],
        "says": ["do not add to it", "2 times"],
    },
    "dx_skips_the_activation": {
        "what": "backward returns dL/da @ W.T: the gradient for x skips the activation's derivative",
        "edits": [("dense_layer", "return grad_z @ self.W.T", "return grad_a @ self.W.T")],
        "fails": ["test_dense_backward"],
        "says": ["skips the activation"],
    },
    "need_input_grad_inverted": {
        "what": "backward returns None when dL/dx is asked for, and computes it only when it is not",
        "edits": [("dense_layer", "return grad_z @ self.W.T if need_input_grad else None",
                   "return None if need_input_grad else grad_z @ self.W.T")],
        "fails": ["test_dense_backward"],
        "says": ["got none"],
    },
    "dx_uses_W_not_its_transpose": {
        "what": "backward returns dz @ W instead of dz @ W.T",
        "edits": [("dense_layer", "return grad_z @ self.W.T", "return grad_z @ self.W")],
        "fails": ["test_dense_backward"],
        "says": ["mismatch"],
    },
    "derivative_of_z": {
        "what": "backward feeds z to the derivative, which expects the activation's output a",
        "edits": [("dense_layer", "grad_a * ACT_FNS[self.activation_name][1](self.a)",
                   "grad_a * ACT_FNS[self.activation_name][1](self.z)")],
        "fails": ["test_dense_backward"],
        "says": ["fed z"],
    },
    "softmax_layer_diagonal_derivative": {
        "what": "the softmax layer's backward multiplies by s(1 - s), as if softmax acted entry by entry",
        "edits": [("dense_layer", "grad_z = d_softmax(grad_a, self.a)", "grad_z = grad_a * self.a * (1 - self.a)")],
        "fails": ["test_dense_backward"],
        "says": ["'softmax' layer: dw"],
    },
    "layer_ignores_wrt_logits": {
        "what": "backward ignores wrt_logits and always applies the activation's derivative",
        "edits": [("dense_layer", "if wrt_logits:\n            grad_z = grad_a\n        elif self.activation_name",
                   "if self.activation_name")],
        "fails": ["test_dense_backward"],
        "says": ["wrt_logits=true"],
    },
    # ---- Part 5: the model, compute_gradients, the update ----
    "softmax_jacobian_twice": {
        "what": "the softmax Jacobian is applied on top of d_cross_entropy, which is already dL/dz",
        "edits": [("compute_gradients", "model.backward(d_loss(preds, Y), wrt_logits=fused)",
                   "model.backward(d_loss(preds, Y))")],
        "fails": ["test_model_gradients"],
        "says": ["wrt_logits=true"],
    },
    "loss_derivative_arguments_swapped": {
        "what": "compute_gradients calls d_loss(Y, preds): every loss gradient has the wrong sign",
        "edits": [("compute_gradients", "d_loss(preds, Y)", "d_loss(Y, preds)")],
        "fails": ["test_model_gradients"],
        "says": ["sign is flipped"],
    },
    "backward_skips_first_layer": {
        "what": "SimpleModel.backward's loop stops before the first layer, whose dW and db are never computed",
        "edits": [("simple_model", "for i in range(last, -1, -1):", "for i in range(last, 0, -1):")],
        "fails": ["test_model_gradients"],
        "says": ["all zeros"],
    },
    "backward_in_forward_order": {
        "what": "SimpleModel.backward visits the hidden layers first to last (right only with one hidden layer)",
        "edits": [("simple_model", "for i in range(last, -1, -1):", "for i in [last, *range(last)]:")],
        "fails": ["test_model_gradients"],
        "says": ["broadcast"],
    },
    "wrt_logits_to_every_layer": {
        "what": "SimpleModel.backward passes wrt_logits to every layer: hidden layers skip their derivative",
        "edits": [("simple_model", "wrt_logits=wrt_logits and i == last", "wrt_logits=wrt_logits")],
        "fails": ["test_model_gradients"],
        "says": ["layer 0 dw"],
    },
    "need_input_grad_on_the_wrong_end": {
        "what": "SimpleModel.backward asks the last layer, not the first, to skip dL/dx: the layers below get None",
        "edits": [("simple_model", "need_input_grad=i > 0", "need_input_grad=i < last")],
        "fails": ["test_model_gradients"],
        "says": ["nonetype"],
    },
    "lr_applied_twice": {
        "what": "the update multiplies by the learning rate twice",
        "edits": [("simple_model", "layer.W += layer.vW\n            layer.b += layer.vb",
                   "layer.W += lr * layer.vW\n            layer.b += lr * layer.vb")],
        "fails": ["test_update"],
        "says": ["0.1 times"],
    },
    "gradient_ascent": {
        "what": "the velocity adds the gradient instead of subtracting it",
        "edits": [("simple_model", "momentum * layer.vW - lr", "momentum * layer.vW + lr"),
                  ("simple_model", "momentum * layer.vb - lr", "momentum * layer.vb + lr")],
        "fails": ["test_update"],
        "says": ["sign is flipped"],
    },
    "decay_sign_flipped": {
        "what": "weight decay is subtracted from the gradient: it pushes weights away from 0",
        "edits": [("simple_model", "layer.dW + decay * layer.W", "layer.dW - decay * layer.W")],
        "fails": ["test_update"],
        "says": ["decay term was subtracted"],
    },
    "velocity_never_stored": {
        "what": "the new velocity goes to a local variable: layer.vW stays 0, so momentum never builds up",
        "edits": [("simple_model", ("layer.vW = momentum * layer.vW - lr * (layer.dW + decay * layer.W)\n"
                   "            layer.vb = momentum * layer.vb - lr * layer.db\n"
                   "            layer.W += layer.vW\n            layer.b += layer.vb"),
                   ("vW = momentum * layer.vW - lr * (layer.dW + decay * layer.W)\n"
                   "            vb = momentum * layer.vb - lr * layer.db\n"
                   "            layer.W += vW\n            layer.b += vb"))],
        "fails": ["test_update"],
        "says": ["velocity was not kept"],
    },
    "biases_never_updated": {
        "what": "the update moves W but never b",
        "edits": [("simple_model", "\n            layer.b += layer.vb", "")],
        "fails": ["test_update"],
        "says": ["step of b", "all zeros"],
    },
    # ---- Part 6: the training loop ----
    "labels_not_shuffled_with_inputs": {
        "what": "train_model shuffles X but takes the labels in the original order (y_train[start:start + batch])",
        "edits": [("train_model", "compute_gradients(model, X_train[idx], y_train[idx], loss_name)",
                   "compute_gradients(model, X_train[idx], y_train[start:start + batch_size], loss_name)")],
        "fails": ["test_train_model"],
        "says": ["loss should fall"],
    },
    "last_partial_batch_dropped": {
        "what": "train_model skips the last batch when it is smaller than batch_size",
        "edits": [("train_model", "loss, preds = compute_gradients(",
                   ("if len(idx) < batch_size:\n                continue\n"
                   "            loss, preds = compute_gradients("))],
        "fails": ["test_train_model"],
        "says": ["smaller batch"],
    },
    "batches_weighted_equally": {
        "what": "train_model weights every batch's loss by batch_size, the last, smaller batch included",
        "edits": [("train_model", "loss_sum += loss * len(idx)", "loss_sum += loss * batch_size")],
        "fails": ["test_train_model"],
        "says": ["weight each batch's loss by its size"],
    },
    "validation_loss_always_cross_entropy": {
        "what": "train_model reports the cross-entropy of the validation set whatever loss it trains with",
        "edits": [("train_model", "loss_fn(val_pred, y_val)", "cross_entropy_loss(val_pred, y_val)")],
        "fails": ["test_train_model"],
        "says": ["huber loss of the final model"],
    },
    "validation_from_the_last_batch": {
        "what": "train_model reports the last training batch's loss and accuracy as the validation figures",
        "edits": [("train_model", ("val_pred = model.forward(X_val)\n        "
                   "val_loss, val_acc = loss_fn(val_pred, y_val), accuracy(val_pred, y_val)"),
                   "val_loss, val_acc = loss, accuracy(preds, y_train[idx])")],
        "fails": ["test_train_model"],
        "says": ["on x_val"],
    },
    "validation_before_the_epoch": {
        "what": "train_model evaluates the validation set before the epoch's updates: its history is one epoch late",
        "edits": [("train_model", ("        val_pred = model.forward(X_val)\n"
                   "        val_loss, val_acc = loss_fn(val_pred, y_val), accuracy(val_pred, y_val)\n"), ""),
                  ("train_model", "        loss_sum, correct = 0.0, 0.0\n",
                   ("        loss_sum, correct = 0.0, 0.0\n        val_pred = model.forward(X_val)\n"
                   "        val_loss, val_acc = loss_fn(val_pred, y_val), accuracy(val_pred, y_val)\n"))],
        "fails": ["test_train_model"],
        "says": ["after the epoch"],
    },
    # ---- Part 9: CIFAR-10 ----
    "standardize_with_each_sets_statistics": {
        "what": "standardize scales every set with its own mean and std, the test set's included",
        "edits": [("standardize", "return tuple(((a.astype(np.float32) - mean) / std)",
                   "return tuple(((a.astype(np.float32) - a.mean(axis=(0, 1, 2))) / a.std(axis=(0, 1, 2)))")],
        "fails": ["test_standardize"],
        "says": ["standardized with their own statistics"],
    },
    "standardize_one_statistic_for_all_channels": {
        "what": "standardize uses one mean and std over all channels instead of one per channel",
        "edits": [("standardize", "x.mean(axis=(0, 1, 2)), x.std(axis=(0, 1, 2))", "x.mean(), x.std()")],
        "fails": ["test_standardize"],
        "says": ["statistics of all pixels together", "per channel"],
    },
}

VARIANTS = {
    "decay_on_biases": {
        "what": "weight decay on the biases too (the seed's update and PyTorch's SGD default): accepted",
        "edits": [("simple_model", "layer.vb = momentum * layer.vb - lr * layer.db",
                   "layer.vb = momentum * layer.vb - lr * (layer.db + decay * layer.b)")],
    },
    "activations_other_formulas": {
        "what": "sigmoid via tanh, relu as x * (x > 0), d_relu via np.heaviside, leaky ReLU and its derivative "
                "with masks and np.where",
        "edits": [("activations", ("e = np.exp(-np.abs(x))  # exponent <= 0: never overflows\n"
                   "    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))"),
                   "return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + e^-x), and tanh never overflows"),
                  ("activations", "return np.maximum(x, 0)", "return x * (x > 0)"),
                  ("activations", "return (out > 0).astype(out.dtype)", "return np.heaviside(out, 0.0)"),
                  ("activations", "return np.where(x >= 0, x, alpha * x)",
                   "out = np.array(x, copy=True)\n    out[x < 0] *= alpha\n    return out"),
                  ("activations", "deriv = np.ones_like(out)\n    deriv[out < 0] = alpha\n    return deriv",
                   "return np.where(out >= 0, 1.0, alpha).astype(out.dtype)")],
    },
    "softmax_log_sum_exp": {
        "what": "stable_softmax as exp(z - logsumexp(z)), the row maximum reshaped instead of keepdims",
        "edits": [("stable_softmax", None, '''
def stable_softmax(z):
    """Row-wise softmax. z: (N, C) logits -> (N, C) probabilities, each row summing to 1."""
    m = z.max(axis=1).reshape(-1, 1)
    log_sum = m + np.log(np.exp(z - m).sum(axis=1)).reshape(-1, 1)
    return np.exp(z - log_sum)
''')],
    },
    "utilities_by_lookup": {
        "what": "one_hot by indexing an identity matrix (float64); accuracy of one-hot labels by reading the label "
                "row at the predicted class",
        "edits": [("one_hot", None, '''
def one_hot(labels, num_classes):
    """labels: (N,) ints in [0, num_classes) -> (N, num_classes), a single 1 per row."""
    return np.eye(num_classes)[np.asarray(labels, dtype=int)]
'''), ("accuracy", None, '''
def accuracy(pred_probs, labels):
    """Accuracy in percent. pred_probs: (N, C); labels: (N,) ints or (N, C) one-hot rows."""
    labels = np.asarray(labels)
    predicted = np.argmax(pred_probs, axis=1)
    if labels.ndim == 2:
        hits = labels[np.arange(len(labels)), predicted]  # 1 where the predicted class is the true one
    else:
        hits = predicted == labels
    return 100.0 * float(np.sum(hits)) / len(labels)
''')],
    },
    "d_softmax_einsum": {
        "what": "d_softmax with np.einsum for the per-row dot product, expanded as s*g - (g.s) s",
        "edits": [("d_softmax", ("dot = np.sum(prev_grad * softmax_out, axis=1, keepdims=True)  # (N, 1): g . s per row\n"
                   "    return softmax_out * (prev_grad - dot)"),
                   ("dot = np.einsum('ij,ij->i', prev_grad, softmax_out)[:, np.newaxis]\n"
                   "    return softmax_out * prev_grad - dot * softmax_out"))],
    },
    "losses_other_formulas": {
        "what": "cross-entropy from the true class's probability, losses as means of row sums, Huber and its "
                "derivative with boolean masks, d_l1 with nested np.where",
        "edits": [("cross_entropy", ("log_p = np.log(np.clip(probs, 1e-12, None))  # p = 0 would give -inf\n"
                   "    return float(-np.sum(targets * log_p) / probs.shape[0])"),
                   ("p_true = probs[np.arange(len(probs)), np.argmax(targets, axis=1)]  # one-hot targets\n"
                   "    return float(-np.mean(np.log(np.maximum(p_true, 1e-12))))")),
                  ("regression_losses", None, '''
def l2_loss(pred, target):
    """Mean over the batch of 0.5 * sum((pred - target)^2). (N, C), (N, C) -> float."""
    return float(np.mean(np.sum(0.5 * (pred - target) ** 2, axis=1)))


def d_l2(pred, target):
    """dL/dpred of l2_loss: (N, C)."""
    return (pred - target) * (1.0 / len(pred))


def l1_loss(pred, target):
    """Mean over the batch of sum(|pred - target|). (N, C), (N, C) -> float."""
    return float(np.abs(pred - target).sum(axis=1).mean())


def d_l1(pred, target):
    """dL/dpred of l1_loss (sign(0) = 0 at the kink): (N, C)."""
    d = pred - target
    return np.where(d > 0, 1.0, np.where(d < 0, -1.0, 0.0)) / len(pred)


def huber_loss(pred, target, delta=1.0):
    """Mean over the batch of the summed Huber loss: quadratic within delta, linear beyond. -> float."""
    d = np.abs(pred - target)
    small = d <= delta
    per_entry = small * 0.5 * d ** 2 + ~small * delta * (d - 0.5 * delta)
    return float(per_entry.sum(axis=1).mean())


def d_huber(pred, target, delta=1.0):
    """dL/dpred of huber_loss: (N, C)."""
    d = pred - target
    return np.where(np.abs(d) <= delta, d, delta * np.sign(d)) / len(pred)


LOSSES = {
    'cross_entropy': (cross_entropy_loss, d_cross_entropy),
    'l2': (l2_loss, d_l2),
    'l1': (l1_loss, d_l1),
    'huber': (huber_loss, d_huber),
}
''')],
    },
    "dense_layer_einsum_and_other_draws": {
        "what": "DenseLayer: weights drawn as (output_dim, input_dim) and transposed, with np.random.normal and "
                "rand; activation looked up once at construction; np.dot forward; einsum backward",
        "edits": [("dense_layer", None, '''
class DenseLayer:
    """A fully connected layer and its activation: a = f(x @ W + b)."""

    def __init__(self, input_dim, output_dim, activation='relu', init='xavier', dtype=np.float32):
        if activation != 'softmax' and activation not in ACT_FNS:
            raise ValueError(f"unknown activation {activation!r}; choose from {sorted(ACT_FNS) + ['softmax']}")
        if init not in ('xavier', 'he'):
            raise ValueError(f"unknown init {init!r}; choose 'xavier' or 'he'")
        self.input_dim, self.output_dim = input_dim, output_dim
        self.activation_name = activation
        if init == 'he':
            W = np.random.normal(0.0, np.sqrt(2.0 / input_dim), size=(output_dim, input_dim)).T
        else:
            limit = np.sqrt(6.0 / (input_dim + output_dim))
            W = (2.0 * np.random.rand(output_dim, input_dim) - 1.0).T * limit
        self.W = np.ascontiguousarray(W, dtype=dtype)
        self.b = np.zeros((1, output_dim), dtype=dtype)
        if activation == 'softmax':
            self.f, self.df = stable_softmax, None
        else:
            self.f, self.df = ACT_FNS[activation]
        self.dW, self.db = np.zeros_like(self.W), np.zeros_like(self.b)
        self.vW, self.vb = np.zeros_like(self.W), np.zeros_like(self.b)
        self.x = self.z = self.a = None

    def forward(self, x):
        """x: (N, input_dim) -> a: (N, output_dim)."""
        self.x = x
        self.z = np.dot(x, self.W) + self.b
        self.a = self.f(self.z)
        return self.a

    def backward(self, grad_a, wrt_logits=False, need_input_grad=True):
        """grad_a: dL/da (N, output_dim) -> dL/dx (N, input_dim), computed even when not needed."""
        if wrt_logits:
            grad_z = grad_a
        elif self.df is None:
            grad_z = d_softmax(grad_a, self.a)
        else:
            grad_z = grad_a * self.df(self.a)
        self.dW = np.einsum('ni,nj->ij', self.x, grad_z)
        self.db = grad_z.sum(axis=0)[np.newaxis, :]
        return np.einsum('nj,ij->ni', grad_z, self.W)
''')],
    },
    "velocity_holds_gradients_in_place": {
        "what": "the update keeps v = momentum * v + gradient (no lr inside) and steps W -= lr * v, all in place",
        "edits": [("simple_model", ("layer.vW = momentum * layer.vW - lr * (layer.dW + decay * layer.W)\n"
                   "            layer.vb = momentum * layer.vb - lr * layer.db\n"
                   "            layer.W += layer.vW\n            layer.b += layer.vb"),
                   ("layer.vW *= momentum\n            layer.vW += layer.dW + decay * layer.W\n"
                   "            layer.vb *= momentum\n            layer.vb += layer.db\n"
                   "            layer.W -= lr * layer.vW\n            layer.b -= lr * layer.vb"))],
    },
    "model_by_index": {
        "what": "SimpleModel with functools.reduce forward, a backward that never passes need_input_grad (the first "
                "layer's dL/dx is computed and dropped: slower, still right), and a positional wrt_logits in "
                "compute_gradients",
        "edits": [("simple_model", """        for layer in self.layers:
            x = layer.forward(x)
        return x""", """        import functools
        return functools.reduce(lambda out, layer: layer.forward(out), self.layers, x)"""),
                  ("simple_model", """        grad, last = grad_output, len(self.layers) - 1
        for i in range(last, -1, -1):
            grad = self.layers[i].backward(grad, wrt_logits=wrt_logits and i == last, need_input_grad=i > 0)""",
                   """        grad = self.layers[-1].backward(grad_output, wrt_logits=wrt_logits)
        for layer in reversed(self.layers[:-1]):
            grad = layer.backward(grad)"""),
                  ("compute_gradients", """    preds = model.forward(X)
    loss = loss_fn(preds, Y)
    model.backward(d_loss(preds, Y), wrt_logits=fused)""", """    preds = model.forward(X)
    grad = d_loss(preds, Y)
    model.backward(grad, fused)
    loss = loss_fn(preds, Y)""")],
    },
    "training_loop_inline": {
        "what": "train_model with a while loop, its own shuffle (argsort of uniform draws), forward/loss/backward "
                "inline instead of compute_gradients, counts of correct rows, validation in chunks",
        "edits": [("train_model", None, '''
def train_model(model, X_train, y_train, X_val, y_val, epochs=10, batch_size=64, lr=0.01, momentum=0.9,
                decay=0.0, loss_name='cross_entropy', verbose=True):
    """Mini-batch SGD with momentum and weight decay. X_*: (N, D) inputs, y_*: (N, C) one-hot targets."""
    if loss_name not in LOSSES:
        raise ValueError(f"unknown loss {loss_name!r}; choose from {sorted(LOSSES)}")
    loss_fn, d_loss = LOSSES[loss_name]
    n = len(X_train)
    history = {'train_loss': [], 'train_acc': [], 'val_loss': [], 'val_acc': []}
    for epoch in range(epochs):
        order = np.argsort(np.random.rand(n))
        loss_sum, correct, start = 0.0, 0, 0
        while start < n:
            idx = order[start:start + batch_size]
            xb, yb = X_train[idx], y_train[idx]
            preds = model.forward(xb)
            loss = loss_fn(preds, yb)
            model.backward(d_loss(preds, yb), wrt_logits=loss_name == 'cross_entropy')
            model.update(lr, momentum, decay)
            loss_sum += loss * len(idx)
            correct += int(np.sum(preds.argmax(axis=1) == yb.argmax(axis=1)))
            start += batch_size
        val_loss = val_hits = 0.0
        for begin in range(0, len(X_val), 16):  # in chunks, as for a large validation set
            pv, yv = model.forward(X_val[begin:begin + 16]), y_val[begin:begin + 16]
            val_loss += loss_fn(pv, yv) * len(pv)
            val_hits += np.sum(pv.argmax(axis=1) == yv.argmax(axis=1))
        history['train_loss'].append(loss_sum / n)
        history['train_acc'].append(100.0 * correct / n)
        history['val_loss'].append(float(val_loss / len(X_val)))
        history['val_acc'].append(float(100.0 * val_hits / len(X_val)))
        if verbose:
            print(f"epoch {epoch + 1}: train loss {history['train_loss'][-1]:.4f}, val acc {history['val_acc'][-1]:.2f}%")
    return history
''')],
    },
    "standardize_by_hand": {
        "what": "standardize with pixels as rows of 3 channels, a float64 mean and std computed by hand, "
                "float32 at the end",
        "edits": [("standardize", None, '''
def standardize(x_train, *others):
    """x_train and each of others: (N, 32, 32, 3) uint8 -> a tuple of (N, 3072) float32, x_train's first."""
    pixels = x_train.reshape(-1, 3).astype(np.float64)  # one row per pixel, one column per channel
    mean = pixels.sum(axis=0) / len(pixels)
    std = np.sqrt(((pixels - mean) ** 2).sum(axis=0) / len(pixels))
    out = []
    for a in (x_train, *others):
        rows = (a.reshape(len(a), -1, 3) - mean) / std
        out.append(rows.reshape(len(a), -1).astype(np.float32))
    return tuple(out)
''')],
    },
}

# The "realistic bugs" student of `python -m course demo`.
DEMO = ["softmax_jacobian_twice", "lr_applied_twice"]
