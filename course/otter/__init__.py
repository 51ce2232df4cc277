"""The otter-grader (Gradescope) edition of an assignment, built from its nbgrader master by `otter assign`.

`python -m course otter <assignment> [--out DIR]` writes, under DIR/<assignment>/ (default dist/otter/):
- student/<assignment>.ipynb: the notebook students open in Colab (its locked first cell installs otter-grader
  and writes the public tests; `grader.check("<grade id>")` runs one), and student/tests/ (public tests only);
- autograder/<assignment>-autograder.zip: what the Gradescope assignment is configured with (solutions and
  hidden tests: never publish it), which `otter run -a ZIP SUBMISSION` also grades with here.

convert.py maps the master to otter's format, plugin.py restores provided cells while grading; this module runs
otter assign and checks what it produced.
"""

import base64
import io
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from ..cells import grade_id, is_test
from ..inspection import master_plan
from ..integrity import review
from ..notebooks import leaked_lines, leaks, read, write
from ..paths import colab_url
from .convert import PLUGIN_DIST, SETUP_ID, check_cell_question, check_id, describe, otter_master, prompt
from .plugin import CELL_KEY, cell_id

OTTER_VERSION = "7.0.0"
PLUGIN = "course.otter.plugin.RestoreProvidedCells"
# What the notebooks import in the grading image, at the versions installed here (requirements.txt).
NOTEBOOK_PACKAGES = ("numpy", "matplotlib", "tqdm")
AUTOGRADER_DIR = "/autograder"  # where Gradescope unpacks the zip (otter's default autograder_dir)


class OtterBuildError(RuntimeError):
    """`otter assign` failed or built something unfit to hand out; the message says what."""


def build(assignment, out=None):
    """Build the otter edition of an Assignment into out/<name>/ (default dist/otter/<name>/: student/ and
    autograder/). Returns that folder."""
    name, course = assignment.name, assignment.course
    out = Path(out or course.otter_dir).resolve() / name
    master = assignment.master()
    with tempfile.TemporaryDirectory(prefix="course-otter-") as tmp:
        work = Path(tmp)
        src = work / "master" / f"{name}.ipynb"  # with what its config names beside it
        src.parent.mkdir()
        _plugin_distribution(src.parent / PLUGIN_DIST)
        (src.parent / "requirements.txt").write_text(_grading_requirements())
        generate = {
            "show_hidden": True,  # hidden results once the instructor publishes the grades (Gradescope)
            "show_stdout": False,
            "plugins": [{PLUGIN: {"cells": []}}],  # filled in below, once the student notebook is known
            "pdf": False,
        }
        stub = prompt(course)
        guard = _guard(master, course)
        manifest = assignment.manifest
        e2e = manifest.end_to_end_tests
        nb = otter_master(master, name, generate, stub, guard["remember"], manifest)
        _badge(nb, name)
        write(nb, src)
        # The plugin needs the student notebook's instructor cells, which otter assign makes: assign twice, the
        # second time with them in the config (the first run's zip is discarded).
        dist = _assign(src, work / "dist1")
        student = read(dist / "student" / f"{name}.ipynb")
        _finish_student(student, master, dist / "student" / "tests")
        reference = [_reference(c) for c in student.cells if cell_id(c)]
        plan = master_plan(master) + [{"id": SETUP_ID, "kind": "provided",
                                              "statements": review.statements(_reference_source(student, SETUP_ID))}]
        generate["plugins"] = [{PLUGIN: {"cells": reference, "guard": guard,
                                         "review": {"plan": plan, "end_to_end": sorted(e2e)}}}]
        nb.cells[0] = otter_master(master, name, generate, stub, guard["remember"], manifest).cells[0]
        write(nb, src)
        dist = _assign(src, work / "dist")
        student = read(dist / "student" / f"{name}.ipynb")
        _finish_student(student, master, dist / "student" / "tests")
        problems = student_problems(student, dist / "student" / "tests", master)
        if problems:
            raise OtterBuildError(f"{name}: the otter student notebook is unfit to hand out:\n" + "\n".join(problems))
        if out.exists():
            theirs = sorted(p.name for p in out.iterdir() if p.name not in ("student", "autograder"))
            if theirs:  # not an earlier build: never delete what this command did not write
                raise OtterBuildError(f"{out} holds other files ({', '.join(theirs[:5])}): choose another --out")
            shutil.rmtree(out)
        (out / "student").mkdir(parents=True)
        write(student, out / "student" / f"{name}.ipynb")
        shutil.copytree(dist / "student" / "tests", out / "student" / "tests")
        (out / "autograder").mkdir()
        zips = list((dist / "autograder").glob("*.zip"))
        if len(zips) != 1:
            raise OtterBuildError(f"{name}: otter assign made {len(zips)} autograder zips")
        shutil.copy(zips[0], out / "autograder" / f"{name}-autograder.zip")
    return out


