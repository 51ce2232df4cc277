"""The master a submission is graded against: the copy nbgrader's gradebook holds, not today's source/.

nbgrader stores each master cell's source and grading metadata in the gradebook when the assignment is
generated (`python -m course autograde` refreshes it from source/ first when it is stale), and its
OverwriteCells restores tests from there. Everything else that needs the master while grading or writing
feedback (CheckSubmission, GuardedExecute, ScrubFeedback) reads the same copy through graded_master(), so an
edit of source/ between autograde and feedback cannot make them disagree.
"""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def graded_master(resources, order=None):
    """The gradebook's copy of the notebook named in resources["nbgrader"] (assignment, notebook, db_url), as a
    notebook whose cells carry their source and nbgrader metadata; None if the gradebook has no copy.

    The gradebook keeps no cell order: order (a notebook, e.g. today's master) gives it where the grade ids
    match; the others follow in the gradebook's order."""
    info = (resources or {}).get("nbgrader") or {}
    if not info.get("db_url"):
        return None
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(info["db_url"]) as gb:
        try:
            notebook = gb.find_notebook(info.get("notebook") or info["assignment"], info["assignment"])
        except MissingEntry:
            return None
        points = {c.name: c.max_score for c in notebook.grade_cells}
        solutions = {c.name for c in notebook.solution_cells}
        stored = [(c.name, c.cell_type, c.locked, c.source) for c in notebook.source_cells]
    cells = []
    for name, kind, locked, source in stored:
        cell = new_code_cell(source) if kind == "code" else new_markdown_cell(source)
        meta = {"grade_id": name, "grade": name in points, "solution": name in solutions, "locked": bool(locked),
                "schema_version": 3, "task": False}
        if name in points:
            meta["points"] = points[name]
        cell.metadata["nbgrader"] = meta
        cells.append(cell)
    if order is not None:
        rank = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(order.cells)}
        cells.sort(key=lambda c: rank.get(c.metadata["nbgrader"]["grade_id"], len(rank)))
    return nbformat.from_dict(new_notebook(cells=cells))
