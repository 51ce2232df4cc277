"""The trusted copies of the graded functions (the masters' `### BEGIN REFERENCE` regions) stand in for the student's
code in the tests of later questions: a wrong copy would cost a correct student points. Each assignment's reference
solution is graded in-process, which registers every copy; then every test runs again with all of them in place of
the solution's code, and must still pass."""

import contextlib
import io
import warnings

import pytest
from checkout import COURSE

from course.cells import grade_id, is_solution, is_test
from course.integrity.guard import LocalGuard, reference_regions
from course.notebooks import bound_names, offscreen_pyplot
from course.submissions import reference

ASSIGNMENTS = COURSE.names


def _run(source, ns, label):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(source, label, "exec"), ns)  # noqa: S102 (our own notebooks)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_trusted_copies_pass_the_tests_they_stand_in_for(name):
    offscreen_pyplot()
    nb, skip = reference(COURSE[name], keep_hidden_tests=True), COURSE[name].left_out()
    ns = {"__name__": "__course__"}
    student = set().union(*(bound_names(c.source) for c in nb.cells if c.cell_type == "code" and is_solution(c)))
    guard = LocalGuard(ns, student)
    tests = []
    for cell in nb.cells:
        gid = grade_id(cell)
        if cell.cell_type != "code" or gid in skip:
            continue
        if is_test(cell):
            body, references = reference_regions(cell.source)
            guard.enter(gid)
            _run(body, ns, f"<{gid}>")
            guard.leave(references, f"<{gid}: reference>")
            tests.append((gid, body))
        else:
            _run(cell.source, ns, f"<{gid}>")
    copies = set(guard.vault.public)
    assert copies, "the master has no trusted copies"
    assert copies <= student, f"copies of names no solution cell defines: {sorted(copies - student)}"
    e2e = COURSE[name].manifest.end_to_end_tests
    guard.vault.lend()  # now every copy, the graded functions' own included, stands in for the solution's code
    failed = {}
    for gid, body in tests:
        if gid in e2e:
            continue
        try:
            _run(body, ns, f"<{gid}>")
        except Exception as exc:  # noqa: BLE001 (a copy that fails the test it stands in for)
            failed[gid] = f"{type(exc).__name__}: {exc}"
    guard.vault.take_back()
    assert not failed, failed
