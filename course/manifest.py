"""An assignment's manifest: source/<a>/manifest.toml, beside its master.

What the tooling must know of an assignment that its master's cells do not say. Today: how its tests are graded.

    [tests.test_base_model]
    end_to_end = true   # grades a trained model: runs with the student's own code, not the trusted copies of
                        # earlier questions' functions; when it fails after an earlier question failed, says so first
    [tests.ec_test_train_vec]
    needs = ["ec_test_vec_ops", "ec_test_vec_model"]   # questions whose failure explains this one's

Every key is checked against SCHEMA when the manifest is read: a misspelt key stops the command that reads it,
naming the file and the key.
"""

import functools
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

SCHEMA = {"tests": {"end_to_end": bool, "needs": list}}


class ManifestError(ValueError):
    """The manifest is not valid; the message names the file and what to fix."""


@dataclass(frozen=True)
class Manifest:
    assignment: str
    path: Path | None = None
    tests: dict = field(default_factory=dict)  # test id -> {"end_to_end": bool, "needs": [test ids]}

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


def manifest_path(assignment, root):
    from .paths import master_path

    return master_path(assignment, root).with_name("manifest.toml")


def manifest_of(assignment, root):
    """The assignment's Manifest (an empty one when it has no manifest.toml)."""
    path = manifest_path(assignment, root)
    return _read(str(path), path.stat().st_mtime_ns if path.is_file() else None, assignment)


@functools.cache
def _read(path, mtime, assignment):
    if mtime is None:
        return Manifest(assignment)
    try:
        data = tomllib.loads(Path(path).read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: not valid TOML ({exc})") from None
    return Manifest(assignment, Path(path), validate(data, path))


def validate(data, where="manifest"):
    """The tests table of a parsed manifest, checked against SCHEMA."""
    unknown = set(data) - set(SCHEMA)
    if unknown:
        raise ManifestError(f"{where}: unknown section(s) {sorted(unknown)}; known: {sorted(SCHEMA)}")
    tests = data.get("tests", {})
    for test, entry in tests.items():
        if not isinstance(entry, dict):
            raise ManifestError(f"{where}: [tests.{test}] must be a table")
        for key, value in entry.items():
            kind = SCHEMA["tests"].get(key)
            if kind is None:
                raise ManifestError(f"{where}: [tests.{test}] has unknown key {key!r}; known: {sorted(SCHEMA['tests'])}")
            if not isinstance(value, kind):
                raise ManifestError(f"{where}: [tests.{test}] {key} must be a {kind.__name__}, got {value!r}")
    return tests
