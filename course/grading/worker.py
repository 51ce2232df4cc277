"""One submission, inside a worker process: a Task in, a Result out, never an exception."""

import contextlib
import os
import random
import re
import socket
import sys
import time
import warnings
from dataclasses import dataclass

from ..paths import course_config, reports_dir
from .gradebook import worker_url

LOCK_RETRIES = 6  # attempts at one submission while SQLite says "database is locked"


@dataclass(frozen=True)
class Task:
    """What a worker grades: one student's submission of one assignment, in the course at root."""

    root: str
    db_url: str
    assignment: str
    student: str
    feedback: bool = True


@dataclass
class Result:
    """How one grading went: ok, else the error (one line); the seconds, the worker's host and log file."""

    student: str
    ok: bool = False
    error: str = ""
    seconds: float = 0.0
    host: str = ""
    log: str = ""
    warning: str = ""


def failed(task, error):
    return Result(task.student, error=error)


_APIS = {}  # (root, db_url) -> NbGraderAPI: built once per worker process


def api_for(root, db_url):
    key = (str(root), db_url)
    if key not in _APIS:
        from nbgrader.apps import NbGraderAPI

        _APIS[key] = NbGraderAPI(config=course_config(root, db_url))
    return _APIS[key]


@contextlib.contextmanager
def output_to(path):
    """Send this process's stdout and stderr, and so the grading kernels', to a log file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "a") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield log
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


_EXCEPTION_LINE = re.compile(r"^\s*((?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:: .*)?)$")  # "pkg.mod.SomeError: message"


def error_message(result):
    """The last exception line of a failed nbgrader run (not nbgrader's generic 'see the log' line)."""
    text = (result.get("log") or "") + "\n" + (result.get("error") or "")
    lines = [m.group(1).strip() for line in text.splitlines() if (m := _EXCEPTION_LINE.match(line))]
    lines = [s for s in lines if "Please see the" not in s and s != "Traceback"] or lines
    return lines[-1] if lines else "nbgrader failed without an error message"


def grade_submission(task):
    """Autograde one student's submission (a Task) with nbgrader, in this process; then write the feedback.

    Returns a Result (log: this worker's log file). Runs inside pool or Dask workers; nbgrader and the config
    are loaded on the first call only.
    """
    root, assignment, student = task.root, task.assignment, task.student
    start = time.perf_counter()
    log_path = reports_dir(root, assignment) / "logs" / f"{socket.gethostname()}-{os.getpid()}.log"
    out = Result(student, host=socket.gethostname(), log=str(log_path))
    with output_to(log_path) as log, warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="nbgrader")  # its SQLAlchemy warnings: noise, not news
        log.write(f"--- {time.strftime('%H:%M:%S')} autograde {assignment} {student}\n")
        log.flush()
        try:
            api = api_for(root, worker_url(task.db_url))
            for attempt in range(LOCK_RETRIES):
                result = api.autograde(assignment, student, force=True, create=True)
                locked = "database is locked" in (result.get("log") or "") + (result.get("error") or "")
                if result["success"] or not locked:
                    break
                wait = min(30.0, 0.5 * 2 ** attempt) * random.uniform(0.5, 1.5)
                log.write(f"database is locked: attempt {attempt + 1}, again in {wait:.1f} s\n")
                log.flush()
                time.sleep(wait)
            out.ok = result["success"]
            if not result["success"]:
                out.error = error_message(result)
                log.write(result.get("log", "") + result.get("error", "") + "\n")
            elif task.feedback:
                fb = api.generate_feedback(assignment, student, force=True)
                if not fb["success"]:
                    out.warning = "feedback failed: " + error_message(fb)
                    log.write(fb.get("log", "") + fb.get("error", "") + "\n")
        except Exception as exc:  # noqa: BLE001 (one submission's failure must never stop the class)
            out.error = f"{type(exc).__name__}: {exc}"
    out.seconds = time.perf_counter() - start
    return out
