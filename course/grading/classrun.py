"""A class: every submission of an assignment graded on an engine, and nothing lost on the way."""

import os
import sys
import time
from dataclasses import dataclass, field

from ..data import file_sha256 as sha256
from ..notebooks import grade_cells
from .engines import run_dask, run_inline, run_pool
from .gradebook import gradebook_state, incomplete, prepare_gradebook
from .runlog import graded_before, grading_log, log_result
from .worker import Task, failed


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


def submitted_students(assignment):
    """Students with a submitted/<student>/<assignment>/ folder: {student: notebook path or None}."""
    root = assignment.root
    pattern = assignment.notebook("submitted", "*").parent.relative_to(root)
    found = {}
    for folder in sorted(root.glob(str(pattern))):
        student = folder.relative_to(root).parts[pattern.parts.index("*")]
        nb = assignment.notebook("submitted", student)
        found[student] = nb if nb.is_file() else None
    return found


def autograde_class(assignment, workers=None, force=False, dask=None, students=None, feedback=True, progress=True):
    """Autograde every submission of an Assignment (or `students`) with `workers` parallel workers, into its
    course's gradebook.

    dask: None for a local process pool (or in this process when one worker suffices), "local" for a
    Dask LocalCluster, "tcp://host:port" for a running Dask scheduler, or a distributed.Client.
    A submission graded before (same file, complete gradebook entry) is skipped unless force=True.
    Returns a ClassRun; every result is also appended to reports/<assignment>/autograde_log.csv.
    """
    from tqdm import tqdm

    from ..nbgrader_ext.preflight import require_ready

    require_ready([assignment])  # the sandbox and the data, before anything is written
    name, root = assignment.name, str(assignment.root)
    workers = workers or len(os.sched_getaffinity(0))
    db_url = assignment.course.gradebook
    run = ClassRun(name, db_url, workers=workers)
    start = time.perf_counter()
    found = submitted_students(assignment)
    if students is not None:
        unknown = sorted(set(students) - set(found))
        if unknown:
            raise FileNotFoundError(f"no submitted/<student>/{name}/ folder for: {', '.join(unknown)}")
        found = {s: found[s] for s in students}
    for student in sorted(s for s, p in found.items() if p is None):
        result = failed(Task(root, db_url, name, student), f"submitted/{student}/{name}/ holds no {name}.ipynb")
        run.failed[student] = result.error
        log_result(assignment, result, "")
    shas = {s: sha256(p) for s, p in sorted(found.items()) if p is not None}

    test_ids = list(grade_cells(assignment.master()))
    run.synced = prepare_gradebook(assignment, list(shas))
    state, log = ({}, {}) if force else (gradebook_state(assignment), grading_log(assignment))
    todo = []
    for student, sha in shas.items():
        if not force and graded_before(assignment, student, sha, state.get(student), test_ids, log.get(student)):
            run.skipped.append(student)
        else:
            todo.append(Task(root, db_url, name, student, feedback))

    bar = tqdm(total=len(todo), unit="submission", desc=f"autograde {name}", disable=not progress or not todo,
               file=sys.stderr)

    def on_result(result):
        run.results.append(result)
        if result.ok:
            run.graded.append(result.student)
        else:
            run.failed[result.student] = result.error
        if result.warning:
            run.warnings[result.student] = result.warning
        log_result(assignment, result, shas[result.student])
        bar.update(1)
        bar.set_postfix(failed=len(run.failed), refresh=False)

    run.workers = min(workers, len(todo)) or 1
    if dask is not None:
        run.engine = "dask " + ("LocalCluster" if dask == "local" else str(getattr(dask, "scheduler", dask)))
        if todo:
            run.workers = run_dask(todo, dask, workers, on_result)
    elif run.workers > 1:
        run.engine = "process pool"
        run_pool(todo, run.workers, on_result)
    else:
        run_inline(todo, on_result)
    bar.close()

    # No grade lost: every graded student has exactly one submission with a score for every test cell.
    state = gradebook_state(assignment)
    for student in list(run.graded):
        problem = incomplete(state.get(student), test_ids)
        if problem:
            run.graded.remove(student)
            run.failed[student] = f"graded, but the gradebook is incomplete: {problem}"
            log_result(assignment, failed(Task(root, db_url, name, student), run.failed[student]), shas[student])
    run.graded.sort()
    run.seconds = time.perf_counter() - start
    return run
