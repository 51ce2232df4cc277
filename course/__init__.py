"""Course tooling: build releases, sync provided code, autograde, report and publish.

Run `python -m course --help` for the commands.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the course repository
SOURCE = ROOT / "source"

# The student-facing GitHub repository that `python -m course publish` fills; Colab links point there.
STUDENT_REPO = "dlfs-course/dl-from-scratch-student"

# Grade cells whose id starts with this prefix are extra credit: reported apart from the core score.
EXTRA_CREDIT_PREFIX = "ec_"


def assignments():
    """Names of the assignments: the folders of source/ that hold a master notebook of that name."""
    return sorted(p.name for p in SOURCE.iterdir() if (p / f"{p.name}.ipynb").is_file())


def master_path(assignment, root=ROOT):
    return Path(root) / "source" / assignment / f"{assignment}.ipynb"


def release_path(assignment, root=ROOT):
    return Path(root) / "release" / assignment / f"{assignment}.ipynb"
