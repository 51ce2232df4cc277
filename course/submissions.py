"""Example submissions built from a master at run time: the reference, the blank release, and
versions with realistic bugs. They exercise the grader end to end without storing any student work."""

import functools
import importlib.util

import nbformat

from .notebooks import cell_by_id, read, solution_notebook

# What a catalog (source/<a>/catalog.py) may define, and the keys of its entries (required, optional).
ENTRY_KEYS = {
    "BUGS": ({"what", "edits", "fails", "says"}, {"also"}),
    "VARIANTS": ({"what", "edits"}, set()),
    # Entries graded with the grading budgets: their question needs a training cell the catalog's fast
    # in-process grading leaves out (tests/test_autograd_mlp.py runs them).
    "GRADING_MODE_BUGS": ({"what", "edits", "fails"}, {"says", "also"}),
    "GRADING_MODE_VARIANTS": ({"what", "edits"}, set()),
}
LISTS = {"DEMO"}  # bug names the demo plants in its buggy submission


class CatalogError(ValueError):
    """The catalog is not valid; the message names the file, the entry and what to fix."""


def catalog(assignment):
    """source/<a>/catalog.py of an Assignment, checked (ENTRY_KEYS): BUGS, VARIANTS (name -> {what, edits, ...}),
    DEMO, and where it has them GRADING_MODE_BUGS and GRADING_MODE_VARIANTS."""
    path = assignment.folder / "catalog.py"
    return _catalog(str(path), path.stat().st_mtime_ns if path.is_file() else None, assignment.name)


@functools.cache
def _catalog(path, mtime, assignment):
    if mtime is None:
        raise FileNotFoundError(f"no submission catalog for {assignment!r}: expected {path}")
    spec = importlib.util.spec_from_file_location(f"catalog_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    check_catalog(module, path)
    return module


def check_catalog(module, where):
    """Raise CatalogError unless every table of the catalog has the keys ENTRY_KEYS names and DEMO names bugs."""
    for table, (required, optional) in ENTRY_KEYS.items():
        entries = getattr(module, table, None)
        if entries is None and table.startswith("GRADING_MODE"):
            continue
        if not isinstance(entries, dict):
            raise CatalogError(f"{where}: {table} must be a dict of entries")
        for name, entry in entries.items():
            keys = set(entry)
            if required - keys or keys - required - optional:
                raise CatalogError(f"{where}: {table}[{name!r}] has keys {sorted(keys)}; needs {sorted(required)}"
                                   + (f", may have {sorted(optional)}" if optional else ""))
            if not all(isinstance(e, tuple) and len(e) == 3 for e in entry["edits"]):
                raise CatalogError(f"{where}: {table}[{name!r}] edits must be (grade_id, old text or None, new text)")
    unknown = [b for b in getattr(module, "DEMO", []) if b not in module.BUGS]
    if unknown:
        raise CatalogError(f"{where}: DEMO names bugs BUGS does not have: {unknown}")


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


def reference(assignment, keep_hidden_tests=False):
    """The master with every solution in place and the hidden tests removed (or kept, unmarked)."""
    return solution_notebook(assignment.master(), keep_hidden_tests)


def blank(assignment):
    """The release as a student receives it."""
    return read(assignment.release_path)


def with_bugs(assignment, names, keep_hidden_tests=False, table="BUGS"):
    """The reference with the named bugs of the catalog (its `table`) planted."""
    nb = reference(assignment, keep_hidden_tests)
    for name in names:
        apply_edits(nb, getattr(assignment.catalog, table)[name]["edits"], f"bug {name!r}")
    return nb


def variant(assignment, name, keep_hidden_tests=False, table="VARIANTS"):
    """The reference rewritten as one of the catalog's correct variants."""
    return apply_edits(reference(assignment, keep_hidden_tests), getattr(assignment.catalog, table)[name]["edits"],
                       f"variant {name!r}")


def demo_submissions(assignment):
    """{student id: notebook} for the demo: reference, blank and (where the catalog names some) buggy."""
    subs = {"reference": reference(assignment), "blank": blank(assignment)}
    bugs = assignment.catalog.DEMO
    if bugs:
        subs["buggy"] = with_bugs(assignment, bugs)
    return subs


def write_submission(nb, assignment, student):
    path = assignment.notebook("submitted", student)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def catalog_doc(course):
    return course.root / "docs" / "catalog.md"


def catalog_markdown(assignments):
    """docs/catalog.md: every catalog entry, what it does, and the tests that catch it."""
    lines = ["# Submission catalog", "",
             "Generated from `source/<assignment>/catalog.py` by `python -m course catalog --write`; do not edit.",
             "`tests/test_catalog.py` grades every entry (hidden tests included) and checks the outcome below:",
             "a bug must lose points in the questions listed as catching it (and may lose them only there and in",
             "the listed questions that call the same code); a correct variant must keep full marks.", ""]
    for a in assignments:
        cat = a.catalog
        lines += [f"## {a}", "", f"### Bugs ({len(cat.BUGS)})", "",
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
