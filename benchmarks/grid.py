"""The model_fitting grid: wall time of the master's full hyper-parameter grid (cell `grid`).

Each repetition runs in a fresh Python process: the master's definition cells and its data cell,
a warm-up (one epoch of a 784-64-10 network on 2,000 images), then the `grid` cell, timed end to
end as a student runs it (324 trainings of 784-64-10, 3 epochs on 20,000 images each). BLAS gets
one thread, as the notebook's setup cell asks (--threads to change it). --grading times the small
grid the autograder runs instead (NBGRADER_EXECUTION set: 256 images, 1 epoch).

    python benchmarks/grid.py [--reps 3] [--threads 1] [--grading]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from common import course, load_master, machine, median_runs, thread_env


def measure_once():
    """In this process: the master's definitions and data, a warm-up, then the timed `grid` cell."""
    from course.notebooks import cell_by_id, solution_notebook

    # MNIST and the definitions: not the cells that train or plot (the grid is timed apart), not CIFAR-10.
    ns = load_master("model_fitting", roles=("trains", "demonstrates"), also={"load_cifar"})
    np = ns["np"]
    np.random.seed(0)
    warm = ns["SimpleModel"]([ns["DenseLayer"](784, 64, "relu", "he"), ns["DenseLayer"](64, 10, "softmax")])
    ns["train_model"](warm, ns["X_train"][:2000], ns["y_train_oh"][:2000], ns["X_val"][:500], ns["y_val_oh"][:500],
                      epochs=1, verbose=False)
    source = cell_by_id(solution_notebook(course()["model_fitting"].master()), "grid").source
    code = compile(source, "<model_fitting:grid>", "exec")
    t = time.perf_counter()
    exec(code, ns)  # noqa: S102 (our own notebook)
    seconds = time.perf_counter() - t
    grid = ns["grid"]
    best = grid.loc[grid["val_acc"].idxmax()]
    return {"seconds": seconds, "runs": len(grid), "diverged": int(grid["diverged"].sum()),
            "images": ns["GRID_TRAIN"], "epochs": ns["GRID_EPOCHS"],
            "best": f"{best['activation']}, {best['loss']}, lr {best['lr']}, momentum {best['momentum']}, "
                    f"decay {best['decay']}: {best['val_acc']:.2f}%"}


def spawn(threads, grading):
    env = thread_env(threads)
    if grading:
        env["NBGRADER_EXECUTION"] = "autograde"
    else:
        env.pop("NBGRADER_EXECUTION", None)
    done = subprocess.run([sys.executable, __file__, "--child"], capture_output=True, text=True, env=env,
                          check=False)
    if done.returncode:
        raise RuntimeError(f"the grid's process failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (the notebook sets 1)")
    parser.add_argument("--grading", action="store_true", help="the autograder's small grid instead")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_once()))
        return
    print(f"model_fitting's grid ({'grading' if args.grading else 'full'} budget), {args.threads} BLAS "
          f"thread(s), median of {args.reps} fresh processes, each after a warm-up")
    print(f"machine: {machine()}")
    results = []
    for k in range(args.reps):
        results.append(spawn(args.threads, args.grading))
        print(f"  run {k + 1}/{args.reps}: {results[-1]['seconds']:.1f} s", flush=True)
    r, seconds = results[0], [x["seconds"] for x in results]
    median = statistics.median(seconds)
    print(f"{r['runs']} runs of 784-64-10, {r['epochs']} epoch(s) on {r['images']} images each: "
          f"{median_runs(seconds, '{:.1f}')} s wall, {median / r['runs']:.3f} s per run; "
          f"{r['diverged']} diverged; best {r['best']}")
    print(f"load average now {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
