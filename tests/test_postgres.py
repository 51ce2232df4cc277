"""A PostgreSQL gradebook (nbgrader's db_url), as graders on several machines share it: a throwaway
PostgreSQL server on loopback, parallel Dask workers autograding into it, every grade checked in SQL.

Needs the server binaries of Debian's `postgresql` package (.ci/run installs it) and psycopg (SQLAlchemy's default PostgreSQL driver).
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from checkout import COURSE
from test_parallel import BUGS, check_expected_scores, check_graded_once

from course import report
from course.course import Course
from course.grading import autograde_class, scores
from course.release import copy_course
from course.submissions import blank, reference, with_bugs, write_submission

pytestmark = pytest.mark.slow  # grades submissions with nbgrader: minutes

A = "model_fitting"


def server_binaries():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    bindir = Path(found[-1]).parent if found else (Path(shutil.which("initdb")).parent if shutil.which("initdb")
                                                   else None)
    if bindir is None:
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql package "
                    "(sudo apt-get install postgresql), as .ci/run does")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("psycopg (the PostgreSQL driver) is missing: pip install -r requirements.txt")
    return bindir


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A PostgreSQL server of its own on 127.0.0.1 (superuser 'grader', no password), stopped afterwards."""
    bindir = server_binaries()
    base = Path(tempfile.mkdtemp(prefix="gradebook-pg-"))
    as_user = []
    if os.geteuid() == 0:  # initdb refuses to run as root: the server runs as the postgres system user
        shutil.chown(base, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]

    def run(*cmd):
        proc = subprocess.run([*as_user, *cmd], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout}\n{proc.stderr}"

    data, port = base / "data", free_port()
    run(str(bindir / "initdb"), "-D", str(data), "-U", "grader", "--auth=trust", "-E", "UTF8", "--no-sync")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w", "start",
        "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off")
    try:
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "grader", "gradebook")
        yield f"postgresql://grader@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, postgres_url):
    course = copy_course(COURSE.with_gradebook(postgres_url), tmp_path_factory.mktemp("pg-class"))
    a = course[A]
    write_submission(reference(a), a, "ref")
    write_submission(blank(a), a, "blank")
    for student, bugs in BUGS.items():
        write_submission(with_bugs(a, bugs), a, student)
    run = autograde_class(a, workers=2, dask="local")
    return {"root": course.root, "a": a, "run": run, "db_url": postgres_url}


def test_parallel_workers_grade_into_postgresql(graded):
    run = graded["run"]
    assert run.db_url.startswith("postgresql://") and run.workers == 2
    assert sorted(run.graded) == sorted(["ref", "blank", *BUGS]) and not run.failed
    check_expected_scores(check_graded_once(graded["db_url"], run.graded))
    assert not (graded["root"] / "gradebook.db").exists(), "nothing went to the default SQLite gradebook"


def test_resume_and_reports_read_the_postgresql_gradebook(graded):
    a = Course.at(graded["root"], db_url=graded["db_url"])[A]  # the gradebook named again, as on the command line
    again = autograde_class(a, workers=2)
    assert sorted(again.skipped) == sorted(graded["run"].graded) and not again.graded
    rows = {r.student: r for r in scores(a)}
    assert rows["ref"].core == rows["ref"].core_max > 0 and rows["blank"].core == 0
    assert all(r.status == "graded" for r in rows.values())
    html = report.write_report(a)
    assert "4 graded" in html.read_text()
