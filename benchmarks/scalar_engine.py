"""Scalar engine speed: samples/s of forward + backward + SGD update on a 784-16-10 MLP.

Compares, in one run, the master's engine (its done-for-you parts with the reference solution)
with the seed's engine (benchmarks/seed_engine.py). The student-facing API and the student code
are the same in both. Each measurement runs in a fresh Python process (a long-running process
gets slower as its heap fragments, which would favour whichever ran first); the two engines
alternate, and the table shows the median over the repetitions.

    python benchmarks/scalar_engine.py [--reps 5] [--steps 40]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

from common import ROOT, machine

CHILD = r"""
import json, random, sys, time
from common import load_master
from course.data import load_mnist
engine = {engine!r}
if engine == 'seed':
    import seed_engine as E
    ns = vars(E)
else:
    ns = load_master('autograd_mlp', also={{'check_backward'}})
(x, y), _ = load_mnist()
xs = [(x[i].reshape(-1) / 255.0).tolist() for i in range({steps} + 5)]
random.seed(0)
model = ns['initialize_model'](784, [16, 10], ['relu', 'softmax'])
params = ns['get_parameters'](model)
forward, loss_fn, backward = ns['forward'], ns['cross_entropy_loss'], ns['backward']

def step(i):
    for p in params:
        p['grad'] = 0.0
    loss = loss_fn(forward(model, xs[i]), int(y[i]))
    backward(loss)
    for p in params:
        p['data'] -= 0.01 * p['grad']

for i in range(5):
    step({steps} + i)
t = time.perf_counter()
for i in range({steps}):
    step(i)
print(json.dumps({{'samples_per_s': {steps} / (time.perf_counter() - t)}}))
"""


def measure(engine, steps):
    code = CHILD.format(engine=engine, steps=steps)
    # cwd: `python -c` imports from its working folder, so the child finds common.py and seed_engine.py
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ), cwd=ROOT / "benchmarks")
    return json.loads(out.stdout.strip().splitlines()[-1])["samples_per_s"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    runs = {"seed": [], "master": []}
    for _ in range(args.reps):
        for engine, results in runs.items():  # alternate so that drifts in machine load hit both alike
            results.append(measure(engine, args.steps))
    seed, master = statistics.median(runs["seed"]), statistics.median(runs["master"])
    print(f"784-16-10 forward + backward + update, {args.steps} samples per run, median of {args.reps} runs")
    print(f"machine: {machine()}")
    print(f"{'engine':<10}{'samples/s':>12}{'ms/sample':>12}   runs (samples/s)")
    for name, med in [("seed", seed), ("master", master)]:
        print(f"{name:<10}{med:>12.1f}{1000 / med:>12.1f}   {', '.join(f'{v:.1f}' for v in runs[name])}")
    print(f"speed-up of the master's engine: {master / seed:.2f}x")


if __name__ == "__main__":
    main()
