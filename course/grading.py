"""Grade a whole class in parallel: nbgrader's autograde, one submission per task, on long-lived workers.

Each worker process loads nbgrader and the course's nbgrader_config.py once, then grades submission
after submission in-process with nbgrader's own API (NbGraderAPI.autograde: the same converter, the
same preprocessors and settings as `nbgrader autograde`), and writes the student's feedback. The work
is scheduled on an existing engine:

- a local process pool (concurrent.futures) on one machine, or
- Dask distributed across machines: `dask scheduler` plus `dask worker` on each machine (or any Dask
  deployer: SSHCluster, dask-jobqueue), or a LocalCluster on this machine.

All workers write into one nbgrader gradebook (`db_url`): SQLite on one machine, PostgreSQL when
graders on several machines share it. Before the parallel part, the gradebook gets its tables, the
assignment (synced from the master when missing or stale) and every student, so that workers only
ever add their own student's submission. SQLite answers "database is locked" when writers collide:
workers wait for the lock (timeout) and retry the submission with backoff.

A run is resumable: every result is appended to reports/<assignment>/autograde_log.csv as it arrives,
and a submission is skipped when its last grading succeeded on the same file (sha256) and its gradebook
entry holds a score for every autograded cell, unless force=True. A submission that crashes nbgrader,
or even kills its worker process, is recorded as failed with its error message; the others are graded.
"""

import contextlib
import csv
import logging
import os
import random
import re
import socket
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from . import master_path
from .data import _sha256 as sha256  # the loader's file hash: one implementation
from .notebooks import grade_cells, grade_id, nbgrader_meta, read

LOCK_RETRIES = 6  # attempts at one submission while SQLite says "database is locked"


def notebook_path(root, step, student, assignment):
    return Path(root) / step / student / assignment / f"{assignment}.ipynb"


def reports_dir(root, assignment):
    """reports/<assignment>/: grades, class report, failures, intake report and worker logs."""
    return Path(root) / "reports" / assignment


# ---------------------------------------------------------------- configuration and gradebook


def course_config(root, db_url=None):
    """The course's nbgrader_config.py (what `nbgrader` reads when run from the root), with the root and,
    if given, the gradebook URL set explicitly."""
    from traitlets.config.loader import Config, PyFileConfigLoader

    root = Path(root).resolve()
    config = Config()
    if (root / "nbgrader_config.py").is_file():
        path = list(sys.path)  # the config puts its folder first on sys.path: keep ours as it was
        try:
            config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
        finally:
            sys.path[:] = path
    config.CourseDirectory.root = str(root)
    if db_url:
        config.CourseDirectory.db_url = db_url
    return config


def gradebook_url(root, db_url=None):
    """The gradebook's URL: db_url if given, else the course config's, else sqlite:///<root>/gradebook.db."""
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=course_config(root, db_url)).db_url


def _worker_url(db_url):
    """Workers wait up to a minute for SQLite's write lock (the default is 5 s) before they retry."""
    if db_url.startswith("sqlite") and "?" not in db_url:
        return db_url + "?timeout=60"
    return db_url


def checked_cells(master):
    """{grade_id: source} of the cells nbgrader stores and writes back over the student's: tests and
    locked cells (not the solution cells, whose source the student writes)."""
    out = {}
    for cell in master.cells:
        meta = nbgrader_meta(cell)
        if meta.get("locked") or (meta.get("grade") and not meta.get("solution")):
            out[grade_id(cell)] = cell.source
    return out


def stale_cells(gb, assignment, master):
    """Cells whose tests or points in the gradebook differ from the master (all of them if absent)."""
    from nbgrader.api import MissingEntry

    try:
        nb = gb.find_notebook(assignment, assignment)
    except MissingEntry:
        return ["(assignment not in the gradebook)"]
    stored = {c.name: c.source for c in nb.source_cells}
    points = {c.name: c.max_score for c in nb.grade_cells}
    stale = [gid for gid, src in checked_cells(master).items() if stored.get(gid) != src]
    for cell in master.cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade") and points.get(meta["grade_id"]) != float(meta.get("points", 0)):
            stale.append(meta["grade_id"])
    return sorted(set(stale))


