"""Each master passes its own tests when nbgrader validates it (grading budgets, hidden tests included)."""

import pytest
from nbgrader.validator import Validator
from traitlets.config import Config

from course import assignments, master_path


@pytest.mark.parametrize("name", assignments())
def test_master_passes_its_own_tests(name):
    config = Config()
    config.Execute.timeout = 300
    results = Validator(config=config).validate(str(master_path(name)))
    # `nbgrader validate` exits 0 even when tests fail: the result itself is what counts.
    assert not results.get("failed"), "\n\n".join(f["raw_error"][-800:] for f in results["failed"])
    assert not results.get("type_changed") and not results.get("changed")
