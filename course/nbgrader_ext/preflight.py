"""Before the first grading kernel starts: can grading sandbox here, and does the grader have the data?

Grading kernels run in a sandbox with no network (course/nbgrader_ext/sandbox.py), so a notebook cannot download
anything while it is graded. The grader, outside the sandbox, therefore makes sure first that every dataset
an assignment needs is in COURSE_DATA_DIR or the loader's cache (downloading it once, with a progress bar),
and the sandboxed kernels then read exactly those files. If the sandbox cannot run or a dataset cannot be
had, grading stops before anyone is graded, with one message saying what to do: no student loses points
because of the grader's set-up.

Which datasets an assignment needs is read from its master: the datasets whose loader (load_mnist,
load_cifar10) its code calls. A call inside `try: ... except DatasetError:` is optional (the notebook runs
on without it, as for a student offline): it is not downloaded for grading, and its absence is only reported.

Used by `python -m course autograde` and `demo` (course.grading), and by plain `nbgrader autograde` through
nbgrader's pre_convert_hook (nbgrader_config.py).
"""

import ast
import sys
from pathlib import Path

from ..cells import grade_id
from ..data import DATASETS, DatasetError, dataset_files
from ..notebooks import PROVIDED, parse_cell
from .sandbox import sandbox_problem


class GradingSetupError(RuntimeError):
    """This machine cannot grade yet (no sandbox, no data); the message says what to do."""


def _catches_dataset_error(handler):
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(n, ast.Name) and n.id in ("DatasetError", "Exception")
                                       for n in names)


def _loader_calls(node, optional, found):
    """Record in found {dataset: required} every loader call under node."""
    if isinstance(node, ast.Try) and any(_catches_dataset_error(h) for h in node.handlers):
        for child in node.body:
            _loader_calls(child, True, found)
        for child in [*node.handlers, *node.orelse, *node.finalbody]:
            _loader_calls(child, optional, found)
        return
    if isinstance(node, ast.Call):
        func = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        for name, loader in DATASETS.items():
            if func == loader:
                found[name] = found.get(name, False) or not optional
    for child in ast.iter_child_nodes(node):
        _loader_calls(child, optional, found)


def needed_datasets(master):
    """{dataset: True if grading needs it, False if the notebook runs on without it} for a master notebook."""
    found = {}
    for cell in master.cells:
        if cell.cell_type != "code" or grade_id(cell) in PROVIDED:
            continue
        tree = parse_cell(cell.source)
        if tree is not None:
            _loader_calls(tree, False, found)
    return found


def ensure_datasets(needed, log=print):
    """Make sure each required dataset is here, downloading it once if not. Returns their problems (the loader's
    messages). An optional dataset is not downloaded (no test needs it, and grading runs faster without it): its
    absence is only reported through log."""
    problems = []
    for name, required in sorted(needed.items()):
        try:
            dataset_files(name, download=required)
        except DatasetError as exc:
            if required:
                problems.append(f"the dataset {name} is needed to grade, and the grader could not get it:\n{exc}")
            else:
                log(f"note: {name} is not here (not in COURSE_DATA_DIR or the cache), so the notebooks' {name} part "
                    "is skipped while graded, as it is for a student offline; no test depends on it.")
    return problems


def problems(assignments, log=print):
    """Everything that stops grading these Assignments here, as messages saying what to do ([] when ready)."""
    found = []
    sandbox = sandbox_problem()
    if sandbox:
        found.append(f"grading cannot sandbox the notebooks here: {sandbox}")
    needed = {}
    for assignment in assignments:
        if not assignment.master_path.is_file():
            found.append(f"no master notebook for {assignment.name!r}: expected {assignment.master_path}")
            continue
        for name, required in needed_datasets(assignment.master()).items():
            needed[name] = needed.get(name, False) or required
    return found + ensure_datasets(needed, log)


_READY = set()  # (root, assignment) found ready in this process: checked once


def require_ready(assignments, log=print):
    """Raise GradingSetupError, with every problem, unless these Assignments can be graded here."""
    todo = [a for a in assignments if (a.root, a.name) not in _READY]
    found = problems(todo, log) if todo else []
    if found:
        raise GradingSetupError("Nothing was graded: the grader's set-up is not ready.\n\n" + "\n\n".join(found))
    _READY.update((a.root, a.name) for a in todo)


def nbgrader_hook(root, assignment=None, student=None, notebooks=(), **_):
    """nbgrader's Autograde.pre_convert_hook (bound to the course root in nbgrader_config.py): before nbgrader
    grades its first submission, check the set-up (once per assignment and process); if it is not ready, stop
    nbgrader (SystemExit, which nbgrader lets through) before it writes anything, with the message."""
    from ..course import Assignment, Course

    names = {Path(nb).parent.name for nb in notebooks} if assignment in (None, "", "*") else {assignment}
    course = Course(Path(root).resolve())
    try:
        require_ready([Assignment(course, name) for name in sorted(names)], log=lambda text: print(text, file=sys.stderr))
    except GradingSetupError as exc:
        raise SystemExit(f"\n{exc}") from None