def prepare_gradebook(root, assignment, db_url, students=()):
    """Create the gradebook's tables, sync the assignment from the master if missing or stale, and add
    every student: done once, before workers write into it in parallel."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.utils import temp_attrs

    config = course_config(root, db_url)
    course_id = config.CourseDirectory.get("course_id", "")
    with Gradebook(db_url, course_id) as gb:
        stale = stale_cells(gb, assignment, read(master_path(assignment, root)))
    if stale:
        # nbgrader's generate_assignment stores the tests and points; its release copy goes to a
        # scratch folder (release/ is regenerated by `python -m course release` only).
        api = NbGraderAPI(config=config)
        with tempfile.TemporaryDirectory() as scratch, temp_attrs(api.coursedir, release_directory=scratch):
            result = api.generate_assignment(assignment, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"could not store {assignment} in the gradebook {db_url}:\n{result.get('log', '')}"
                               f"\n{result.get('error', '')}")
    with Gradebook(db_url, course_id) as gb:
        for student in students:
            gb.update_or_create_student(student)
    return stale


def gradebook_state(db_url, assignment):
    """{student: {"submissions": n, "grades": {cell: (score, max, auto_score)}, "doubled": [cells]}} for the
    assignment, in one query over nbgrader's tables."""
    from nbgrader.api import Assignment, Grade, Gradebook, GradeCell, SubmittedAssignment, SubmittedNotebook

    state = {}
    with Gradebook(db_url, "") as gb:  # course "": read without adding a course row
        rows = (gb.db.query(SubmittedAssignment.student_id, SubmittedAssignment.id, GradeCell.name, Grade.score,
                            GradeCell.max_score, Grade.auto_score)
                .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                .outerjoin(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                .outerjoin(Grade, Grade.notebook_id == SubmittedNotebook.id)
                .outerjoin(GradeCell, Grade.cell_id == GradeCell.id)
                .filter(Assignment.name == assignment).all())
    subs = {}
    for student, sub_id, cell, score, top, auto in rows:
        entry = state.setdefault(student, {"submissions": 0, "grades": {}, "doubled": []})
        subs.setdefault(student, set()).add(sub_id)
        if cell is None:
            continue
        if cell in entry["grades"]:
            entry["doubled"].append(cell)
        entry["grades"][cell] = (float(score or 0.0), float(top), auto)
    for student, ids in subs.items():
        state[student]["submissions"] = len(ids)
    return state


def incomplete(entry, test_ids):
    """Why a student's gradebook entry is not one complete grading (None when it is)."""
    if entry is None:
        return "no submission in the gradebook"
    if entry["submissions"] != 1:
        return f"{entry['submissions']} submissions in the gradebook"
    if entry["doubled"]:
        return f"several grades for {', '.join(sorted(set(entry['doubled'])))}"
    missing = sorted(t for t in test_ids if t not in entry["grades"] or entry["grades"][t][2] is None)
    return f"no score for {', '.join(missing)}" if missing else None


# ---------------------------------------------------------------- one submission, inside a worker

_APIS = {}  # (root, db_url) -> NbGraderAPI: built once per worker process


def _api(root, db_url):
    key = (str(root), db_url)
    if key not in _APIS:
        from nbgrader.apps import NbGraderAPI

        _APIS[key] = NbGraderAPI(config=course_config(root, db_url))
    return _APIS[key]


@contextlib.contextmanager
def _output_to(path):
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


def grade_submission(root, db_url, assignment, student, feedback=True):
    """Autograde one student's submission with nbgrader, in this process; then write the feedback.

    Returns a dict: student, ok, error (one line), seconds, host, log (this worker's log file).
    Runs inside pool or Dask workers; nbgrader and the config are loaded on the first call only.
    """
    start = time.perf_counter()
    log_path = reports_dir(root, assignment) / "logs" / f"{socket.gethostname()}-{os.getpid()}.log"
    out = {"student": student, "ok": False, "error": "", "host": socket.gethostname(), "log": str(log_path)}
    with _output_to(log_path) as log, warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="nbgrader")  # its SQLAlchemy warnings: noise, not news
        log.write(f"--- {time.strftime('%H:%M:%S')} autograde {assignment} {student}\n")
        log.flush()
        try:
            api = _api(root, _worker_url(db_url))
            for attempt in range(LOCK_RETRIES):
                result = api.autograde(assignment, student, force=True, create=True)
                locked = "database is locked" in (result.get("log") or "") + (result.get("error") or "")
                if result["success"] or not locked:
                    break
                wait = min(30.0, 0.5 * 2 ** attempt) * random.uniform(0.5, 1.5)
                log.write(f"database is locked: attempt {attempt + 1}, again in {wait:.1f} s\n")
                log.flush()
                time.sleep(wait)
            out["ok"] = result["success"]
            if not result["success"]:
                out["error"] = error_message(result)
                log.write(result.get("log", "") + result.get("error", "") + "\n")
            elif feedback:
                fb = api.generate_feedback(assignment, student, force=True)
                if not fb["success"]:
                    out["warning"] = "feedback failed: " + error_message(fb)
                    log.write(fb.get("log", "") + fb.get("error", "") + "\n")
        except Exception as exc:  # noqa: BLE001 (one submission's failure must never stop the class)
            out["error"] = f"{type(exc).__name__}: {exc}"
    out["seconds"] = time.perf_counter() - start
    return out


