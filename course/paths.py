"""Where a course's files live, from one place: nbgrader's CourseDirectory of the course root.

Every function takes the course root it works on (the CLI's --root, by default the current directory):
nothing here assumes that the tooling and the course are the same checkout. The course's nbgrader_config.py
is read as `nbgrader` reads it from that root, so its directory settings apply to this code too.
"""

import copy
import functools
from pathlib import Path

# The student-facing GitHub repository that `python -m course publish` fills; Colab links point there.
STUDENT_REPO = "dlfs-course/dl-from-scratch-student"


class NotACourse(FileNotFoundError):
    """The folder is not a course root: it has no source/ folder of master notebooks."""


def course_config(root, db_url=None):
    """The course's nbgrader_config.py (what `nbgrader` reads when run from the root), with the root and, if
    given, the gradebook URL set explicitly."""
    config = copy.deepcopy(_root_config(*_config_key(root)))
    if db_url:
        config.CourseDirectory.db_url = db_url
    return config


def _config_key(root):
    """(root, when its nbgrader_config.py last changed): a config edited since it was read is read again."""
    root = Path(root).resolve()
    path = root / "nbgrader_config.py"
    return str(root), path.stat().st_mtime_ns if path.is_file() else None


@functools.cache
def _root_config(root, mtime):
    from traitlets.config.loader import Config, PyFileConfigLoader

    config = Config()
    if (Path(root) / "nbgrader_config.py").is_file():
        config = PyFileConfigLoader("nbgrader_config.py", path=root).load_config()
    config.CourseDirectory.root = root
    return config


def coursedir(root):
    """nbgrader's CourseDirectory of the course at root (its directory names and structure)."""
    return _coursedir(*_config_key(root))


@functools.cache
def _coursedir(root, mtime):
    return coursedir_of(course_config(root))


def coursedir_of(config):
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=config)


def _path(root, step, student, assignment, *rest):
    directory = coursedir(root)
    return Path(directory.format_path(getattr(directory, f"{step}_directory", step), student, assignment), *rest)


def notebook_path(root, step, student, assignment):
    """<root>/<step>/<student>/<assignment>/<assignment>.ipynb (step: submitted, autograded, feedback...)."""
    return _path(root, step, student, assignment, f"{assignment}.ipynb")


def master_path(assignment, root):
    """source/<assignment>/<assignment>.ipynb: the instructor's master."""
    return _path(root, "source", ".", assignment, f"{assignment}.ipynb")


def release_path(assignment, root):
    """release/<assignment>/<assignment>.ipynb: what students get."""
    return _path(root, "release", ".", assignment, f"{assignment}.ipynb")


def reports_dir(root, assignment):
    """reports/<assignment>/: grades, class report, failures, intake report and worker logs."""
    return Path(root).resolve() / "reports" / assignment


def otter_dir(root):
    """dist/otter/: the otter (Gradescope) edition, one folder per assignment (`python -m course otter`)."""
    return Path(root).resolve() / "dist" / "otter"


def colab_url(assignment, github=STUDENT_REPO, otter=False):
    """The link that opens an assignment's student notebook in Google Colab from the student repository on GitHub
    (`python -m course publish` fills it): <a>/<a>.ipynb, or with otter the Gradescope edition's otter/<a>/<a>.ipynb."""
    folder = f"otter/{assignment}" if otter else assignment
    return f"https://colab.research.google.com/github/{github}/blob/main/{folder}/{assignment}.ipynb"


def assignments(root):
    """Names of the course's assignments: the folders of source/ that hold a master notebook of that name."""
    source = Path(root).resolve() / coursedir(root).source_directory
    if not source.is_dir():
        raise NotACourse(f"{Path(root).resolve()} is not a course root: it has no {source.name}/ folder of master "
                         "notebooks. Run the command from the course repository, or pass --root DIR.")
    return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file())
