"""The term's rules, from one place: the `Term` section of the course's nbgrader_config.py.

    c.Term.due_dates = {"model_fitting": "2026-10-30 23:59"}   # in Term.timezone
    c.Term.timezone = "America/New_York"                       # of the due dates and of the LMS export's zip entries
    c.Term.grace_minutes = 15                                  # late by less than this: on time
    c.Term.late_penalty_per_day = 0.1                          # share of the score lost per day (or part) late
    c.Term.missing = "zero"                                    # LMS grade of a student with no submission (or "blank")
    c.Term.lms_columns = {"model_fitting": "Model fitting (123456)"}  # the LMS's name for the assignment's column

The due date goes into nbgrader's gradebook (the formgrader shows it; nbgrader computes how late each submission
is from the submission time intake writes into timestamp.txt). The penalty is one function, `Term.penalty`: the
preprocessor ApplyLatePenalty (course/nbgrader_ext/late_penalty.py) stores it in the gradebook while autograding
and again, with the hand grades, before feedback is written; the grades the course writes (grades.csv, the
class report, the LMS file) apply it to the same total.
"""

import math
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from traitlets import Dict, Enum, Float, TraitError, Unicode, validate
from traitlets.config import Configurable

from .paths import course_config


class Term(Configurable):
    """Due dates, the late policy and what the LMS gets: c.Term.* in nbgrader_config.py."""

    due_dates = Dict(value_trait=Unicode(), help="assignment -> due date ('YYYY-MM-DD HH:MM', in Term.timezone); "
                                                 "an assignment without one is never late").tag(config=True)
    timezone = Unicode("UTC", help="IANA time zone of the due dates and of the times in the LMS export's zip "
                                   "entries (which carry none)").tag(config=True)
    grace_minutes = Float(0.0, help="a submission late by less than this many minutes is on time").tag(config=True)
    late_penalty_per_day = Float(0.0, help="share of the score lost for each day or part of a day late, after the "
                                           "grace period (0.1: 10% per day; 1 day late loses 10%, 25 hours 20%); "
                                           "the loss is at most the whole score").tag(config=True)
    missing = Enum(["zero", "blank"], "zero", help="the LMS grade of a student on the roster without a submission: "
                                                   "0, or left blank (the LMS keeps what it has)").tag(config=True)
    lms_columns = Dict(value_trait=Unicode(), help="assignment -> the LMS's title of its grade column (Canvas: "
                                                   "'Title (assignment id)'); default: the assignment's name"
                       ).tag(config=True)

    @validate("timezone")
    def _valid_zone(self, proposal):
        try:
            ZoneInfo(proposal["value"])
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise TraitError(f"Term.timezone: unknown time zone {proposal['value']!r} (an IANA name such as "
                             "'Europe/Berlin' or 'UTC')") from exc
        return proposal["value"]

    @validate("late_penalty_per_day")
    def _valid_rate(self, proposal):
        if not 0 <= proposal["value"] <= 1:
            raise TraitError(f"Term.late_penalty_per_day must be between 0 and 1, not {proposal['value']}")
        return proposal["value"]

    def local(self, naive):
        """A naive time read in the term's time zone, as an aware UTC datetime."""
        return naive.replace(tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)

    def due(self, assignment):
        """The assignment's due date as an aware UTC datetime, or None."""
        text = self.due_dates.get(assignment)
        if not text:
            return None
        try:
            when = datetime.fromisoformat(text)
        except ValueError as exc:
            raise TraitError(f"Term.due_dates[{assignment!r}] = {text!r} is not a date ('YYYY-MM-DD HH:MM')") from exc
        return when.astimezone(UTC) if when.tzinfo else self.local(when)

    def penalty(self, score, seconds_late):
        """Points lost by a submission scoring `score` that came `seconds_late` after its due date."""
        days = self.days_late(seconds_late)
        if days <= 0 or score <= 0:
            return 0.0
        return round(min(1.0, self.late_penalty_per_day * days) * score, 6)

    def rule(self):
        """The late policy in words."""
        if not self.late_penalty_per_day:
            return "no penalty for lateness"
        return (f"{self.late_penalty_per_day:.0%} of the score per day or part of a day late, after "
                f"{self.grace_minutes:g} minutes of grace")

    def days_late(self, seconds_late):
        """The days (or parts of a day) the penalty counts for a submission `seconds_late` after its due date."""
        late = max(0.0, float(seconds_late or 0) - 60 * self.grace_minutes)
        return math.ceil(late / 86400) if late > 0 else 0

    def column(self, assignment):
        return self.lms_columns.get(assignment) or assignment


def term(root):
    """The Term of the course at root, from its nbgrader_config.py."""
    return Term(config=course_config(Path(root)))


def sync_due_date(gb, assignment, term):
    """Store the assignment's due date from `term` in nbgrader's gradebook `gb` (no due date: clear it)."""
    from nbgrader.api import MissingEntry

    due = term.due(assignment)
    try:
        stored = gb.find_assignment(assignment)
    except MissingEntry:  # not generated yet: nbgrader says so itself
        return due
    naive = due.replace(tzinfo=None) if due else None  # nbgrader keeps UTC times without a zone
    if stored.duedate != naive:
        stored.duedate = naive
        gb.db.commit()
    return due


def refresh_penalty(gb, assignment, notebook, student, term):
    """Set the submitted notebook's late penalty in the gradebook `gb` to `term`'s policy on its score as it stands
    now, hand grades included; returns the penalty (None when on time)."""
    nb = gb.find_submission_notebook(notebook, assignment, student)
    seconds = nb.assignment.total_seconds_late
    penalty = term.penalty(nb.score, seconds) if seconds > 0 else None
    if nb.late_submission_penalty != penalty:
        nb.late_submission_penalty = penalty
        gb.db.commit()
    return penalty