# ---------------------------------------------------------------- engines


def _run_inline(tasks, on_result):
    for task in tasks:
        on_result(grade_submission(*task))


_started = None  # a queue in pool workers: (pid, student) when a task starts


def _pool_init(queue):
    global _started
    _started = queue


def _pool_task(grade, *task):
    _started.put((os.getpid(), task[3]))
    return grade(*task)


def _run_pool(tasks, workers, on_result, grade=grade_submission):
    """A local process pool running grade(*task). If a submission kills its worker process, the pool breaks:
    the submissions that were being graded are retried one at a time in a pool of their own (so the culprit
    is found), the others in a new pool."""
    # Workers fork from a clean server process that has imported nbgrader once: no state copied from the
    # caller (its threads, its open database connections), and a new worker starts in a fraction of a second.
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(["course.grading", "nbgrader.apps"])
    queue, pending, suspects = ctx.SimpleQueue(), list(tasks), []
    while pending or suspects:
        for task in suspects:  # alone in a pool: a second death is this submission's doing
            with ProcessPoolExecutor(1, mp_context=ctx, initializer=_pool_init, initargs=(queue,)) as pool:
                try:
                    on_result(pool.submit(_pool_task, grade, *task).result())
                except BrokenProcessPool:
                    on_result(_failed(task, "the grading process died while grading this submission "
                                            "(twice: in the pool, then alone)"))
        suspects = []
        if not pending:
            break
        with ProcessPoolExecutor(min(workers, len(pending)), mp_context=ctx, initializer=_pool_init,
                                 initargs=(queue,)) as pool:
            futures = {pool.submit(_pool_task, grade, *task): task for task in pending}
            broken = []
            for fut in as_completed(futures):
                try:
                    result = fut.result()
                except BrokenProcessPool:
                    broken.append(futures[fut])
                    continue
                on_result(result)
        started = set()
        while not queue.empty():
            started.add(queue.get()[1])
        suspects = [t for t in broken if t[3] in started]
        pending = [t for t in broken if t[3] not in started]
        if broken and not started:
            raise RuntimeError("the grading processes died before grading anything: run the grader from a script "
                               "or `python -m course`, and see the errors above")


def _failed(task, error):
    return {"student": task[3], "ok": False, "error": error, "host": "", "log": "", "seconds": 0.0}


