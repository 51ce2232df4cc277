"""The run log, reports/<assignment>/autograde_log.csv, and what it says of each student's grading."""

import csv
import time

from ..data import file_sha256 as sha256  # the loader's file hash: one implementation
from .gradebook import incomplete

# One row per grading, appended as results arrive (so an interrupted
# run keeps what it finished); a student's last row tells whether the current submission is graded.
LOG_FIELDS = ["finished", "student", "sha256", "status", "error", "seconds", "host"]


def grading_log(assignment):
    """{student: the last row of autograde_log.csv}."""
    path = assignment.reports / "autograde_log.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def log_result(assignment, result, sha):
    path = assignment.reports / "autograde_log.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.is_file()
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=LOG_FIELDS)
        if new:
            w.writeheader()
        w.writerow({"finished": time.strftime("%Y-%m-%dT%H:%M:%S"), "student": result.student, "sha256": sha,
                    "status": "graded" if result.ok else "failed", "error": result.error,
                    "seconds": f"{result.seconds:.1f}", "host": result.host})


def grading_status(assignment, student, entry, test_ids, log=None):
    """'graded', or 'not graded: why': its last grading failed, the submission changed since, the gradebook
    lacks scores, or the autograded notebook is missing. log: the student's last autograde_log.csv row."""
    submitted = assignment.notebook("submitted", student)
    if log and log["status"] != "graded":
        return f"not graded: {log['error']}"
    if log and submitted.is_file() and log["sha256"] != sha256(submitted):
        return "not graded: the submission changed since it was graded"
    problem = incomplete(entry, test_ids)
    if problem is None and not assignment.notebook("autograded", student).is_file():
        problem = "no autograded notebook"
    return f"not graded: {problem}" if problem else "graded"


def graded_before(assignment, student, sha, entry, test_ids, log):
    """This very submission was graded: its last logged grading succeeded on the same file (or, graded
    without our log, e.g. by `nbgrader autograde`: the autograded notebook is newer than the submitted one),
    and the gradebook holds a score for every test."""
    if log is None:
        graded = assignment.notebook("autograded", student)
        submitted = assignment.notebook("submitted", student)
        if not graded.is_file() or graded.stat().st_mtime < submitted.stat().st_mtime:
            return False
    elif log["sha256"] != sha:
        return False
    return grading_status(assignment, student, entry, test_ids, log) == "graded"
