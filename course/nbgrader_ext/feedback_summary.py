"""An nbgrader preprocessor that opens each student's feedback with what their grade is made of.

Wired into GenerateFeedback.preprocessors after GetGrades and ScrubFeedback (nbgrader_config.py), it inserts one
cell at the top of the feedback: the score; when the late policy applied, when the submission came, how late that
was against the due date, and what it cost (nbgrader's own header shows only the points taken); and every test that
lost points with its message (the last line of its error, the hidden test's code never). Student text in messages
is escaped: the feedback is HTML.
"""

import html
from datetime import UTC

import nbformat
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from ..cells import grade_id, is_test, is_written_answer, nbgrader_meta
from ..notebooks import failure_message
from ..term import Term


def lateness_lines(term, submitted, due, seconds_late, penalty, score_before):
    """What the late policy did to this submission, in words ([] when it was on time)."""
    if not due or seconds_late <= 0:
        return []
    stamp = "%Y-%m-%d %H:%M UTC"
    when = f"Submitted {submitted:{stamp}}, " if submitted else ""
    late = f"{when}{seconds_late / 3600:.1f} hours after the due date ({due:{stamp}})."
    days = term.days_late(seconds_late)
    if not penalty:
        within = "within the grace period" if days == 0 else "no points to lose"
        return [f"{late} The late policy ({term.rule()}) cost nothing: {within}."]
    return [(f"{late} The late policy ({term.rule()}) counts {days} day{'s' * (days != 1)}: it cost "
            f"**{penalty:g} point{'s' * (penalty != 1)}** ({score_before:g} before the penalty, {score_before - penalty:g} after).")]


def lost_lines(nb):
    """One line per test that lost points: its id, score and message (escaped)."""
    out = []
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if is_test(cell) and meta.get("score") is not None and meta["score"] < meta.get("points", 0):
            message = html.escape(failure_message(cell))
            out.append(f"- `{grade_id(cell)}` ({meta['score']:g} / {meta['points']:g}): <code>{message}</code>")
    return out


class FeedbackSummary(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        term = Term(config=self.config)
        with Gradebook(info["db_url"]) as gb:
            sub = gb.find_submission(info["assignment"], info["student"])
            submitted = sub.timestamp.replace(tzinfo=UTC) if sub.timestamp else None
            due = sub.duedate.replace(tzinfo=UTC) if sub.duedate else None
            seconds = sub.total_seconds_late
        penalty = float(info.get("late_penalty") or 0)
        score, top = float(info["score"]), float(info["max_score"])
        written = any(is_written_answer(c) for c in nb.cells)
        lines = ["## Your grade", "", f"**{score:g} / {top:g}**" + (" after the late penalty" if penalty else "")
                 + (". Written answers count once a grader has read them." if written else ".")]
        late = lateness_lines(term, submitted, due, seconds, penalty, score + penalty)
        lost = lost_lines(nb)
        lines += [""] + late if late else []
        if lost:
            lines += ["", "Tests that lost points (each test's message; the tests themselves are not shown):", ""]
            lines += lost
        else:
            lines += ["", "Every autograded test passed."]
        cell = nbformat.v4.new_markdown_cell("\n".join(lines))
        cell.metadata["course"] = {"feedback_summary": True}
        nb.cells.insert(0, cell)
        return nb, resources