def _run_dask(tasks, dask, workers, on_result):
    """Dask distributed: dask is a scheduler address (tcp://host:8786), "local" for a LocalCluster of
    `workers` single-threaded processes on loopback, or a distributed.Client."""
    from distributed import Client, LocalCluster
    from distributed import as_completed as dask_completed

    with contextlib.ExitStack() as stack:
        if isinstance(dask, Client):
            client = dask
        elif dask == "local":
            # silence_logs: the workers' own logging (at shutdown, heartbeats to a closing scheduler fail with a
            # traceback on stderr); a submission's failure reaches us through its future, not through those logs.
            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                       host="127.0.0.1", dashboard_address=None,
                                                       silence_logs=logging.CRITICAL))
            client = stack.enter_context(Client(cluster))
        else:
            client = stack.enter_context(Client(dask))
        try:
            client.wait_for_workers(1, timeout=120)
        except TimeoutError as exc:
            raise RuntimeError(f"no Dask worker joined {client.scheduler.address} within 120 s: start some with "
                               f"`dask worker {client.scheduler.address} --nthreads 1` from the course root") from exc
        n_workers = len(client.nthreads())
        futures = {client.submit(grade_submission, *task, key=f"autograde-{task[2]}-{task[3]}-{time.time_ns()}",
                                 pure=False): task for task in tasks}
        for fut in dask_completed(futures):
            try:
                on_result(fut.result())
            except Exception as exc:  # noqa: BLE001 (KilledWorker: the submission killed its workers)
                error = f"{type(exc).__name__}: {exc}"
                if type(exc).__name__ == "KilledWorker":
                    error = "the grading process died while grading this submission (Dask: on every worker tried)"
                on_result(_failed(futures[fut], error))
            fut.release()
    return n_workers


# ---------------------------------------------------------------- a class


@dataclass
class ClassRun:
    assignment: str
    db_url: str
    graded: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)  # student -> error message
    results: list = field(default_factory=list)  # every result: student, ok, error, seconds, host, log
    warnings: dict = field(default_factory=dict)
    seconds: float = 0.0
    workers: int = 1
    engine: str = "inline"
    synced: list = field(default_factory=list)  # cells stored anew in the gradebook from the master

    def summary(self):
        synced = f"; {self.assignment} stored in the gradebook from the master" if self.synced else ""
        return (f"{self.assignment}: {len(self.graded)} graded, {len(self.skipped)} skipped (already graded), "
                f"{len(self.failed)} failed, in {self.seconds:.1f} s with {self.workers} worker(s) ({self.engine})"
                f"{synced}")


def submitted_students(root, assignment):
    """Students with a submitted/<student>/<assignment>/ folder: {student: notebook path or None}."""
    base = Path(root) / "submitted"
    found = {}
    for folder in sorted(base.glob(f"*/{assignment}")) if base.is_dir() else []:
        nb = folder / f"{assignment}.ipynb"
        found[folder.parent.name] = nb if nb.is_file() else None
    return found


# reports/<assignment>/autograde_log.csv: one row per grading, appended as results arrive (so an interrupted
# run keeps what it finished); a student's last row tells whether the current submission is graded.
LOG_FIELDS = ["finished", "student", "sha256", "status", "error", "seconds", "host"]


def grading_log(root, assignment):
    """{student: the last row of autograde_log.csv}."""
    path = reports_dir(root, assignment) / "autograde_log.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def log_result(root, assignment, result, sha):
    path = reports_dir(root, assignment) / "autograde_log.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.is_file()
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=LOG_FIELDS)
        if new:
            w.writeheader()
        w.writerow({"finished": time.strftime("%Y-%m-%dT%H:%M:%S"), "student": result["student"], "sha256": sha,
                    "status": "graded" if result["ok"] else "failed", "error": result.get("error", ""),
                    "seconds": f"{result.get('seconds', 0):.1f}", "host": result.get("host", "")})


def grading_status(root, assignment, student, entry, test_ids, log=None):
    """'graded', or 'not graded: why': its last grading failed, the submission changed since, the gradebook
    lacks scores, or the autograded notebook is missing. log: the student's last autograde_log.csv row."""
    submitted = notebook_path(root, "submitted", student, assignment)
    if log and log["status"] != "graded":
        return f"not graded: {log['error']}"
    if log and submitted.is_file() and log["sha256"] != sha256(submitted):
        return "not graded: the submission changed since it was graded"
    problem = incomplete(entry, test_ids)
    if problem is None and not notebook_path(root, "autograded", student, assignment).is_file():
        problem = "no autograded notebook"
    return f"not graded: {problem}" if problem else "graded"


