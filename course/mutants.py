"""Mutation analysis of the hidden tests: one-line mistakes planted in the code students write, graded by the
master's own tests; a mutant is killed only if a question of its own cell loses points.

    python -m course mutants <a> [--question Q] [--workers N] [--sample N] [--timeout S]

Mutants are made in the solution regions of the master only (`### BEGIN SOLUTION` ... `### END SOLUTION`: exactly
the code students write), by a small mutator on Python's own syntax tree (course/mutants.py, OPERATORS): mutmut and
cosmic-ray mutate importable modules and run a test command per mutant, and neither can address a region inside a
notebook cell nor grade it question by question. Each mutation replaces the text of one node, so a survivor reads as
a one-line diff of the master.

A mutant's questions are the test cells between its cell and the next solution cell (the tests the notebook puts
under the task) and those the catalog's bugs in that cell must fail. It is graded as the catalog is (course.notebooks.grade_in_process on the reference with the mutant
in place, hidden tests included, the cells that train left out), only as far as its last question, on the local
worker pool with a time limit per mutant. A mutant whose questions need a training cell is graded with that cell at
the autograder's budgets (NBGRADER_EXECUTION set). The cells that train are the student's own choice of a model and
its settings (role "trains"): they are not mutated.

Equivalent mutants (the same behaviour for every valid input) are listed in the assignment's manifest,
`[equivalent_mutants."<id>"] reason = "why, in one line"`; the report counts them apart.

Written to reports/mutants/<a>.md (per question: mutants, killed, survived, timed out, equivalent; each survivor as a
diff; each killed mutant's first message) and reports/mutants/<a>.csv.
"""

import ast
import csv
import difflib
import hashlib
import random
import re
import time
from dataclasses import dataclass, field

from .cells import grade_id, is_solution, is_test
from .notebooks import SOLUTION_BEGIN, SOLUTION_END

OPERATORS = {
    "arithmetic": "+ and -, * and / swapped; ** made *; @ made *",
    "comparison": "< and <=, > and >=, == and != swapped",
    "augmented": "+= (or -=, *=) made = ; += and -= swapped",
    "sign": "a unary minus dropped",
    "constant": "a number made 0 (or 1 when it is 0), one more, or twice itself",
    "statement": "an assignment, augmented assignment or call statement deleted (made `pass`)",
    "arguments": "the first two positional arguments of a call swapped",
    "axis": "axis=k made k+1 (or k-1); keepdims=True made False",
    "transpose": "a .T dropped; a .T added to the right operand of @",
    "slice": "a slice's start or end dropped",
    "data_grad": "the key 'data' made 'grad', and the reverse",
    "reduction": "a .sum(...) or .mean(...) call removed (what broadcasting needs reduced is not)",
}
SWAP_BINOP = {ast.Add: "-", ast.Sub: "+", ast.Mult: "/", ast.Div: "*", ast.Pow: "*", ast.MatMult: "*"}
BINOP_TEXT = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
SWAP_COMPARE = {ast.Lt: ("<", "<="), ast.LtE: ("<=", "<"), ast.Gt: (">", ">="), ast.GtE: (">=", ">"),
                ast.Eq: ("==", "!="), ast.NotEq: ("!=", "==")}
