"""GuardedExecute: nbgrader's Execute preprocessor, hardened against submissions that cheat or crash.

nbgrader_config.py puts it in place of Execute in Autograde.autograde_preprocessors. Compared with
nbgrader's own, it

- starts each kernel in the bubblewrap sandbox of course/nbgrader_ext/sandbox.py;
- sends course/integrity/guard.py into the kernel before the first cell and arms it with a secret of this
  run; through it, asks the kernel to remember what each instructor cell defines and to restore all of that (numpy,
  builtins, hooks, helpers) before each test; every answer comes back signed with the secret, or the test scores 0;
- grades each question on its own: a test cell's `### BEGIN REFERENCE` regions (trusted copies of the functions it
  grades) never run with it; the guard receives them once the test is over and lends them, in place of the
  student's code, to the tests of later questions only (the manifest's end-to-end tests run with the student's own);
- withholds, until a person looks, the points of a test during which the guard refused student code a means of
  reaching what the tests keep (frames, the garbage collector, tracing), or that a means the static scan found
  (course/integrity/review.py) could have won: the test scores 0 with a WithheldForReview error, and WithholdForReview marks
  it in the gradebook as needing a grader;
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
import hashlib
import hmac
import json
import os
import secrets

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, List, Unicode

from ..cells import grade_id, is_grade, is_locked, is_solution, is_test
from ..course import Assignment, Course
from ..inspection import scan, withheld
from ..integrity import review
from ..integrity.guard import CHANNEL, explain_failure, install_code, reference_regions, test_label
from ..notebooks import bound_names
from .graded_master import graded_master
from .sandbox import SandboxedKernelManager


def guard_plan(master):
    """guard_plan of a master notebook: ({grade_id of a locked cell: names the guard remembers}, student names)."""
    code = [c for c in master.cells if c.cell_type == "code"]
    student = set().union(*(bound_names(c.source) for c in code if is_solution(c)))
    return {grade_id(c): sorted(bound_names(c.source, definitions_only=is_grade(c)) - student)
            for c in code if is_locked(c)}, student


class GuardChannel:
    """The grader's end of the guard's command channel: each command travels in a user expression (never in a
    cell, so never in the kernel's linecache), with the secret; each reply must carry the secret's signature and
    this command's nonce, or it did not come from the guard."""

    def __init__(self, execute):
        self.execute = execute  # (code, user_expressions) -> the execute_reply's content, or None
        self.secret = secrets.token_hex(16)

    def send(self, command, payload=None, key=True):
        """The guard's reply (a dict), or None when it did not answer as only the guard can."""
        nonce = secrets.token_hex(8)
        expr = (f"(lambda box: (__import__('sys').audit({CHANNEL!r}, {self.secret if key else None!r}, {command!r}, "
                f"{payload!r}, {nonce!r}, box), box[0] if box else None)[1])([])")
        content = self.execute("", {"reply": expr})
        if not content:
            return None
        result = content.get("user_expressions", {}).get("reply", {})
        if result.get("status") != "ok":
            return None
        text = result.get("data", {}).get("text/plain", "")
        try:
            import ast

            signed = ast.literal_eval(text)
            body, signature = signed.rsplit(".", 1)
        except (ValueError, SyntaxError, TypeError, AttributeError):
            return None
        expected = hmac.new(self.secret.encode(), body.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            return None
        reply = json.loads(body)
        return reply if reply.get("nonce") == nonce and reply.get("command") == command else None


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
        master = graded_master(resources)
        self._remember, self._student_names = guard_plan(master) if master is not None else ({}, set())
        info = (resources or {}).get("nbgrader", {})
        course = Course.of(self.config)
        self._manifest = Assignment(course, info["assignment"]).manifest if info.get("assignment") else None
        # Code a person must read first, and the questions it could have won (course/integrity/review.py): withheld.
        self._findings = scan(nb, master) if master is not None else []
        e2e = self._manifest.end_to_end_tests if self._manifest else frozenset()
        self._suspect = withheld(self._findings, nb, master, e2e) if master is not None else {}
        self._withheld = {}  # test id -> why, for the tests whose points wait for a person
        # What explains a failure: the earlier tests' outcomes, the names cells that stopped left unmade.
        self._labels = {grade_id(c): test_label(grade_id(c), c.source) for c in (master.cells if master else [])
                        if is_test(c)}
        self._outcomes, self._broken = {}, {}
        self._channel = GuardChannel(self._expression)
        self._attempts = []
        self._installed, self._stopped = False, None
        try:
            nb, resources = super().preprocess(nb, resources, km)
        finally:
            folder = (resources or {}).get("metadata", {}).get("path")
            if folder:
                remove_special_files(folder, self.log)
        nb.metadata["course"] = {"review": review.summary(self._findings, self._attempts, self._withheld)}
        for line in review.log_lines(self._findings, self._attempts):
            self.log.warning("REVIEW %s: %s", info.get("student", "?"), line)
        return nb, resources

    # -- talking to the kernel outside the notebook's cells ------------------------------------------------
    def _silent(self, code):
        """Run code in the kernel without output, history or events; None if it ran, else the error."""
        reply = self.wait_for_reply(self.kc.execute(code, silent=True, store_history=False, allow_stdin=False,
                                                    stop_on_error=False))
        if not reply:
            return "no reply"
        content = reply["content"]
        return None if content["status"] == "ok" else f"{content.get('ename')}: {content.get('evalue')}"

    def _expression(self, code, user_expressions):
        reply = self.wait_for_reply(self.kc.execute(code, silent=True, store_history=False, allow_stdin=False,
                                                    stop_on_error=False, user_expressions=user_expressions))
        return reply["content"] if reply else None

    def _install_guard(self):
        problem = self._silent(install_code(self.trusted_modules, self._student_names))
        if problem:
            return problem
        armed = self._channel.send("arm", {"secret": self._channel.secret, "token": self._token}, key=False)
        return None if armed and armed.get("ok") else "the guard did not answer when armed"

    def _command(self, command, payload=None):
        """Send an authenticated command; the reply, or None if the guard did not give it (tampering)."""
        reply = self._channel.send(command, payload)
        if reply is not None:
            self._attempts += reply.get("attempts", [])
        return reply if reply is not None and reply.get("ok") else None

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
            guarded = True
            if test:
                body, references = reference_regions(source)
                isolate = not (self._manifest and self._manifest.end_to_end(gid))
                guarded = self._command("enter", {"test": gid, "isolate": isolate}) is not None
                cell.source = f"{body}\nprint({self._token!r})"
            # Tests stay out of the kernel's history (In, _ih) and, once over, out of its linecache.
            before = len(self._attempts)
            cell = self.execute_cell(cell, index, store_history=not test)
            if test:
                guarded = self._command("leave", {"references": references, "label": f"<{gid}: reference>"}) \
                    is not None and guarded
            else:
                self._command("report")
            for attempt in self._attempts[before:]:
                attempt["cell"] = index
            names = self._remember.get(gid) if is_locked(cell) and cell.cell_type == "code" else None
            if names:
                self._command("remember", names)
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
            self._withhold(cell, gid, [a for a in self._attempts if a.get("test") == gid])
            self._explain(cell, gid)
        else:
            error = next((o for o in cell.outputs if o.output_type == "error"), None)
            for name in bound_names(source):
                if error is not None:
                    self._broken[name] = (f"cell {index} ({gid or 'a cell of yours'})", f"{error.ename}: {error.evalue}")
                else:
                    self._broken.pop(name, None)
        return cell, resources

    def _explain(self, cell, gid):
        """A failed test's error says first what explains it (integrity.guard.explain_failure)."""
        error = next((o for o in cell.outputs if o.output_type == "error"), None)
        self._outcomes[gid] = error is None or error.ename == review.WITHHELD
        if error is None or error.ename == review.WITHHELD:
            return
        earlier = [t for t in self._outcomes if t != gid]
        needs = self._manifest.needs(gid, earlier) if self._manifest else []
        failed = [self._labels.get(t, t) for t in needs if not self._outcomes[t]]
        evalue = explain_failure(error.ename, error.evalue, failed, self._broken)
        if evalue != error.evalue:
            error.evalue = evalue
            error.traceback = [*error.get("traceback", [])[:-1], f"{error.ename}: {evalue}"]

    def _withhold(self, cell, gid, attempts):
        """A test that passed, but that the static scan or the referee says the student's own code may not have
        earned: it scores 0 until a person looks (WithholdForReview marks it in the gradebook)."""
        reasons = list(self._suspect.get(gid, []))
        reasons += [f"while this test ran, the notebook's code at {review.where(a)} was refused: it "
                    f"{a['detail']}" for a in attempts]
        if reasons and not any(o.output_type == "error" for o in cell.outputs):
            self._withheld[gid] = reasons
            cell.outputs.append(error_output(review.WITHHELD, "this test passed, but its points are withheld until a "
                                             "person has read the code behind it: " + "; ".join(reasons)))

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
