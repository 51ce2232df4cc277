"""nbgrader settings of this course. nbgrader reads this file when it runs from the repository root."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Grading kernels inherit this environment. One BLAS thread each: the matrices are small, and when
# several kernels (or other jobs) share the cores, extra threads only fight over them.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, HERE)

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades

from course.feedback import ScrubFeedback

c = get_config()  # noqa: F821 (nbgrader provides get_config)

c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "dlfs"

# Training cells shrink their budgets while grading (NBGRADER_EXECUTION), but one cell may still
# need a minute; a runaway submission is stopped after this many seconds per cell.
c.ExecutePreprocessor.timeout = 180
c.Execute.timeout = 180

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Feedback shows each test's result and message, never the hidden tests' source.
c.GenerateFeedback.preprocessors = [GetGrades, ScrubFeedback, CSSHTMLHeaderPreprocessor]
