"""An nbgrader preprocessor that applies the course's late policy (course/term.py) to a submission.

Wired into nbgrader_config.py twice: in the autograde steps (in place of nbgrader's AssignLatePenalties, after
SaveAutoGrades) and in GenerateFeedback before GetGrades, because the written answers graded by hand in the
formgrader come after autograding and count toward the score the penalty is a share of. Each time it copies the
assignment's due date from c.Term.due_dates into the gradebook it is given (nbgrader measures lateness from it and
from the submission time in timestamp.txt), then sets the notebook's penalty to `Term.penalty` of its score as it
stands: the feedback's score, the gradebook and the course's grades.csv agree on one number, and re-running it
(a regrade, new feedback) replaces the penalty, never adds a second one.
"""

from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from ..term import Term, refresh_penalty, sync_due_date


class ApplyLatePenalty(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        term = Term(config=self.config)
        with Gradebook(info["db_url"]) as gb:
            sync_due_date(gb, info["assignment"], term)
            refresh_penalty(gb, info["assignment"], info["notebook"], info["student"], term)
        return nb, resources
