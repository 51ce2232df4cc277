"""Example submissions built from a master at run time: the reference, the blank release, and
versions with realistic bugs. They exercise the grader end to end without storing any student work."""

import functools
import importlib.util
from pathlib import Path

import nbformat

from .notebooks import cell_by_id, read, solution_notebook
from .paths import catalog_path, master_path, notebook_path, release_path


def catalog(assignment, root):
    """catalog/<assignment>.py of the course at root: BUGS, VARIANTS (name -> {what, edits, ...}), SKIP, DEMO."""
    return _catalog(str(catalog_path(root, assignment)), assignment)


@functools.cache
def _catalog(path, assignment):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no submission catalog for {assignment!r}: expected {path}")
    spec = importlib.util.spec_from_file_location(f"catalog_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def apply_edits(nb, edits, label):
    """Rewrite cells of nb in place: (grade_id, old, new) replaces old (found exactly once), or the whole
    cell when old is None."""
    for gid, old, new in edits:
        cell = cell_by_id(nb, gid)
        if old is None:
            cell.source = new.strip("\n")
            continue
        count = cell.source.count(old)
        if count != 1:
            raise ValueError(f"{label}: expected the text once in cell {gid!r}, found it {count} times")
        cell.source = cell.source.replace(old, new)
    return nb


def reference(assignment, root, keep_hidden_tests=False):
    """The master with every solution in place and the hidden tests removed (or kept, unmarked)."""
    return solution_notebook(read(master_path(assignment, root)), keep_hidden_tests)


def blank(assignment, root):
    """The release as a student receives it."""
    return read(release_path(assignment, root))


def with_bugs(assignment, names, root, keep_hidden_tests=False):
    """The reference with the named bugs of the catalog planted."""
    nb = reference(assignment, root, keep_hidden_tests)
    for name in names:
        apply_edits(nb, catalog(assignment, root).BUGS[name]["edits"], f"bug {name!r}")
    return nb


def variant(assignment, name, root, keep_hidden_tests=False):
    """The reference rewritten as one of the catalog's correct variants."""
    return apply_edits(reference(assignment, root, keep_hidden_tests),
                       catalog(assignment, root).VARIANTS[name]["edits"], f"variant {name!r}")


def demo_submissions(assignment, root):
    """{student id: notebook} for the demo: reference, blank and (where the catalog names some) buggy."""
    subs = {"reference": reference(assignment, root), "blank": blank(assignment, root)}
    bugs = catalog(assignment, root).DEMO
    if bugs:
        subs["buggy"] = with_bugs(assignment, bugs, root)
    return subs


def write_submission(nb, root, student, assignment):
    path = notebook_path(root, "submitted", student, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def catalog_doc(root):
    return Path(root).resolve() / "docs" / "catalog.md"


def catalog_markdown(names, root):
    """docs/catalog.md: every catalog entry, what it does, and the tests that catch it."""
    lines = ["# Submission catalog", "",
             "Generated from `catalog/<assignment>.py` by `python -m course catalog --write`; do not edit.",
             "`tests/test_catalog.py` grades every entry (hidden tests included) and checks the outcome below:",
             "a bug must lose points in the questions listed as catching it (and may lose them only there and in",
             "the listed questions that call the same code); a correct variant must keep full marks.", ""]
    for name in names:
        cat = catalog(name, root)
        lines += [f"## {name}", "", f"### Bugs ({len(cat.BUGS)})", "",
                  "| entry | what the student got wrong | caught by | may also fail (calls that code) |",
                  "|---|---|---|---|"]
        for bug, entry in sorted(cat.BUGS.items()):
            also = ", ".join(f"`{t}`" for t in entry.get("also", [])) or "-"
            lines.append(f"| `{bug}` | {entry['what']} | {', '.join(f'`{t}`' for t in entry['fails'])} | {also} |")
        lines += ["", f"### Correct variants ({len(cat.VARIANTS)}): full marks", "", "| entry | how it differs |",
                  "|---|---|"]
        lines += [f"| `{v}` | {entry['what']} |" for v, entry in sorted(cat.VARIANTS.items())]
        lines.append("")
    return "\n".join(lines)
