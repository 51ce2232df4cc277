"""Vectorized MLP speed: seconds per MNIST epoch, the course's NumPy code vs PyTorch on the CPU.

One training step of a 784-128-64-10 network (ReLU, ReLU, softmax), batch 64: forward, softmax
cross-entropy, backward, plain SGD update (lr 0.1, no momentum), in float32 and float64, by:

- master: autograd_mlp's vectorized engine (Part 7, extra credit), the step of its train_vec;
- layers: model_fitting's DenseLayer / SimpleModel / compute_gradients / update;
- PyTorch: nn.Linear / nn.ReLU, nn.CrossEntropyLoss, optim.SGD (if installed; the only use of PyTorch).

All start from the same weights and see the same batches (one epoch: the 60,000 training images in a
shuffled order fixed by the seed, batches of 64, the last of 32), so their first-epoch mean losses
must agree, shown as a check: in float64 to 6 digits; in float32 to about 3 (a rounding can flip a
ReLU whose input is near 0, and from then on the runs differ a little). Each measurement runs in a fresh
process whose BLAS (and PyTorch) use the given number of threads: one warm-up epoch, then --reps timed
epochs. The implementations take turns, --rounds times (in a rotating order), so that a slow spell of a
shared machine hits all of them alike; the table shows the median and range over all rounds. GFLOP/s
counts the matrix products a step needs (forward, weight gradients, input gradients of the hidden
layers); the peak is a 2048 x 2048 NumPy matmul with the same threads.

    python benchmarks/vectorized_mlp.py [--reps 3] [--rounds 3] [--threads 1,$(nproc)] [--plot PATH]

PyTorch: pip install -r benchmarks/requirements.txt (best in a separate virtual environment,
see docs/benchmarks.md). Without it the NumPy code is still measured.
"""

import argparse
import importlib.util
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import add_plot_option, load_master, machine, save_figure, thread_env, timed

from course.notebooks import offscreen_pyplot

SIZES = [784, 128, 64, 10]
ACTIVATIONS = ['relu', 'relu', 'softmax']
BATCH, LR, SEED = 64, 0.1, 0
# Matrix-product flops per sample of one step: forward and weight gradients of every layer (2 * in * out
# each), input gradients of all layers but the first (the image needs none).
PAIRS = list(itertools.pairwise(SIZES))
FLOPS_PER_SAMPLE = 2 * (2 * sum(i * o for i, o in PAIRS) + sum(i * o for i, o in PAIRS[1:]))
DTYPES = {"float32": np.float32, "float64": np.float64}

# ---- The three implementations: each returns (step, weights) from the same initial weights. ----
# step(x (64, 784), one-hot y (64, 10), labels (64,)) -> the batch's mean loss; weights() -> [(W, b)]
# with W (in, out), for comparisons.

def initial_weights(seed=SEED):
    rng = np.random.default_rng(seed)
    return [(rng.normal(0.0, np.sqrt(2.0 / (i + o)), size=(i, o)), np.zeros(o)) for i, o in PAIRS]


class Unsupported(Exception):
    """This implementation cannot run in this configuration (the message says why)."""


def master_trainer(ns, dtype, init):
    """autograd_mlp's vectorized engine; a sample per column, so it gets the batch transposed (a view)."""
    if "VEC_DTYPE" in ns:
        ns["VEC_DTYPE"] = dtype
    mlp = ns["initialize_model_vec"](SIZES, ACTIVATIONS, LR)
    params = mlp["parameters"]
    if params[0]["data"].dtype != dtype:
        raise Unsupported(f"create_value_vec turns every array into {params[0]['data'].dtype}")
    for (W, b), pW, pb in zip(init, params[::2], params[1::2]):
        pW["data"][...] = W.T
        pb["data"][...] = b[:, None]

    def step(x, y, labels):  # the body of train_vec's loop
        ns["zero_grad_vec"](params)
        pred, _ = ns["forward_vec"](mlp, x.T)
        loss = ns["categorical_crossentropy_loss_vec"](pred, y.T)
        ns["backward_vec"](loss)
        for p in params:
            p["data"] -= LR * p["grad"]
        return float(loss["data"])

    return step, lambda: [(pW["data"].T, pb["data"][:, 0]) for pW, pb in zip(params[::2], params[1::2])]


