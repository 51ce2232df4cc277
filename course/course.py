"""The course and its assignments: what every command and every nbgrader step works on.

A `Course` is a course root (the folder with source/ and nbgrader_config.py) with its nbgrader configuration, its
term and its gradebook. An `Assignment` is one folder of source/: its master (read once), its manifest, its
catalog, and where its files go. A command makes the Course once (`Course.at(args.root, db_url=args.db_url)`)
and passes it, or one of its assignments, down; an nbgrader step gets it from its config (`Course.of(config)`).

    course = Course.at(".")
    a = course["model_fitting"]
    a.master()              # the master notebook (a copy: change it freely)
    a.manifest.tests        # source/model_fitting/manifest.toml
    a.cells("trains")       # the grade ids of the cells whose role is to train (cell metadata)
    a.notebook("submitted", "alice")

Where each file lives comes from course/paths.py (nbgrader's CourseDirectory of the root).
"""

import copy
import functools
import os
from dataclasses import dataclass, replace
from pathlib import Path

from . import paths
from .cells import grade_id, role


class UnknownAssignment(KeyError):
    """No such assignment in the course; the message names the ones it has."""

    def __str__(self):
        return self.args[0]


@dataclass(frozen=True)
class Course:
    root: Path
    db_url: str | None = None  # the gradebook given on the command line; None: the config's (see `gradebook`)

    @classmethod
    def at(cls, root=".", *, db_url=None):
        """The course at root; NotACourse (saying what to do) when root has no source/ folder of masters."""
        course = cls(Path(root).resolve(), db_url or None)
        course.names  # noqa: B018 (checks that it is a course)
        return course

    @classmethod
    def of(cls, config):
        """The course an nbgrader step works on: its config's CourseDirectory.root (else the current folder)."""
        directory = config.get("CourseDirectory", {})
        return cls(Path(directory.get("root") or os.getcwd()).resolve(), directory.get("db_url") or None)

    def with_gradebook(self, db_url):
        """This course with another gradebook (None keeps this one)."""
        return replace(self, db_url=db_url) if db_url else self

    @property
    def config(self):
        """The course's nbgrader_config.py, as nbgrader reads it from the root, with this course's gradebook."""
        return paths.course_config(self.root, self.db_url)

    @property
    def gradebook(self):
        """The gradebook's URL: the one given, else the config's, else sqlite:///<root>/gradebook.db."""
        return paths.coursedir_of(self.config).db_url

    @property
    def term(self):
        """Due dates, late policy and LMS columns: c.Term.* of the config (course/term.py)."""
        from .term import Term

        return Term(config=self.config)

    @property
    def names(self):
        """The assignments' names: the folders of source/ that hold a master of that name."""
        return paths.assignments(self.root)

    def __iter__(self):
        return iter([Assignment(self, name) for name in self.names])

    def __getitem__(self, name):
        if isinstance(name, Assignment):
            return name
        if name not in self.names:
            raise UnknownAssignment(f"no assignment {name!r} in {self.root} (it has: {', '.join(self.names)})")
        return Assignment(self, name)

    def select(self, names=None):
        """The assignments named (all of them when none are), checked before any work starts."""
        return [self[name] for name in names] if names else list(self)

    def notebook(self, step, student, assignment):
        """<root>/<step>/<student>/<assignment>/<assignment>.ipynb (step: submitted, autograded, feedback...)."""
        return paths.notebook_path(self.root, step, student, str(assignment))

    @property
    def otter_dir(self):
        return paths.otter_dir(self.root)


@dataclass(frozen=True)
class Assignment:
    course: Course
    name: str

    def __str__(self):
        return self.name

    @property
    def root(self):
        return self.course.root

    @property
    def master_path(self):
        return paths.master_path(self.name, self.root)

    @property
    def folder(self):
        """source/<a>/: the master, its manifest and its catalog (nbgrader releases the master alone)."""
        return self.master_path.parent

    @property
    def release_path(self):
        return paths.release_path(self.name, self.root)

    @property
    def reports(self):
        """reports/<a>/: grades, the class report, failures, intake report and worker logs."""
        return paths.reports_dir(self.root, self.name)

    def notebook(self, step, student):
        return self.course.notebook(step, student, self.name)

    def master(self):
        """The master notebook, read from disk once per change of the file; a copy, free to change."""
        path = self.master_path
        return copy.deepcopy(_read(str(path), path.stat().st_mtime_ns))

    @property
    def manifest(self):
        """source/<a>/manifest.toml, checked (course/manifest.py)."""
        from .manifest import manifest_of

        return manifest_of(self)

    @property
    def catalog(self):
        """source/<a>/catalog.py: realistic bugs and correct variants (course/submissions.py)."""
        from .submissions import catalog

        return catalog(self)

    def cells(self, *roles):
        """Grade ids of the master's cells whose role (cell metadata, course/cells.py) is one of `roles`."""
        return [grade_id(c) for c in self.master().cells if role(c) in roles]

    def left_out(self, keep=()):
        """Grade ids an in-process run of the master leaves out: the cells that train or only demonstrate, data no
        remaining cell reads, and the tests of what they made, but the tests in `keep` (course.notebooks.left_out)."""
        path = self.master_path
        return set(_left_out(str(path), path.stat().st_mtime_ns, frozenset(keep)))


@functools.lru_cache(maxsize=16)
def _read(path, mtime):
    from .notebooks import read

    return read(path)


@functools.lru_cache(maxsize=16)
def _left_out(path, mtime, keep):
    from .notebooks import left_out

    return frozenset(left_out(_read(path, mtime), keep=keep))
