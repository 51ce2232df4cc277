"""The seed's model_fitting run, reproduced: its softmax + cross-entropy backward, and ours.

The seed's train_model passed d_cross_entropy, which is already dL/dz = (p - y) / batch, into a
softmax layer whose backward multiplied it by the softmax Jacobian a second time. This script runs
the seed's first grid configuration exactly as the seed did (np.random.seed(42), 784-128 relu He,
128-10 softmax Xavier, float32, MNIST train[:-5000] / last 5000 as validation, x / 255, lr 1e-3,
momentum 0, decay 0, 5 epochs, batch 64, cross-entropy), once with the seed's backward and once
with the gradient applied once. The seed printed 38.66% validation accuracy for it.

The seed's code lives only here, never in the notebook.

    COURSE_DATA_DIR=../shared/data python benchmarks/seed_model_fitting.py [--epochs 5]
"""

import argparse
import time

import numpy as np
from common import machine

from course.data import load_mnist

SEED_VAL_ACC = 38.66  # printed by the seed for this configuration


# ---- the seed's code, unchanged in substance (one_hot loop, d_softmax loop, float32) ----
def one_hot(labels, num_classes):
    y = np.zeros((labels.shape[0], num_classes), dtype=np.float32)
    for i, lab in enumerate(labels):
        y[i, int(lab)] = 1.0
    return y


def stable_softmax(x):
    ex = np.exp(x - np.max(x, axis=1, keepdims=True))
    return ex / np.sum(ex, axis=1, keepdims=True)


def accuracy(pred_probs, labels):
    return np.mean(np.argmax(pred_probs, axis=1) == labels) * 100.0


def relu(x):
    return np.maximum(0, x)


def d_relu(out):
    return (out > 0).astype(np.float32)


def softmax_jacobian(s):
    s = s.reshape(-1, 1)
    return np.diagflat(s) - s.dot(s.T)


def d_softmax(prev_grad, softmax_out):
    out = np.zeros_like(prev_grad)
    for i in range(prev_grad.shape[0]):
        out[i] = prev_grad[i].dot(softmax_jacobian(softmax_out[i]))
    return out


def cross_entropy_loss(probs, targets):
    return -np.sum(targets * np.log(np.clip(probs, 1e-12, 1. - 1e-12))) / probs.shape[0]


def d_cross_entropy(probs, targets):
    return (probs - targets) / probs.shape[0]  # already dL/dz for a softmax output


class DenseLayer:
    def __init__(self, input_dim, output_dim, activation, init, seed_backward):
        self.activation_name = activation
        self.seed_backward = seed_backward
        if init == 'xavier':
            limit = np.sqrt(6.0 / (input_dim + output_dim))
            self.W = np.random.uniform(-limit, limit, size=(input_dim, output_dim)).astype(np.float32)
        else:  # 'he'
            self.W = np.random.randn(input_dim, output_dim).astype(np.float32) * np.sqrt(2.0 / input_dim)
        self.b = np.zeros((1, output_dim), dtype=np.float32)
        self.vW, self.vb = np.zeros_like(self.W), np.zeros_like(self.b)

    def forward(self, x):
        self.x = x
        z = x.dot(self.W) + self.b
        self.a = stable_softmax(z) if self.activation_name == 'softmax' else relu(z)
        return self.a

    def backward(self, grad_a):
        if self.activation_name == 'softmax':
            # seed: the Jacobian again on top of dL/dz; fixed: dL/dz passes through as it is
            grad_z = d_softmax(grad_a, self.a) if self.seed_backward else grad_a
        else:
            grad_z = grad_a * d_relu(self.a)
        self.dW = self.x.T.dot(grad_z)
        self.db = np.sum(grad_z, axis=0, keepdims=True)
        return grad_z.dot(self.W.T)


def correct_update(layers, lr, momentum, decay):
    for layer in layers:
        layer.vW = momentum * layer.vW - lr * (layer.dW + decay * layer.W)
        layer.vb = momentum * layer.vb - lr * (layer.db + decay * layer.b)
        layer.W += layer.vW
        layer.b += layer.vb


def run(seed_backward, epochs=5, lr=1e-3, batch_size=64):
    (x_train, y_train), _ = load_mnist()
    X = x_train.reshape(-1, 784).astype(np.float32) / 255.0
    X_val, y_val, X_tr, y_tr = X[-5000:], y_train[-5000:], X[:-5000], y_train[:-5000]
    Y_tr = one_hot(y_tr, 10)
    np.random.seed(42)
    layers = [DenseLayer(784, 128, 'relu', 'he', seed_backward),
              DenseLayer(128, 10, 'softmax', 'xavier', seed_backward)]
    n = X_tr.shape[0]
    accs = []
    for _ in range(epochs):
        perm = np.random.permutation(n)
        Xs, Ys = X_tr[perm], Y_tr[perm]
        for i in range(0, n, batch_size):  # the last, partial batch included, as in the seed
            out = Xs[i:i + batch_size]
            for layer in layers:
                out = layer.forward(out)
            grad = d_cross_entropy(out, Ys[i:i + batch_size])
            for layer in reversed(layers):
                grad = layer.backward(grad)
            correct_update(layers, lr, 0.0, 0.0)
        out = X_val
        for layer in layers:
            out = layer.forward(out)
        accs.append(accuracy(out, y_val))
    return accs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    for label, seed_backward in [("seed backward (Jacobian applied twice)", True),
                                 ("fixed backward (dL/dz once)", False)]:
        t0 = time.time()
        accs = run(seed_backward, epochs=args.epochs)
        print(f"{label}: validation accuracy per epoch {[round(float(a), 2) for a in accs]} "
              f"({time.time() - t0:.0f} s)")
    print(f"the seed printed {SEED_VAL_ACC}% for the seed backward after 5 epochs")


if __name__ == "__main__":
    main()
