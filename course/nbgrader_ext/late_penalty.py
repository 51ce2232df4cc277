"""An nbgrader preprocessor that brings a late submission's penalty up to date before its feedback is written.

nbgrader's AssignLatePenalties computes the penalty while autograding, from the score at that moment: the
written answers, graded by hand later in the formgrader, are not in it yet. RefreshLatePenalty, wired into
GenerateFeedback.preprocessors before GetGrades, applies the course's policy (course/term.py) to the score as it
stands now, so the feedback, the gradebook and the course's grades.csv agree on one number.
"""

from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from ..term import refresh_penalty


class RefreshLatePenalty(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            refresh_penalty(gb, info["assignment"], info["notebook"], info["student"], self.config)
        return nb, resources
