"""Runs inside a grading kernel, never in the grader: course.nbgrader_ext.guarded_execute sends this file's text to the kernel
before the first cell, as module `_dlfs_guard`.

install() takes a snapshot of what the tests trust (numpy, math, builtins, sys hooks, the IPython shell)
before any student code runs; remember() records the names an instructor cell defines; restore() puts all
of it back before each test cell, so that a submission cannot make a test pass by replacing np.allclose,
abs or a test helper, by adding input or AST transformers that drop `assert` lines, by tracing and jumping
over lines, by event callbacks or custom exception handlers, or by patching the shell's methods.

Student code runs in this same process: one that attacks this module itself (finds it in sys.modules,
patches ipykernel's message handling, rewrites objects found through gc) is out of its reach. The static
scan in course/inspection.py flags such code for a human. See docs/grading_security.md.
"""

import builtins
import copy
import importlib
import inspect
import os
import sys
import threading

SAFE_MODULE_PREFIXES = ("IPython", "ipykernel", "matplotlib", "matplotlib_inline", "ipywidgets", "comm", "jupyter")

_modules = {}  # name -> (module, snapshot of its namespace)
_sys = {}
_objects = []  # (object, its instance-attribute names, [(class, {name: function})])
_remembered = {}  # user-namespace name -> (value, whether to restore a deep copy)
_student_names = frozenset()


def _shell():
    if "shell" not in _sys:  # kept from install() on: student code could replace IPython.get_ipython
        from IPython import get_ipython

        _sys["shell"] = get_ipython()
    return _sys["shell"]


def _plain(value, budget=10_000):
    """Small containers of numbers and strings (thresholds, settings): restored by deep copy."""
    todo = [value]
    while todo:
        budget -= 1
        v = todo.pop()
        if budget < 0:
            return False
        if isinstance(v, dict):
            todo += list(v.keys()) + list(v.values())
        elif isinstance(v, (list, tuple, set, frozenset)):
            todo += list(v)
        elif not isinstance(v, (int, float, complex, str, bytes, bool, type(None))):
            return False
    return True


def _methods(cls):
    return {k: v for k, v in vars(cls).items()
            if inspect.isfunction(v) or isinstance(v, (property, classmethod, staticmethod))}


def _freeze(obj, classes=None):
    classes = classes or [cls for cls in type(obj).__mro__ if cls is not object]
    _objects.append((obj, set(getattr(obj, "__dict__", {})), [(cls, _methods(cls)) for cls in classes]))


def _thaw(obj, keys, classes):
    for cls, methods in classes:
        for name, method in methods.items():
            if cls.__dict__.get(name) is not method:
                setattr(cls, name, method)
    for name in set(getattr(obj, "__dict__", {})) - keys:
        if any(name in methods for _, methods in classes):  # an instance attribute hiding a method
            delattr(obj, name)


def _trusted_callable(fn):
    module = getattr(fn, "__module__", None) or getattr(getattr(fn, "__func__", None), "__module__", None) or ""
    return module.startswith(SAFE_MODULE_PREFIXES)


def install(trusted_modules, student_names):
    """Snapshot everything restore() puts back. Runs before any cell of the notebook."""
    global _student_names
    _student_names = frozenset(student_names)
    cwd = os.getcwd()
    saved_path = list(sys.path)
    sys.path[:] = [p for p in sys.path if p not in ("", ".", cwd)]  # the real modules, not a submitted numpy.py
    try:
        for name in trusted_modules:
            try:
                importlib.import_module(name)
            except ImportError:
                pass
    finally:
        sys.path[:] = saved_path
    for name in ("builtins", *trusted_modules):
        if name in sys.modules:
            _modules[name] = (sys.modules[name], dict(vars(sys.modules[name])))
    for name in ("excepthook", "displayhook", "stdout", "stderr", "stdin"):
        _sys[name] = getattr(sys, name)
    shell = _shell()
    _sys["custom_exceptions"], _sys["CustomTB"] = shell.custom_exceptions, shell.CustomTB
    remember(set(shell.user_ns) & set(vars(builtins)))  # IPython's own exit, quit, get_ipython
    for obj in (shell, shell.events, shell.displayhook, shell.display_pub, getattr(shell, "kernel", None),
                sys.stdout, sys.stderr):
        if obj is not None:
            _freeze(obj)
    from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult

    _freeze(None, [ExecutionInfo, ExecutionResult])  # how a cell's success is reported


def remember(names):
    """Record the current values of these names: an instructor cell just defined them."""
    user_ns = _shell().user_ns
    for name in names:
        if name in user_ns:
            value = user_ns[name]
            plain = _plain(value)
            _remembered[name] = (copy.deepcopy(value) if plain else value, plain)


def restore():
    """Undo what student code changed in what the tests rely on. Runs before each test cell."""
    for name, (module, namespace) in _modules.items():
        sys.modules[name] = module
        current = vars(module)
        for key, value in namespace.items():
            if current.get(key, namespace) is not value:
                current[key] = value
    for name, value in _sys.items():
        if name in ("custom_exceptions", "CustomTB"):
            setattr(_shell(), name, value)
        elif name != "shell":
            setattr(sys, name, value)
    for fn in (sys.settrace, sys.setprofile, threading.settrace, threading.setprofile):
        fn(None)
    for obj, keys, classes in _objects:
        _thaw(obj, keys, classes)
    shell = _shell()
    for callbacks in shell.events.callbacks.values():
        callbacks[:] = [cb for cb in callbacks if _trusted_callable(cb)]
    manager = shell.input_transformer_manager
    for transforms in (shell.input_transformers_cleanup, shell.input_transformers_post, shell.ast_transformers,
                       manager.cleanup_transforms, manager.line_transforms, manager.token_transformers):
        transforms[:] = [t for t in transforms if _trusted_callable(t) or _trusted_callable(type(t))]
    user_ns = shell.user_ns
    user_ns["__builtins__"] = builtins
    for name in set(user_ns) & set(vars(builtins)):  # a student's `abs = ...` would hide the builtin from tests
        if name not in _student_names and name not in _remembered and not name.startswith("_"):
            del user_ns[name]
    for name, (value, plain) in _remembered.items():
        user_ns[name] = copy.deepcopy(value) if plain else value
