"""Reading and transforming notebooks: provided-code cells, solutions, hidden tests."""

import ast
import re
from pathlib import Path

import nbformat

from .cells import grade_id, is_grade, is_solution, is_test, is_written_answer, points, role

SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
MARKERS = (SOLUTION_BEGIN, SOLUTION_END, HIDDEN_BEGIN, HIDDEN_END, "BEGIN SOLUTION", "END SOLUTION",
           "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")

# Locked cells whose source is a file of this package: one source of truth for code that several
# notebooks share. `python -m course sync` copies the file in; a test checks they are equal.
PROVIDED = {"provided_data": Path(__file__).with_name("data.py")}


def read(path):
    return nbformat.read(str(path), as_version=4)


def write(nb, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def cell_by_id(nb, gid):
    for cell in nb.cells:
        if grade_id(cell) == gid:
            return cell
    raise KeyError(f"no cell with grade_id {gid!r}")


def grade_cells(nb):
    """The autograded test cells: {grade_id: points}."""
    return {grade_id(cell): points(cell) for cell in nb.cells if is_test(cell)}


def manual_cells(nb):
    """Written answers graded by hand: {grade_id: points}."""
    return {grade_id(cell): points(cell) for cell in nb.cells if is_written_answer(cell)}


def marked_lines(nb, begin, end, min_length=12):
    """Distinctive lines (stripped, at least min_length long) found only between begin and end markers."""
    inside, outside = set(), set()
    for cell in nb.cells:
        on = False
        for line in cell.source.split("\n"):
            s = line.strip()
            if begin in line:
                on = True
            elif end in line:
                on = False
            elif len(s) >= min_length:
                (inside if on else outside).add(s)
    return inside - outside


def leaked_lines(master, texts):
    """{"solution": [...], "hidden test": [...]}: the master's distinctive solution and hidden-test lines (marked_lines)
    that occur as a line of any of texts (cell sources, test files), sorted; empty lists when nothing leaked."""
    present = {line.strip() for text in texts for line in text.split("\n")}
    return {label: sorted(marked_lines(master, begin, end) & present)
            for label, begin, end in [("solution", SOLUTION_BEGIN, SOLUTION_END), ("hidden test", HIDDEN_BEGIN, HIDDEN_END)]}


def provided_text(gid):
    return PROVIDED[gid].read_text()


def sync_provided(nb):
    """Copy each provided file into its cell. Returns the grade_ids that changed."""
    changed = []
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid in PROVIDED and cell.source != provided_text(gid).rstrip("\n"):
            cell.source = provided_text(gid).rstrip("\n")
            changed.append(gid)
    return changed


def drop_regions(source, begin, end, replacement=None):
    """Remove the lines between begin and end markers (inclusive); keep the inside if replacement is 'keep'."""
    lines, out, inside, indent = source.split("\n"), [], False, ""
    for line in lines:
        if begin in line:
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            if replacement not in (None, "keep"):
                out.extend(indent + r for r in replacement)
            continue
        if end in line:
            inside = False
            continue
        if not inside or replacement == "keep":
            out.append(line)
    return "\n".join(out)


def solution_notebook(master, keep_hidden_tests=False):
    """The master as a student who solved everything would hand it in: markers gone, hidden tests gone
    (or kept, unmarked, to grade it in-process)."""
    nb = nbformat.from_dict(master)
    for cell in nb.cells:
        cell.source = solution_source(cell.source, keep_hidden_tests)
    return nb


def solution_source(source, keep_hidden_tests=False):
    """One cell of solution_notebook."""
    source = drop_regions(source, SOLUTION_BEGIN, SOLUTION_END, "keep")
    source = drop_regions(source, HIDDEN_BEGIN, HIDDEN_END, "keep" if keep_hidden_tests else None)
    return re.sub(r"\n{3,}", "\n\n", source)


def leaks(nb):
    """Problems that make a notebook unfit to give to students: markers or hidden-test lines, cell roles."""
    problems = []
    for i, cell in enumerate(nb.cells):
        for marker in MARKERS:
            if marker in cell.source:
                problems.append(f"cell {i} ({grade_id(cell)}): contains {marker!r}")
        if role(cell):
            problems.append(f"cell {i} ({grade_id(cell)}): carries its role in the course's metadata ({role(cell)})")
    return problems


def parse_cell(source):
    """The ast.Module of a code cell's source, IPython syntax (magics, !commands) included; None if it does not
    parse."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return None


def bound_names(source, definitions_only=False):
    """Top-level names a cell binds: def, class, import (and, unless definitions_only, assignments)."""
    tree = parse_cell(source)
    if tree is None:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
        elif not definitions_only and isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def left_out(master, roles=("loads", "trains", "demonstrates"), keep=()):
    """Grade ids of the cells to leave out when the master (or a submission of it) runs in-process without the cells
    whose role (course/cells.py) is in `roles`, and of the tests that then cannot run.

    A `trains` or `demonstrates` cell is left out, and so is every test that reads a name only left-out cells bind
    (a test of the trained model). A `loads` cell is left out only when no cell that still runs reads what it binds.
    The tests in `keep` run all the same, with every cell they need (a `train_vec` run for its test)."""
    cells = [(grade_id(c), role(c), is_test(c), *cell_names(c.source))
             for c in master.cells if c.cell_type == "code" and grade_id(c)]
    needed, frontier = set(), set().union(*(reads for gid, _, _, _, reads in cells if gid in keep))
    while frontier:  # the role cells the kept tests need, and what those read in turn
        more = {gid for gid, r, _, binds, _ in cells if r in roles and gid not in needed and binds & frontier}
        needed |= more
        frontier = set().union(*(reads for gid, _, _, _, reads in cells if gid in more))
    out = {gid for gid, r, _, _, _ in cells if r in roles and r != "loads" and gid not in needed}
    for pending in (False, True):  # first the tests of what trains, then the data nothing still run reads
        changed = True
        while changed:
            runs = [(gid, binds, reads) for gid, r, _, binds, reads in cells if gid not in out]
            bound = set().union(*(binds for _, binds, _ in runs))
            lost = set().union(*(binds for gid, _, _, binds, _ in cells if gid in out)) - bound
            tests = {gid for gid, _, test, _, reads in cells if test and gid not in out | set(keep) and reads & lost}
            unused = {gid for gid, r, _, binds, _ in cells if pending and r == "loads" and gid not in out | needed
                      and not binds & set().union(*(reads for g, _, reads in runs if g != gid))}
            changed = bool(tests | unused)
            out |= tests | unused
    return out


def cell_names(source):
    """(names the cell binds in the notebook's namespace, names it reads from there that it does not bind itself):
    Python's own scoping (symtable), so a function's local variables are neither, and a name a function reads from
    the notebook is."""
    import symtable

    tree = parse_cell(source)
    if tree is None:
        return set(), set()
    table = symtable.symtable(ast.unparse(tree), "<cell>", "exec")
    binds = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    reads = set()
    stack = [table]
    while stack:
        scope = stack.pop()
        top = scope.get_type() == "module"
        reads |= {s.get_name() for s in scope.get_symbols() if s.is_referenced() and (top or s.is_global())}
        stack += scope.get_children()
    return binds, reads - binds


def failure_message(cell):
    """Why a graded test cell lost its points: 'ErrorName: message' (one line), or what it wrote to stderr."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            text = f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip().rstrip(":")
            return re.sub(r"\s+", " ", text)[:1000]
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            first = next((line for line in out.get("text", "").splitlines() if line.strip()), "")
            return f"wrote to stderr (a test must not): {first.strip()[:150]}"
    return "lost points without an error message"


def offscreen_pyplot():
    """matplotlib.pyplot set to draw off screen (Agg): for code here that runs notebooks or writes images."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def run_cells(nb, namespace=None, skip=(), edit=None, label="notebook"):
    """Execute the code cells of nb in-process (not graded test cells, not cells in `skip`).

    edit(grade_id, source) -> source may rewrite a cell first. Output goes to the caller's stdout.
    Returns the namespace. Used by the tests, calibration and benchmarks to reuse a master's code.
    """
    offscreen_pyplot()
    ns = {"__name__": "__course__"} if namespace is None else namespace
    for cell in nb.cells:
        gid = grade_id(cell)
        if cell.cell_type != "code" or gid in skip or is_grade(cell):
            continue
        source = edit(gid, cell.source) if edit else cell.source
        exec(compile(source, f"<{label}:{gid or 'cell'}>", "exec"), ns)  # noqa: S102 (our own notebooks)
    return ns


def run_graded(nb, guard, namespace, run_test, cell_id=grade_id, test_of=None, skip=()):
    """The one in-process grading loop (both editions): run every code cell of nb in order in `namespace`, output
    discarded, but those whose id is in `skip`. A test cell (test_of(cell) not None; default: nbgrader's test
    cells) goes to run_test(key, cell, i), which grades it; any other cell runs here, and `guard` (a LocalGuard)
    hears which names it made, or left unmade when it raised. Returns {crashed cell id: "Error: message"}."""
    import contextlib
    import io
    import warnings

    offscreen_pyplot()
    test_of = test_of or (lambda cell: grade_id(cell) if is_test(cell) else None)
    crashed = {}
    for i, cell in enumerate(nb.cells):
        gid = cell_id(cell) or f"cell-{i}"
        if cell.cell_type != "code" or gid in skip:
            continue
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            key = test_of(cell)
            if key is not None:
                run_test(key, cell, i)
                continue
            try:
                exec(compile(cell.source, f"<{gid}>", "exec"), namespace)  # noqa: S102 (our own notebooks)
                error = None
            except Exception as exc:  # noqa: BLE001 (a student's error of any kind: later tests lose points)
                error = exc
        guard.cell_ran(bound_names(cell.source), error, f"cell {i} ({gid})")
        if error is not None:
            crashed[gid] = f"{type(error).__name__}: {error}"
    return crashed


def grade_in_process(nb, skip=(), namespace=None, messages=None, end_to_end=(), manifest=None):
    """Run every code cell of nb in order, as the autograder would, but in this process (run_graded).

    Test cells that raise lose their points; other cells that raise are recorded and skipped. Each question is
    graded on its own, as GuardedExecute grades it: a test cell's `### BEGIN REFERENCE` regions are taken out of it
    and registered once it is over, and the tests after it run with those trusted copies in place of the student's
    functions (except the end-to-end tests, `end_to_end` or the manifest's, which run with the student's own). A
    failed test's message says first what explains it (integrity.guard.explain_failure), as GuardedExecute's does.
    Returns (failed test cell ids, {crashed cell id: error}); `messages`, a dict if given, receives
    {failed test cell id: "ErrorType: message"}, what the student reads. Much faster than nbgrader
    when the heavy training cells (and the tests that need them) are listed in `skip` (left_out).
    """
    from .integrity.guard import LocalGuard, reference_regions, test_label

    ns = {"__name__": "__course__"} if namespace is None else namespace
    end_to_end = set(end_to_end) | (manifest.end_to_end_tests if manifest else set())
    labels = {grade_id(c): test_label(grade_id(c), c.source) for c in nb.cells if is_test(c)}
    student = set().union(*(bound_names(c.source) for c in nb.cells if c.cell_type == "code" and is_solution(c)))
    guard = LocalGuard(ns, student)
    failed = []

    def run_test(gid, cell, _):
        source, references = reference_regions(cell.source)
        guard.enter(gid, isolate=gid not in end_to_end)
        try:
            exec(compile(source, f"<{gid}>", "exec"), ns)  # noqa: S102 (our own notebooks)
            error = None
        except Exception as exc:  # noqa: BLE001 (a student's error of any kind)
            error = exc
        finally:
            guard.leave(references, f"<{gid}: reference>")
        guard.outcomes[gid] = error is None
        if error is not None:
            failed.append(gid)
            if messages is not None:
                needs = manifest.needs(gid, [t for t in guard.outcomes if t != gid]) if manifest else []
                evalue = guard.explain(type(error).__name__, str(error), [(t, labels.get(t, t)) for t in needs])
                messages[gid] = f"{type(error).__name__}: {evalue}"

    crashed = run_graded(nb, guard, ns, run_test, skip=skip)
    return failed, crashed
