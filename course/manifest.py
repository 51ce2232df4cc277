"""An assignment's manifest: source/<a>/manifest.toml, beside its master and its catalog.

What the tooling must know of an assignment that its master's cells do not say (what a cell is for is said by the
cell itself: its role, course/cells.py). Three tables, every key checked against SCHEMA when the manifest is read (a
misspelt key stops the command that reads it, naming the file and the key):

    [tests.test_base_model]
    end_to_end = true   # grades a trained model: runs with the student's own code, not the trusted copies of
                        # earlier questions' functions; when it fails after an earlier question failed, says so first
    [tests.ec_test_train_vec]
    needs = ["ec_test_vec_ops", "ec_test_vec_model"]   # questions whose failure explains this one's

    [measures.base]                            # what a hidden test measures after the master trained at grading size
    expression = "heldout_accuracy(model)"     # evaluated in the notebook's namespace
    threshold = 28.0    # the bar at grading size: `python -m course calibrate --write` sets it from many seeds, and
                        # `python -m course sync` writes it into the master's GRADING_THRESHOLDS line
    target = 75.0       # the bar at full size the notebook states (calibrate --full reports the margin to it)
    [measures."improved - base"]
    expression = "heldout_accuracy(improved_model) - heldout_accuracy(model)"
    bar = 3.0           # a bar the notebook fixes: calibration reports its margin and never changes it

    [equivalent_mutants."forward/constant/1a2b3c4d5e"]   # a mutant (course/mutants.py) that behaves the same
    reason = "range(0, n) and range(n) are the same loop"  # for every valid input: counted apart, never a survivor

Which datasets an assignment needs is not written here: it is read from the loader calls in the master's code
(course/nbgrader_ext/preflight.py), the one place that cannot disagree with what the notebook does.
"""

import functools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA = {
    "tests": {"end_to_end": bool, "needs": list},
    "measures": {"expression": str, "threshold": float, "target": float, "bar": float},
    "equivalent_mutants": {"reason": str},
}
REQUIRED = {"measures": ("expression",), "equivalent_mutants": ("reason",)}
THRESHOLDS_LINE = re.compile(r"^GRADING_THRESHOLDS = .*$", re.MULTILINE)


class ManifestError(ValueError):
    """The manifest is not valid; the message names the file and what to fix."""


@dataclass(frozen=True)
class Manifest:
    assignment: str
    path: Path | None = None
    tests: dict = field(default_factory=dict)  # test id -> {"end_to_end": bool, "needs": [test ids]}
    measures: dict = field(default_factory=dict)  # name -> {"expression", "threshold" | "bar", "target"}
    equivalent_mutants: dict = field(default_factory=dict)  # mutant id (course/mutants.py) -> {"reason": why}

    def end_to_end(self, test):
        return bool(self.tests.get(test, {}).get("end_to_end", False))

    @property
    def end_to_end_tests(self):
        return frozenset(t for t in self.tests if self.end_to_end(t))

    def needs(self, test, earlier):
        """The tests whose failure explains `test`'s, among `earlier` (the tests before it, in order): its own list,
        or every earlier one for an end-to-end test."""
        own = self.tests.get(test, {}).get("needs")
        if own is not None:
            return [t for t in earlier if t in own]
        return list(earlier) if self.end_to_end(test) else []

    @property
    def thresholds(self):
        """{measure: grading-size threshold} of the calibrated measures (not the fixed bars)."""
        return {name: m["threshold"] for name, m in self.measures.items() if "threshold" in m}

    def thresholds_line(self):
        """The master's setup cell line that carries the thresholds into the notebook (course sync writes it)."""
        return "GRADING_THRESHOLDS = {" + ", ".join(f"'{k}': {v:.1f}" for k, v in self.thresholds.items()) + "}"


def manifest_path(assignment):
    return assignment.folder / "manifest.toml"


def manifest_of(assignment):
    """The Manifest of an Assignment (course/course.py); an empty one when it has no manifest.toml."""
    path = manifest_path(assignment)
    return _read(str(path), path.stat().st_mtime_ns if path.is_file() else None, assignment.name)


@functools.cache
def _read(path, mtime, assignment):
    if mtime is None:
        return Manifest(assignment)
    try:
        data = tomllib.loads(Path(path).read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: not valid TOML ({exc})") from None
    return Manifest(assignment, Path(path), **validate(data, path))


def validate(data, where="manifest"):
    """{table: {entry: {key: value}}} of a parsed manifest, checked against SCHEMA (and REQUIRED)."""
    unknown = set(data) - set(SCHEMA)
    if unknown:
        raise ManifestError(f"{where}: unknown table(s) {sorted(unknown)}; known: {sorted(SCHEMA)}")
    out = {}
    for table, keys in SCHEMA.items():
        entries = data.get(table, {})
        for name, entry in entries.items():
            if not isinstance(entry, dict):
                raise ManifestError(f"{where}: [{table}.{name}] must be a table")
            for key, value in entry.items():
                kind = keys.get(key)
                if kind is None:
                    raise ManifestError(f"{where}: [{table}.{name}] has unknown key {key!r}; known: {sorted(keys)}")
                if kind is float and isinstance(value, int) and not isinstance(value, bool):
                    value = entry[key] = float(value)
                if not isinstance(value, kind):
                    raise ManifestError(f"{where}: [{table}.{name}] {key} must be a {kind.__name__}, got {value!r}")
            missing = [k for k in REQUIRED.get(table, ()) if k not in entry]
            if missing:
                raise ManifestError(f"{where}: [{table}.{name}] needs {', '.join(missing)}")
        out[table] = dict(entries)
    for name, entry in out["measures"].items():
        if ("threshold" in entry) == ("bar" in entry):
            raise ManifestError(f"{where}: [measures.{name}] needs exactly one of threshold (calibrated) or bar "
                                "(fixed by the notebook)")
    return out


def write_thresholds(assignment, thresholds):
    """Set [measures.<name>] threshold = value in the manifest, keeping its comments and layout (tomlkit)."""
    import tomlkit

    path = manifest_path(assignment)
    doc = tomlkit.parse(path.read_text())
    for name, value in thresholds.items():
        doc["measures"][name]["threshold"] = round(float(value), 1)
    path.write_text(tomlkit.dumps(doc))


def sync_thresholds(master, manifest):
    """Write the manifest's thresholds into the master's setup cell (its GRADING_THRESHOLDS line), in place.
    Returns True if the cell changed."""
    if not manifest.thresholds:
        return False
    from .notebooks import cell_by_id

    cell = cell_by_id(master, "setup")
    if len(THRESHOLDS_LINE.findall(cell.source)) != 1:
        raise ManifestError(f"{manifest.path}: the master's setup cell must have one GRADING_THRESHOLDS = ... line "
                            "for the thresholds to go to")
    source = THRESHOLDS_LINE.sub(manifest.thresholds_line(), cell.source)
    changed, cell.source = source != cell.source, source
    return changed
