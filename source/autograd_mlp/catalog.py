"""Catalog of autograd_mlp submissions: realistic bugs (each must lose points in its own question) and
correct variants written differently from the master (each must keep full marks).

Edits are (grade_id, text in the reference solution, replacement); text None replaces the whole cell.
Each bug names the questions that must catch it (`fails`, its own first) and `says`: words the first
question's message must contain, so that it names this mistake or states plainly what came out.
Every replaced text must occur exactly once, so a change to the master cannot silently disarm an entry.
`python -m course catalog --write` turns this file into docs/catalog.md.

Each test grades one question on its own: while it runs, the grading guard lends the trusted copies of the
functions that earlier questions graded (the ops inside `forward`, `forward` inside `train`, ...; the `### BEGIN
REFERENCE` regions of the master). So a bug costs points only in its own question, and "also" stays empty unless a
test really calls the buggy code.
"""

# The in-process grading of this catalog (tests/test_catalog.py) leaves out the cells that train or only
# demonstrate, and the tests of what they trained (course.notebooks.left_out); the training loops themselves are
# graded by test_train_step / test_train_learns and, for train_vec, by GRADING_MODE_BUGS below.

# Solution texts of the reference that several entries below rewrite whole.
INIT_SOLUTION = """\
        neurons = []
        for _ in range(layer_nout):
            w = [create_value(random.gauss(0.0, scale)) for _ in range(layer_nin)]
            neurons.append({'w': w, 'b': create_value(0.0)})
        layers.append({'neurons': neurons})
"""
FORWARD_LINEAR = """\
        next_x = []
        for neuron in layer['neurons']:
            act = neuron['b']
            for w, x in zip(neuron['w'], current_x):
                act = add(act, multiply(w, x))
            next_x.append(act)
"""
FORWARD_ACTIVATION = """\
        if activation == 'relu':
            next_x = [relu(v) for v in next_x]
        elif activation == 'sigmoid':
            next_x = [sigmoid(v) for v in next_x]
        elif activation == 'softmax':
            next_x = softmax(next_x)
"""
ACCURACY_SOLUTION = """\
    num_samples = X.shape[1]
    if num_samples == 0:
        return 0.0
    correct = 0
    for i in range(num_samples):
        outputs = forward(model, X[:, i].tolist())
        predicted = int(np.argmax([o['data'] for o in outputs]))
        correct += predicted == int(np.argmax(Y[:, i]))
    return 100.0 * correct / num_samples"""
ADD_VEC_BACKWARD = """\
        for node in (a, b):
            grad = out['grad']
            while grad.ndim > node['data'].ndim:  # axes that broadcasting added in front
                grad = grad.sum(axis=0)
            for axis, size in enumerate(node['data'].shape):
                if size == 1 and grad.shape[axis] != 1:  # axes that broadcasting stretched
                    grad = grad.sum(axis=axis, keepdims=True)
            node['grad'] += grad
"""

