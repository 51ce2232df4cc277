"""What a person must review before a submission's grades go out, and which questions wait for them.

A grade must measure the student's own work. The grading guard (course/integrity/guard.py) keeps trusted
copies of the graded functions out of the notebook and refuses it frames, the garbage collector and tracing; what no
check inside the kernel can stop is code that reads the attributes of objects it was handed (a function's
__globals__ or __closure__), looks names up by a computed string, reads the names the tests define, or runs
generated code. Such code has no place in an honest solution of these notebooks, so this module finds it (an AST
scan of every cell the student wrote: findings) and follows, through the names each statement binds and reads, which
test cells it can reach: the questions it could have won. Their points are withheld until a person has looked
(GuardedExecute, and the otter edition's plugin); the class report and the gradebook say "needs review".

A test that runs isolated (each question graded on its own) reads the trusted copies of the functions that earlier
questions graded, not the student's: the search stops there. An end-to-end test (a trained model) reads everything.

Standard library only: the otter edition's plugin ships this file and runs it on Gradescope, from a plan of the
master computed when the edition is built (plan()); course/inspection.py applies it to nbgrader notebooks.
"""

import ast
import builtins
import re
from collections import namedtuple

from .guard import CHANNEL, REFERENCE_BEGIN, reference_regions

WITHHELD = "WithheldForReview"  # the error name of a test whose points wait for a person
WITHHOLD, NOTE = "withhold", "note"  # how serious a finding is: it withholds what it can reach, or a person reads it

# Reading these attributes reaches what a function or an object was built with, or the interpreter's machinery.
ALLOWED_DUNDERS = frozenset({"__init__", "__name__", "__doc__", "__qualname__", "__class__", "__len__", "__repr__",
                             "__str__", "__main__", "__future__", "__file__", "__version__"})
# In a string, only these are a sign (getattr(f, "__globals__")): operator names in text are harmless.
DANGEROUS_DUNDERS = frozenset({
    "__globals__", "__closure__", "__code__", "__defaults__", "__kwdefaults__", "__dict__", "__self__", "__func__",
    "__wrapped__", "__builtins__", "__subclasses__", "__bases__", "__base__", "__mro__", "__getattribute__",
    "__reduce__", "__reduce_ex__", "__import__", "__loader__", "__spec__", "__traceback__", "__objclass__",
    "__module__", "__annotations__", "__getattr__", "__setattr__", "__delattr__"})
SENSITIVE_ATTRIBUTES = {
    "modules": "the interpreter's table of modules", "_getframe": "frames", "currentframe": "frames",
    "getouterframes": "frames", "getinnerframes": "frames", "f_back": "frames", "f_locals": "frames",
    "f_globals": "frames", "f_code": "frames", "f_builtins": "frames", "tb_frame": "frames", "tb_next": "frames",
    "gi_frame": "frames", "gi_code": "code objects", "cr_frame": "frames", "ag_frame": "frames",
    "co_consts": "code objects", "co_code": "code objects", "co_names": "code objects", "cell_contents": "closures",
    "settrace": "tracing", "setprofile": "tracing", "monitoring": "tracing", "audit": "the grading guard",
    "addaudithook": "the grading guard", "meta_path": "the import system", "path_hooks": "the import system",
    "get_referrers": "the garbage collector", "get_referents": "the garbage collector",
    "get_objects": "the garbage collector", "attrgetter": "computed attribute names",
    "methodcaller": "computed attribute names", "user_ns": "the kernel's namespace", "user_global_ns":
    "the kernel's namespace", "get_parent": "the kernel's messages (the test being run)", "history_manager":
    "the cell history", "input_transformers_post": "IPython's input pipeline", "ast_transformers":
    "IPython's input pipeline", "set_custom_exc": "how errors are reported", "showtraceback": "how errors are reported",
    "excepthook": "how errors are reported", "displayhook": "how errors are reported", "run_code": "IPython's shell",
    "run_cell": "IPython's shell", "exc_info": "tracebacks (frames)", "exception": "tracebacks (frames)",
}
SENSITIVE_MODULES = {
    "gc": "the garbage collector", "inspect": "frames and code objects", "ctypes": "the interpreter's memory",
    "importlib": "the import system", "builtins": "builtins", "linecache": "the cells' source (hidden tests)",
    "traceback": "frames", "marshal": "code objects", "dis": "code objects", "code": "generated code",
    "codeop": "generated code", "runpy": "generated code", "signal": "frames (signal handlers)", "IPython":
    "IPython's shell", "ipykernel": "the kernel", "otter": "otter-grader's own objects", "pdb": "frames",
    "bdb": "frames", "tracemalloc": "frames", "faulthandler": "frames", "types": "code and function objects",
    "sys": None,  # fine to import; its sensitive attributes are flagged one by one
}
GENERATED = {"eval": "runs generated code", "exec": "runs generated code", "compile": "compiles generated code",
             "__import__": "imports by a computed name", "breakpoint": "stops in a debugger (frames)",
             "globals": "reads the notebook's namespace", "vars": "reads an object's namespace",
             "locals": "reads a namespace", "get_ipython": "reaches into the IPython shell (hooks, history, errors)"}
