"""Runs inside a grading kernel, never in the grader: course.nbgrader_ext.guarded_execute sends this file's text to the
kernel before the first cell, as module `_dlfs_guard` (the otter edition's plugin does the same). The Vault class is
also imported in the grader's own process by the in-process runner (course.notebooks.grade_in_process).

Three parts, all owned by one Guard object that only the audit hook installed by install() refers to (no module
attribute, no notebook name reaches it):

- the snapshot: install() records what the tests trust (numpy, math, builtins, sys hooks, the IPython shell) before
  any student code runs, `remember` records the names each instructor cell defines, `restore` puts all of it back
  before each test cell, so that a submission cannot make a test pass by replacing np.allclose, abs or a test helper,
  by input or AST transformers that drop `assert` lines, by tracing, by event callbacks or custom exception handlers,
  or by patching the shell's methods;
- the vault: trusted copies of the graded functions ("references"), which the grader takes out of the test cells
  (`### BEGIN REFERENCE` regions) and hands over only once that question's tests are over. While the test of another
  question runs (`enter`), they stand in for the student's functions in the notebook's namespace, so each question
  is graded on its own; `leave` gives the student's back. They are gated: called while no test runs, they refuse, so
  a copy a submission kept cannot train a model. While a question is graded, no copy of its own functions exists;
- the referee: an audit hook (PEP 578) that refuses, to code written in the notebook, the means of reaching what it
  was not given: frames (sys._getframe, tracebacks' and generators' frames), the garbage collector's object lists,
  tracing and monitoring hooks, code objects, ctypes, new audit hooks, code compiled under a library's file name,
  and (the otter edition) the autograder's own files. Each refusal is recorded with where it came from; the grader
  withholds the points of a test during which one happened until a person has looked.

On the nbgrader path the grader arms the guard with a secret before the first cell: from then on the commands that
change what tests see (remember, enter, leave, report) are accepted only with that secret, and every answer is
signed with it, so student code can neither issue them nor forge their replies. The otter edition runs the tests in
the kernel itself and does not arm it. Student code can still reach objects it was handed (a reference lent during a
test) and read their attributes (__closure__, __globals__): course.inspection flags such code and the grader
withholds what it could have won. See docs/grading_security.md.
"""

import builtins
import copy
import hashlib
import hmac
import importlib
import inspect
import json
import linecache
import os
import re
import site
import sys
import sysconfig
import threading
import types

SAFE_MODULE_PREFIXES = ("IPython", "ipykernel", "matplotlib", "matplotlib_inline", "ipywidgets", "comm", "jupyter",
                        "_dlfs_guard")
CHANNEL = "course.guard"  # the audit event that carries commands to the guard
REFERENCE_BEGIN, REFERENCE_END = "### BEGIN REFERENCE", "### END REFERENCE"

# Audit events refused to notebook code (CPython's table of audit events): frames, the collector's object lists,
# hooks that see every frame, code objects and raw memory.
REFUSED = frozenset({
    "sys._getframe", "sys._getframemodulename", "sys._current_frames", "sys._current_exceptions",
    "sys.settrace", "sys.setprofile", "sys._settraceallthreads", "sys._setprofileallthreads", "sys.addaudithook",
    "gc.get_objects", "gc.get_referrers", "gc.get_referents", "object.__getattr__", "function.__new__",
    "code.__new__", "marshal.load", "marshal.loads",
})
REFUSED_PREFIXES = ("ctypes.", "sys.monitoring.")
WATCHED_TOO = frozenset({"object.__setattr__", "object.__delattr__", "compile", "exec", "open", "os.listdir",
                         "os.scandir"})
FUNCTION_ATTRIBUTES = frozenset({"__code__", "__defaults__", "__kwdefaults__"})
# Standard-library functions that take a frame for their own use and hand none back: a notebook may call them.
FRAME_CONSUMERS = frozenset({"namedtuple", "_create_", "_caller", "findCaller", "warn", "_next_external_frame",
                             "format_exc", "print_exc", "format_exception", "print_exception"})
MAX_ATTEMPTS = 50


class Refused(RuntimeError):
    """Grading refused an operation to notebook code (see the module docstring)."""


class ReferenceUnavailable(RuntimeError):
    """A trusted copy of a graded function was called while no test of another question was running."""


_MISSING = object()