def graded_before(root, assignment, student, sha, entry, test_ids, log):
    """This very submission was graded: its last logged grading succeeded on the same file (or, graded
    without our log, e.g. by `nbgrader autograde`: the autograded notebook is newer than the submitted one),
    and the gradebook holds a score for every test."""
    if log is None:
        graded = notebook_path(root, "autograded", student, assignment)
        submitted = notebook_path(root, "submitted", student, assignment)
        if not graded.is_file() or graded.stat().st_mtime < submitted.stat().st_mtime:
            return False
    elif log["sha256"] != sha:
        return False
    return grading_status(root, assignment, student, entry, test_ids, log) == "graded"


def autograde_class(assignment, root, workers=None, db_url=None, force=False, dask=None, students=None,
                    feedback=True, progress=True):
    """Autograde every submission of an assignment (or `students`) with `workers` parallel workers.

    dask: None for a local process pool (or in this process when one worker suffices), "local" for a
    Dask LocalCluster, "tcp://host:port" for a running Dask scheduler, or a distributed.Client.
    A submission graded before (same file, complete gradebook entry) is skipped unless force=True.
    Returns a ClassRun; every result is also appended to reports/<assignment>/autograde_log.csv.
    """
    from tqdm import tqdm

    from .preflight import require_ready

    root = Path(root).resolve()
    require_ready([assignment], root)  # the sandbox and the data, before anything is written
    workers = workers or len(os.sched_getaffinity(0))
    db_url = gradebook_url(root, db_url)
    run = ClassRun(assignment, db_url, workers=workers)
    start = time.perf_counter()
    found = submitted_students(root, assignment)
    if students is not None:
        unknown = sorted(set(students) - set(found))
        if unknown:
            raise FileNotFoundError(f"no submitted/<student>/{assignment}/ folder for: {', '.join(unknown)}")
        found = {s: found[s] for s in students}
    for student in sorted(s for s, p in found.items() if p is None):
        result = _failed(("", "", assignment, student), f"submitted/{student}/{assignment}/ holds no "
                                                        f"{assignment}.ipynb")
        run.failed[student] = result["error"]
        log_result(root, assignment, result, "")
    shas = {s: sha256(p) for s, p in sorted(found.items()) if p is not None}

    test_ids = list(grade_cells(read(master_path(assignment, root))))
    run.synced = prepare_gradebook(root, assignment, db_url, list(shas))
    state, log = ({}, {}) if force else (gradebook_state(db_url, assignment), grading_log(root, assignment))
    todo = []
    for student, sha in shas.items():
        if not force and graded_before(root, assignment, student, sha, state.get(student), test_ids, log.get(student)):
            run.skipped.append(student)
        else:
            todo.append((str(root), db_url, assignment, student, feedback))

    bar = tqdm(total=len(todo), unit="submission", desc=f"autograde {assignment}", disable=not progress or not todo,
               file=sys.stderr)

    def on_result(result):
        run.results.append(result)
        if result["ok"]:
            run.graded.append(result["student"])
        else:
            run.failed[result["student"]] = result["error"]
        if result.get("warning"):
            run.warnings[result["student"]] = result["warning"]
        log_result(root, assignment, result, shas[result["student"]])
        bar.update(1)
        bar.set_postfix(failed=len(run.failed), refresh=False)

    run.workers = min(workers, len(todo)) or 1
    if dask is not None:
        run.engine = "dask " + ("LocalCluster" if dask == "local" else str(getattr(dask, "scheduler", dask)))
        if todo:
            run.workers = _run_dask(todo, dask, workers, on_result)
    elif run.workers > 1:
        run.engine = "process pool"
        _run_pool(todo, run.workers, on_result)
    else:
        _run_inline(todo, on_result)
    bar.close()

    # No grade lost: every graded student has exactly one submission with a score for every test cell.
    state = gradebook_state(db_url, assignment)
    for student in list(run.graded):
        problem = incomplete(state.get(student), test_ids)
        if problem:
            run.graded.remove(student)
            run.failed[student] = f"graded, but the gradebook is incomplete: {problem}"
            log_result(root, assignment, _failed(("", "", assignment, student), run.failed[student]), shas[student])
    run.graded.sort()
    run.seconds = time.perf_counter() - start
    return run
