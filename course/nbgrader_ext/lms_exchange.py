"""This course moves notebooks through its LMS (`python -m course publish`, then `intake`), not through nbgrader's
exchange directory.

nbgrader's formgrader and its assignment list still ask the exchange what has been released, and the default
exchange answers with an error in the server's log ("Unwritable directory ... /usr/local/share/nbgrader/exchange")
on every machine without that shared directory. Wired in nbgrader_config.py as c.ExchangeFactory.*: listing finds
nothing released through an exchange, and releasing, collecting, fetching or submitting through nbgrader fails
with one message saying what to do instead.
"""

from nbgrader.exchange.abc import (
    ExchangeCollect,
    ExchangeError,
    ExchangeFetchAssignment,
    ExchangeFetchFeedback,
    ExchangeList,
    ExchangeReleaseAssignment,
    ExchangeReleaseFeedback,
    ExchangeSubmit,
)

INSTEAD = ("This course does not use nbgrader's exchange: students get the notebooks from the student repository "
           "(`python -m course publish`, Colab links) and hand them in through the LMS; import them with "
           "`python -m course intake`, and send grades back with `python -m course report <a> --lms canvas|moodle`.")


class NoExchangeList(ExchangeList):
    """Nothing is released or submitted through an exchange: an empty list, and no error."""

    def start(self):
        return []


class _Refused:
    def start(self):
        raise ExchangeError(INSTEAD)


class NoReleaseAssignment(_Refused, ExchangeReleaseAssignment):
    pass


class NoReleaseFeedback(_Refused, ExchangeReleaseFeedback):
    pass


class NoCollect(_Refused, ExchangeCollect):
    pass


class NoFetchAssignment(_Refused, ExchangeFetchAssignment):
    pass


class NoFetchFeedback(_Refused, ExchangeFetchFeedback):
    pass


class NoSubmit(_Refused, ExchangeSubmit):
    pass


def configure(c):
    """Point nbgrader's ExchangeFactory at these classes (called from nbgrader_config.py)."""
    c.ExchangeFactory.list = NoExchangeList
    c.ExchangeFactory.release_assignment = NoReleaseAssignment
    c.ExchangeFactory.release_feedback = NoReleaseFeedback
    c.ExchangeFactory.collect = NoCollect
    c.ExchangeFactory.fetch_assignment = NoFetchAssignment
    c.ExchangeFactory.fetch_feedback = NoFetchFeedback
    c.ExchangeFactory.submit = NoSubmit