BUGS = {
    # Part 2: the local derivatives of the scalar operations
    "add_overwrites_grad": {
        "what": "add's backward uses = instead of +=, losing gradient from other uses of the node",
        "edits": [("add", "a['grad'] += out['grad']\n        b['grad'] += out['grad']",
                   "a['grad'] = out['grad']\n        b['grad'] = out['grad']")],
        "fails": ["test_add"],
        "says": ["use += instead of ="],
    },
    "multiply_overwrites_grad": {
        "what": "multiply's backward uses = instead of +=",
        "edits": [("multiply", "a['grad'] += b['data'] * out['grad']", "a['grad'] = b['data'] * out['grad']")],
        "fails": ["test_multiply"],
        "says": ["use += instead of ="],
    },
    "multiply_own_value": {
        "what": "multiply's backward scales each input's gradient by its own value instead of the other input's",
        "edits": [("multiply", "a['grad'] += b['data'] * out['grad']\n        b['grad'] += a['data'] * out['grad']",
                   "a['grad'] += a['data'] * out['grad']\n        b['grad'] += b['data'] * out['grad']")],
        "fails": ["test_multiply"],
        "says": ["input 0's value"],
    },
    "multiply_no_chain_rule": {
        "what": "multiply's backward adds the local derivative without multiplying by out['grad']",
        "edits": [("multiply", "a['grad'] += b['data'] * out['grad']\n        b['grad'] += a['data'] * out['grad']",
                   "a['grad'] += b['data']\n        b['grad'] += a['data']")],
        "fails": ["test_multiply"],
        "says": ["chain rule"],
    },
    "power_drops_factor_n": {
        "what": "power's derivative written a**(n-1), without the factor n",
        "edits": [("power", "a['grad'] += n * a['data'] ** (n - 1) * out['grad']",
                   "a['grad'] += a['data'] ** (n - 1) * out['grad']")],
        "fails": ["test_power"],
        "says": ["input 0's value", "derivative is 6"],
    },
    "power_keeps_exponent": {
        "what": "power's derivative written n * a**n instead of n * a**(n-1)",
        "edits": [("power", "a['grad'] += n * a['data'] ** (n - 1) * out['grad']",
                   "a['grad'] += n * a['data'] ** n * out['grad']")],
        "fails": ["test_power"],
        "says": ["expected = held + upstream * derivative"],
    },
    "relu_passes_everything": {
        "what": "relu's backward lets the gradient through for negative inputs",
        "edits": [("relu", "if a['data'] > 0:\n            a['grad'] += out['grad']", "a['grad'] += out['grad']")],
        "fails": ["test_relu"],
        "says": ["passed through unchanged"],
    },
    "relu_derivative_is_output": {
        "what": "relu's backward multiplies by relu(a) (the output) instead of the 0/1 gate",
        "edits": [("relu", "if a['data'] > 0:\n            a['grad'] += out['grad']",
                   "a['grad'] += out['data'] * out['grad']")],
        "fails": ["test_relu"],
        "says": ["the output's value"],
    },
    "sigmoid_drops_one_minus_s": {
        "what": "sigmoid's derivative written s instead of s * (1 - s)",
        "edits": [("sigmoid", "a['grad'] += s * (1.0 - s) * out['grad']", "a['grad'] += s * out['grad']")],
        "fails": ["test_sigmoid"],
        "says": ["the output's value"],
    },
    "sigmoid_derivative_of_input": {
        "what": "sigmoid's derivative computed from the input, a * (1 - a), instead of the output s",
        "edits": [("sigmoid", "a['grad'] += s * (1.0 - s) * out['grad']",
                   "a['grad'] += a['data'] * (1.0 - a['data']) * out['grad']")],
        "fails": ["test_sigmoid"],
        "says": ["expected = held + upstream * derivative"],
    },
    "log_derivative_is_x": {
        "what": "log's derivative written x instead of 1/x",
        "edits": [("log_exp", "a['grad'] += out['grad'] / val", "a['grad'] += out['grad'] * val")],
        "fails": ["test_log_exp"],
        "says": ["input 0's value"],
    },
    "log_unclamped_derivative": {
        "what": "log's backward divides by the raw input: ZeroDivisionError at 0, which the forward pass clamps",
        "edits": [("log_exp", "a['grad'] += out['grad'] / val", "a['grad'] += out['grad'] / a['data']")],
        "fails": ["test_log_exp"],
        "says": ["clamped value"],
    },
    "exp_derivative_is_input": {
        "what": "exp's derivative written a instead of e**a",
        "edits": [("log_exp", "a['grad'] += out['data'] * out['grad']", "a['grad'] += a['data'] * out['grad']")],
        "fails": ["test_log_exp"],
        "says": ["input 0's value"],
    },
    "exp_overwrites_grad": {
        "what": "exp's backward uses = instead of +=",
        "edits": [("log_exp", "a['grad'] += out['data'] * out['grad']", "a['grad'] = out['data'] * out['grad']")],
        "fails": ["test_log_exp"],
        "says": ["use += instead of ="],
    },
    # Part 3: initialize_model and forward
    "init_one_node_per_neuron": {
        "what": "[create_value(...)] * n: every weight of a neuron is the same node",
        "edits": [("initialize_model", "w = [create_value(random.gauss(0.0, scale)) for _ in range(layer_nin)]",
                   "w = [create_value(random.gauss(0.0, scale))] * layer_nin")],
        "fails": ["test_initialize_model"],
        "says": ["its own node"],
    },
    "init_neurons_share_weights": {
        "what": "one weight list drawn per layer and shared by all its neurons",
        "edits": [("initialize_model",
                   "for _ in range(layer_nout):\n            w = [create_value(random.gauss(0.0, scale)) for _ in range(layer_nin)]",
                   ("w = [create_value(random.gauss(0.0, scale)) for _ in range(layer_nin)]\n"
                    "        for _ in range(layer_nout):"))],
        "fails": ["test_initialize_model"],
        "says": ["its own node"],
    },
    "init_shared_bias": {
        "what": "one bias node shared by all neurons of a layer",
        "edits": [("initialize_model", "neurons = []\n", "neurons = []\n        b = create_value(0.0)\n"),
                  ("initialize_model", "neurons.append({'w': w, 'b': create_value(0.0)})",
                   "neurons.append({'w': w, 'b': b})")],
        "fails": ["test_initialize_model"],
        "says": ["own bias node"],
    },
    "init_zero_weights": {
        "what": "all weights start at 0.0 (no symmetry breaking)",
        "edits": [("initialize_model", "create_value(random.gauss(0.0, scale))", "create_value(0.0)")],
        "fails": ["test_initialize_model"],
        "says": ["got 0.0000 and 0.0000"],
    },
    "init_unit_std": {
        "what": "weights drawn with standard deviation 1, ignoring the LeCun scale",
        "edits": [("initialize_model", "random.gauss(0.0, scale)", "random.gauss(0.0, 1.0)")],
        "fails": ["test_initialize_model"],
        "says": ["sqrt(1/400)", "0.9923"],
    },
    "init_variance_as_std": {
        "what": "scale squared (the variance 1/n_in) passed to random.gauss as the standard deviation",
        "edits": [("initialize_model", "random.gauss(0.0, scale)", "random.gauss(0.0, scale ** 2)")],
        "fails": ["test_initialize_model"],
        "says": ["sqrt(1/400)", "0.0025"],
    },
    "init_fan_out_weights": {
        "what": "each neuron gets one weight per neuron of its own layer (n_out) instead of per input (n_in)",
        "edits": [("initialize_model", "for _ in range(layer_nin)]", "for _ in range(layer_nout)]")],
        "fails": ["test_initialize_model"],
        "says": ["needs 3 weights"],
    },
    "forward_drops_bias": {
        "what": "forward starts each neuron from 0 instead of its bias",
        "edits": [("forward", "act = neuron['b']", "act = create_value(0.0)")],
        "fails": ["test_forward_values", "test_forward_gradients"],
        "says": ["instead of its bias"],
    },
    "forward_relu_on_every_layer": {
        "what": "forward applies relu to every layer, the output layer included, before the layer's activation",
        "edits": [("forward", ("if activation == 'relu':\n            next_x = [relu(v) for v in next_x]\n"
                               "        elif activation == 'sigmoid':"),
                   "next_x = [relu(v) for v in next_x]\n        if activation == 'sigmoid':")],
        "fails": ["test_forward_structure", "test_forward_values", "test_forward_gradients"],
        "says": ["relu was applied to every layer"],
    },
    "forward_skips_hidden_activations": {
        "what": "forward applies only the softmax: relu and sigmoid layers stay linear",
        "edits": [("forward", ("if activation == 'relu':\n            next_x = [relu(v) for v in next_x]\n"
                               "        elif activation == 'sigmoid':\n            next_x = [sigmoid(v) for v in next_x]\n"
                               "        elif activation == 'softmax':"),
                   "if activation == 'softmax':")],
        "fails": ["test_forward_structure", "test_forward_values", "test_forward_gradients"],
        "says": ["activation was not applied"],
    },
    "forward_untrimmed_weights": {
        "what": "forward pairs the model's own first-layer weights (all 784 positions) with the trimmed inputs",
        "edits": [("forward", "for neuron in layer['neurons']:", "for neuron in mlp['layers'][i]['neurons']:")],
        "fails": ["test_forward_values", "test_forward_gradients"],
        "says": ["paired with the inputs left after dropping the zeros"],
    },
    "forward_float_arithmetic": {
        "what": "forward sums w * x on the floats in node['data']: right values, but the graph is cut",
        "edits": [("forward", "act = add(act, multiply(w, x))",
                   "act = create_value(act['data'] + w['data'] * x['data'])")],
        "fails": ["test_forward_gradients"],
        "says": ["cuts the graph"],
    },
    # Part 4: the loss
    "ce_missing_minus": {
        "what": "cross-entropy without the minus sign: ln p instead of -ln p",
        "edits": [("cross_entropy_loss", "create_value(-1.0)", "create_value(1.0)")],
        "fails": ["test_cross_entropy_loss", "test_cross_entropy_gradient"],
        "says": ["-ln(0.9)", "got -0.1053"],
    },
    "ce_float_loss": {
        "what": "the loss is built from a float (math.log of p['data']): right value, no gradient",
        "edits": [("cross_entropy_loss", "return multiply(log_op(probs[target_idx]), create_value(-1.0))",
                   "return create_value(-math.log(probs[target_idx]['data']))")],
        "fails": ["test_cross_entropy_gradient"],
        "says": ["log_op"],
    },
    "ce_most_probable_class": {
        "what": "cross-entropy of the most probable class instead of the target class",
        "edits": [("cross_entropy_loss", "log_op(probs[target_idx])",
                   "log_op(max(probs, key=lambda p: p['data']))")],
        "fails": ["test_cross_entropy_loss", "test_cross_entropy_gradient"],
        "says": ["confident wrong prediction"],
    },
    "ce_softmax_again": {
        "what": "cross-entropy applies softmax to the probabilities a second time",
        "edits": [("cross_entropy_loss", "log_op(probs[target_idx])", "log_op(softmax(probs)[target_idx])")],
        "fails": ["test_cross_entropy_loss", "test_cross_entropy_gradient"],
        "says": ["-ln(0.9)", "got 0.3711"],
    },
    # Part 6: one-hot labels, accuracy, the training loop
    "one_hot_transposed": {
        "what": "to_one_hot returns shape (N, num_classes) instead of (num_classes, N)",
        "edits": [("to_one_hot", ("one_hot = np.zeros((num_classes, labels.shape[0]))\n"
                                  "    one_hot[labels, np.arange(labels.shape[0])] = 1.0"),
                   ("one_hot = np.zeros((labels.shape[0], num_classes))\n"
                    "    one_hot[np.arange(labels.shape[0]), labels] = 1.0"))],
        "fails": ["test_to_one_hot"],
        "says": ["(num_classes, n)"],
    },
    "one_hot_off_by_one": {
        "what": "to_one_hot puts the 1 in row label - 1",
        "edits": [("to_one_hot", "one_hot[labels, np.arange", "one_hot[labels - 1, np.arange")],
        "fails": ["test_to_one_hot"],
        "says": ["in row labels[i]"],
    },
    "one_hot_ignores_num_classes": {
        "what": "to_one_hot always makes 10 rows, whatever num_classes is",
        "edits": [("to_one_hot", "np.zeros((num_classes, labels.shape[0]))", "np.zeros((10, labels.shape[0]))")],
        "fails": ["test_to_one_hot"],
        "says": ["use num_classes"],
    },
    "accuracy_counts_rows": {
        "what": "get_accuracy takes the number of samples from X.shape[0] (the features) instead of X.shape[1]",
        "edits": [("get_accuracy", "num_samples = X.shape[1]", "num_samples = X.shape[0]")],
        "fails": ["test_get_accuracy"],
        "says": ["75.0", "got 100.0"],
    },
    "accuracy_fraction": {
        "what": "get_accuracy returns a fraction (0-1) instead of a percentage",
        "edits": [("get_accuracy", "return 100.0 * correct / num_samples", "return correct / num_samples")],
        "fails": ["test_get_accuracy"],
        "says": ["a percentage", "got 0.75"],
    },
    "train_gradient_ascent": {
        "what": "the update adds the gradient (gradient ascent)",
        "edits": [("train", "p['data'] -= learning_rate * p['grad']", "p['data'] += learning_rate * p['grad']")],
        "fails": ["test_train_step", "test_train_learns"],
        "says": ["up the gradient"],
    },
    "train_never_zeroes_grads": {
        "what": "the training loop never resets gradients",
        "edits": [("train", "            for p in params:\n                p['grad'] = 0.0\n", "")],
        "fails": ["test_train_step", "test_train_learns"],
        "says": ["zero every p['grad']"],
    },
    "train_lr_applied_twice": {
        "what": "the gradients are scaled by the learning rate, then the step multiplies by it again",
        "edits": [("train", "for p in params:\n                p['data'] -= learning_rate * p['grad']",
                   ("for p in params:\n                p['grad'] *= learning_rate\n"
                    "                p['data'] -= learning_rate * p['grad']"))],
        "fails": ["test_train_step", "test_train_learns"],
        "says": ["applied twice"],
    },
    "train_zeroes_after_backward": {
        "what": "gradients are reset between backward and the update, so the parameters never move",
        "edits": [("train", "            for p in params:\n                p['grad'] = 0.0\n", ""),
                  ("train", "backward(loss)\n", ("backward(loss)\n            for p in params:\n"
                                                 "                p['grad'] = 0.0\n"))],
        "fails": ["test_train_step", "test_train_learns"],
        "says": ["did not change"],
    },
    "train_backward_from_output": {
        "what": "backward starts from the target's output probability instead of the loss",
        "edits": [("train", "backward(loss)", "backward(outputs[target])")],
        "fails": ["test_train_step", "test_train_learns"],
        "says": ["largest difference"],
    },
    "train_forgets_biases": {
        "what": "the update loops over the weights of each neuron and never moves the biases",
        "edits": [("train", "for p in params:\n                p['data'] -= learning_rate * p['grad']",
                   ("for layer in model['layers']:\n                for neuron in layer['neurons']:\n"
                    "                    for w in neuron['w']:\n"
                    "                        w['data'] -= learning_rate * w['grad']"))],
        "fails": ["test_train_step", "test_train_learns"],
        "says": ["biases did not move"],
    },
    "train_zeroes_once_per_epoch": {
        "what": "gradients are reset only before the first sample of each epoch",
        "edits": [("train", "for p in params:\n                p['grad'] = 0.0\n",
                   "if step == 0:\n                for p in params:\n                    p['grad'] = 0.0\n")],
        "fails": ["test_train_step", "test_train_learns"],
        "says": ["zero every p['grad']"],
    },
    # Part 7 (extra credit): the vectorized engine
    "vec_value_not_copied": {
        "what": "create_value_vec keeps the caller's float64 array (np.asarray), so updates write into it",
        "edits": [("create_value_vec", "data = np.array(data, dtype=VEC_DTYPE)",
                   "data = np.asarray(data, dtype=VEC_DTYPE)")],
        "fails": ["ec_test_create_value_vec"],
        "says": ["copy"],
    },
    "vec_value_scalar_grad": {
        "what": "create_value_vec starts 'grad' at the scalar 0.0, as in the scalar engine",
        "edits": [("create_value_vec", "'grad': np.zeros(data.shape, VEC_DTYPE)", "'grad': 0.0")],
        "fails": ["ec_test_create_value_vec"],
        "says": ["zeros of data's shape"],
    },
    "matmul_vec_requires_grad_default_false": {
        "what": "matmul_vec reads b.get('requires_grad') without the default True: b's gradient is never computed",
        "edits": [("vec_ops", "if b.get('requires_grad', True):", "if b.get('requires_grad'):")],
        "fails": ["ec_test_vec_ops"],
        "says": ["added nothing"],
    },
    "matmul_vec_transposed": {
        "what": "matmul_vec's gradient for b is transposed",
        "edits": [("vec_ops", "b['grad'] += a['data'].T @ out['grad']", "b['grad'] += out['grad'].T @ a['data']")],
        "fails": ["ec_test_vec_ops"],
        "says": ["transposes"],
    },
    "matmul_vec_missing_transpose": {
        "what": "matmul_vec's gradient for a multiplies by b instead of b transposed",
        "edits": [("vec_ops", "a['grad'] += out['grad'] @ b['data'].T", "a['grad'] += out['grad'] @ b['data']")],
        "fails": ["ec_test_vec_ops"],
        "says": ["transposes"],
    },
    "add_vec_no_reduction": {
        "what": "add_vec passes the full gradient to both inputs: the bias gradient is not summed over the batch",
        "edits": [("vec_ops", ADD_VEC_BACKWARD, "        a['grad'] += out['grad']\n        b['grad'] += out['grad']\n")],
        "fails": ["ec_test_vec_ops"],
        "says": ["sum over the axes broadcasting"],
    },
    "add_vec_bias_column_only": {
        "what": "add_vec assumes b is a bias column: sums b's gradient over axis 1, never reduces a's",
        "edits": [("vec_ops", ADD_VEC_BACKWARD, ("        a['grad'] += out['grad']\n"
                                                 "        b['grad'] += out['grad'].sum(axis=1, keepdims=True)\n"))],
        "fails": ["ec_test_vec_ops"],
        "says": ["that input's shape"],
    },
    "add_vec_mean_over_batch": {
        "what": "add_vec averages instead of sums the gradient over the broadcast axes",
        "edits": [("vec_ops", "grad = grad.sum(axis=0)", "grad = grad.mean(axis=0)"),
                  ("vec_ops", "grad = grad.sum(axis=axis, keepdims=True)", "grad = grad.mean(axis=axis, keepdims=True)")],
        "fails": ["ec_test_vec_ops"],
        "says": ["0.25 times"],
    },
    "relu_vec_times_output": {
        "what": "relu_vec's backward multiplies by the output values instead of the 0/1 mask",
        "edits": [("vec_ops", "a['grad'] += (a['data'] > 0) * out['grad']", "a['grad'] += out['data'] * out['grad']")],
        "fails": ["ec_test_vec_ops"],
        "says": ["output values"],
    },
    "sigmoid_vec_drops_one_minus_s": {
        "what": "sigmoid_vec's derivative written s instead of s * (1 - s)",
        "edits": [("vec_ops", "a['grad'] += s * (1 - s) * out['grad']", "a['grad'] += s * out['grad']")],
        "fails": ["ec_test_vec_ops"],
        "says": ["output values"],
    },
    "backward_vec_not_reversed": {
        "what": "backward_vec calls _backward in topological order instead of reverse order",
        "edits": [("vec_model", "for node in reversed(order):", "for node in order:")],
        "fails": ["ec_test_vec_model"],
        "says": ["reversed"],
    },
    "backward_vec_no_seed": {
        "what": "backward_vec never seeds the loss's gradient with ones",
        "edits": [("vec_model", "    loss['grad'] = np.ones_like(loss['data'])\n", "")],
        "fails": ["ec_test_vec_model"],
        "says": ["loss['grad'] to ones"],
    },
    "init_vec_transposed": {
        "what": "initialize_model_vec draws W with shape (fan_in, fan_out)",
        "edits": [("vec_model", "np.random.randn(fan_out, fan_in) * std_dev", "np.random.randn(fan_in, fan_out) * std_dev")],
        "fails": ["ec_test_vec_model"],
        "says": ["(fan_out, fan_in)"],
    },
    "init_vec_small_weights": {
        "what": "initialize_model_vec ignores std_dev and draws weights * 0.01",
        "edits": [("vec_model", "np.random.randn(fan_out, fan_in) * std_dev", "np.random.randn(fan_out, fan_in) * 0.01")],
        "fails": ["ec_test_vec_model"],
        "says": ["std 0.0100"],
    },
    "init_vec_flat_bias": {
        "what": "initialize_model_vec makes b of shape (fan_out,), which broadcasts along the wrong axis",
        "edits": [("vec_model", "np.zeros((fan_out, 1))", "np.zeros(fan_out)")],
        "fails": ["ec_test_vec_model"],
        "says": ["(fan_out, 1)"],
    },
    "forward_vec_no_bias": {
        "what": "forward_vec computes W @ A and forgets the bias",
        "edits": [("vec_model", "Z = add_vec(matmul_vec(W, A), b)", "Z = matmul_vec(W, A)")],
        "fails": ["ec_test_vec_model"],
        "says": ["without the biases"],
    },
    "forward_vec_softmax_twice": {
        "what": "forward_vec applies softmax again after the last layer's activation",
        "edits": [("vec_model", "A = VEC_ACTIVATIONS[mlp['activations'][i]](Z)\n",
                   ("A = VEC_ACTIVATIONS[mlp['activations'][i]](Z)\n"
                    "        if i == mlp['num_layers'] - 2:  # the output layer\n"
                    "            A = softmax_vec(A)\n"))],
        "fails": ["ec_test_vec_model"],
        "says": ["softmax applied twice"],
    },
}

