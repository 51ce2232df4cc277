"""The otter-grader (Gradescope) edition: built by `python -m course otter` as the README says, in a clean clone,
graded by `otter run` as typed, and scored as nbgrader scores the same work, question by question.

- the student notebook and its public tests hold no solution line, marker or hidden test; the zip's questions
  are the master's grade cells, with their points; `publish --otter` copies the notebooks, never the zips;
- `otter run` on the reference gives full marks, on the blank release what nbgrader gives (done-for-you
  points only), on model_fitting's several-bug demo submission what nbgrader gives, and nothing it shows holds
  hidden-test source;
- the whole catalog (every bug, every correct variant, the grading-mode entries) scores the same per question
  under otter's test runner (the zip's tests and plugin, in-process, the training cells skipped as
  tests/test_catalog.py skips them) as under nbgrader's (course.notebooks.grade_in_process);
- the tampering submissions of tests/test_tampering.py, and two against otter's own check cells, through
  `otter run` (docs/grading_security.md's otter column);
- the plugin puts back provided cells and checks a student edited or deleted, and its distribution builds.
"""

import ast
import base64
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
import worlds
from checkout import COURSE, ROOT

from course import EXTRA_CREDIT_PREFIX
from course.cells import grade_id, is_locked, is_solution, is_test, is_written_answer, points
from course.notebooks import (
    HIDDEN_BEGIN,
    HIDDEN_END,
    SOLUTION_BEGIN,
    SOLUTION_END,
    cell_by_id,
    grade_in_process,
    leaked_lines,
    marked_lines,
    read,
    solution_notebook,
)
from course.otter import PLUGIN_FILES, convert, student_problems
from course.otter.plugin import CELL_KEY, restore
from course.otter.submissions import as_otter, autograder_config, otter_run, plugin_cells, run_otter, scores
from course.otter.submissions import grade_in_process as otter_grade_in_process
from course.submissions import apply_edits, blank, reference, variant, with_bugs

ASSIGNMENTS = COURSE.names
ENTRIES = [(a, "bug", b) for a in ASSIGNMENTS for b in sorted(COURSE[a].catalog.BUGS)] + \
          [(a, "variant", v) for a in ASSIGNMENTS for v in sorted(COURSE[a].catalog.VARIANTS)] + \
          [(a, "grading", e) for a in ASSIGNMENTS for e in sorted({**getattr(COURSE[a].catalog, "GRADING_MODE_BUGS", {}),
                                                                    **getattr(COURSE[a].catalog, "GRADING_MODE_VARIANTS", {})})]


def build_command(name):
    return f"python -m course otter {name}"


def run_command(name):
    return f"otter run -a dist/otter/{name}/autograder/{name}-autograder.zip -o out {name}.ipynb"


@pytest.fixture(scope="module")
def built():
    """A clean clone where an instructor builds both otter editions as the README says (fresh HOME, offline)."""
    base = worlds.scratch("dlfs-otter-")
    root = worlds.clean_clone(base / "course")
    env = worlds.user_env(base / "home")
    runs = {a: worlds.run_as_typed(f". .venv/bin/activate && {build_command(a)}", root, env, timeout=600)
            for a in ASSIGNMENTS}
    yield {"root": root, "base": base, "env": env, "runs": runs}
    shutil.rmtree(base, ignore_errors=True)


def _edition(built, name):
    proc = built["runs"][name]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = built["root"] / "dist" / "otter" / name
    return read(out / "student" / f"{name}.ipynb"), out / "autograder" / f"{name}-autograder.zip"


def _public_tests(student):
    """{file name: text} of the public tests the student notebook's first cell writes."""
    source = student.cells[0].source
    data = source.split('b64decode("', 1)[1].split('"', 1)[0]
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(data))) as zf:
        return {n: zf.read(n).decode() for n in zf.namelist()}