# -- what explains a failure ------------------------------------------------------------------------------------------

def test_label(gid, source):
    """How a message names a test: its docstring's head ('add' for "add: forward value ..."), with its id."""
    import ast as _ast

    try:
        doc = _ast.get_docstring(_ast.parse(source)) or ""
    except SyntaxError:
        doc = ""
    head = doc.split(":", 1)[0].strip() if ":" in doc.split("\n", 1)[0] else ""
    return f"the test of {head} ({gid})" if head and len(head) < 60 else gid


def explain_failure(ename, evalue, failed_needs=(), broken=None):
    """A failed test's error message (evalue, of an error named ename), with what explains it said first: the
    earlier tests it needs that failed (their labels), and, for a NameError, the error that stopped the cell meant
    to make the name (broken: {name: (which cell, its error)})."""
    name = re.match(r"name '(\w+)' is not defined", evalue or "") if ename == "NameError" else None
    if name and broken and name.group(1) in broken:
        where, error = broken[name.group(1)]
        evalue = f"{name.group(1)} was never made: {where} stopped with {error}"
    if failed_needs:
        them = "it" if len(failed_needs) == 1 else "them"
        evalue = (f"{', '.join(failed_needs)} failed above, and this test needs {them} to pass: fix {them} first "
                  f"(what follows may only be a consequence). {evalue}")
    return evalue


# -- the vault --------------------------------------------------------------------------------------------------------

def reference_regions(source):
    """(the source without its `### BEGIN REFERENCE` regions, the code of those regions dedented)."""
    kept, taken, inside = [], [], None
    for line in source.split("\n"):
        if REFERENCE_BEGIN in line:
            inside = len(line) - len(line.lstrip())
            continue
        if REFERENCE_END in line:
            inside = None
            continue
        if inside is None:
            kept.append(line)
        else:
            taken.append(line[inside:] if line[:inside].strip() == "" else line)
    return "\n".join(kept), "\n".join(taken).strip("\n")


