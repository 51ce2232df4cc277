"""An nbgrader preprocessor that keeps hidden tests out of student feedback.

Autograding puts the hidden tests back into each notebook, and nbgrader's feedback HTML would show
them twice: as cell source and inside tracebacks. This preprocessor, wired into
GenerateFeedback.preprocessors by nbgrader_config.py, removes the hidden-test regions and shortens
the error of every test cell to its last line ("AssertionError: message").
"""

from nbgrader.preprocessors import NbGraderPreprocessor

from .notebooks import HIDDEN_BEGIN, HIDDEN_END, _drop_regions


def scrub_cell(cell):
    """Remove hidden-test source and traceback lines from one cell, in place."""
    cell.source = _drop_regions(cell.source, HIDDEN_BEGIN, HIDDEN_END)
    if not cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
        return cell
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
    return cell


class ScrubFeedback(NbGraderPreprocessor):
    """Hidden tests out, results and messages in."""

    def preprocess_cell(self, cell, resources, index):
        return scrub_cell(cell), resources
