"""Grading a class in parallel: a local process pool and a real Dask cluster on loopback, one SQLite
gradebook, no grade lost or doubled, crashing submissions recorded, resumable runs.

One scratch class (model_fitting: reference, blank, two buggy, a damaged file, another assignment's
notebook) is graded once by the module fixture; the later tests regrade a few submissions of it.
"""

import html
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from checkout import COURSE
from sqlalchemy import create_engine, text

from course.grading import Result, Task, autograde_class, grade_submission, grading_log, scores
from course.grading.engines import run_pool
from course.grading.worker import api_for
from course.notebooks import HIDDEN_BEGIN, HIDDEN_END, grade_cells, manual_cells, marked_lines
from course.release import copy_course
from course.submissions import blank, reference, with_bugs, write_submission

pytestmark = pytest.mark.slow  # grades submissions with nbgrader: minutes

A = "model_fitting"
BUGS = {"bug_a": COURSE[A].catalog.DEMO, "bug_b": ["relu_derivative_everywhere"]}
GOOD = {"ref", "blank", *BUGS}
# "wrong" is rejected by course.nbgrader_ext.check_submission.CheckSubmission, which only nbgrader_config.py wires in: the workers
# grade with the course's config.
BROKEN = {"garbage": "NotJSONError", "wrong": "another assignment (autograd_mlp)"}

GRADES_SQL = """
SELECT sa.student_id, sa.id, bc.name, g.auto_score, gc.max_score, gc.cell_type
FROM submitted_assignment sa JOIN assignment a ON sa.assignment_id = a.id
JOIN submitted_notebook sn ON sn.assignment_id = sa.id JOIN grade g ON g.notebook_id = sn.id
JOIN base_cell bc ON g.cell_id = bc.id JOIN grade_cells gc ON gc.id = bc.id
WHERE a.name = :a"""


def grades_in_db(db_url, assignment=A):
    """{student: {"submissions": set of ids, "cells": [(cell, auto_score, max, type)]}} straight from SQL."""
    out = {}
    engine = create_engine(db_url)
    with engine.connect() as con:
        for student, sub, cell, auto, top, kind in con.execute(text(GRADES_SQL), {"a": assignment}):
            entry = out.setdefault(student, {"submissions": set(), "cells": []})
            entry["submissions"].add(sub)
            entry["cells"].append((cell, auto, top, kind))
    engine.dispose()
    return out


def check_graded_once(db_url, students, assignment=A):
    """Every student: exactly one submission, one grade per grade cell of the master, every test scored."""
    master = COURSE[assignment].master()
    expected = {**grade_cells(master), **manual_cells(master)}
    db = grades_in_db(db_url, assignment)
    for student in students:
        assert student in db, f"{student}: no grades in the gradebook"
        cells = db[student]["cells"]
        assert len(db[student]["submissions"]) == 1, f"{student}: {len(db[student]['submissions'])} submissions"
        names = [c[0] for c in cells]
        assert sorted(names) == sorted(expected), f"{student}: grades {sorted(names)} != grade cells"
        unscored = [c[0] for c in cells if c[3] == "code" and c[1] is None]
        assert not unscored, f"{student}: no autograde score for {unscored}"
    return db


def lost(db, student):
    return {cell for cell, auto, top, kind in db[student]["cells"] if kind == "code" and auto < top}


def check_expected_scores(db):
    """Reference: full marks; blank: nothing; each buggy one loses its bugs' questions and no others."""
    tests = set(grade_cells(COURSE[A].master()))
    assert lost(db, "ref") == set()
    assert lost(db, "blank") == tests
    for student, bugs in BUGS.items():
        entries = [COURSE[A].catalog.BUGS[b] for b in bugs]
        must = {t for e in entries for t in e["fails"]}
        may = must | {t for e in entries for t in e.get("also", [])} | COURSE[A].left_out()
        assert must <= lost(db, student) <= may, f"{student} ({bugs}): lost {sorted(lost(db, student))}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = copy_course(COURSE, tmp_path_factory.mktemp("class"))
    root, a = course.root, course[A]
    write_submission(reference(a), a, "ref")
    write_submission(blank(a), a, "blank")
    for student, bugs in BUGS.items():
        write_submission(with_bugs(a, bugs), a, student)
    write_submission(blank(course["autograd_mlp"]), a, "wrong")
    damaged = root / "submitted" / "garbage" / A / f"{A}.ipynb"
    damaged.parent.mkdir(parents=True)
    damaged.write_text('{"cells": [')
    run = autograde_class(a, workers=2)
    return {"root": root, "a": a, "run": run, "db_url": f"sqlite:///{root / 'gradebook.db'}"}


def test_every_submission_is_graded_exactly_once(graded):
    run = graded["run"]
    assert run.engine == "process pool" and run.workers == 2
    assert set(run.graded) == GOOD and set(run.failed) == set(BROKEN)
    pids = {r.log for r in run.results if r.ok}
    assert len(pids) == 2, f"two worker processes should share the work, logs: {pids}"
    check_expected_scores(check_graded_once(graded["db_url"], GOOD))


