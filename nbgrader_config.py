"""nbgrader settings of this course. nbgrader reads this file when it runs from the repository root, so
`nbgrader autograde` and `python -m course autograde` grade the same way. docs/grading_security.md
explains the protections wired in here."""

import functools
import os

HERE = os.path.dirname(os.path.abspath(__file__))

# Grading kernels inherit this environment. One BLAS thread each: the matrices are small, and when
# several kernels (or other jobs) share the cores, extra threads only fight over them.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import nbgrader.preprocessors as nbp
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor

from course.nbgrader_ext import lms_exchange
from course.nbgrader_ext.check_submission import CheckSubmission
from course.nbgrader_ext.feedback_summary import FeedbackSummary
from course.nbgrader_ext.guarded_execute import GuardedExecute
from course.nbgrader_ext.late_penalty import ApplyLatePenalty
from course.nbgrader_ext.preflight import nbgrader_hook
from course.nbgrader_ext.scrub_feedback import ScrubFeedback
from course.nbgrader_ext.withhold_for_review import WithholdForReview

c = get_config()  # noqa: F821 (nbgrader provides get_config)

c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "dlfs"
# An assignment's manifest and catalog (source/<a>/manifest.toml and catalog.py: course/manifest.py,
# course/submissions.py; the catalog bugs' messages, catalog_messages.json: course/mistakes.py) are the
# instructor's: never released.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "manifest.toml", "catalog.py",
                              "catalog_messages.json"]

# Training cells shrink their budgets while grading (NBGRADER_EXECUTION), but one cell may still
# need a minute; a runaway submission is stopped after this many seconds per cell.
c.ExecutePreprocessor.timeout = 180
c.Execute.timeout = 180

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Before the first submission: stop, with one message saying what to do, unless the sandbox works here and the
# grader has every dataset the assignment needs (downloaded once if missing; the sandboxed kernels, which have
# no network, read those very files). No student loses points because of the grader's set-up.
c.Autograde.pre_convert_hook = functools.partial(nbgrader_hook, HERE)

# Autograde, step 1 (sanitize): CheckSubmission rejects a notebook of another assignment, resets every
# cell's nbgrader metadata to the master's (dropping invented grade ids and all but the last copy of a
# duplicated cell, which would stop nbgrader for the whole class) and puts back deleted instructor cells
# (course/integrity/restore.py). nbgrader's OverwriteCells then restores the source (with hidden tests) of
# every locked cell.
c.Autograde.sanitize_preprocessors = [nbp.ClearOutput, CheckSubmission, nbp.DeduplicateIds, nbp.OverwriteKernelspec,
                                      nbp.OverwriteCells, nbp.CheckCellMetadata]
# Step 2: GuardedExecute runs the notebook in a bubblewrap sandbox (course/nbgrader_ext/sandbox.py) with the grading
# guard (course/integrity/guard.py): each question graded on its own, with no trusted copy of its code in
# reach; it withholds the points of tests a person must look at first (course/integrity/review.py). Then
# nbgrader's steps limit the output and save the scores, and WithholdForReview marks the withheld tests as
# needing a grader.
c.Autograde.autograde_preprocessors = [GuardedExecute, nbp.IgnorePattern, ClearMetadataPreprocessor, nbp.LimitOutput,
                                       nbp.SaveAutoGrades, WithholdForReview, ApplyLatePenalty, nbp.CheckCellMetadata]
c.SandboxedKernelManager.memory_limit = 4 << 30  # bytes of address space per kernel (MemoryError beyond)
c.SandboxedKernelManager.file_size_limit = 512 << 20  # largest file a kernel may write, bytes
c.GuardedExecute.output_limit = 2_000_000  # characters of output per cell before it is interrupted
c.LimitOutput.max_lines = 1000  # lines of output per cell kept in the graded notebook and feedback

# The term (course/term.py): due dates, the late policy, what the LMS gets. Intake writes each submission's time
# (from the LMS export) into timestamp.txt; nbgrader computes how late it is; ApplyLatePenalty (in place of
# nbgrader's AssignLatePenalties, above, and again before feedback, below) stores the penalty; grades.csv, the
# class report and `report --lms` apply it to the final total.
# c.Term.due_dates = {"autograd_mlp": "2026-10-09 23:59", "model_fitting": "2026-10-30 23:59"}
c.Term.timezone = "UTC"  # of the due dates and of the LMS export's zip entries, e.g. "America/New_York"
c.Term.grace_minutes = 15
c.Term.late_penalty_per_day = 0.1  # 10% of the score per day or part of a day late
c.Term.missing = "zero"  # LMS grade of a roster student without a submission: "zero" or "blank"

# Notebooks travel through the LMS (publish, intake), not nbgrader's exchange directory: the formgrader lists
# nothing released there and logs no error about a missing /usr/local/share/nbgrader/exchange.
lms_exchange.configure(c)

# Feedback shows each test's result and message, never the hidden tests' source; its score is after the late
# penalty, brought up to date with the hand grades first; its first cell sums up the grade (FeedbackSummary: how
# late, what that cost, which tests lost points and why).
c.GenerateFeedback.preprocessors = [ApplyLatePenalty, nbp.GetGrades, ScrubFeedback, FeedbackSummary,
                                    CSSHTMLHeaderPreprocessor]
