"""The checkout under test: the course root whose masters, releases and catalogs the tests read."""

from pathlib import Path

from course.course import Course

ROOT = Path(__file__).resolve().parents[1]
COURSE = Course.at(ROOT)
