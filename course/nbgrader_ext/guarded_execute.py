"""GuardedExecute: nbgrader's Execute preprocessor, hardened against submissions that cheat or crash.

nbgrader_config.py puts it in place of Execute in Autograde.autograde_preprocessors. Compared with
nbgrader's own, it

- starts each kernel in the bubblewrap sandbox of course/nbgrader_ext/sandbox.py;
- sends course/nbgrader_ext/kernel_guard.py into the kernel before the first cell, asks it to remember what each
  instructor cell defines, and to restore all of that (numpy, builtins, hooks, helpers) before each test;
- keeps test cells out of the kernel's input history (where hidden tests could be read back), and
  appends a random per-run token to each: a test whose output lacks it did not run to its end (an
  exception was swallowed, the cell was cut short) and scores 0;
- scores tests on errors only: a test that passed but wrote a warning to stderr keeps its points (the
  warning moves to stdout, where the student still sees it), and a displayed value is not taken for
  partial credit unless allow_partial_credit is set;
- caps each cell's output, interrupting a cell that floods it;
- deletes the links and special files the notebook created in its folder (nbgrader would follow them);
- survives a kernel that dies (sys.exit, os._exit, a crash, the memory limit) or ignores interrupts
  (an infinite loop that catches KeyboardInterrupt): that cell and every later test score 0, the graded
  notebook is written and the rest of the class is graded.
"""

import asyncio
import os
import secrets
from pathlib import Path

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, List, Unicode

from ..cells import grade_id, is_grade, is_locked, is_solution, is_test
from ..notebooks import bound_names
from .graded_master import graded_master
from .sandbox import SandboxedKernelManager

KERNEL_GUARD = Path(__file__).with_name("kernel_guard.py")
GUARD_MODULE = "_dlfs_guard"


def master_plan(resources):
    """From the gradebook's copy of the master: the names each instructor cell defines that tests may rely on
    ({grade_id: names}), and the names solution cells define (the student's to change)."""
    master = graded_master(resources)
    if master is None:
        return {}, set()
    return guard_plan(master)


def guard_plan(master):
    """guard_plan of a master notebook: ({grade_id of a locked cell: names the guard remembers}, student names)."""
    code = [c for c in master.cells if c.cell_type == "code"]
    student = set().union(*(bound_names(c.source) for c in code if is_solution(c)))
    return {grade_id(c): sorted(bound_names(c.source, definitions_only=is_grade(c)) - student)
            for c in code if is_locked(c)}, student


def install_code(trusted_modules, student_names):
    """Code that, run in a kernel before any student code, installs the guard (kernel_guard.py) as a module and
    takes its snapshot; it binds no name in the notebook. The otter edition's plugin runs it too."""
    source = KERNEL_GUARD.read_text()
    return ("def _dlfs_install():\n"
            "    import sys, types\n"
            f"    module = types.ModuleType({GUARD_MODULE!r})\n"
            f"    exec(compile({source!r}, {str(KERNEL_GUARD)!r}, 'exec'), module.__dict__)\n"
            f"    sys.modules[{GUARD_MODULE!r}] = module\n"
            f"    module.install({list(trusted_modules)!r}, {sorted(student_names)!r})\n"
            "_dlfs_install()\n"
            "del _dlfs_install\n")


def remove_special_files(folder, log):
    """Delete the symbolic links, pipes and sockets student code left in its folder. nbgrader follows links when
    it copies the folder (a link to a master would land in the student's feedback) and changes permissions."""
    for parent, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(parent, name)
            if os.path.islink(path) or not (os.path.isdir(path) or os.path.isfile(path)):
                log.warning("REVIEW: removed %s, a link or special file the notebook created while graded", path)
                os.unlink(path)


