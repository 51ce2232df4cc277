"""Example submissions built from a master at run time: the reference, the blank release, and
versions with realistic bugs. They exercise the grader end to end without storing any student work."""

import nbformat

from . import master_path, release_path
from .notebooks import cell_by_id, read, solution_notebook

# name -> (assignment, [(grade_id of the cell, text in the reference solution, buggy text)], what it is).
# Each replacement must match exactly once, so a change to the master cannot silently disarm a bug.
BUGS = {
    "multiply_overwrites_grad": ("autograd_mlp", [
        ("multiply", "a['grad'] += b['data'] * out['grad']", "a['grad'] = b['data'] * out['grad']"),
    ], "multiply's backward uses = instead of +="),
    "relu_passes_everything": ("autograd_mlp", [
        ("relu", "if a['data'] > 0:\n            a['grad'] += out['grad']", "a['grad'] += out['grad']"),
    ], "relu's backward lets gradient through for negative inputs"),
    "forward_drops_bias": ("autograd_mlp", [
        ("forward", "act = neuron['b']", "act = create_value(0.0)"),
    ], "forward starts each neuron from 0 instead of its bias"),
    "train_never_zeroes_grads": ("autograd_mlp", [
        ("train", "for p in params:\n                p['grad'] = 0.0\n", ""),
    ], "the training loop never resets gradients"),
    "matmul_vec_transposed": ("autograd_mlp", [
        ("vec_ops", "b['grad'] += a['data'].T @ out['grad']", "b['grad'] += out['grad'].T @ a['data']"),
    ], "matmul_vec's gradient for b is transposed"),
}

# The "realistic bugs" student of the demo.
DEMO_BUGS = ["multiply_overwrites_grad", "forward_drops_bias", "train_never_zeroes_grads"]


def reference(assignment, root=None):
    """The master with every solution in place and the hidden tests removed."""
    return solution_notebook(read(master_path(assignment, root) if root else master_path(assignment)))


def blank(assignment, root=None):
    """The release as a student receives it."""
    return read(release_path(assignment, root) if root else release_path(assignment))


def with_bugs(assignment, names, root=None):
    """The reference with the named bugs planted."""
    nb = reference(assignment, root)
    for name in names:
        owner, edits, _ = BUGS[name]
        if owner != assignment:
            raise ValueError(f"bug {name!r} belongs to {owner}, not {assignment}")
        for gid, old, new in edits:
            cell = cell_by_id(nb, gid)
            count = cell.source.count(old)
            if count != 1:
                raise ValueError(f"bug {name!r}: expected the text once in cell {gid!r}, found it {count} times")
            cell.source = cell.source.replace(old, new)
    return nb


def demo_submissions(assignment, root=None):
    """{student id: notebook} for the demo: reference, blank and (where bugs exist) buggy."""
    subs = {"reference": reference(assignment, root), "blank": blank(assignment, root)}
    bugs = [b for b in DEMO_BUGS if BUGS[b][0] == assignment]
    if bugs:
        subs["buggy"] = with_bugs(assignment, bugs, root)
    return subs


def write_submission(nb, root, student, assignment):
    path = root / "submitted" / student / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path
