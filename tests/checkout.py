"""The checkout under test: the course root whose masters, releases and catalog the tests read."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