def _guard(master, course):
    """The nbgrader path's grading guard for this master, as the plugin installs it: the modules it restores, the
    names solution cells define, and the names to remember after each provided cell and test
    (course.nbgrader_ext.guarded_execute)."""
    from ..nbgrader_ext.guarded_execute import GuardedExecute, guard_plan

    remember, student = guard_plan(master)
    trusted = GuardedExecute(config=course.config).trusted_modules
    return {"trusted": list(trusted), "student": sorted(student),
            "remember": {gid: names for gid, names in remember.items() if names}}


def _reference_source(student, gid):
    return next(_reference(c)["source"] for c in student.cells if cell_id(c) == gid)


def summary(assignment):
    """What the instructor types into Gradescope: the autograded points (core, extra credit) and each written
    answer graded by hand, with its points."""
    from .. import EXTRA_CREDIT_PREFIX
    from ..cells import is_written_answer, points

    master = assignment.master()
    tests = {grade_id(c): points(c) for c in master.cells if is_test(c)}
    core = sum(p for g, p in tests.items() if not g.startswith(EXTRA_CREDIT_PREFIX))
    extra = sum(tests.values()) - core
    manual = [(grade_id(c), points(c)) for c in master.cells if is_written_answer(c)]
    lines = [f"autograded: {core:g} points" + (f" + {extra:g} extra credit" if extra else "")
             + f"; graded by hand on Gradescope: {sum(p for _, p in manual):g} points"]
    lines += [f"  written answer {gid}: {p:g} points" for gid, p in manual]
    return lines