COMPUTED_NAME_CALLS = {"getattr", "setattr", "delattr", "hasattr"}
HISTORY = re.compile(r"^(In|Out|_ih|_oh|_dh|_ii+|_i\d*|_\d+|__+)$")
PRIVATE = re.compile(r"_dlfs|" + re.escape(CHANNEL) + r"|/autograder\b")
DUNDER = re.compile(r"__\w+__")
# What a person should read, though no point depends on it (kept from the earlier line-based scan).
NOTES = [
    (r"\b(np|numpy|math)(\.\w+)+\s*=(?!=)", "assigns into numpy or math (undone before each test)"),
    (r"\bos\s*\.\s*_exit\b|\bsys\s*\.\s*exit\b|^\s*(exit|quit)\s*\(", "stops the kernel"),
    (r"\bsubprocess\b|\bos\s*\.\s*(system|popen|kill|exec\w*)\b|\bsocket\b", "processes or network"),
    (r"\bthreading\b|\bmultiprocessing\b|\bos\s*\.\s*fork\b", "starts threads or processes"),
    (r"def\s+__(eq|ne|lt|le|gt|ge|bool|float|abs|array)__", "defines comparison or conversion methods"),
]


def parse(source):
    """The ast.Module of a code cell (IPython syntax: magics and !commands become calls), or None."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except ImportError:  # outside a Jupyter environment: drop magic lines
        source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


# -- one cell: the names its statements bind and read -------------------------------------------------------------

def _targets(node):
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            names.add(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and sub is not node:
            pass
    return names


def _reads(node):
    return {sub.id for sub in ast.walk(node) if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load)}


def statements(source):
    """[(first line, last line, names bound, names read, name of the def/class or None)] of a cell's top-level
    statements: a statement's bound names depend on what it reads (a function's body included)."""
    tree = parse(source)
    if tree is None:
        return []
    out = []
    for node in tree.body:
        own = node.name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else None
        out.append((node.lineno, getattr(node, "end_lineno", node.lineno), sorted(_targets(node)),
                    sorted(_reads(node)), own))
    return out


def bound(source):
    return set().union(*(set(s[2]) for s in statements(source))) if source.strip() else set()


# -- the scan of one student cell -----------------------------------------------------------------------------------

def _literal(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def scan_source(source, test_names=frozenset()):
    """[(line, why, severity)] of one cell the student wrote. test_names: names only the tests define."""
    tree = parse(source)
    found = []
    if tree is None:
        return found
    local = set()  # names the cell binds somewhere (its own variables, parameters, imports)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            local.add(node.id)
        elif isinstance(node, ast.arg):
            local.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            local.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            local.update((a.asname or a.name).split(".")[0] for a in node.names)

    def add(node, why, severity=WITHHOLD):
        found.append((getattr(node, "lineno", 1), why, severity))

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name = node.attr
            if DUNDER.fullmatch(name) and name not in ALLOWED_DUNDERS:
                add(node, f"reads {name} (what an object was built with)")
            elif name in SENSITIVE_ATTRIBUTES:
                add(node, f"uses .{name} ({SENSITIVE_ATTRIBUTES[name]})")
            elif PRIVATE.search(name):
                add(node, f"names the grader's own {name}")
        elif isinstance(node, ast.Name):
            name = node.id
            if name in GENERATED and isinstance(node.ctx, ast.Load):
                add(node, f"{name}: {GENERATED[name]}")
            elif HISTORY.match(name) and name != "_" and isinstance(node.ctx, ast.Load) and name not in local:
                add(node, f"reads {name} (the cell history, where hidden tests are)")
            elif PRIVATE.search(name):
                add(node, f"names the grader's own {name}")
            elif name in test_names and isinstance(node.ctx, ast.Load) and name not in local:
                add(node, f"reads {name}, a name only the tests define")
            elif DUNDER.fullmatch(name) and name not in ALLOWED_DUNDERS and isinstance(node.ctx, ast.Load):
                add(node, f"reads {name}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            dunders = [d for d in DUNDER.findall(text) if d in DANGEROUS_DUNDERS]
            if dunders:
                add(node, f"spells {dunders[0]} in a string")
            elif PRIVATE.search(text):
                add(node, f"spells the grader's own {PRIVATE.search(text).group(0)} in a string")
            elif text in SENSITIVE_ATTRIBUTES:
                add(node, f"spells {text!r} in a string")
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if called in COMPUTED_NAME_CALLS and len(node.args) >= 2 and _literal(node.args[1]) is None:
                add(node, f"{called}() with a computed attribute name")
            elif called in ("setattr", "delattr"):
                add(node, f"{called}() on a named attribute (what the tests use is restored before each)", NOTE)
            elif called == "dir":
                add(node, "dir(): lists names to look up", NOTE)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                top = module.split(".")[0]
                if PRIVATE.search(module):
                    add(node, f"imports the grader's own {module}")
                elif SENSITIVE_MODULES.get(top):
                    add(node, f"imports {module} ({SENSITIVE_MODULES[top]})")
            if isinstance(node, ast.ImportFrom) and node.module == "sys":
                for alias in node.names:
                    if alias.name in SENSITIVE_ATTRIBUTES:
                        add(node, f"imports sys.{alias.name} ({SENSITIVE_ATTRIBUTES[alias.name]})")
    lines = source.split("\n")
    for n, line in enumerate(lines, 1):
        code = line.split("#", 1)[0]
        for pattern, why in NOTES:
            if re.search(pattern, code):
                found.append((n, why, NOTE))
    for name in sorted(bound(source) & set(dir(builtins)) - {"_"}):
        n = next((k for k, line in enumerate(lines, 1) if re.search(rf"\b{re.escape(name)}\b", line)), 1)
        found.append((n, f"rebinds the builtin {name!r} (undone before each test)", NOTE))
    return sorted(set(found))


# -- the master as the scan needs it --------------------------------------------------------------------------------

def plan(cells):
    """What the scan needs to know of the master, as plain data: [{id, kind, source facts}] in notebook order.

    cells: [(id, kind, source)] with kind "test", "provided" (a locked cell) or "solution"; for a test, only the
    names its reference regions define are kept, never its code."""
    out = []
    for gid, kind, source in cells:
        body, references = reference_regions(source) if kind == "test" else (source, "")
        entry = {"id": gid, "kind": kind, "statements": statements(body)}
        if kind == "test":
            entry["references"] = sorted(n for n in bound(references) if not n.startswith("_"))
        else:  # every name the cell binds, in its functions too: code after a student's part may read them
            tree = parse(body)
            entry["names"] = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
                                     and isinstance(n.ctx, ast.Store)} | bound(body)) if tree else []
        out.append(entry)
    return out


def test_only_names(instructor_plan):
    """Names that only test cells bind: student code has no business reading them."""
    tests, others = set(), set(dir(builtins))
    for entry in instructor_plan:
        names = set().union(*(set(s[2]) for s in entry["statements"])) if entry["statements"] else set()
        (tests if entry["kind"] == "test" else others).update(names)
        others.update(entry.get("names", ()))
    return frozenset(tests - others)


# -- a submission ---------------------------------------------------------------------------------------------------

Finding = namedtuple("Finding", "cell line code why severity")  # cell index, line, the line's code, why, severity


def student_cells(cells, instructor_plan):
    """[(index, source)] of the code cells the student wrote: cells: [(index, id or None, source)] of the graded
    notebook (instructor cells there hold the instructor's source again)."""
    locked = {e["id"] for e in instructor_plan if e["kind"] != "solution"}
    return [(i, source) for i, gid, source in cells if gid not in locked]


def scan_cells(cells, instructor_plan):
    """Every Finding in the student's cells."""
    names = test_only_names(instructor_plan)
    findings = []
    for index, source in student_cells(cells, instructor_plan):
        lines = source.split("\n")
        for line, why, severity in scan_source(source, names):
            findings.append(Finding(index, line, lines[line - 1].strip() if 0 < line <= len(lines) else "", why,
                                    severity))
    return findings


def withheld_tests(findings, cells, instructor_plan, end_to_end=frozenset()):
    """{test id: [why]} for every test a WITHHOLD finding can reach (see the module docstring).

    cells: [(index, id or None, source)] of the graded notebook in order; end_to_end: tests run without isolation.
    Names are followed in notebook order: a test reads the binding of each name that came last before it (a
    function's body reads them when it is called, so they are looked up at the test too)."""
    serious = [f for f in findings if f.severity == WITHHOLD]
    if not serious:
        return {}
    facts = {e["id"]: e for e in instructor_plan}
    student = dict(student_cells(cells, instructor_plan))
    reads, tainted = {}, {}  # name -> what its last binding read / why that binding is suspect
    everything_after, withheld, registered = None, {}, set()
    for index, gid, source in cells:
        entry = facts.get(gid)
        if entry is not None and entry["kind"] == "test":
            own = set().union(*(set(s[2]) for s in entry["statements"])) if entry["statements"] else set()
            reasons = [everything_after] if everything_after else []
            stop = own | (set() if gid in end_to_end else registered)  # isolated: earlier questions' code is lent
            seen, todo = set(), [n for s in entry["statements"] for n in s[3]]
            while todo:
                name = todo.pop()
                if name in seen or name in stop:
                    continue
                seen.add(name)
                if tainted.get(name):
                    reasons.append(f"it runs {name}, and {tainted[name]}")
                todo.extend(reads.get(name, ()))
            if reasons:
                withheld[gid] = sorted(set(reasons))
            registered.update(entry.get("references", []))
            continue
        stmts = statements(source) if index in student or entry is None else entry["statements"]
        here = [f for f in serious if f.cell == index]
        for first, last, names, read, own in stmts:
            hits = [f for f in here if first <= f.line <= last]
            why = f"cell {index}, line {hits[0].line}: {hits[0].why} ({hits[0].code})" if hits else None
            if why and own is None and everything_after is None:
                everything_after = why  # code that runs when its cell runs: it can change anything after it
            for name in names:
                reads[name], tainted[name] = set(read), why
    return withheld


def where(attempt):
    """'cell N, line L' (or the file and line) of an attempt the guard refused."""
    place = attempt.get("where", "")
    line = place.rsplit(":", 1)[-1] if ":" in place else "?"
    cell = attempt.get("cell")
    return (f"cell {cell}, line {line}" if cell is not None else place) + (f" ({attempt['line']})"
                                                                           if attempt.get("line") else "")


def summary(findings, attempts, withheld_map):
    """What the graded notebook's metadata records for the reports: course.integrity.review."""
    return {"needs_review": bool(withheld_map or attempts or any(f.severity == WITHHOLD for f in findings)),
            "withheld": {k: list(v) for k, v in sorted(withheld_map.items())},
            "findings": [{"cell": f.cell, "line": f.line, "code": f.code, "why": f.why, "severity": f.severity}
                         for f in findings],
            "refused": [dict(a) for a in attempts]}


def log_lines(findings, attempts):
    lines = [f"cell {f.cell}, line {f.line} {f.why}: {f.code}" for f in findings]
    lines += [f"refused while grading, {where(a)}: it {a['detail']}" for a in attempts]
    return lines


__all__ = ["NOTE", "REFERENCE_BEGIN", "WITHHELD", "WITHHOLD", "Finding", "log_lines", "plan", "scan_cells",
           "scan_source", "statements", "summary", "test_only_names", "where", "withheld_tests"]