def error_output(ename, evalue):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GuardedExecute(Execute):
    """Execute, sandboxed and guarded (see the module docstring)."""

    trusted_modules = List(Unicode(), ["math", "numpy", "numpy.linalg", "numpy.random", "numpy.testing",
                                       "contextlib", "io", "warnings", "itertools", "functools"],
                           help="Modules restored to their original contents before each test cell.").tag(config=True)
    output_limit = Integer(2_000_000,
                           help="Characters of output one cell may produce; beyond that it is interrupted.").tag(config=True)
    allow_partial_credit = Bool(False,
                                help="Let a test cell's displayed number set its score (nbgrader's partial credit).").tag(config=True)

    def __init__(self, **kw):
        kw.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(**kw)

    def preprocess(self, nb, resources=None, km=None):
        self._token = f"dlfs-test-completed-{secrets.token_hex(12)}"
        self._remember, self._student_names = master_plan(resources)
        self._installed, self._stopped = False, None
        try:
            return super().preprocess(nb, resources, km)
        finally:
            folder = (resources or {}).get("metadata", {}).get("path")
            if folder:
                remove_special_files(folder, self.log)

    # -- talking to the kernel outside the notebook's cells ------------------------------------------------
    def _silent(self, code):
        """Run code in the kernel without output, history or events; None if it ran, else the error."""
        reply = self.wait_for_reply(self.kc.execute(code, silent=True, store_history=False, allow_stdin=False,
                                                    stop_on_error=False))
        if not reply:
            return "no reply"
        content = reply["content"]
        return None if content["status"] == "ok" else f"{content.get('ename')}: {content.get('evalue')}"

    def _guard(self, call):
        return self._silent(f"__import__('sys').modules[{GUARD_MODULE!r}].{call}")

    def _install_guard(self):
        return self._silent(install_code(self.trusted_modules, self._student_names))

    def _stop_kernel(self, why):
        self._stopped = why
        try:
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception as exc:  # noqa: BLE001 (already dead, or going)
            self.log.warning("could not stop the kernel: %s", exc)

    # -- output cap ----------------------------------------------------------------------------------------
    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        self._output_size += len(content.get("text", "")) + sum(len(str(v)) for v in content.get("data", {}).values())
        if self._output_size <= self.output_limit:
            return super().output(outs, msg, display_id, cell_index)
        if not self._flooded:
            self._flooded = True
            outs.append(new_output("stream", name="stdout",
                                   text=f"\n[output stopped: this cell printed more than {self.output_limit:,} "
                                        "characters; the autograder interrupted it]\n"))
            asyncio.ensure_future(ensure_async(self.km.interrupt_kernel()))
        return None

    # -- cells ---------------------------------------------------------------------------------------------
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        test = is_test(cell)
        if self._stopped:
            cell.outputs = [error_output("NotRun", f"not run: {self._stopped}")] if test else []
            return cell, resources
        self._output_size, self._flooded = 0, False
        gid = grade_id(cell)
        source, where = cell.source, f"{index} ({gid or 'a student cell'})"
        try:
            if not self._installed:  # before the first cell: no student code has run yet
                problem = self._install_guard()
                if problem:
                    raise RuntimeError(f"the grading guard could not be installed in the kernel: {problem}")
                self._installed = True
            guarded = not test or self._guard("restore()") is None
            if test:
                cell.source = f"{source}\nprint({self._token!r})"
            # Tests stay out of the kernel's history (In, _ih), where student code could read the hidden ones.
            cell = self.execute_cell(cell, index, store_history=not test)
            names = self._remember.get(gid) if is_locked(cell) and cell.cell_type == "code" else None
            if names:
                self._guard(f"remember({names!r})")
        except DeadKernelError:
            self._stop_kernel(f"the kernel stopped in cell {where} (os._exit, a crash or the memory limit)")
            cell.outputs.append(error_output("KernelDied", f"the kernel stopped while running this cell: {self._stopped}"))
            guarded = True
        except CellTimeoutError:
            self._stop_kernel(f"cell {where} ran past the time limit and ignored the interrupt")
            cell.outputs.append(error_output("CellTimeoutError", f"{self._stopped}; the kernel was stopped"))
            guarded = True
        finally:
            cell.source = source
        if test:
            self._score_on_errors_only(cell, guarded)
        return cell, resources

    def _score_on_errors_only(self, cell, guarded):
        """Leave a test cell with an error output exactly when it must score 0."""
        completed = False
        for out in cell.outputs:
            if out.output_type == "stream" and self._token in out.text:
                completed = True
                out.text = out.text.replace(self._token + "\n", "").replace(self._token, "")
        cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and not o.text)]
        failed = any(o.output_type == "error" for o in cell.outputs)
        if not failed and not guarded:
            cell.outputs.append(error_output("GradingGuardError", "the autograder could not restore the test's "
                                             "environment: the notebook tampers with Python's internals"))
        elif not failed and not completed:
            cell.outputs.append(error_output("IncompleteTest", "this test did not run to its end (its failure was "
                                             "hidden or its output suppressed), so it scores 0"))
        failed = any(o.output_type == "error" for o in cell.outputs)
        for out in cell.outputs:
            if out.output_type == "stream" and out.name == "stderr" and not failed:
                out.name = "stdout"  # a warning is not a failure; the student still sees it
            if out.output_type == "execute_result" and not self.allow_partial_credit:
                out.output_type = "display_data"  # shown, but not read as a score
                out.pop("execution_count", None)
