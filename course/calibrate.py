"""Calibrate the grading-mode accuracy thresholds over many seeds of the reference solution.

The autograder trains with small budgets (NBGRADER_EXECUTION set), so the hidden tests need
thresholds that every correct solution reaches whatever its random draws. This runs the master's
own training cells in grading mode with the seeds shifted, measures the accuracies the hidden
tests measure, and proposes thresholds: the worst seed minus a margin.

    python -m course calibrate autograd_mlp --seeds 30 --jobs 2 [--write]
    python -m course calibrate autograd_mlp --full --seeds 10     # the full-size runs vs the prose's targets

What is measured, the thresholds and the targets are the assignment's manifest's [measures] (course/manifest.py).
"""

import contextlib
import io
import math
import os
import re
import statistics
from concurrent.futures import ProcessPoolExecutor

from .manifest import sync_thresholds
from .manifest import write_thresholds as write_manifest
from .notebooks import run_cells, solution_notebook, write

MARGIN = 3.0  # percentage points below the worst seed


def shift_seeds(source, offset):
    """Add offset to every literal seed in a cell: seed(42) -> seed(42 + offset)."""
    return re.sub(r"(seed|default_rng)\((\d+)\)", lambda m: f"{m.group(1)}({int(m.group(2)) + offset})", source)


def run_seed(args):
    assignment, seed, full = args
    if full:
        os.environ.pop("NBGRADER_EXECUTION", None)
    else:
        os.environ["NBGRADER_EXECUTION"] = "autograde"  # the budgets the autograder uses
    nb = solution_notebook(assignment.master())
    measures = assignment.manifest.measures
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        ns = run_cells(nb, edit=lambda gid, src: shift_seeds(src, 1000 * seed), label=assignment.name)
        return seed, {name: float(eval(m["expression"], ns)) for name, m in measures.items()}


def calibrate(assignment, seeds=30, jobs=2, full=False):
    """Run the master of an Assignment with `seeds` shifted seeds, on `jobs` processes: in grading mode
    (thresholds proposed), or with full=True at full size (margins against the targets its manifest states)."""
    measures = assignment.manifest.measures
    if not measures:
        raise ValueError(f"{assignment}: its manifest ({assignment.folder / 'manifest.toml'}) names no [measures]: "
                         "nothing to calibrate")
    with ProcessPoolExecutor(jobs) as pool:
        results = dict(pool.map(run_seed, [(assignment, s, full) for s in range(seeds)]))
    fixed = {name: m["bar"] for name, m in measures.items() if "bar" in m}
    if full:
        fixed.update({name: m["target"] for name, m in measures.items() if "target" in m})
    return summarize(results, list(measures), fixed)


def summarize(results, measures, fixed=None):
    """{measure: accs, min, mean, max, std, threshold, margin} from {seed: {measure: accuracy}}: the threshold is
    fixed[measure] where given (a bar the notebook sets), else the worst seed minus MARGIN, floored."""
    report = {}
    for name in measures:
        accs = [results[s][name] for s in sorted(results)]
        worst = min(accs)
        threshold = (fixed or {}).get(name, math.floor(worst - MARGIN))
        report[name] = {"accs": accs, "min": worst, "mean": statistics.mean(accs), "max": max(accs),
                        "std": statistics.pstdev(accs), "threshold": float(threshold), "margin": worst - threshold}
    return report


def format_report(assignment, report, seeds, full=False):
    kind = "Full-size" if full else "Grading-mode"
    lines = [f"{kind} accuracy of the {assignment} reference over {seeds} seeds (percent):", "",
             f"| measure | min | mean | max | std | {'target' if full else 'threshold'} | margin below the worst seed |",
             "|---|---|---|---|---|---|---|"]
    for name, r in report.items():
        lines.append(f"| {name} | {r['min']:.1f} | {r['mean']:.1f} | {r['max']:.1f} | {r['std']:.2f} | "
                     f"{r['threshold']:.0f} | {r['margin']:.1f} |")
    return "\n".join(lines)


def write_thresholds(assignment, report):
    """Store the calibrated thresholds in the manifest, then in the master's setup cell (as `course sync` does)."""
    write_manifest(assignment, {name: r["threshold"] for name, r in report.items()
                                if "threshold" in assignment.manifest.measures.get(name, {})})
    master = assignment.master()
    if sync_thresholds(master, assignment.manifest):
        write(master, assignment.master_path)
