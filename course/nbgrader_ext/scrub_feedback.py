"""An nbgrader preprocessor that keeps hidden tests out of student feedback.

Autograding puts the hidden tests back into each notebook, and nbgrader's feedback HTML would show
them twice: as cell source and inside tracebacks. Student code can also try to print them (from the
kernel's history, or from a hook that runs after a test). This preprocessor, wired into
GenerateFeedback.preprocessors by nbgrader_config.py, removes the hidden-test regions, shortens the
error of every test cell to its last line ("AssertionError: message"), and redacts any line of the
master's hidden tests that shows up in any output, also quoted or escaped.
"""

import html
import json

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from ..cells import is_grade
from ..course import Assignment, Course
from ..notebooks import HIDDEN_BEGIN, HIDDEN_END, drop_regions, marked_lines
from .graded_master import graded_master

REDACTED = "[hidden test line]"


def hidden_lines(master):
    """The master's hidden-test lines, longest first, each with the forms it takes when quoted or escaped."""
    forms = set()
    for line in marked_lines(master, HIDDEN_BEGIN, HIDDEN_END):
        forms |= {line, repr(line)[1:-1], repr(line.replace("'", '"'))[1:-1], json.dumps(line)[1:-1],
                  html.escape(line), html.escape(line, quote=False)}
    return sorted(forms, key=len, reverse=True)


def redact(text, secrets):
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _redact_output(out, secrets):
    if "text" in out:
        out["text"] = redact(out["text"], secrets)
    for mime, value in out.get("data", {}).items():
        if isinstance(value, str) and (mime.startswith("text/") or mime.endswith(("json", "javascript"))):
            out["data"][mime] = redact(value, secrets)
    if out.get("output_type") == "error":
        out["evalue"] = redact(out.get("evalue", ""), secrets)
        out["traceback"] = [redact(line, secrets) for line in out.get("traceback", [])]


def scrub_cell(cell, secrets=()):
    """Remove hidden-test source and traceback lines from one cell, and redact secrets from its outputs,
    in place."""
    cell.source = drop_regions(cell.source, HIDDEN_BEGIN, HIDDEN_END)
    for out in cell.get("outputs", []):
        _redact_output(out, secrets)
    if not is_grade(cell):
        return cell
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
    return cell


class ScrubFeedback(NbGraderPreprocessor):
    """Hidden tests out, results and messages in."""

    def preprocess(self, nb, resources):
        master = graded_master(resources)  # the copy the outputs were graded with, not today's source/
        if master is None:
            path = Assignment(Course.of(self.config), resources["nbgrader"]["assignment"]).master_path
            if not path.is_file():
                raise FileNotFoundError(f"{path} is missing: feedback needs it to keep the hidden tests out")
            master = nbformat.read(str(path), as_version=4)
        self._secrets = hidden_lines(master)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        return scrub_cell(cell, self._secrets), resources