def layers_trainer(ns, dtype, init):
    """model_fitting's layers: DenseLayer, SimpleModel, compute_gradients, update."""
    model = ns["SimpleModel"]([ns["DenseLayer"](i, o, act, dtype=dtype) for (i, o), act in zip(PAIRS, ACTIVATIONS)])
    for layer, (W, b) in zip(model.layers, init):
        layer.W[...] = W
        layer.b[...] = b

    def step(x, y, labels):  # the body of train_model's loop, without its accuracy bookkeeping
        loss, _ = ns["compute_gradients"](model, x, y, "cross_entropy")
        model.update(LR, momentum=0.0, decay=0.0)
        return loss

    return step, lambda: [(layer.W, layer.b[0]) for layer in model.layers]


def torch_trainer(dtype, init):
    """The same network in PyTorch: the last Linear gives logits, CrossEntropyLoss applies the softmax."""
    import torch

    modules = []
    for W, b in init:
        linear = torch.nn.Linear(*W.shape, dtype={np.float32: torch.float32, np.float64: torch.float64}[dtype])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))
            linear.bias.copy_(torch.from_numpy(b))
        modules += [linear, torch.nn.ReLU()]
    model = torch.nn.Sequential(*modules[:-1])
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(x, y, labels):
        optimizer.zero_grad()
        loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(labels))
        loss.backward()
        optimizer.step()
        return loss.item()

    linears = model[::2]
    return step, lambda: [(m.weight.detach().numpy().T, m.bias.detach().numpy()) for m in linears]


def trainer(impl, dtype, init=None):
    init = initial_weights() if init is None else init
    if impl == "torch":
        return torch_trainer(dtype, init)
    if impl == "layers":
        return layers_trainer(load_master("model_fitting"), dtype, init)
    return master_trainer(load_master("autograd_mlp", also={"check_backward"}), dtype, init)


def load_data(dtype, samples=60000):
    """MNIST training images (samples, 784) in [0, 1], one-hot targets (samples, 10), labels (samples,)."""
    from course.data import load_mnist

    (x, labels), _ = load_mnist()
    x = x[:samples].reshape(samples, -1).astype(dtype) / dtype(255)
    return x, np.eye(10, dtype=dtype)[labels[:samples]], labels[:samples]


def run_epoch(step, x, y, labels, order):
    """One pass over the samples in `order`, batches of BATCH. Returns the mean loss over the samples."""
    total = 0.0
    for start in range(0, len(order), BATCH):
        idx = order[start:start + BATCH]
        total += step(x[idx], y[idx], labels[idx]) * len(idx)
    return total / len(order)


def measure(impl, dtype_name, reps=3, samples=60000):
    """Warm-up epoch, then reps timed epochs; epoch e's order comes from seed SEED + e for everyone."""
    dtype = DTYPES[dtype_name]
    x, y, labels = load_data(dtype, samples)
    try:
        step, _ = trainer(impl, dtype)
    except Unsupported as e:
        return {"error": str(e)}
    orders = (np.random.default_rng(SEED + e).permutation(samples) for e in range(reps + 1))
    losses = []
    times = timed(lambda: losses.append(run_epoch(step, x, y, labels, next(orders))), reps=reps, warmup=1)
    return {"times": times, "loss_epoch1": losses[0]}


def matmul_peak(dtype_name, n=2048, reps=3):
    """GFLOP/s of an n x n NumPy matmul: median of reps after a warm-up."""
    a = np.random.default_rng(0).random((n, n)).astype(DTYPES[dtype_name])
    return 2 * n ** 3 / statistics.median(timed(lambda: a @ a, reps=reps, warmup=1)) / 1e9


# ---- The parent: one fresh process per measurement, then the table. ----

def child(args):
    """Runs in the fresh process: BLAS threads come from the environment, PyTorch's are set to match."""
    threads = int(os.environ["OMP_NUM_THREADS"])
    if args.child == "peak":
        out = {"gflops": matmul_peak(args.dtype)}
    else:
        if args.child == "torch":
            import torch

            torch.set_num_threads(threads)
        out = measure(args.child, args.dtype, args.reps, args.samples)
    print(json.dumps(out))