# --- the build ---------------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_build_writes_the_student_notebook_and_the_private_zip(built, name):
    student, zip_path = _edition(built, name)
    assert zip_path.is_file() and (zip_path.parent.parent / "student" / "tests").is_dir()
    ignored = subprocess.run(["git", "check-ignore", "-q", f"dist/otter/{name}/autograder/{name}-autograder.zip"],
                             cwd=ROOT, check=False)
    assert ignored.returncode == 0, "dist/ must be git-ignored: the zip holds solutions and hidden tests"
    assert "private" in built["runs"][name].stdout
    first = student.cells[0]
    assert first.cell_type == "code" and first.metadata.get("editable") is False
    assert "%pip install -q otter-grader==" in first.source and "grader = otter.Notebook()" in first.source


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_student_edition_holds_no_solution_marker_or_hidden_test(built, name):
    student, _ = _edition(built, name)
    master = COURSE[name].master()
    tests_dir = built["root"] / "dist" / "otter" / name / "student" / "tests"
    assert not student_problems(student, tests_dir, master)
    texts = [c.source for c in student.cells] + list(_public_tests(student).values()) + \
        [p.read_text() for p in tests_dir.glob("*.py")]
    # the public tests hold each visible part as one string literal: look inside it too
    for text in _public_tests(student).values():
        texts += [n.value for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert len(marked_lines(master, SOLUTION_BEGIN, SOLUTION_END)) > 10
    assert leaked_lines(master, texts) == {"solution": [], "hidden test": []}
    assert not any(c.get("outputs") for c in student.cells)


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_questions_are_the_grade_cells_with_their_points(built, name):
    student, zip_path = _edition(built, name)
    master = COURSE[name].master()
    config, tests = autograder_config(zip_path)
    from otter.test_files import ExceptionTestFile

    want = {grade_id(c): points(c) for c in master.cells if is_test(c)}
    got = {}
    for question, text in tests.items():
        test = ExceptionTestFile.from_string(text, path=f"tests/{question}.py")
        assert test.all_or_nothing, question
        got[question] = test.possible
        assert [tc.hidden for tc in test.test_cases] == [False, True], question
    assert got == want
    assert any(q.startswith(EXTRA_CREDIT_PREFIX) for q in got) == any(g.startswith(EXTRA_CREDIT_PREFIX) for g in want)
    # each check cell runs its question, once, after the solution cells it grades
    checks = [convert.check_cell_question(c) for c in student.cells if convert.check_cell_question(c)]
    assert checks == [g for g in want]
    # written answers: manual questions with their points in the otter master
    nb = convert.otter_master(master, name, {}, convert.prompt(COURSE))
    manual = {}
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION"):
            import yaml
            q = yaml.safe_load(cell.source.split("\n", 1)[1])
            if q.get("manual"):
                manual[q["name"]] = q["points"]
    assert manual == {grade_id(c): points(c) for c in master.cells if is_written_answer(c)}
    # what the plugin restores: every provided cell and check, the student's answers left alone
    restored = {c["id"]: c["locked"] for c in plugin_cells(config)}
    for cell in master.cells:
        if grade_id(cell) and not is_test(cell) and not is_written_answer(cell):
            assert restored[grade_id(cell)] == (is_locked(cell) and not is_solution(cell)), grade_id(cell)
    assert all(restored[convert.check_id(q)] for q in want)


@pytest.mark.slow
def test_publish_with_otter_adds_the_student_notebooks_not_the_zips(built):
    for name in ASSIGNMENTS:
        _edition(built, name)
    proc = worlds.run_as_typed(". .venv/bin/activate && python -m course publish ../student-repo --github someone/x "
                               "--otter", built["root"], built["env"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    dest = built["root"].parent / "student-repo"
    for name in ASSIGNMENTS:
        text = (dest / "otter" / name / f"{name}.ipynb").read_text()
        assert "colab.research.google.com/github/someone/x/blob/main/otter/" in text
        assert "dlfs-course/dl-from-scratch-student" not in text
    assert not list(dest.rglob("*.zip")) and not list(dest.rglob("tests"))
    assert "On Gradescope" in (dest / "README.md").read_text()


# --- grading with otter run, as typed ---------------------------------------------------------------------------

def _blank_as_graded(name):
    """The blank release as nbgrader grades it: its test cells with their hidden parts put back."""
    nb = blank(COURSE[name])
    whole = {grade_id(c): c.source for c in solution_notebook(COURSE[name].master(), True).cells if is_test(c)}
    for cell in nb.cells:
        if grade_id(cell) in whole:
            cell.source = whole[grade_id(cell)]
    return nb


def _nbgrader_scores(name, nb, skip=()):
    master = COURSE[name].master()
    failed, _ = grade_in_process(nb, skip)
    return {grade_id(c): (0.0 if grade_id(c) in failed else points(c)) for c in master.cells
            if is_test(c) and grade_id(c) not in skip}


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_otter_run_as_typed_scores_like_nbgrader(built, name):
    student, zip_path = _edition(built, name)
    master = COURSE[name].master()
    full = {grade_id(c): points(c) for c in master.cells if is_test(c)}
    hidden = marked_lines(master, HIDDEN_BEGIN, HIDDEN_END)
    with worlds.serve(worlds.SHARED_DATA) as (url, _):
        env = dict(built["env"], COURSE_DATA_MIRROR=url)
        for label, nb, want in [("reference", reference(COURSE[name]), full),
                                ("blank", blank(COURSE[name]), _nbgrader_scores(name, _blank_as_graded(name)))]:
            where = built["base"] / f"{name}-{label}"
            where.mkdir()
            (where / "out").mkdir()
            nbformat.write(as_otter(nb, student), str(where / f"{name}.ipynb"))
            shutil.copytree(built["root"] / "dist", where / "dist")
            proc = worlds.run_as_typed(f". {built['root']}/.venv/bin/activate && {run_command(name)}", where, env,
                                       timeout=1500)
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
            results = json.loads((where / "out" / "results.json").read_text())
            assert scores(results) == want, f"{label}: otter {scores(results)}, nbgrader {want}"
            in_process = otter_grade_in_process(as_otter(nb, student), zip_path, COURSE[name].left_out())
            assert in_process == {q: want[q] for q in in_process}, f"{label}: the in-process runner disagrees"
            shown = json.dumps(results)
            leaked = sorted(line for line in hidden if line in shown)
            assert not leaked, f"{label}: otter's results show hidden-test lines: {leaked[:3]}"


# --- grades that only the student's own work earns: delegation to trusted copies (tests/delegation.py) -------------

@pytest.fixture(scope="module")
def otter_delegated(built):
    """Every means of tests/delegation.py on both assignments' otter editions, graded by `otter run`, two at a time."""
    from concurrent.futures import ThreadPoolExecutor

    from delegation import MEANS, attack

    jobs = []
    for name in ASSIGNMENTS:
        student, zip_path = _edition(built, name)
        for means in MEANS:
            jobs.append((name, means, as_otter(attack(blank(COURSE[name]), means), student), zip_path))

    def grade(job):
        name, means, nb, zip_path = job
        where = built["base"] / f"steal-{name}-{means}"
        where.mkdir()
        nbformat.write(nb, str(where / f"{name}.ipynb"))
        proc = run_otter(["-a", str(zip_path), "-o", str(where), f"{name}.ipynb"], where, timeout=900)
        results = where / "results.json"
        if proc.returncode != 0 or not results.is_file():
            return (name, means), ("error", proc.stdout[-2000:] + proc.stderr[-2000:])
        return (name, means), (scores(json.loads(results.read_text())), results.read_text())

    with ThreadPoolExecutor(2) as pool:  # the kernels read COURSE_DATA_DIR, as the suite's do
        return dict(pool.map(grade, jobs))


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
@pytest.mark.parametrize("means", ["by_name", "closures", "frames", "garbage_collector", "known_names", "stash"])
def test_delegation_to_a_trusted_copy_gains_nothing_under_otter(otter_delegated, name, means):
    got, shown = otter_delegated[(name, means)]
    assert got != "error", shown
    won = {q: score for q, score in got.items() if score}
    assert not won, f"{means} on {name} earned points under otter: {won}\n{shown[:3000]}"


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_what_the_class_got_wrong_from_a_folder_of_otter_results(built, otter_delegated, name):
    """The README's `python -m course mistakes <a> DIR` on real results.json files: the attacks above, a class whose
    every question was lost."""
    folder = built["base"] / f"results-{name}"
    for (a, means), (got, shown) in otter_delegated.items():
        if a == name and got != "error":
            (folder / means).mkdir(parents=True)
            (folder / means / "results.json").write_text(shown)
    n = len(list(folder.iterdir()))
    proc = worlds.run_as_typed(f". .venv/bin/activate && python -m course mistakes {name} {folder}", built["root"],
                               built["env"], timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = (built["root"] / "reports" / name / "otter_mistakes.md").read_text()
    questions = [q for q, pts in _master_points(name).items() if pts]
    assert all(f"`{q}` (" in text for q in questions), text
    assert f"100% ({n} / {n})" in text and "not read" not in proc.stdout


# --- parity over the catalog ------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_killed_mutants_lose_the_same_points_under_otter(built, name):
    """A fixed sample of mutants (course/mutants.py) that nbgrader's tests kill loses the same points, question by
    question, under otter's test runner with the edition's zip."""
    from course.mutants import mutants, sample

    student, zip_path = _edition(built, name)
    a = COURSE[name]
    skip = a.left_out()
    compared = 0
    for m in sample(mutants(a), 1, seed=1):
        if set(m.questions) <= skip:
            continue

        def make(hidden, m=m):
            nb = reference(a, keep_hidden_tests=hidden)
            cell_by_id(nb, m.cell).source = m.source
            return nb

        nbgrader = _nbgrader_scores(name, make(True), skip)
        if all(nbgrader.get(q, 0) for q in m.questions):
            continue  # survived (an equivalent mutant): nothing to compare
        otter = otter_grade_in_process(as_otter(make(False), student), zip_path, skip)
        assert otter == nbgrader, f"{m.id}: otter {otter} vs nbgrader {nbgrader}"
        compared += 1
    assert compared >= 5, compared


def _master_points(name):
    return {grade_id(c): points(c) for c in COURSE[name].master().cells if is_test(c)}


@pytest.mark.slow
@pytest.mark.parametrize(("name", "kind", "entry"), ENTRIES)
def test_catalog_entry_scores_the_same_under_otter(built, name, kind, entry, monkeypatch):
    student, zip_path = _edition(built, name)
    otter, nbgrader = _both_in_process(name, kind, entry, student, zip_path, monkeypatch)
    assert otter == nbgrader, f"{entry}: per question, otter {otter} vs nbgrader {nbgrader}"


def _entry(name, kind, entry):
    """(make(keep_hidden_tests) -> the entry's notebook, the cells the in-process graders skip)."""
    a = COURSE[name]
    cat = a.catalog
    if kind == "bug":
        return (lambda hidden: with_bugs(a, [entry], keep_hidden_tests=hidden)), a.left_out()
    if kind == "variant":
        return (lambda hidden: variant(a, entry, keep_hidden_tests=hidden)), a.left_out()
    entries = {**cat.GRADING_MODE_BUGS, **cat.GRADING_MODE_VARIANTS}  # graded with the budgets, their runs kept
    return (lambda hidden: apply_edits(reference(a, keep_hidden_tests=hidden), entries[entry]["edits"], entry)), \
        a.left_out(keep=_questions(a, entries[entry]))


def _questions(assignment, entry):
    """The tests of the questions an entry edits: the first test cell after each edited cell."""
    ids = [grade_id(c) for c in assignment.master().cells if grade_id(c)]
    tests = {grade_id(c) for c in assignment.master().cells if is_test(c)}
    return {next(t for t in ids[ids.index(gid):] if t in tests) for gid, _, _ in entry["edits"]}


def _both_in_process(name, kind, entry, student, zip_path, monkeypatch):
    """Per question, the entry's scores under otter's test runner (the zip's tests and plugin) and nbgrader's."""
    make, skip = _entry(name, kind, entry)
    if kind == "grading":
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # the grading budgets, for nbgrader's run too
    otter = otter_grade_in_process(as_otter(make(False), student), zip_path, skip)
    return otter, _nbgrader_scores(name, make(True), skip)


@pytest.mark.slow
def test_otter_run_scores_a_buggy_submission_as_the_in_process_runner(built):
    """The parity test above grades with otter's test runner in-process (seconds, where `otter run` takes a
    kernel and the training: 100 s for autograd_mlp). Here `otter run` itself grades model_fitting's demo
    submission (several bugs at once) and agrees with it, and with nbgrader, on every question (for autograd_mlp
    the reference and the blank above are compared with the in-process runner too)."""
    name = "model_fitting"
    student, zip_path = _edition(built, name)
    cat = COURSE[name].catalog
    nb = with_bugs(COURSE[name], cat.DEMO)
    with worlds.serve(worlds.SHARED_DATA) as (url, _):
        results, _ = otter_run(zip_path, as_otter(nb, student), name, env=dict(built["env"], COURSE_DATA_MIRROR=url,
                                                                              PATH=os.environ["PATH"]))
    got = scores(results)
    in_process = otter_grade_in_process(as_otter(nb, student), zip_path, COURSE[name].left_out())
    nbgrader = _nbgrader_scores(name, with_bugs(COURSE[name], cat.DEMO, keep_hidden_tests=True), COURSE[name].left_out())
    assert {q: got[q] for q in in_process} == in_process == nbgrader
    assert sum(got.values()) < sum(points(c) for c in COURSE[name].master().cells if is_test(c))


# --- the plugin -------------------------------------------------------------------------------------------------

def _cell(kind, source, cid=None, **meta):
    cell = (nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell)(source)
    if cid:
        cell.metadata[CELL_KEY] = {"id": cid}
    cell.metadata.update(meta)
    return cell


REFERENCE = [{"id": "setup", "locked": True, "cell_type": "code", "source": "import numpy as np"},
             {"id": "add", "locked": False, "cell_type": "code", "source": None},
             {"id": "check_test_add", "locked": True, "cell_type": "code", "source": 'grader.check("test_add")'},
             {"id": "helpers", "locked": True, "cell_type": "code", "source": "def helper():\n    return 1"}]


def test_plugin_restores_edited_and_deleted_cells_and_keeps_answers():
    nb = nbformat.v4.new_notebook(cells=[
        _cell("code", "import numpy as np\nnp.allclose = lambda *a: True", "setup"),
        _cell("code", "def add(a, b):\n    return a + b", "add"),
        _cell("code", "pass", "check_test_add", otter={"tests": ["test_add"]}),
        _cell("code", "x = 1"),  # the student's own cell
    ])
    changes = restore(nb, REFERENCE)
    sources = [c.source for c in nb.cells]
    assert sources[0] == "import numpy as np"
    assert sources[1] == "def add(a, b):\n    return a + b"
    assert sources[2] == 'grader.check("test_add")'
    assert "put back" in sources[3] and sources[4] == "def helper():\n    return 1"  # after the cell it followed
    assert sources[5] == "x = 1"
    assert not any("otter" in c.metadata for c in nb.cells)
    assert len(changes) == 3


def test_plugin_grades_the_last_copy_of_a_duplicated_cell():
    nb = nbformat.v4.new_notebook(cells=[
        _cell("code", "pass", "check_test_add"),
        _cell("code", "import numpy as np", "setup"),
        _cell("code", "def add(a, b):\n    return a - b", "add"),
        _cell("code", 'grader.check("test_add")', "check_test_add"),
        _cell("code", "def helper():\n    return 1", "helpers"),
        _cell("code", "y = 2", "invented"),
    ])
    restore(nb, REFERENCE)
    assert CELL_KEY not in nb.cells[0].metadata and nb.cells[0].source == "pass"  # an ordinary cell now
    assert [c.metadata.get(CELL_KEY, {}).get("id") for c in nb.cells] == [None, "setup", "add", "check_test_add",
                                                                           "helpers", None]


def test_plugin_imports_nothing_the_grading_image_lacks():
    """It ships without the rest of the course package (files/course-otter-plugin/ in the zip: PLUGIN_FILES): the
    standard library, otter, nbformat, IPython (review.py's parser, optional) and the files shipped with it."""
    course = Path(ROOT) / "course"
    shipped = {Path(name).stem for name in PLUGIN_FILES} | {"integrity", "otter"}
    for name in PLUGIN_FILES:
        tree = ast.parse((course / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:  # relative: must be one of the shipped files
                parts = (node.module or "").split(".") if node.module else [a.name for a in node.names]
                assert parts[-1] in shipped or all(a.name in shipped for a in node.names), (name, ast.dump(node))
                continue
            mods = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            outside = {m.split(".")[0] for m in mods} - set(sys.stdlib_module_names) - {"otter", "nbformat", "IPython"}
            if isinstance(node, ast.ImportFrom) and node.module == "cells":
                continue
            assert not outside, (name, outside)


def test_conversion_runs_the_whole_test_cell_hidden_and_its_visible_part_public():
    master = COURSE[ASSIGNMENTS[0]].master()
    nb = convert.otter_master(master, ASSIGNMENTS[0], {}, convert.prompt(COURSE))
    tests = [c for c in master.cells if is_test(c)]
    cases = [c.source for c in nb.cells if c.cell_type == "code" and "def test_" in c.source]
    assert len(cases) == 2 * len(tests)
    hidden = [s for s in cases if s.startswith("# HIDDEN")]
    assert len(hidden) == len(tests)
    solutions = [c for c in nb.cells if c.cell_type == "code" and "# BEGIN SOLUTION NO PROMPT" in c.source]
    assert len(solutions) == sum(is_solution(c) and c.cell_type == "code" for c in master.cells)
    assert all("raise NotImplementedError()" in c.source for c in solutions)


# --- tampering, measured under `otter run` (docs/grading_security.md, its otter column) --------------------------

# The attacks of tests/test_tampering.py that `otter run` can be given here: those that exhaust a resource are not
# (no per-cell timeout, no memory or output limit: on Gradescope the container's limits and the assignment's
# timeout end the whole run).
NOT_UNDER_OTTER = {"infinite_loop", "stubborn_loop", "memory_bomb", "output_flood"}
# What otter gives each one (the quiz: test_add, test_mean, 1 point each); "error": no score, the run fails.
OTTER_OUTCOMES = {
    "honest": (1, 1), "honest_warns": (1, 1), "blank": (0, 0), "edited_test": (0, 1), "deleted_tests": (0, 1),
    "deleted_helpers": (1, 1), "duplicated_test": (0, 1), "invented_cell": (1, 1), "forged_metadata": (1, 1),
    "future_schema": (1, 1), "lost_metadata": (1, 1), "patch_numpy_builtins": (0, 0), "shadow_names": (0, 0),
    "loosen_tolerance": (0, 1), "always_equal": (0, 0), "drop_asserts": (0, 0), "swallow_errors": (0, 0),
    "hide_failure_in_test": (0, 0), "sys_exit": (0, 1), "os_exit_in_test": "error", "os_exit_after": "error",
    "leak_hidden_tests": (0, 0), "no_metadata": (1, 1), "wrong_assignment": "error", "malformed_json": "error",
    "renamed_file": (1, 1),
}


def _edited_check(nb):
    """Wrong add(); its grader.check cell replaced by `pass`."""
    next(c for c in nb.cells if convert.check_cell_question(c) == "test_add").source = "pass"
    return nb


def _forged_check(nb):
    """Wrong add(), but first a correct one in a cell whose otter metadata asks otter to check test_add right there."""
    where = next(i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get(CELL_KEY, {}).get("id") == "add")
    cell = nbformat.v4.new_code_cell("def add(a, b):\n    return a + b")
    cell.metadata["otter"] = {"tests": ["test_add"]}
    nb.cells.insert(where, cell)
    return nb


# Attacks only the otter edition has: its check cells and otter's own cell metadata.
OTTER_ATTACKS = {"edited_check": (_edited_check, (0, 1)), "forged_check_metadata": (_forged_check, (0, 1))}


@pytest.fixture(scope="module")
def otter_quiz(tmp_path_factory):
    """Every attack graded by `otter run` against the quiz's otter edition, two at a time."""
    from concurrent.futures import ThreadPoolExecutor

    import test_tampering
    from quiz_course import QUIZ, add_quiz
    from quiz_course import variant as quiz_variant

    from course.otter import build
    from course.release import copy_course

    base = tmp_path_factory.mktemp("otter-tampering")
    course = copy_course(COURSE, base / "course")
    add_quiz(course.root)
    out = build(course[QUIZ], base / "dist")
    student = read(out / "student" / f"{QUIZ}.ipynb")
    zip_path = out / "autograder" / f"{QUIZ}-autograder.zip"
    texts = {}
    for name, (_, make, _) in test_tampering.ATTACKS.items():
        if name in NOT_UNDER_OTTER or make is None:
            continue
        texts[name] = nbformat.writes(as_otter(make(), student))
    texts["blank"] = nbformat.writes(student)
    for name, (attack, _) in OTTER_ATTACKS.items():
        texts[name] = nbformat.writes(attack(as_otter(quiz_variant(edits={"add": test_tampering.WRONG_ADD}), student)))
    wrong = nbformat.from_dict(student)
    wrong.metadata["otter"]["assignment_name"] = "model_fitting"
    texts["wrong_assignment"] = nbformat.writes(wrong)
    texts["malformed_json"] = texts["honest"][:-200]

    def grade(item):
        name, text = item
        where = base / name
        where.mkdir()
        filename = "Copy of quiz.ipynb" if name == "renamed_file" else f"{QUIZ}.ipynb"
        (where / filename).write_text(text)
        proc = run_otter(["-a", str(zip_path), "-o", str(where), filename], where, timeout=300)
        results = where / "results.json"
        if proc.returncode != 0 or not results.is_file():
            return name, "error", proc.stdout[-2000:] + proc.stderr[-2000:]
        got = scores(json.loads(results.read_text()))
        return name, (int(got.get("test_add", 0)), int(got.get("test_mean", 0))), results.read_text()

    with ThreadPoolExecutor(2) as pool:
        return {name: (outcome, shown) for name, outcome, shown in pool.map(grade, texts.items())}


@pytest.mark.slow
@pytest.mark.parametrize("attack", sorted(OTTER_OUTCOMES) + sorted(OTTER_ATTACKS))
def test_attack_outcome_under_otter(otter_quiz, attack):
    outcome, shown = otter_quiz[attack]
    want = OTTER_ATTACKS[attack][1] if attack in OTTER_ATTACKS else OTTER_OUTCOMES[attack]
    assert outcome == want, f"{attack}: otter gave {outcome}, docs say {want}\n{shown}"
    if attack == "leak_hidden_tests":
        assert "hidden quiz" not in shown, "otter's results show hidden-test source"


def test_the_otter_column_covers_every_attack():
    import test_tampering

    assert set(OTTER_OUTCOMES) | NOT_UNDER_OTTER == set(test_tampering.ATTACKS)


def test_plugin_selects_the_grading_budgets_through_the_kernels_environment(monkeypatch):
    """The master's setup cell turns GRADING on when otter grades: the plugin's before_grading sets the variable
    it reads, which the kernel otter starts next inherits."""
    from course.otter.plugin import GRADING_VARIABLE, RestoreProvidedCells

    monkeypatch.delenv(GRADING_VARIABLE, raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    RestoreProvidedCells(None, {}, {"cells": []}).before_grading(None)
    setup = next(c for c in COURSE[ASSIGNMENTS[0]].master().cells if grade_id(c) == "setup")
    line = next(line for line in setup.source.split("\n\n") if "GRADING = " in line)
    namespace = {}
    exec("import os\n" + line, namespace)  # noqa: S102 (the master's own line)
    assert namespace["GRADING"] is True
    monkeypatch.delenv(GRADING_VARIABLE)
    exec("import os\n" + line, namespace)  # noqa: S102
    assert namespace["GRADING"] is False


@pytest.mark.slow
def test_the_zips_plugin_distribution_builds_as_the_grading_image_installs_it(built, tmp_path):
    """Gradescope pip-installs files/course-otter-plugin/ from the zip (environment.yml names it): it builds into a
    wheel holding the plugin and course/integrity/ alone, requiring the otter-grader the zip's
    image gets."""
    _, zip_path = _edition(built, "model_fitting")
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(tmp_path / "source")
        environment = zf.read("environment.yml").decode()
    assert "course-otter-plugin @ file:///autograder/source/files/course-otter-plugin" in environment
    assert "otter-grader[grading,plugins]==7.0.0" in environment
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "wheel"),
                           str(tmp_path / "source" / "files" / "course-otter-plugin")],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    with zipfile.ZipFile(wheel) as whl:
        names = whl.namelist()
        meta = next(whl.read(n).decode() for n in names if n.endswith("METADATA"))
    assert {n for n in names if n.endswith(".py")} == {"course/__init__.py", "course/otter/__init__.py"} | {
        f"course/{name}" for name in PLUGIN_FILES}
    assert "Requires-Dist: otter-grader==7.0.0" in meta