class Vault:
    """Trusted copies of graded functions, kept out of the notebook's namespace (see the module docstring).

    namespace: the notebook's globals; instructor(): {name: value} of what instructor cells defined, the names a
    reference may use besides the other references (default: the namespace itself, for a trusted caller)."""

    def __init__(self, namespace, instructor=None):
        self.namespace = namespace
        self.instructor = instructor or (lambda: namespace)
        self.private = {}  # name -> the reference itself (references call each other through these)
        self.public = {}  # name -> the gated copy that stands in for the student's
        self.lent = None  # {name: the student's value} while a test runs with references in place

    @property
    def open(self):
        return self.lent is not None

    def register(self, source, label="<reference>"):
        """Run a reference region in a namespace of its own; returns the public names it defined."""
        if not source.strip():
            return []
        space = {k: v for k, v in self.instructor().items() if not k.startswith("__")}
        space.update(self.private)
        space.update({"__builtins__": builtins, "__name__": "__reference__"})
        before = dict(space)
        exec(compile(source, label, "exec"), space)  # noqa: S102 (the master's own code)
        added = []
        for name, value in space.items():
            if name.startswith("__") or before.get(name, _MISSING) is value:
                continue
            self.private[name] = value
            if not name.startswith("_"):
                self.public[name] = self._gate(value)
                added.append(name)
        return sorted(added)

    def lend(self):
        """Put every reference in place of the student's code (a test of another question starts)."""
        self.take_back()
        self.lent = {}
        for name, reference in self.public.items():
            self.lent[name] = self.namespace.get(name, _MISSING)
            self.namespace[name] = reference

    def take_back(self):
        """Give the student's code back and close the gates."""
        lent, self.lent = self.lent, None
        for name, value in (lent or {}).items():
            if value is _MISSING:
                self.namespace.pop(name, None)
            else:
                self.namespace[name] = value

    def _gate(self, value):
        vault = self
        if isinstance(value, types.FunctionType):
            def gated(*args, **kwargs):
                if vault.lent is None:
                    raise ReferenceUnavailable(f"{value.__name__}: this copy belongs to the grader's tests")
                return value(*args, **kwargs)

            gated.__name__, gated.__qualname__, gated.__doc__ = value.__name__, value.__qualname__, value.__doc__
            return gated
        if isinstance(value, type):
            for key, member in list(vars(value).items()):
                if isinstance(member, types.FunctionType):
                    setattr(value, key, self._gate(member))
                elif isinstance(member, (staticmethod, classmethod)):
                    setattr(value, key, type(member)(self._gate(member.__func__)))
            return value
        if isinstance(value, dict):
            return {k: self._gate(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self._gate(v) for v in value)
        return value


class LocalGuard:
    """The guard's interface for the tests (restore, remember, enter, leave) over a Vault, for grading in the grader's
    own process, where only trusted code runs: no snapshot, no referee. The in-process runners of both editions put
    one in sys.modules as `_dlfs_guard` (the otter edition's tests find it there) or call it directly."""

    def __init__(self, namespace, student_names=()):
        student = frozenset(student_names)
        self.vault = Vault(namespace, instructor=lambda: {k: v for k, v in namespace.items() if k not in student})
        self.outcomes, self.broken, self.test = {}, {}, None

    def restore(self):
        pass

    def remember(self, names):
        pass

    def enter(self, test, isolate=True):
        self.test = test
        if isolate:
            self.vault.lend()
        else:
            self.vault.take_back()
        return {"ok": True, "attempts": []}

    def leave(self, references="", label="<reference>", passed=None):
        self.vault.take_back()
        if passed is not None:
            self.outcomes[self.test] = bool(passed)
        self.test = None
        return {"ok": True, "attempts": [], "registered": self.vault.register(references, label)}

    def cell_ran(self, names, error=None, where="the cell that makes it"):
        """A cell that binds `names` ran, and stopped on `error` (an exception, or None)."""
        for name in names:
            if error is not None:
                self.broken[name] = (where, f"{type(error).__name__}: {error}")
            else:
                self.broken.pop(name, None)

    def explain(self, ename, evalue, needs=()):
        failed = [label for gid, label in needs if self.outcomes.get(gid) is False]
        return explain_failure(ename, evalue, failed, self.broken)


# -- the snapshot -----------------------------------------------------------------------------------------------------

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


def _trusted_callable(fn):
    module = getattr(fn, "__module__", None) or getattr(getattr(fn, "__func__", None), "__module__", None) or ""
    return module.startswith(SAFE_MODULE_PREFIXES)


class _Guard:
    """The snapshot, the vault and the referee of one kernel (see the module docstring)."""

    def __init__(self, shell, trusted_modules, student_names, forbidden, guard_file):
        self.shell = shell  # kept from install() on: student code could replace IPython.get_ipython
        self.student_names = frozenset(student_names)
        self.modules, self.sys, self.objects, self.remembered = {}, {}, [], {}
        self.secret = self.token = None
        self.attempts, self.unreported, self.dropped = [], [], 0
        self.test = None
        self.outcomes, self.broken = {}, {}  # test id -> passed; name -> (which cell, the error that stopped it)
        self.local = threading.local()
        self.guard_file = guard_file
        self.forbidden = [os.path.abspath(p) for p in forbidden]
        self.origins = {}
        paths = sysconfig.get_paths()
        library = {paths.get("purelib"), paths.get("platlib"), *site.getsitepackages()}
        try:
            library.add(site.getusersitepackages())
        except Exception:  # noqa: BLE001, S110 (no user site in some environments)
            pass
        self.library = tuple(sorted({os.path.join(os.path.realpath(p), "") for p in library if p}))
        self.stdlib = tuple(sorted({os.path.join(os.path.realpath(p), "") for p in
                                    (paths.get("stdlib"), paths.get("platstdlib")) if p}))
        self.vault = Vault(shell.user_ns, instructor=lambda: {k: v for k, (v, _) in self.remembered.items()})
        shell.events.register("post_run_cell", self.after_cell)
        self._snapshot(trusted_modules)

    # -- snapshot and restore -----------------------------------------------------------------------------------------
    def _snapshot(self, trusted_modules):
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
        for name in ("builtins", "linecache", *trusted_modules):
            if name in sys.modules:
                self.modules[name] = (sys.modules[name], dict(vars(sys.modules[name])))
        for name in ("excepthook", "displayhook", "stdout", "stderr", "stdin", "audit"):
            self.sys[name] = getattr(sys, name)
        shell = self.shell
        self.sys["custom_exceptions"], self.sys["CustomTB"] = shell.custom_exceptions, shell.CustomTB
        self.remember(set(shell.user_ns) & set(vars(builtins)))  # IPython's own exit, quit, get_ipython
        for obj in (shell, shell.events, shell.displayhook, shell.display_pub, getattr(shell, "kernel", None),
                    sys.stdout, sys.stderr):
            if obj is not None:
                self._freeze(obj)
        from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult

        self._freeze(None, [ExecutionInfo, ExecutionResult])  # how a cell's success is reported

    def _freeze(self, obj, classes=None):
        classes = classes or [cls for cls in type(obj).__mro__ if cls is not object]
        self.objects.append((obj, set(getattr(obj, "__dict__", {})), [(cls, _methods(cls)) for cls in classes]))

    @staticmethod
    def _thaw(obj, keys, classes):
        for cls, methods in classes:
            for name, method in methods.items():
                if cls.__dict__.get(name) is not method:
                    setattr(cls, name, method)
        for name in set(getattr(obj, "__dict__", {})) - keys:
            if any(name in methods for _, methods in classes):  # an instance attribute hiding a method
                delattr(obj, name)

    def remember(self, names):
        """Record the current values of these names: an instructor cell just defined them."""
        user_ns = self.shell.user_ns
        for name in names:
            if name in user_ns:
                value = user_ns[name]
                plain = _plain(value)
                self.remembered[name] = (copy.deepcopy(value) if plain else value, plain)

    def restore(self):
        """Undo what student code changed in what the tests rely on. Runs before each test cell."""
        for name, (module, namespace) in self.modules.items():
            sys.modules[name] = module
            current = vars(module)
            for key, value in namespace.items():
                if current.get(key, namespace) is not value:
                    current[key] = value
        for name, value in self.sys.items():
            if name in ("custom_exceptions", "CustomTB"):
                setattr(self.shell, name, value)
            else:
                setattr(sys, name, value)
        for fn in (sys.settrace, sys.setprofile, threading.settrace, threading.setprofile):
            fn(None)
        for obj, keys, classes in self.objects:
            self._thaw(obj, keys, classes)
        shell = self.shell
        for callbacks in shell.events.callbacks.values():
            callbacks[:] = [cb for cb in callbacks if _trusted_callable(cb)]
        manager = shell.input_transformer_manager
        for transforms in (shell.input_transformers_cleanup, shell.input_transformers_post, shell.ast_transformers,
                           manager.cleanup_transforms, manager.line_transforms, manager.token_transformers):
            transforms[:] = [t for t in transforms if _trusted_callable(t) or _trusted_callable(type(t))]
        user_ns = shell.user_ns
        user_ns["__builtins__"] = builtins
        for name in set(user_ns) & set(vars(builtins)):  # a student's `abs = ...` would hide the builtin from tests
            if name not in self.student_names and name not in self.remembered and not name.startswith("_"):
                del user_ns[name]
        for name, (value, plain) in self.remembered.items():
            user_ns[name] = copy.deepcopy(value) if plain else value

    def after_cell(self, result):
        """IPython's post_run_cell: remember which names a cell that stopped on an error left unmade."""
        if self.test is not None:
            return
        import ast as _ast

        error = result.error_in_exec or result.error_before_exec
        try:
            tree = _ast.parse(result.info.raw_cell if result.info else "")
        except SyntaxError:
            return
        names = {t.id for node in tree.body for t in _ast.walk(node) if isinstance(t, _ast.Name)
                 and isinstance(t.ctx, _ast.Store)} | {node.name for node in tree.body if isinstance(
                     node, (_ast.FunctionDef, _ast.ClassDef))}
        for name in names:
            if error is not None:
                self.broken[name] = ("the cell that makes it", f"{type(error).__name__}: {error}")
            else:
                self.broken.pop(name, None)

    # -- where code comes from ----------------------------------------------------------------------------------------
    def origin(self, filename):
        """'guard', 'library' (site-packages), 'stdlib', or 'notebook' (cells, exec'd strings, anything else)."""
        found = self.origins.get(filename)
        if found is None:
            if filename == self.guard_file:
                found = "guard"
            elif filename.startswith("<frozen"):
                found = "stdlib"
            else:
                path = os.path.join(os.path.realpath(filename), "") if os.path.isabs(filename) else ""
                if path and path.startswith(self.library):
                    found = "library"
                elif path and path.startswith(self.stdlib):
                    found = "stdlib"
                else:
                    found = "notebook"
            self.origins[filename] = found
        return found

    def _culprit(self, frame, immediate=False):
        """The notebook frame behind an audited operation that `frame` (the code that raised the event) started, or
        None when it is a library's own doing: the first frame above the standard library's and this guard's (unless
        one of those uses a frame for itself); with immediate, `frame` itself or nothing."""
        while frame is not None:
            code = frame.f_code
            where = self.origin(code.co_filename)
            if where == "notebook":
                return frame
            if immediate or where == "library" or code.co_name in FRAME_CONSUMERS:
                return None
            frame = frame.f_back
        return None

    def _record(self, event, detail, frame):
        entry = {"event": event, "detail": str(detail)[:200], "test": self.test,
                 "where": f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else "",
                 "line": linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()[:200] if frame else ""}
        if len(self.attempts) < MAX_ATTEMPTS:
            self.attempts.append(entry)
            self.unreported.append(entry)
        else:
            self.dropped += 1

    def _forbidden_path(self, path):
        if not self.forbidden or isinstance(path, int):
            return False
        try:
            full = os.path.abspath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return any(full == root or full.startswith(root + os.sep) for root in self.forbidden)

    def _watch(self, event, args):
        """What the referee says of one audit event: (why it is refused to notebook code, whether only a notebook
        frame raising it directly counts), or None when it is allowed whoever asks."""
        if event in REFUSED or event.startswith(REFUSED_PREFIXES):
            if event == "object.__getattr__":
                return f"reads {args[1]} of an object" if len(args) > 1 else "reads a hidden attribute", False
            return f"calls {event}", event.startswith("marshal.")  # the import system reads .pyc files with marshal
        if event in ("object.__setattr__", "object.__delattr__"):
            if len(args) > 1 and args[1] in FUNCTION_ATTRIBUTES:
                return f"changes {args[1]} of a function", False
            return None
        if event == "compile" and len(args) > 1 and isinstance(args[1], str) and self.origin(args[1]) != "notebook":
            return f"compiles code as if it were in {args[1]}", True
        if event == "exec" and args and isinstance(args[0], types.CodeType) \
                and self.origin(args[0].co_filename) != "notebook":
            return f"runs code compiled as if it were in {args[0].co_filename}", True
        if event in ("open", "os.listdir", "os.scandir") and args and self._forbidden_path(args[0]):
            return f"reads the autograder's files ({args[0]})", False
        return None

    # -- the audit hook -----------------------------------------------------------------------------------------------
    def hook(self, event, args):
        if getattr(self.local, "busy", False):
            return
        if event == CHANNEL:
            self.local.busy = True
            try:
                self._command(sys._getframe(1), *args)
            finally:
                self.local.busy = False
            return
        if not (event in REFUSED or event in WATCHED_TOO or event.startswith(REFUSED_PREFIXES)):
            return
        self.local.busy = True
        culprit = None
        try:
            verdict = self._watch(event, args)
            if verdict:
                why, immediate = verdict
                culprit = self._culprit(sys._getframe(1), immediate)
                if culprit is not None:
                    self._record(event, why, culprit)
        except Exception:  # noqa: BLE001 (the referee must never break the kernel it watches)
            return
        finally:
            self.local.busy = False
        if culprit is not None:
            raise Refused(f"grading refuses this to the notebook's code: it {why}")

    def _command(self, caller, key=None, command=None, payload=None, nonce="", box=None):
        armed = self.secret is not None
        authentic = armed and isinstance(key, str) and hmac.compare_digest(key, self.secret)
        if armed and not authentic and command not in ("restore", "explain"):
            self._record(CHANNEL, f"sends the guard the command {command!r} without its key", self._culprit(caller))
            raise Refused("grading refuses this to the notebook's code: it sends commands to the grading guard")
        reply = {"command": command, "nonce": nonce, "ok": True, "error": None}
        try:
            if command == "arm":
                if armed:
                    raise Refused("the guard is armed already")
                self.secret, self.token = payload["secret"], payload.get("token")
            elif command == "restore":
                self.restore()
            elif command == "remember":
                self.remember(payload)
            elif command == "enter":
                self.restore()
                self.test = payload.get("test")
                if payload.get("isolate", True):
                    self.vault.lend()
                else:
                    self.vault.take_back()
            elif command == "leave":
                self.vault.take_back()
                if "passed" in payload:
                    self.outcomes[self.test] = bool(payload["passed"])
                self.test = None
                reply["registered"] = self.vault.register(payload.get("references") or "",
                                                          payload.get("label") or "<reference>")
                self._forget_tests()
            elif command == "explain":
                failed = [label for gid, label in payload.get("needs", []) if self.outcomes.get(gid) is False]
                reply["message"] = explain_failure(payload.get("ename"), payload.get("evalue"), failed, self.broken)
            elif command != "report":
                raise ValueError(f"unknown command {command!r}")
        except Refused:
            raise
        except Exception as exc:  # noqa: BLE001 (said in the reply)
            reply.update(ok=False, error=f"{type(exc).__name__}: {exc}")
        if command in ("report", "leave", "enter") and (authentic or not armed):
            reply["attempts"], self.unreported = self.unreported, []
            reply["dropped"] = self.dropped
        if box is not None:
            text = json.dumps(reply, sort_keys=True)
            if self.secret is not None:
                text += "." + hmac.new(self.secret.encode(), text.encode(), hashlib.sha256).hexdigest()
            box.append(text)

    def _forget_tests(self):
        """Drop from linecache the test cells (they end with the grader's token) and the autograder's files, where
        later cells could read the hidden tests."""
        for name, entry in list(linecache.cache.items()):
            lines = entry[2] if isinstance(entry, tuple) and len(entry) > 2 else ()
            if (self.token and any(self.token in line for line in lines)) or self._forbidden_path(name):
                linecache.cache.pop(name, None)


# -- the module's interface (what the grader and the otter edition's tests call) ---------------------------------------

GUARD_MODULE = "_dlfs_guard"  # the name of this module in the kernel


def install_code(trusted_modules, student_names, forbidden=()):
    """Code that, run in a kernel before any student code, installs this file as module `_dlfs_guard`, takes the
    snapshot and starts the referee; it binds no name in the notebook. GuardedExecute runs it, and the otter
    edition's plugin puts it in a first cell, with `forbidden`: folders whose files notebook code may not read (the
    autograder's own)."""
    path = os.path.abspath(__file__)
    with open(path) as f:
        source = f.read()
    return ("def _dlfs_install():\n"
            "    import sys, types\n"
            f"    module = types.ModuleType({GUARD_MODULE!r})\n"
            f"    exec(compile({source!r}, {path!r}, 'exec'), module.__dict__)\n"
            f"    sys.modules[{GUARD_MODULE!r}] = module\n"
            f"    module.install({list(trusted_modules)!r}, {sorted(student_names)!r}, {list(forbidden)!r}, {path!r})\n"
            "_dlfs_install()\n"
            "del _dlfs_install\n")


def install(trusted_modules, student_names, forbidden=(), guard_file=None):
    """Snapshot what the tests trust and start the referee. Runs before any cell of the notebook."""
    from IPython import get_ipython

    guard = _Guard(get_ipython(), trusted_modules, student_names, forbidden, guard_file)
    sys.addaudithook(guard.hook)


def command(name, payload=None):
    """Send one command to the guard without a key (the otter edition; on the nbgrader path only `restore` is
    accepted that way). Returns the guard's reply."""
    box = []
    sys.audit(CHANNEL, None, name, payload, "", box)
    reply = json.loads(box[0][:box[0].rindex("}") + 1]) if box else {"error": "no guard answered"}
    if not reply.get("ok", False):
        raise RuntimeError(f"the grading guard could not {name}: {reply.get('error')}")
    return reply


def restore():
    command("restore")


def remember(names):
    command("remember", list(names))


def enter(test, isolate=True):
    return command("enter", {"test": test, "isolate": isolate})


def leave(references="", label="<reference>", passed=None):
    payload = {"references": references, "label": label}
    if passed is not None:
        payload["passed"] = passed
    return command("leave", payload)


def explain(ename, evalue, needs=()):
    """explain_failure with what the guard saw in this kernel: needs: [(test id, label)] this test needs."""
    return command("explain", {"ename": ename, "evalue": evalue, "needs": [list(n) for n in needs]})["message"]