def spawn(what, dtype_name, threads, reps, samples):
    cmd = [sys.executable, __file__, "--child", what, "--dtype", dtype_name, "--reps", str(reps),
           "--samples", str(samples)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=thread_env(threads), check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def plot(rows, path):
    plt = offscreen_pyplot()
    groups = sorted({(r["threads"], r["dtype"]) for r in rows})
    names = list(dict.fromkeys(r["name"] for r in rows))
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        found = [next((r for r in rows if (r["threads"], r["dtype"]) == g and r["name"] == name and "median" in r),
                      None) for g in groups]
        values = [r["median"] if r else 0 for r in found]
        spread = [[r["median"] - min(r["times"]) if r else 0 for r in found],  # whiskers: fastest and slowest epoch
                  [max(r["times"]) - r["median"] if r else 0 for r in found]]
        xs = [g + k * width for g in range(len(groups))]
        ax.bar(xs, values, width, label=name, yerr=spread, capsize=3, error_kw={"elinewidth": 0.8})
        for x, value in zip(xs, values):
            if not value:  # this implementation could not run here
                ax.text(x, 0, "n/a", ha="center", va="bottom", fontsize=8)
    ax.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))], [f"{d}, {t} thread(s)" for t, d in groups])
    ax.set(ylabel="seconds per MNIST epoch",
           title="784-128-64-10, batch 64, one epoch of SGD (lower is better; whiskers: fastest, slowest epoch)")
    ax.legend()
    ax.grid(True, axis="y", alpha=0.3)
    return save_figure(fig, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3, help="timed epochs after the warm-up epoch, per process")
    parser.add_argument("--rounds", type=int, default=3, help="turns each implementation takes (a process each)")
    parser.add_argument("--threads", default="1", help=f"comma-separated thread counts, e.g. 1,{os.cpu_count()} "
                        "(more than one: only on an otherwise idle machine, or the threads wait on each other)")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--samples", type=int, default=60000, help="images per epoch")
    add_plot_option(parser, "vectorized_mlp")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dtype", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    impls = [("master", "master (autograd_mlp)"), ("layers", "layers (model_fitting)")]
    if importlib.util.find_spec("torch"):
        import torch

        impls.append(("torch", f"PyTorch {torch.__version__.split('+')[0]}"))
    else:
        print("PyTorch is not installed, so only the NumPy code is measured. To compare with it: "
              "pip install -r benchmarks/requirements.txt (see docs/benchmarks.md)\n")
    print(f"784-128-64-10, batch {BATCH}, SGD lr {LR}: seconds per epoch of {args.samples} images; "
          f"{args.rounds} rounds in which each implementation runs in a fresh process, a warm-up epoch "
          f"then {args.reps} timed ones; median (fastest-slowest) of the {args.rounds * args.reps} timed epochs")
    print(f"machine: {machine()}")
    rows, started = [], time.time()
    header = (f"{'threads':<8}{'float':<9}{'implementation':<27}{'s/epoch (range)':<20}{'x PyTorch':>10}"
              f"{'GFLOP/s':>9}{'of peak':>9}{'loss, epoch 1':>15}")
    for threads in [int(t) for t in args.threads.split(",")]:
        for dtype_name in args.dtypes.split(","):
            peak = spawn("peak", dtype_name, threads, args.reps, args.samples)["gflops"]
            print(f"\n{threads} thread(s), {dtype_name}: peak {peak:.1f} GFLOP/s "
                  f"(2048 x 2048 NumPy matmul)\n{header}")
            group = [{"threads": threads, "dtype": dtype_name, "impl": impl, "name": name, "times": []}
                     for impl, name in impls]
            for r in range(args.rounds):
                for row in group[r % len(group):] + group[:r % len(group)]:  # a different one goes first
                    if "error" not in row:
                        out = spawn(row["impl"], dtype_name, threads, args.reps, args.samples)
                        row["times"] += out.pop("times", [])
                        row.update(out)  # loss_epoch1 (the same every round) or error
            for row in group:
                if row["times"]:
                    row["median"] = statistics.median(row["times"])
                    row["gflops"] = FLOPS_PER_SAMPLE * args.samples / row["median"] / 1e9
            torch_time = next((r["median"] for r in group if r["impl"] == "torch" and "median" in r), None)
            for r in group:
                lead = f"{threads:<8}{dtype_name:<9}{r['name']:<27}"
                if "error" in r:
                    print(f"{lead}n/a: {r['error']}")
                    continue
                ratio = f"{r['median'] / torch_time:.2f}" if torch_time else "-"
                spread = f"{r['median']:.2f} ({min(r['times']):.2f}-{max(r['times']):.2f})"
                print(f"{lead}{spread:<20}{ratio:>10}{r['gflops']:>9.1f}"
                      f"{r['gflops'] / peak:>9.0%}{r['loss_epoch1']:>15.6f}")
            rows += group
    print(f"\nx PyTorch: time / PyTorch's time (below 1: faster). {time.time() - started:.0f} s in all; "
          f"load average now {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.plot:
        print(f"plot: {plot(rows, Path(args.plot))}")


if __name__ == "__main__":
    main()
