"""Submissions that try to earn points without the work: a blank release plus one short generic wrapper per graded
function or class, which, when called, delegates to a trusted copy of itself found by some means (issue: "grades
that only the student's own work can earn"). tests/test_tampering.py grades them with nbgrader, tests/test_otter.py
with `otter run`; every one must gain nothing in any question.

Each means is a cell the student adds after the setup cell, defining `_steal(name, me)`: the callable it finds
for `name` (other than `me`, the wrapper itself), or None. The wrappers replace every function and class the
release's solution cells define (appended to each cell, so they win over the blank stubs).
"""

import ast

import nbformat

from course.cells import is_solution

MEANS = {
    # a global whose name looks like a copy of the function, found with a plain globals() look-up
    "by_name": '''
def _steal(name, me):
    space = globals()
    for key, value in list(space.items()):
        if name in key and key != name and value is not me:
            if callable(value):
                return value
        if isinstance(value, dict) and name in value and callable(value[name]) and value[name] is not me:
            return value[name]
    return None
''',
    # the names such copies had (no look-up by string at all): a NameError means there is none
    "known_names": '''
def _steal(name, me):
    for getter in (lambda: _reference_add, lambda: _REFERENCE, lambda: _RefDense, lambda: _ref_compute_gradients):
        try:
            found = getter()
        except NameError:
            continue
        if isinstance(found, dict) and name in found:
            return found[name]
        if callable(found) and name in getattr(found, "__name__", ""):
            return found
    return None
''',
    # the callers' frames: the test's globals and locals, up the stack
    "frames": '''
import sys


def _steal(name, me):
    frame = sys._getframe(1)
    while frame is not None:
        for space in (frame.f_locals, frame.f_globals):
            for key, value in list(space.items()):
                if callable(value) and value is not me and (key == name or key.endswith("_" + name)):
                    if getattr(value, "__name__", "") != "wrapper":
                        return value
        frame = frame.f_back
    return None
''',
    # every function the garbage collector knows with the graded name, but the wrapper
    "garbage_collector": '''
import gc


def _steal(name, me):
    for obj in gc.get_objects():
        if callable(obj) and obj is not me and getattr(obj, "__name__", "") in (name, "_reference_" + name):
            if getattr(obj, "__qualname__", "").split(".")[0] != "_wrap":
                return obj
    return None
''',
    # the closures, globals and defaults of the provided functions: whatever they hold
    "closures": '''
def _steal(name, me):
    seen, todo = set(), [v for v in list(globals().values()) if callable(v)]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if obj is not me and callable(obj) and getattr(obj, "__name__", "") == name and \\
                getattr(obj, "__qualname__", "").split(".")[0] != "_wrap":
            return obj
        for cell in getattr(obj, "__closure__", None) or ():
            try:
                todo.append(cell.cell_contents)
            except ValueError:
                pass
        todo += list(getattr(obj, "__defaults__", None) or ())
        if isinstance(obj, dict):
            todo += list(obj.values())
    return None
''',
    # whatever stands in the notebook under the function's own name while another question's test runs, kept for
    # later (the training cells, say)
    "stash": '''
_STASH = {}


def _steal(name, me):
    for key, value in list(globals().items()):
        if callable(value) and getattr(value, "__name__", "") == key and key not in _STASH and \\
                getattr(value, "__qualname__", "").split(".")[0] != "_wrap":
            _STASH[key] = value
    found = _STASH.get(name)
    return found if found is not me else None
''',
}

WRAPPER = '''

def _wrap(name, kind):
    if kind == "class":
        class Wrapper:
            def __new__(cls, *args, **kwargs):
                found = _steal(name, Wrapper)
                if found is None:
                    raise NotImplementedError(name)
                return found(*args, **kwargs)
        Wrapper.__name__ = name
        return Wrapper

    def wrapper(*args, **kwargs):
        found = _steal(name, wrapper)
        if found is None:
            raise NotImplementedError(name)
        return found(*args, **kwargs)
    return wrapper

'''


def graded_names(source):
    """[(name, "function" or "class")] that a solution cell defines at its top level."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [(node.name, "class" if isinstance(node, ast.ClassDef) else "function") for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))]


def attack(blank, means):
    """The blank release `blank` (a notebook) with the means cell and a wrapper for every graded function."""
    nb = nbformat.from_dict(blank)
    first = True
    for cell in nb.cells:
        if cell.cell_type != "code" or not is_solution(cell):
            continue
        names = graded_names(cell.source)
        if not names:
            continue
        prefix = (MEANS[means] + WRAPPER) if first else ""
        first = False
        cell.source = prefix + cell.source + "\n\n" + "\n".join(f"{n} = _wrap({n!r}, {k!r})" for n, k in names)
    return nb
