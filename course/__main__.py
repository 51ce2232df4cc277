"""python -m course: the course's command line (course/cli.py)."""

import sys

from .cli import main

sys.exit(main())
