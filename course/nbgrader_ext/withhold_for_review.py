"""WithholdForReview: after nbgrader's SaveAutoGrades, a test whose points GuardedExecute withheld (its
WithheldForReview error: code the student's own work may not be behind, course/integrity/review.py) is marked in the gradebook
as needing a grader, so that the formgrader lists it and the course's reports say "needs review".

Its autograded score is 0 already (the error); a person who has read the code gives the points back in the
formgrader as a manual score, which nbgrader then uses, and the mark goes away.
"""

from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from ..cells import grade_id, is_test
from ..integrity.review import WITHHELD


def withheld_tests(nb):
    """The grade ids of nb's test cells that carry a WithheldForReview error."""
    return sorted(grade_id(c) for c in nb.cells
                  if is_test(c) and any(o.get("ename") == WITHHELD for o in c.get("outputs", [])))


class WithholdForReview(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        withheld = withheld_tests(nb)
        if withheld:
            info = resources["nbgrader"]
            with Gradebook(info["db_url"]) as gb:
                for gid in withheld:
                    grade = gb.find_grade(gid, info["notebook"], info["assignment"], info["student"])
                    if grade.manual_score is None:
                        grade.needs_manual_grade = True
                gb.db.commit()
            self.log.warning("REVIEW %s: %d test(s) withheld until a person looks: %s", info["student"],
                             len(withheld), ", ".join(withheld))
        return nb, resources