def test_crashing_submissions_are_recorded_and_the_rest_graded(graded):
    run = graded["run"]
    for student, message in BROKEN.items():
        assert message in run.failed[student], run.failed[student]
        assert grading_log(graded["a"])[student]["status"] == "failed"
    rows = {r.student: r for r in scores(graded["a"])}
    assert {s for s, r in rows.items() if r.status == "graded"} == GOOD
    assert all(rows[s].status.startswith("not graded") for s in BROKEN if s in rows)


def test_workers_write_each_students_feedback_with_the_course_config(graded):
    secret = marked_lines(COURSE[A].master(), HIDDEN_BEGIN, HIDDEN_END, min_length=20)
    for student in GOOD | set(BROKEN):
        path = graded["root"] / "feedback" / student / A / f"{A}.html"
        assert path.is_file() == (student in GOOD), student
        if path.is_file():  # nbgrader_config.py's ScrubFeedback ran in the workers: no hidden test source
            text = html.unescape(path.read_text())
            assert not [line for line in secret if line in text], f"{student}'s feedback shows hidden tests"


def test_a_resumed_run_skips_graded_submissions_and_regrades_changed_ones(graded, capfd):
    a = graded["a"]
    write_submission(reference(a), a, "blank")  # the blank student hands in a finished notebook
    run = autograde_class(a, workers=2)
    assert set(run.skipped) == GOOD - {"blank"}
    assert run.graded == ["blank"] and set(run.failed) == set(BROKEN), "failed submissions are retried"
    assert "autograde model_fitting" in capfd.readouterr().err, "a progress bar on stderr"
    db = check_graded_once(graded["db_url"], GOOD)
    assert lost(db, "blank") == set(), "the new submission's grade replaced the old one"
    write_submission(blank(a), a, "blank")  # back as it was, for the other tests
    assert autograde_class(a, workers=2, students=["blank"]).graded == ["blank"]


def test_force_regrades_graded_submissions(graded):
    before = (graded["root"] / "autograded" / "ref" / A / f"{A}.ipynb").stat().st_mtime
    assert autograde_class(graded["a"], workers=2, students=["ref"]).skipped == ["ref"]
    run = autograde_class(graded["a"], workers=2, students=["ref"], force=True)
    assert run.graded == ["ref"] and run.engine == "inline", "one submission: graded in this process"
    assert (graded["root"] / "autograded" / "ref" / A / f"{A}.ipynb").stat().st_mtime > before
    check_expected_scores(check_graded_once(graded["db_url"], GOOD))


def test_dask_workers_on_loopback_grade_into_the_same_gradebook(graded):
    from distributed import LocalCluster

    students = ["bug_a", "bug_b", "garbage"]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        run = autograde_class(graded["a"], dask=cluster.scheduler_address, students=students, force=True)
    assert run.workers == 2 and run.engine.startswith("dask")
    assert sorted(run.graded) == ["bug_a", "bug_b"] and set(run.failed) == {"garbage"}
    assert all(str(os.getpid()) not in r.log for r in run.results), "graded in the Dask workers"
    check_expected_scores(check_graded_once(graded["db_url"], GOOD))


def test_a_worker_retries_while_sqlite_is_locked(graded):
    root, path = graded["root"], graded["root"] / "gradebook.db"
    url = f"sqlite:///{path}?timeout=0.2"  # give up waiting for the lock quickly, to reach the retries
    api_for(root, url)  # nbgrader loaded, as in a worker that graded before

    def hold_the_lock(seconds=3):
        con = sqlite3.connect(path, isolation_level=None)
        con.execute("BEGIN EXCLUSIVE")
        time.sleep(seconds)
        con.execute("COMMIT")
        con.close()

    other_writer = threading.Thread(target=hold_the_lock)
    other_writer.start()
    time.sleep(0.2)
    result = grade_submission(Task(str(root), url, A, "ref", feedback=False))
    other_writer.join()
    assert result.ok, result.error
    assert "database is locked: attempt 1" in Path(result.log).read_text()
    check_expected_scores(check_graded_once(graded["db_url"], GOOD))


def die_on_c(task):
    """A stand-in grader whose process dies on student 'c' (as if a submission killed its worker)."""
    if task.student == "c":
        os._exit(3)
    time.sleep(0.5)
    return Result(task.student, ok=True, seconds=0.5, log=str(os.getpid()))


def test_a_submission_that_kills_its_worker_process_fails_alone():
    got = []
    run_pool([Task("root", "db", A, s, False) for s in "abcdef"], 2, got.append, grade=die_on_c)
    assert sorted(r.student for r in got) == list("abcdef"), "every submission gets one result"
    results = {r.student: r for r in got}
    assert not results["c"].ok and "died" in results["c"].error
    assert all(results[s].ok for s in "abdef"), {s: r.error for s, r in results.items()}
