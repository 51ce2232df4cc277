"""Mutation analysis (course/mutants.py, `python -m course mutants`): the operators, mutants only inside solution
regions, and a fixed sample of every question's mutants graded by the master's tests (the full run is the command
and its benchmark): each sampled mutant loses points in its own question, unless the manifest lists it as
equivalent with a reason; and every listed equivalent mutant still exists and still survives (no stale entry)."""

import ast

import pytest
from checkout import COURSE

from course import cli
from course.mutants import OPERATORS, Task, edits, grade_mutant, mutants, region_lines, run
from course.notebooks import SOLUTION_BEGIN, cell_by_id

ASSIGNMENTS = ["autograd_mlp", "model_fitting"]

SNIPPET = """\
def f(a, b, out):
    x = a['data'] + b['data'] * 2.0
    a['grad'] += out['grad'] @ b['data'].T
    if x > 0:
        y = np.sum(a['data'][1:3], axis=0, keepdims=True)
    z = -np.maximum(x, 1)
    g(a, b)
    return x.mean(axis=1)
"""


def test_every_operator_makes_code_that_parses():
    lines = set(range(1, SNIPPET.count("\n")))  # all but the def line
    found = {}
    for operator, start, end, new in edits(SNIPPET, lines):
        mutated = SNIPPET[:start] + new + SNIPPET[end:]
        ast.parse(mutated)
        found.setdefault(operator, []).append(mutated)
    assert set(found) == set(OPERATORS), set(OPERATORS) - set(found)
    assert any("a['grad'] = out['grad']" in m for m in found["augmented"]), "+= made ="
    assert any("b['data'] @ b['data']" not in m and "(b['data'].T).T" in m or "out['grad'] @ b['data']\n" in m
               for m in found["transpose"])
    assert not any(m.startswith("def f(b, a") for ms in found.values() for m in ms), "the def line is not mutated"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_mutants_change_only_the_solution_regions(name):
    a = COURSE[name]
    master = a.master()
    found = mutants(a)
    assert len(found) > 100
    assert len({m.id for m in found}) == len(found), "ids are unique"
    for m in found[::7]:
        lines = region_lines(cell_by_id(master, m.cell).source)
        assert m.line - 1 in lines, f"{m.id} changes line {m.line}, outside the solution regions"
        assert SOLUTION_BEGIN not in m.source


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_a_sample_of_every_questions_mutants_loses_points_in_its_own_question(name, tmp_path):
    a = COURSE[name]
    outcomes, not_graded = run(a, workers=2, per_question=2, progress=False)
    assert {o.mutant.cell for o in outcomes} | set(not_graded) == {m.cell for m in mutants(a)}
    survivors = [f"{o.mutant.id}: {o.mutant.before.strip()} -> {o.mutant.after.strip()}"
                 for o in outcomes if o.status not in ("killed", "equivalent", "timed out")]
    assert not survivors, ("mutants no test catches (kill them with a better test, or list them in the manifest's "
                           f"[equivalent_mutants] with the reason): {survivors}")


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_listed_equivalent_mutant_still_exists_and_survives(name):
    a = COURSE[name]
    listed = a.manifest.equivalent_mutants
    by_id = {m.id: m for m in mutants(a)}
    stale = [i for i in listed if i not in by_id]
    assert not stale, f"listed as equivalent in source/{name}/manifest.toml but no longer made: {stale}"
    left_out = a.left_out()
    for i in listed:
        m = by_id[i]
        m.questions = [q for q in m.questions if q not in left_out]
        outcome = grade_mutant(Task(str(a.root), name, m))
        assert outcome.status == "survived", f"{i} is listed as equivalent, but a test now catches it: remove it"


def test_the_command_writes_the_report(tmp_path, capsys):
    from course.release import copy_course

    course = copy_course(COURSE, tmp_path / "course")
    assert cli.main(["mutants", "autograd_mlp", "--question", "test_add", "--root", str(course.root)]) == 0
    out = capsys.readouterr().out
    assert "test_add" in out and "test_multiply" not in out
    report = (course.root / "reports" / "mutants" / "autograd_mlp.md").read_text()
    assert "| `test_add` |" in report and "## Operators" in report
    rows = (course.root / "reports" / "mutants" / "autograd_mlp.csv").read_text().splitlines()
    assert rows[0].startswith("id,cell,question,operator") and all(",killed," in r for r in rows[1:])
