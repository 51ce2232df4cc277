"""Calibrate the grading-mode accuracy thresholds over many seeds of the reference solution.

The autograder trains with small budgets (NBGRADER_EXECUTION set), so the hidden tests need
thresholds that every correct solution reaches whatever its random draws. This runs the master's
own training cells in grading mode with the seeds shifted, measures the accuracies the hidden
tests measure, and proposes thresholds: the worst seed minus a margin.

    python -m course calibrate autograd_mlp --seeds 30 --jobs 2 [--write]
    python -m course calibrate autograd_mlp --full --seeds 10     # the full-size runs vs the prose's targets
"""

import contextlib
import io
import math
import os
import re
import statistics
from concurrent.futures import ProcessPoolExecutor

from .notebooks import cell_by_id, read, run_cells, solution_notebook, write
from .paths import master_path

# What each assignment's hidden tests measure: threshold name -> expression evaluated after training.
MEASURES = {
    "autograd_mlp": {"base": "heldout_accuracy(model)", "improved": "heldout_accuracy(improved_model)",
                     "vectorized": "heldout_accuracy_vec(mlp_vec)"},
    "model_fitting": {"mnist": "heldout_accuracy(mnist_model)"},
}
# Measures whose bar the notebook fixes, reported with their margin and never written: test_improved_model
# asks the improved model to beat the base model of the same run by 3 points.
FIXED = {
    "autograd_mlp": {"improved - base": ("heldout_accuracy(improved_model) - heldout_accuracy(model)", 3.0)},
}
MARGIN = 3.0  # percentage points below the worst seed


def shift_seeds(source, offset):
    """Add offset to every literal seed in a cell: seed(42) -> seed(42 + offset)."""
    return re.sub(r"(seed|default_rng)\((\d+)\)", lambda m: f"{m.group(1)}({int(m.group(2)) + offset})", source)


def measures(assignment):
    """{name: expression}: the calibrated measures, then the fixed ones."""
    return {**MEASURES[assignment], **{name: expr for name, (expr, _) in FIXED.get(assignment, {}).items()}}


def full_targets(master):
    """{measure: the full-size target} as the test cells write it: budget(75.0, GRADING_THRESHOLDS['base'])."""
    text = "\n".join(cell.source for cell in master.cells)
    return {name: float(v) for v, name in re.findall(r"budget\(([\d.]+), GRADING_THRESHOLDS\['(\w+)'\]\)", text)}


def run_seed(args):
    assignment, root, seed, full = args
    if full:
        os.environ.pop("NBGRADER_EXECUTION", None)
    else:
        os.environ["NBGRADER_EXECUTION"] = "autograde"  # the budgets the autograder uses
    nb = solution_notebook(read(master_path(assignment, root)))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        ns = run_cells(nb, edit=lambda gid, src: shift_seeds(src, 1000 * seed), label=assignment)
        return seed, {name: float(eval(expr, ns)) for name, expr in measures(assignment).items()}


def calibrate(assignment, root, seeds=30, jobs=2, full=False):
    """Run the master of the course at root with `seeds` shifted seeds, on `jobs` processes: in grading mode
    (thresholds proposed), or with full=True at full size (margins against the targets the notebook states)."""
    with ProcessPoolExecutor(jobs) as pool:
        results = dict(pool.map(run_seed, [(assignment, str(root), s, full) for s in range(seeds)]))
    fixed = {name: bar for name, (_, bar) in FIXED.get(assignment, {}).items()}
    if full:
        fixed.update(full_targets(read(master_path(assignment, root))))
    return summarize(results, measures(assignment), fixed)


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


def write_thresholds(assignment, report, root):
    """Store the calibrated thresholds in the master's setup cell (GRADING_THRESHOLDS = {...})."""
    path = master_path(assignment, root)
    nb = read(path)
    cell = cell_by_id(nb, "setup")
    calibrated = {k: v for k, v in report.items() if k not in FIXED.get(assignment, {})}
    new = "{" + ", ".join(f"'{k}': {v['threshold']:.1f}" for k, v in calibrated.items()) + "}"
    source, n = re.subn(r"GRADING_THRESHOLDS = \{[^}]*\}", f"GRADING_THRESHOLDS = {new}", cell.source)
    if n != 1:
        raise RuntimeError("the setup cell has no GRADING_THRESHOLDS = {...} line")
    cell.source = source
    write(nb, path)