# Bugs in train_vec: its question, ec_test_train_vec, needs the vectorized MNIST run (train_vec_run), which
# tests/test_catalog.py leaves out. tests/test_autograd_mlp.py grades these with the grading budgets, keeping that run.
GRADING_MODE_BUGS = {
    "train_vec_gradient_ascent": {
        "what": "train_vec adds the gradient (gradient ascent)",
        "edits": [("train_vec", "p['data'] -= lr * p['grad']", "p['data'] += lr * p['grad']")],
        "fails": ["ec_test_train_vec"],
    },
    "train_vec_never_zeroes_grads": {
        "what": "train_vec never resets the gradients between batches",
        "edits": [("train_vec", "            zero_grad_vec(params)\n", "")],
        "fails": ["ec_test_train_vec"],
    },
    "train_vec_divides_by_batch_again": {
        "what": "train_vec divides the step by the batch size, although the loss already averages over the batch",
        "edits": [("train_vec", "p['data'] -= lr * p['grad']", "p['data'] -= lr * p['grad'] / batch_size")],
        "fails": ["ec_test_train_vec"],
    },
}

VARIANTS = {
    "ops_out_of_place": {
        "what": "add loops over its inputs; multiply computes both gradients first, then adds them out of place",
        "edits": [("add", "a['grad'] += out['grad']\n        b['grad'] += out['grad']",
                   "for node in (a, b):\n            node['grad'] = node['grad'] + 1.0 * out['grad']"),
                  ("multiply", "a['grad'] += b['data'] * out['grad']\n        b['grad'] += a['data'] * out['grad']",
                   ("grad_a, grad_b = b['data'] * out['grad'], a['data'] * out['grad']\n"
                    "        a['grad'] = a['grad'] + grad_a\n        b['grad'] = b['grad'] + grad_b"))],
    },
    "ops_from_outputs": {
        "what": "power's derivative as n * out / a (valid for a != 0), log's as 1 / max(a, 1e-10), exp recomputed",
        "edits": [("power", "a['grad'] += n * a['data'] ** (n - 1) * out['grad']",
                   "a['grad'] += n * out['data'] / a['data'] * out['grad']"),
                  ("log_exp", "a['grad'] += out['grad'] / val", "a['grad'] += out['grad'] * (1.0 / max(a['data'], 1e-10))"),
                  ("log_exp", "a['grad'] += out['data'] * out['grad']",
                   "a['grad'] += math.exp(clipped) * out['grad']")],
    },
    "sigmoid_tanh_relu_output_mask": {
        "what": "sigmoid's derivative via the tanh identity (1 - tanh(x/2)**2) / 4; relu's gate read from the output",
        "edits": [("sigmoid", "a['grad'] += s * (1.0 - s) * out['grad']",
                   "a['grad'] += 0.25 * (1.0 - math.tanh(x / 2.0) ** 2) * out['grad']"),
                  ("relu", "if a['data'] > 0:\n            a['grad'] += out['grad']",
                   "a['grad'] += (out['data'] > 0) * out['grad']")],
    },
    "init_input_major_draws": {
        "what": "initialize_model makes the biases first, then draws the weights input by input (another random order)",
        "edits": [("initialize_model", INIT_SOLUTION,
                   ("        biases = [create_value(0.0) for _ in range(layer_nout)]\n"
                    "        draws = [[random.gauss(0.0, scale) for _ in range(layer_nout)] for _ in range(layer_nin)]\n"
                    "        neurons = [{'b': biases[j], 'w': [create_value(draws[i][j]) for i in range(layer_nin)]}\n"
                    "                   for j in range(layer_nout)]\n"
                    "        layers.append({'neurons': neurons})\n"))],
    },
    "init_numpy_uniform": {
        "what": "initialize_model draws a layer at once with np.random.uniform, scaled to the same standard deviation",
        "edits": [("initialize_model", INIT_SOLUTION,
                   ("        limit = math.sqrt(3.0) * scale  # uniform(-limit, limit) has standard deviation `scale`\n"
                    "        W = np.random.uniform(-limit, limit, size=(layer_nout, layer_nin))\n"
                    "        layers.append({'neurons': [{'w': [create_value(v) for v in row], 'b': create_value(0.0)}\n"
                    "                                   for row in W]})\n"))],
    },
    "forward_index_loops": {
        "what": "forward with index loops, the bias added last, and a dict of elementwise activations",
        "edits": [("forward", FORWARD_LINEAR,
                   ("        next_x = []\n"
                    "        for j in range(len(layer['neurons'])):\n"
                    "            neuron = layer['neurons'][j]\n"
                    "            act = multiply(neuron['w'][0], current_x[0])\n"
                    "            for k in range(1, len(current_x)):\n"
                    "                act = add(act, multiply(neuron['w'][k], current_x[k]))\n"
                    "            next_x.append(add(act, neuron['b']))\n")),
                  ("forward", FORWARD_ACTIVATION,
                   ("        if activation == 'softmax':\n"
                    "            next_x = softmax(next_x)\n"
                    "        elif activation != 'linear':\n"
                    "            f = {'relu': relu, 'sigmoid': sigmoid}[activation]\n"
                    "            next_x = [f(v) for v in next_x]\n"))],
    },
    "forward_reduce": {
        "what": "forward folds each neuron's products into its bias with functools.reduce, in list comprehensions",
        "edits": [("forward", FORWARD_LINEAR,
                   ("        import functools\n"
                    "        next_x = [functools.reduce(add, [multiply(w, x) for w, x in zip(n['w'], current_x)], n['b'])\n"
                    "                  for n in layer['neurons']]\n")),
                  ("forward", FORWARD_ACTIVATION,
                   ("        elementwise = {'relu': relu, 'sigmoid': sigmoid, 'linear': lambda v: v}\n"
                    "        if activation == 'softmax':\n"
                    "            next_x = softmax(next_x)\n"
                    "        else:\n"
                    "            next_x = [elementwise[activation](v) for v in next_x]\n"))],
    },
    "ce_log_inverse_one_hot_eye": {
        "what": "cross-entropy as ln(1/p) with power; to_one_hot by indexing np.eye",
        "edits": [("cross_entropy_loss", "return multiply(log_op(probs[target_idx]), create_value(-1.0))",
                   "return log_op(power(probs[target_idx], -1))"),
                  ("to_one_hot", ("one_hot = np.zeros((num_classes, labels.shape[0]))\n"
                                  "    one_hot[labels, np.arange(labels.shape[0])] = 1.0\n    return one_hot"),
                   "return np.eye(num_classes)[labels].T")],
    },
    "one_hot_compare_accuracy_while": {
        "what": "to_one_hot by comparing np.arange with the labels; get_accuracy with a while loop and list.index",
        "edits": [("to_one_hot", ("one_hot = np.zeros((num_classes, labels.shape[0]))\n"
                                  "    one_hot[labels, np.arange(labels.shape[0])] = 1.0\n    return one_hot"),
                   "return (np.arange(num_classes)[:, None] == labels[None, :]).astype(np.float64)"),
                  ("get_accuracy", ACCURACY_SOLUTION,
                   ("    n, i, hits = X.shape[1], 0, 0\n"
                    "    while i < n:\n"
                    "        probs = [o['data'] for o in forward(model, list(X[:, i]))]\n"
                    "        hits += probs.index(max(probs)) == list(Y[:, i]).index(1.0)\n"
                    "        i += 1\n"
                    "    return 100.0 * hits / n if n else 0.0"))],
    },
    "accuracy_np_mean": {
        "what": "get_accuracy collects the predictions in a list and takes np.mean against Y.argmax(axis=0)",
        "edits": [("get_accuracy", ACCURACY_SOLUTION,
                   ("    preds = [np.argmax([o['data'] for o in forward(model, X[:, i].tolist())]) for i in range(X.shape[1])]\n"
                    "    if not preds:\n"
                    "        return 0.0\n"
                    "    return float(np.mean(np.array(preds) == np.argmax(Y, axis=0)) * 100)"))],
    },
    "train_zero_after_update": {
        "what": "train resets each gradient right after using it (step, then zero) and updates out of place",
        "edits": [("train", "            for p in params:\n                p['grad'] = 0.0\n", ""),
                  ("train", "for p in params:\n                p['data'] -= learning_rate * p['grad']",
                   ("for p in params:\n                p['data'] = p['data'] - learning_rate * p['grad']\n"
                    "                p['grad'] = 0.0  # ready for the next sample"))],
    },
    "train_steps_from_a_list": {
        "what": "train zeroes through get_parameters, computes every step size first, then applies them with zip",
        "edits": [("train", "            for p in params:\n                p['grad'] = 0.0\n",
                   "            for p in get_parameters(model):\n                p['grad'] = 0.0\n"),
                  ("train", "for p in params:\n                p['data'] -= learning_rate * p['grad']",
                   ("steps = [learning_rate * p['grad'] for p in params]\n"
                    "            for p, step_size in zip(params, steps):\n"
                    "                p['data'] -= step_size"))],
    },
    "vec_ops_einsum_where": {
        "what": "matmul_vec with np.einsum and b's gradient always computed (requires_grad ignored), add_vec sums all broadcast axes in one np.sum then reshapes, "
                "relu_vec with np.where on the output, sigmoid_vec from out['data']",
        "edits": [("vec_ops", ("a['grad'] += out['grad'] @ b['data'].T\n        if b.get('requires_grad', True):\n"
                               "            b['grad'] += a['data'].T @ out['grad']"),
                   ("a['grad'] += np.einsum('ij,kj->ik', out['grad'], b['data'])\n"
                    "        b['grad'] += np.einsum('ki,kj->ij', a['data'], out['grad'])")),
                  ("vec_ops", ADD_VEC_BACKWARD,
                   ("        for node in (a, b):\n"
                    "            shape = node['data'].shape\n"
                    "            extra = out['grad'].ndim - len(shape)\n"
                    "            axes = tuple(range(extra)) + tuple(extra + k for k, size in enumerate(shape) if size == 1)\n"
                    "            node['grad'] += np.sum(out['grad'], axis=axes).reshape(shape)\n")),
                  ("vec_ops", "a['grad'] += (a['data'] > 0) * out['grad']",
                   "a['grad'] += np.where(out['data'] > 0, out['grad'], 0.0)"),
                  ("vec_ops", "a['grad'] += s * (1 - s) * out['grad']",
                   "a['grad'] += out['data'] * (1 - out['data']) * out['grad']")],
    },
    "vec_model_own_sort": {
        "what": "create_value_vec via np.asarray(...).copy(); backward_vec with its own recursive topological sort; "
                "biases made before weights with np.random.normal; forward_vec adds b + W @ A and picks the "
                "activation with if/elif",
        "edits": [("create_value_vec", "data = np.array(data, dtype=VEC_DTYPE)",
                   "data = np.asarray(data, dtype=float).copy()"),
                  ("vec_model", ("    order = topological_order(loss)\n    loss['grad'] = np.ones_like(loss['data'])\n"
                                 "    for node in reversed(order):\n        node['_backward']()"),
                   ("    order, seen = [], set()\n\n"
                    "    def visit(node):\n"
                    "        if id(node) not in seen:\n"
                    "            seen.add(id(node))\n"
                    "            for child in node['_prev']:\n"
                    "                visit(child)\n"
                    "            order.append(node)\n\n"
                    "    visit(loss)\n"
                    "    loss['grad'] = np.ones(np.shape(loss['data']))\n"
                    "    for node in order[::-1]:\n"
                    "        node['_backward']()")),
                  ("vec_model", ("        W = create_value_vec(np.random.randn(fan_out, fan_in) * std_dev)\n"
                                 "        b = create_value_vec(np.zeros((fan_out, 1)))\n"
                                 "        mlp['parameters'].extend([W, b])"),
                   ("        b = create_value_vec(np.zeros((fan_out, 1)))\n"
                    "        W = create_value_vec(np.random.normal(0.0, std_dev, size=(fan_out, fan_in)))\n"
                    "        mlp['parameters'] += [W, b]")),
                  ("vec_model", "        Z = add_vec(matmul_vec(W, A), b)\n        A = VEC_ACTIVATIONS[mlp['activations'][i]](Z)",
                   ("        Z = add_vec(b, matmul_vec(W, A))\n"
                    "        name = mlp['activations'][i]\n"
                    "        if name == 'relu':\n"
                    "            A = relu_vec(Z)\n"
                    "        elif name == 'sigmoid':\n"
                    "            A = sigmoid_vec(Z)\n"
                    "        elif name == 'softmax':\n"
                    "            A = softmax_vec(Z)\n"
                    "        else:\n"
                    "            A = Z"))],
    },
}

GRADING_MODE_VARIANTS = {
    "train_vec_step_then_zero": {
        "what": "train_vec updates in place with np.subtract(..., out=) and resets the gradients after each step",
        "edits": [("train_vec", "            zero_grad_vec(params)\n", ""),
                  ("train_vec", "for p in params:\n                p['data'] -= lr * p['grad']",
                   ("for p in params:\n                np.subtract(p['data'], lr * p['grad'], out=p['data'])\n"
                    "            zero_grad_vec(params)"))],
    },
}

# The "realistic bugs" student of `python -m course demo`.
DEMO = ["multiply_overwrites_grad", "forward_drops_bias", "train_never_zeroes_grads"]
