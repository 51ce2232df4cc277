"""The scalar engine as the seed assignment shipped it, for comparison only (never used in grading).

Its done-for-you parts are the seed's: a new lambda for every node, a recursive topological sort,
a softmax that spends extra nodes on its shift, graphs left for Python's cycle collector. The
student parts are filled in the way the seed's hints describe, which is how the master solves them.
"""

import math
import random


def create_value(data, _children=(), _op=''):
    return {'data': float(data), 'grad': 0.0, '_backward': lambda: None, '_prev': list(_children), '_op': _op}


def add(a, b):
    out = create_value(a['data'] + b['data'], (a, b), '+')

    def _backward():
        a['grad'] += out['grad']
        b['grad'] += out['grad']
    out['_backward'] = _backward
    return out


def multiply(a, b):
    out = create_value(a['data'] * b['data'], (a, b), '*')

    def _backward():
        a['grad'] += b['data'] * out['grad']
        b['grad'] += a['data'] * out['grad']
    out['_backward'] = _backward
    return out


def power(a, n):
    out = create_value(a['data'] ** n, (a,), f'**{n}')

    def _backward():
        a['grad'] += n * a['data'] ** (n - 1) * out['grad']
    out['_backward'] = _backward
    return out


def relu(a):
    out = create_value(max(0, a['data']), (a,), 'ReLU')

    def _backward():
        a['grad'] += (a['data'] > 0) * out['grad']
    out['_backward'] = _backward
    return out


def log_op(a):
    val = max(a['data'], 1e-10)
    out = create_value(math.log(val), (a,), 'log')

    def _backward():
        a['grad'] += out['grad'] / val
    out['_backward'] = _backward
    return out


def exp_op(a):
    out = create_value(math.exp(max(min(a['data'], 88), -88)), (a,), 'exp')

    def _backward():
        a['grad'] += out['data'] * out['grad']
    out['_backward'] = _backward
    return out


def softmax(logits):
    max_node = create_value(max(v['data'] for v in logits))
    exps = [exp_op(add(v, multiply(max_node, create_value(-1.0)))) for v in logits]
    total = exps[0]
    for e in exps[1:]:
        total = add(total, e)
    inv = power(total, -1)
    return [multiply(e, inv) for e in exps]


def initialize_model(nin, layer_sizes, activations):
    sz = [nin] + layer_sizes
    layers = []
    for i in range(len(layer_sizes)):
        scale = math.sqrt(1.0 / sz[i])
        layers.append({'neurons': [{'w': [create_value(random.gauss(0, scale)) for _ in range(sz[i])],
                                    'b': create_value(0.0)} for _ in range(sz[i + 1])]})
    return {'layers': layers, 'activations': activations}


def forward(mlp, x_raw):
    current_x = [create_value(v) for v in x_raw]
    for i, layer in enumerate(mlp['layers']):
        next_x = []
        for neuron in layer['neurons']:
            act = neuron['b']
            for w, x in zip(neuron['w'], current_x):
                act = add(act, multiply(w, x))
            next_x.append(act)
        if mlp['activations'][i] == 'relu':
            next_x = [relu(v) for v in next_x]
        elif mlp['activations'][i] == 'softmax':
            next_x = softmax(next_x)
        current_x = next_x
    return current_x


def get_parameters(mlp):
    return [p for layer in mlp['layers'] for n in layer['neurons'] for p in n['w'] + [n['b']]]


def cross_entropy_loss(probs, target_idx):
    return multiply(log_op(probs[target_idx]), create_value(-1.0))


def backward(loss):
    topo, visited = [], set()

    def build_topo(v):
        if id(v) not in visited:
            visited.add(id(v))
            for child in v.get('_prev', []):
                build_topo(child)
            topo.append(v)
    build_topo(loss)
    loss['grad'] = 1.0
    for node in reversed(topo):
        node['_backward']()