def _assign(src, dest):
    proc = subprocess.run([sys.executable, "-m", "otter", "assign", "--no-run-tests", "--no-pdfs", str(src), str(dest)],
                          cwd=src.parent, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise OtterBuildError(f"otter assign failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return dest


# The plugin's distribution: standard library, nbformat and otter only.
PLUGIN_FILES = ("otter/plugin.py", "integrity/__init__.py", "integrity/guard.py", "integrity/review.py",
                "integrity/restore.py")


def _plugin_distribution(where):
    """files/course-otter-plugin/: the plugin and course/integrity/ (PLUGIN_FILES) as a distribution
    of their own (no dependency on the rest of this package or on nbgrader), for the grading image to pip-install."""
    course = Path(__file__).resolve().parent.parent
    (where / "course").mkdir(parents=True)
    (where / "course" / "__init__.py").write_text('"""Only the otter-grader plugin of the course kit."""\n')
    for name in PLUGIN_FILES:
        target = where / "course" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not (target.parent / "__init__.py").exists():
            (target.parent / "__init__.py").write_text("")
        shutil.copy(course / name, target)
    (where / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{PLUGIN_DIST}"\nversion = "1.0"\ndescription = "The course kit\'s otter-grader plugin"\n'
        f'dependencies = ["otter-grader=={OTTER_VERSION}"]\n\n'
        '[tool.setuptools]\npackages = ["course", "course.otter", "course.integrity"]\n')


def _grading_requirements():
    """The grading image's extra packages: what the notebooks import, at the versions installed here (this kit's
    requirements.txt), which the suite grades with."""
    lines = [f"{p}=={metadata.version(p)}" for p in NOTEBOOK_PACKAGES]
    lines.append(f"{PLUGIN_DIST} @ file://{AUTOGRADER_DIR}/source/files/{PLUGIN_DIST}")
    return "\n".join(lines) + "\n"


def _badge(nb, name):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace(colab_url(name), colab_url(name, otter=True))


SETUP_TEMPLATE = '''\
# @title Run me first (about a minute): installs otter-grader for `grader.check` and writes the public tests to tests/
%pip install -q otter-grader=={version}
import base64, io, zipfile  # noqa: E401
zipfile.ZipFile(io.BytesIO(base64.b64decode("{tests}"))).extractall("tests")
import otter
grader = otter.Notebook()
'''


def _finish_student(student, master, tests_dir):
    """The student notebook's first cell (otter installed, public tests written), identified check cells
    saying what they check."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(tests_dir.glob("*.py")):
            zf.writestr(path.name, path.read_text())
    tests = {grade_id(c): c for c in master.cells if is_test(c)}
    for cell in student.cells:  # otter's PDF-export markers: this edition exports no PDF
        if cell.cell_type == "markdown":
            cell.source = "\n".join(line for line in cell.source.split("\n")
                                    if line.strip() not in ("<!-- BEGIN QUESTION -->", "<!-- END QUESTION -->"))
    student.cells = [c for c in student.cells if c.cell_type != "markdown" or c.source.strip() or cell_id(c)]
    for cell in student.cells:
        if cell_id(cell) == SETUP_ID:
            cell.source = SETUP_TEMPLATE.format(version=OTTER_VERSION, tests=base64.b64encode(buf.getvalue()).decode())
            cell.metadata["cellView"] = "form"  # Colab shows the title, the code folded
        question = check_cell_question(cell)
        if question is not None:
            what = describe(tests[question].source) if question in tests else ""
            comment = "".join(f"# {line}".rstrip() + "\n" for line in what.split("\n")) if what else ""
            cell.source = comment + f'grader.check("{question}")'
            cell.metadata[CELL_KEY] = {"id": check_id(question)}
            cell.metadata["editable"] = False
            cell.metadata["deletable"] = False


def _reference(cell):
    """What the plugin restores for one identified cell of the student notebook (grading version)."""
    locked = cell.metadata.get("editable") is False
    source = cell.source
    if cell_id(cell) == SETUP_ID:
        source = "import otter\ngrader = otter.Notebook()"  # in the grading image: otter is there, tests too
    return {"id": cell_id(cell), "locked": locked, "cell_type": cell.cell_type, "source": source if locked else None}


def student_problems(nb, tests_dir, master):
    """Why an otter student notebook (and its public tests) may not be handed out: lines of the master's
    solutions or hidden tests (in a cell, a test file or the tests packed into the first cell), markers, hidden
    test cases. [] when fit."""
    problems = list(leaks(nb))
    texts = [c.source for c in nb.cells] + [p.read_text() for p in sorted(Path(tests_dir).glob("*.py"))]
    for label, leaked in leaked_lines(master, [_unquoted(t) for t in texts]).items():
        if leaked:
            problems.append(f"{len(leaked)} {label} line(s) of the master, e.g. {leaked[0]!r}")
    for i, cell in enumerate(nb.cells):
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN PROMPT", "END PROMPT", "# HIDDEN"):
            if marker in cell.source:
                problems.append(f"cell {i}: contains {marker!r}")
    for path in sorted(Path(tests_dir).glob("*.py")):
        text = path.read_text()
        if "hidden=True" in text or "BEGIN HIDDEN" in text:
            problems.append(f"tests/{path.name}: holds a hidden test")
    if json.dumps(nb.metadata).find("hidden") >= 0:
        problems.append("notebook metadata mentions hidden tests")
    return problems


def _unquoted(text):
    """text, plus the text of every string literal in it (a test file holds each visible part as one)."""
    import ast

    try:
        tree = ast.parse(text)
    except SyntaxError:  # a notebook cell with magics
        return text
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return "\n".join([text, *strings])


__all__ = ["OtterBuildError", "build", "student_problems", "summary"]
