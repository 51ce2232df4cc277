"""Course tooling: build releases, sync provided code, autograde, report and publish.

Run `python -m course --help` (or `course --help`) for the commands. Every command works on a Course (course.py):
the course root given by --root, by default the current directory, and its assignments (source/<a>/: master,
manifest, catalog); course/paths.py says where its files live.
"""

from .paths import STUDENT_REPO

__all__ = ["EXTRA_CREDIT_PREFIX", "STUDENT_REPO", "Assignment", "Course"]


def __getattr__(name):  # Course and Assignment on first use: `import course` alone loads no nbgrader
    if name in ("Assignment", "Course"):
        from . import course

        return getattr(course, name)
    raise AttributeError(f"module 'course' has no attribute {name!r}")

# Grade cells whose id starts with this prefix are extra credit: reported apart from the core score.
EXTRA_CREDIT_PREFIX = "ec_"
