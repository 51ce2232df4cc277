"""Course tooling: build releases, sync provided code, autograde, report and publish.

Run `python -m course --help` (or `course --help`) for the commands. Every command works on the course root
given by --root, by default the current directory; course/paths.py says where its files live.
"""

from .paths import STUDENT_REPO, assignments, master_path, release_path

__all__ = ["EXTRA_CREDIT_PREFIX", "STUDENT_REPO", "assignments", "master_path", "release_path"]

# Grade cells whose id starts with this prefix are extra credit: reported apart from the core score.
EXTRA_CREDIT_PREFIX = "ec_"