AUG_TEXT = {ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/="}


@dataclass
class Mutant:
    id: str  # <cell>/<operator>/<hash of the changed line>: stable when other code changes
    cell: str
    operator: str
    line: int  # 1-based, in the reference cell
    before: str  # the line, before and after
    after: str
    source: str  # the whole mutated cell
    questions: list = field(default_factory=list)
    training: bool = False  # its questions need a training cell: graded with it, at grading budgets

    def diff(self):
        return "\n".join(difflib.unified_diff(self.before.splitlines(), self.after.splitlines(), "master", "mutant",
                                              lineterm="", n=0))


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed, survived, timed out, equivalent, error
    message: str = ""  # the first failing question's message (killed)
    seconds: float = 0.0


SENTINEL = "  #\x00region"


def region_lines(master_source):
    """0-based line numbers, in the reference cell (course.notebooks.solution_source, hidden tests kept), of the
    lines inside solution regions: each is marked before the transformation and found after it."""
    from .notebooks import solution_source

    marked, inside = [], False
    for line in master_source.split("\n"):
        if SOLUTION_BEGIN in line:
            inside = True
        elif SOLUTION_END in line:
            inside = False
        elif inside and line.strip():
            line += SENTINEL
        marked.append(line)
    return {i for i, line in enumerate(solution_source("\n".join(marked), True).split("\n")) if SENTINEL in line}


def _offsets(source):
    starts, total = [], 0
    for line in source.split("\n"):
        starts.append(total)
        total += len(line) + 1
    return lambda lineno, col: starts[lineno - 1] + col


def _between(source, pos, a, b):
    """(start, end) offsets of the text between node a's end and node b's start."""
    return pos(a.end_lineno, a.end_col_offset), pos(b.lineno, b.col_offset)


def edits(source, lines):
    """[(operator, start, end, replacement)] for the nodes of `source` wholly on `lines` (0-based)."""
    tree = ast.parse(source)
    pos = _offsets(source)
    out = []

    def inside(node):
        return all(n in lines for n in range(node.lineno - 1, node.end_lineno))

    def text(node):
        return source[pos(node.lineno, node.col_offset):pos(node.end_lineno, node.end_col_offset)]

    def span(node):
        return pos(node.lineno, node.col_offset), pos(node.end_lineno, node.end_col_offset)

    for node in ast.walk(tree):
        if not hasattr(node, "lineno") or not inside(node):
            continue
        if isinstance(node, ast.BinOp) and type(node.op) in SWAP_BINOP:
            a, b = _between(source, pos, node.left, node.right)
            gap = source[a:b]
            op = BINOP_TEXT[type(node.op)]
            if op in gap:
                k = a + gap.index(op)
                out.append(("arithmetic", k, k + len(op), SWAP_BINOP[type(node.op)]))
            if isinstance(node.op, ast.MatMult):
                s, e = span(node.right)
                out.append(("transpose", s, e, f"({text(node.right)}).T"))
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in SWAP_COMPARE:
            a, b = _between(source, pos, node.left, node.comparators[0])
            old, new = SWAP_COMPARE[type(node.ops[0])]
            gap = source[a:b]
            if old in gap:
                k = a + gap.index(old)
                out.append(("comparison", k, k + len(old), new))
        elif isinstance(node, ast.AugAssign) and type(node.op) in AUG_TEXT:
            a, b = _between(source, pos, node.target, node.value)
            op = AUG_TEXT[type(node.op)]
            gap = source[a:b]
            if op in gap:
                k = a + gap.index(op)
                out.append(("augmented", k, k + len(op), "="))
                if op in ("+=", "-="):
                    out.append(("augmented", k, k + 2, "-=" if op == "+=" else "+="))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            s, _ = span(node)
            o, _ = span(node.operand)
            out.append(("sign", s, o, ""))
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
            s, e = span(node)
            v = node.value
            for new in ({0: [1], 1: [0, 2]}.get(v, [0, v + 1, v * 2])):
                if new != v:
                    out.append(("constant", s, e, repr(type(v)(new))))
        elif isinstance(node, ast.Constant) and node.value in ("data", "grad"):
            s, e = span(node)
            quote = source[s]
            out.append(("data_grad", s, e, quote + ("grad" if node.value == "data" else "data") + quote))
        elif isinstance(node, ast.Attribute) and node.attr == "T":
            s, e = span(node)
            out.append(("transpose", s, e, text(node.value)))
        elif isinstance(node, ast.Call):
            if len(node.args) >= 2 and not any(isinstance(x, ast.Starred) for x in node.args[:2]):
                (s1, e1), (s2, e2) = span(node.args[0]), span(node.args[1])
                first, second = source[s1:e1], source[s2:e2]
                if first != second:
                    out.append(("arguments", s1, e2, second + source[e1:s2] + first))
            for kw in node.keywords:
                if kw.arg == "axis" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, int):
                    s, e = span(kw.value)
                    k = kw.value.value
                    out.append(("axis", s, e, str(k + 1 if k <= 0 else k - 1)))
                if kw.arg == "keepdims" and isinstance(kw.value, ast.Constant) and kw.value.value is True:
                    s, e = span(kw.value)
                    out.append(("axis", s, e, "False"))
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("sum", "mean"):
                s, e = span(node)
                out.append(("reduction", s, e, text(node.func.value)))
        elif isinstance(node, ast.Slice):
            for part in (node.lower, node.upper):
                if part is not None:
                    s, e = span(part)
                    out.append(("slice", s, e, ""))
        if isinstance(node, ast.Assign | ast.AugAssign | ast.Expr) and not (
                isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            s, e = span(node)
            out.append(("statement", s, e, "pass"))
    return out


def _id(cell, operator, before, after):
    digest = hashlib.sha1(f"{before}\0{after}".encode()).hexdigest()[:10]
    return f"{cell}/{operator}/{digest}"


def questions_of(master, catalog=None):
    """{solution cell: its questions}: the test cells after it, before the next solution cell (for a cell no test
    follows, a class the next task's tests exercise: the first tests after it that read a name it defines), and
    the tests the catalog's bugs in that cell must fail (their `fails`: what the instructor calls its questions)."""
    from .notebooks import cell_names

    blocks, current = {}, None
    order = []
    for cell in master.cells:
        if cell.cell_type == "code" and is_solution(cell):
            current = grade_id(cell)
            blocks[current] = []
            order.append(current)
        elif is_test(cell) and current is not None:
            blocks[current].append((grade_id(cell), cell_names(cell.source)[1]))
    out = {}
    for i, gid in enumerate(order):
        tests = [t for t, _ in blocks[gid]]
        if not tests:
            binds = cell_names(next(c.source for c in master.cells if grade_id(c) == gid))[0]
            for later in order[i + 1:]:
                tests = [t for t, reads in blocks[later] if reads & binds]
                if tests:
                    break
        out[gid] = tests
    bugs = {**getattr(catalog, "BUGS", {}), **getattr(catalog, "GRADING_MODE_BUGS", {})}
    for entry in bugs.values():
        for cell in {edit[0] for edit in entry["edits"]} & set(out):
            out[cell] += [t for t in entry["fails"] if t not in out[cell]]
    return out


def mutants(assignment, questions=None):
    """Every mutant of the Assignment's solution regions ([Mutant]), in notebook order; only those of the cells
    graded by `questions` when given."""
    from .notebooks import solution_notebook

    master = assignment.master()
    reference = {grade_id(c): c.source for c in solution_notebook(master, keep_hidden_tests=True).cells}
    tests = questions_of(master, assignment.catalog)
    out, seen = [], set()
    for cell in master.cells:
        gid = grade_id(cell)
        if cell.cell_type != "code" or not is_solution(cell) or SOLUTION_BEGIN not in cell.source:
            continue
        if questions and not set(tests[gid]) & set(questions):
            continue
        source, lines = reference[gid], region_lines(cell.source)
        for operator, start, end, new in edits(source, lines):
            mutated = source[:start] + new + source[end:]
            try:
                ast.parse(mutated)
            except SyntaxError:
                continue
            first = source.count("\n", 0, start)
            last = source.count("\n", 0, end)
            before = "\n".join(source.split("\n")[first:last + 1])
            after_lines = mutated.split("\n")[first:first + 1 + mutated.count("\n", start, start + len(new))]
            after = "\n".join(after_lines)
            mid = _id(gid, operator, before, after)
            if mid in seen or before == after:
                continue
            seen.add(mid)
            out.append(Mutant(mid, gid, operator, first + 1, before, after, mutated, tests[gid]))
    return out


def sample(found, per_question, seed=0):
    """A fixed sample: up to `per_question` mutants of each cell, chosen with `seed`."""
    by_cell = {}
    for m in found:
        by_cell.setdefault(m.cell, []).append(m)
    rng = random.Random(seed)
    return [m for ms in by_cell.values() for m in rng.sample(ms, min(per_question, len(ms)))]


@dataclass
class Task:
    root: str
    assignment: str
    mutant: Mutant
    student: str = "mutant"  # what the pool's `lost` reads


def grade_mutant(task):
    """In a worker: the reference with the mutant in place, graded in process as far as its last question."""
    import os

    from .course import Course
    from .notebooks import cell_by_id, grade_in_process
    from .submissions import reference

    start = time.perf_counter()
    a = Course.at(task.root)[task.assignment]
    m = task.mutant
    nb = reference(a, keep_hidden_tests=True)
    cell_by_id(nb, m.cell).source = m.source
    ids = [grade_id(c) for c in nb.cells]
    last = max(ids.index(q) for q in m.questions)
    after = {gid for gid in ids[last + 1:] if gid}
    messages = {}
    if m.training:  # the training cells its questions need run, at the autograder's budgets
        os.environ[GRADING] = "autograde"
    try:
        failed, _ = grade_in_process(nb, a.left_out(keep=set(m.questions) if m.training else ()) | after,
                                     messages=messages, manifest=a.manifest)
    finally:
        os.environ.pop(GRADING, None)
    lost = [q for q in m.questions if q in failed]
    status = "killed" if lost else "survived"
    return Outcome(m, status, messages.get(lost[0], "") if lost else "", time.perf_counter() - start)


def lost_task(task, why):
    return Outcome(task.mutant, "timed out" if why.startswith("timed out") else "error", why)


def run(assignment, questions=None, workers=2, per_question=None, timeout=120.0, progress=True,
        training_timeout=900.0):
    """Grade the mutants of an Assignment; returns (outcomes, not graded: {cell: why}). A mutant whose questions
    need a training cell is graded with it at grading budgets (time limit `training_timeout`); the cells that train
    (role "trains": the student's own choice of a model and its settings) are not mutated."""
    from tqdm import tqdm

    from .grading.engines import run_pool

    found = mutants(assignment, questions)
    left_out = assignment.left_out()
    trains = set(assignment.cells("trains"))
    not_graded = {}
    todo = []
    for m in found:
        if m.cell in trains:
            not_graded[m.cell] = ("the student's own choice of what to train (a model, its settings): graded by "
                                  "what it reaches, not line by line")
            continue
        if not m.questions:
            not_graded[m.cell] = "no question grades it"
            continue
        graded = [q for q in m.questions if q not in left_out]
        m.training = not graded
        m.questions = graded or m.questions
        todo.append(m)
    if per_question:
        todo = sample(todo, per_question)
    equivalent = assignment.manifest.equivalent_mutants
    outcomes = []
    bar = tqdm(total=len(todo), desc=f"{assignment} mutants", unit="mutant", disable=not progress)

    def record(outcome):
        if outcome.status == "survived" and outcome.mutant.id in equivalent:
            outcome.status = "equivalent"
        outcomes.append(outcome)
        bar.update(1)

    for training, limit in ((False, timeout), (True, training_timeout)):
        tasks = [Task(str(assignment.root), assignment.name, m) for m in todo if m.training == training]
        if tasks:
            run_pool(tasks, workers, record, grade=grade_mutant, timeout=limit, lost=lost_task)
    bar.close()
    order = {m.id: i for i, m in enumerate(todo)}
    outcomes.sort(key=lambda o: order[o.mutant.id])
    return outcomes, not_graded


GRADING = "NBGRADER_EXECUTION"  # set while nbgrader grades: the notebooks train with their grading budgets
STATUSES = ["killed", "survived", "timed out", "equivalent", "error"]
CAUSE = re.compile(r"likely cause|probably|instead of|forgot|\bfix\b|\buse\b|\bmust\b|\bshould\b|:\s*(?:pass|compute|"
                   r"add|subtract|divide|multiply|clip|sum|take|start|call|return)\b", re.IGNORECASE)


def message_kind(message):
    """'names a cause' when the message says what to change (its wording: "Likely cause", "use", "should", an
    imperative after a colon...), else 'states facts' (what came out and what was expected). Whether a named cause
    is the mutant's own is for a person to read: the report lists every message beside its change."""
    return "names a cause" if CAUSE.search(message or "") else "states facts"


def table(outcomes):
    """{question: {status: count}}, each mutant under the first of its questions."""
    out = {}
    for o in outcomes:
        row = out.setdefault(o.mutant.questions[0], dict.fromkeys(STATUSES, 0))
        row[o.status] += 1
    return out


def score(row):
    """Killed (timed out counts: the student's cell would be stopped) over the non-equivalent mutants."""
    total = sum(row.values()) - row["equivalent"]
    return (row["killed"] + row["timed out"]) / total if total else 1.0


def markdown(assignment, outcomes, not_graded, seconds):
    lines = [f"# Mutation analysis: {assignment}", "",
             (f"`python -m course mutants {assignment}`: {len(outcomes)} mutants graded in {seconds:.0f} s. A mutant is "
             "killed only when a question of its own cell loses points."), "",
             "| question | mutants | killed | survived | timed out | equivalent | error | score |",
             "|---|---|---|---|---|---|---|---|"]
    for q, row in table(outcomes).items():
        lines.append(f"| `{q}` | {sum(row.values())} | " + " | ".join(str(row[s]) for s in STATUSES)
                     + f" | {score(row):.0%} |")
    lines += ["", "## Operators", ""] + [f"- `{k}`: {v}" for k, v in OPERATORS.items()]
    if not_graded:
        lines += ["", "## Not graded here", ""] + [f"- `{c}`: {why}" for c, why in sorted(not_graded.items())]
    survivors = [o for o in outcomes if o.status == "survived"]
    lines += ["", f"## Survivors ({len(survivors)})", ""]
    for o in survivors:
        lines += [f"`{o.mutant.id}` ({o.mutant.operator}, line {o.mutant.line} of `{o.mutant.cell}`)", "", "```diff",
                  o.mutant.diff(), "```", ""]
    killed = [o for o in outcomes if o.status == "killed"]
    kinds = {k: sum(message_kind(o.message) == k for o in killed) for k in ("names a cause", "states facts")}
    lines += ["", f"## First messages of the killed mutants ({len(killed)})", "",
              (f"{kinds['names a cause']} name a cause, {kinds['states facts']} state plain facts (message_kind: by their "
              "wording). Each beside its change, for a person to check that a named cause is the mutant's own:"), "",
              "| mutant | change | kind | message |", "|---|---|---|---|"]
    for o in killed:
        change = f"{o.mutant.before.strip()} → {o.mutant.after.strip()}".replace("|", "\\|")
        lines.append(f"| `{o.mutant.id}` | `{change[:120]}` | {message_kind(o.message)} | "
                     f"{o.message[:300].replace('|', chr(92) + '|')} |")
    return "\n".join(lines) + "\n"


def write_report(assignment, outcomes, not_graded, seconds):
    folder = assignment.root / "reports" / "mutants"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{assignment}.md").write_text(markdown(assignment, outcomes, not_graded, seconds))
    with open(folder / f"{assignment}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "cell", "question", "operator", "line", "before", "after", "status", "message", "seconds"])
        for o in outcomes:
            m = o.mutant
            w.writerow([m.id, m.cell, m.questions[0], m.operator, m.line, m.before.strip(), m.after.strip(), o.status,
                        o.message, f"{o.seconds:.2f}"])
    return folder / f"{assignment}.md"


def summary_lines(outcomes):
    lines = [f"{'question':<30}{'mutants':>8}{'killed':>8}{'survived':>9}{'timed out':>10}{'equiv.':>8}{'score':>7}"]
    for q, row in table(outcomes).items():
        lines.append(f"{q:<30}{sum(row.values()):>8}{row['killed']:>8}{row['survived']:>9}{row['timed out']:>10}"
                     f"{row['equivalent']:>8}{score(row):>7.0%}")
    return lines
