"""Grade a whole class in parallel: nbgrader's autograde, one submission per task, on long-lived workers.

Each worker process loads nbgrader and the course's nbgrader_config.py once, then grades submission
after submission in-process with nbgrader's own API (NbGraderAPI.autograde: the same converter, the
same preprocessors and settings as `nbgrader autograde`), and writes the student's feedback. The work
is scheduled on an existing engine:

- a local process pool (pebble) on one machine, or
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

The package, in the order a submission meets it: classrun.py (autograde_class: which submissions, the
gradebook prepared, the engine chosen, every result checked), engines.py (inline, process pool, Dask),
worker.py (one submission in a worker: Task in, Result out), gradebook.py (nbgrader's database), runlog.py
(reports/<assignment>/autograde_log.csv and the status of each student), grades.py (a student's scores).
"""

from .classrun import ClassRun, autograde_class, submitted_students
from .gradebook import gradebook_state, prepare_gradebook
from .grades import NEEDS_REVIEW, GradeRow, scores, write_grades
from .runlog import grading_log, grading_status
from .worker import Result, Task, grade_submission

__all__ = ["NEEDS_REVIEW", "ClassRun", "GradeRow", "Result", "Task", "autograde_class", "grade_submission",
           "gradebook_state", "grading_log", "grading_status", "prepare_gradebook", "scores", "submitted_students",
           "write_grades"]
