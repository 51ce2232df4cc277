"""Every command README.md tells someone to type is run, as typed, by some test (or the README says why not).

README_COMMANDS lists each command as the README spells it, with how it is tested: run here in a clean clone
(placeholders filled in, in the order an instructor would use them), run by another test, or not run, with the
README's own words for why. The first test fails when the README gains a command this list does not know.
"""

import csv
import re
import shutil
import zipfile

import nbformat
import pytest
import worlds
from checkout import COURSE, ROOT

from course.submissions import blank, reference

A = "model_fitting"  # the assignment the placeholders stand for: it grades in seconds

# README text -> ("here", [concrete command lines]) | ("test", "where it runs") | ("not run", "README's reason")
README_COMMANDS = {
    "./setup.sh": ("test", "tests/test_first_contact.py, as the newcomer's first command"),
    ". .venv/bin/activate && python -m course demo": ("test", "tests/test_first_contact.py (fixture first_contact)"),
    "python -m pytest": ("test", ".ci/run runs exactly this command"),
    'python -m pytest -m "not slow"': ("test", "the fast lane: a subset of what .ci/run runs"),
    ". .venv/bin/activate": ("test", "every command here and in test_first_contact.py starts with it"),
    "sudo apt-get install bubblewrap postgresql chromium chromium-driver": (
        "test", "./setup.sh installs bubblewrap, .ci/run the rest, when missing"),
    "python -m course": ("test", "the start of every course command below"),
    "python -m course demo": ("test", "tests/test_first_contact.py, after activating the venv"),
    "nbgrader autograde": ("here", [f"nbgrader autograde {A} --force"]),
    "nbgrader generate_feedback": ("here", [f"nbgrader generate_feedback {A}"]),
    "sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0": ("not run", "for other systems"),
    "dnf install bubblewrap": ("not run", "for other systems"),
    "pacman -S bubblewrap": ("not run", "for other systems"),
    "zypper install bubblewrap": ("not run", "for other systems"),
    "python -m course release": ("here", ["python -m course release"]),
    "python -m course sync": ("here", ["python -m course sync"]),
    "python -m course calibrate <a> [--seeds N] --write": ("here", [f"python -m course calibrate {A} --seeds 2 --write"]),
    "python -m course publish ../student-repo --github OWNER/REPO": (
        "here", ["python -m course publish ../student-repo --github someone/course-student"]),
    "python -m course intake export.zip <a> [--roster roster.txt]": (
        "here", [f"python -m course intake export.zip {A} --roster roster.txt"]),
    "python -m course autograde <a> [--workers N] [--dask-local \\| --dask tcp://HOST:8786] [--db-url URL]": (
        "here", [f"python -m course autograde {A} --workers 2",
                 f"python -m course autograde {A} --dask-local --workers 2 --db-url sqlite:///dask-gradebook.db"]),
    "nbgrader autograde <a>": ("here", [f"nbgrader autograde {A} --force"]),
    "nbgrader generate_feedback <a>": ("here", [f"nbgrader generate_feedback {A}"]),
    "python -m course report <a>": ("here", [f"python -m course report {A}"]),
    "python -m course formgrader": ("test", "tests/test_term.py starts it as typed and grades in headless Chromium"),
    "nbgrader generate_feedback <a> --force": ("test", "tests/test_term.py, after the hand grading"),
    "python -m course regrade <a> [--student S]": ("test", "tests/test_term.py, two students after a test is fixed"),
    "python -m course report <a> --lms canvas\\|moodle": ("test", "tests/test_term.py, both, every number checked"),
    "python -m course catalog --write": ("here", ["python -m course catalog --write"]),
    "python -m course similarity <a>": ("test", "tests/test_term.py, the class after grading; tests/test_similarity.py"),
    "python -m course feedback <a> --lms canvas\\|moodle": (
        "test", "tests/test_term.py, Canvas, the zip's names checked against the export's"),
    "python -m course mistakes <a> DIR": ("test", "tests/test_otter.py, on the otter results of a class"),
    "python -m course mutants <a> [--question Q] [--workers N]": (
        "test", "tests/test_mutants.py, on a copy of the course, one question; the full run: benchmarks/mutants.py"),
    "pip install -r benchmarks/requirements.txt": ("not run", "Benchmarks are run by hand, not by the suite"),
    "pip install -r requirements-test.txt": ("test", ".ci/run installs exactly this file before the suite"),
    "pip install -c requirements.txt .": ("test", "tests/test_packaging.py, in a fresh venv, then the demo and otter"),
    "python -m course otter <a> [--out DIR]": ("test", "tests/test_otter.py (fixture built), both assignments"),
    "python -m course otter": ("test", "tests/test_otter.py, as `python -m course otter <a>`"),
    "otter run": ("test", "tests/test_otter.py, as the `otter run -a ...` line below"),
    "python -m course publish ../student-repo --github OWNER/REPO --otter": (
        "test", "tests/test_otter.py, after building both editions"),
    "otter run -a dist/otter/<a>/autograder/<a>-autograder.zip -o out <a>.ipynb": (
        "test", "tests/test_otter.py, the reference and the blank of both assignments"),
}
# The "here" commands in the order an instructor types them in one session.
SESSION = ["python -m course sync", "python -m course release", "python -m course catalog --write",
           "python -m course publish ../student-repo --github someone/course-student",
           f"python -m course intake export.zip {A} --roster roster.txt",
           f"python -m course autograde {A} --workers 2",
           f"python -m course autograde {A} --dask-local --workers 2 --db-url sqlite:///dask-gradebook.db",
           f"nbgrader autograde {A} --force", f"nbgrader generate_feedback {A}", f"python -m course report {A}",
           f"python -m course calibrate {A} --seeds 2 --write"]
BENCHMARK = re.compile(r"^python benchmarks/\w+\.py( \[assignment\])?$")
PROGRAMS = ("python ", "./", ". .venv", "nbgrader ", "otter ", "pip ", "sudo ", "dnf ", "pacman ", "zypper ", "git ")


def readme_commands():
    """The command lines of README.md: lines of its ```bash blocks and `code spans` that start with a program."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, re.DOTALL)
    found = [re.sub(r"\s+#.*$", "", line).strip() for block in blocks for line in block.splitlines()]
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    found += [span for span in re.findall(r"`([^`]+)`", prose) if span.startswith(PROGRAMS)]
    return list(dict.fromkeys(c for c in found if c))


def test_every_readme_command_is_run_by_a_test_or_says_why_not():
    text = (ROOT / "README.md").read_text()
    commands = readme_commands()
    unknown = [c for c in commands if c not in README_COMMANDS and not BENCHMARK.match(c)]
    assert not unknown, f"README commands no test runs (add them to README_COMMANDS): {unknown}"
    stale = [c for c in README_COMMANDS if c not in commands]
    assert not stale, f"README_COMMANDS lists commands the README no longer has: {stale}"
    assert any(BENCHMARK.match(c) for c in commands) and "Benchmarks are run by hand, not by the suite" in text
    for command, (how, detail) in README_COMMANDS.items():
        if how == "not run":
            assert detail in text, f"the README must say why `{command}` is not run ({detail!r})"
    assert "they need the student repository's remote" in text  # publish: its git commit and push


@pytest.fixture(scope="module")
def instructor():
    """A clean clone where an instructor runs the README's commands in order, each as typed."""
    base = worlds.scratch("dlfs-readme-")
    root = worlds.clean_clone(base / "course")
    with zipfile.ZipFile(root / "export.zip", "w") as z:
        for student, nb in {"alice": reference(COURSE[A]), "bob": blank(COURSE[A])}.items():
            z.writestr(f"{student}_{A}.ipynb", nbformat.writes(nb))
    (root / "roster.txt").write_text("alice\nbob\ncarol\n")
    runs = {}
    with worlds.serve(worlds.SHARED_DATA) as (url, _):
        env = worlds.user_env(base / "home", COURSE_DATA_MIRROR=url)
        for line in SESSION:
            runs[line] = worlds.run_as_typed(f". .venv/bin/activate && {line}", root, env, timeout=900)
    yield {"root": root, "base": base, "runs": runs}
    shutil.rmtree(base, ignore_errors=True)


def test_the_session_runs_every_command_marked_here():
    here = {line for how, lines in README_COMMANDS.values() if how == "here" for line in lines}
    assert here == set(SESSION)


@pytest.mark.slow
@pytest.mark.parametrize("line", SESSION)
def test_readme_command_runs_as_typed(instructor, line):
    proc = instructor["runs"][line]
    assert proc.returncode == 0, f"`{line}` exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]


@pytest.mark.slow
def test_what_the_instructors_commands_did(instructor):
    root, runs = instructor["root"], instructor["runs"]
    assert "in sync" in runs["python -m course sync"].stdout
    assert f"released release/{A}/{A}.ipynb" in runs["python -m course release"].stdout
    intake = runs[f"python -m course intake export.zip {A} --roster roster.txt"].stdout
    assert "2 imported" in intake and "no submission: carol" in intake, intake
    with open(root / "grades.csv") as f:
        grades = {r["student"]: r for r in csv.DictReader(f)}
    assert float(grades["alice"]["core"]) == float(grades["alice"]["core_max"]) == 90 and grades["bob"]["core"] == "0.0"
    assert "alice" in runs[f"python -m course autograde {A} --dask-local --workers 2 --db-url "
                           "sqlite:///dask-gradebook.db"].stdout
    assert (root / "dask-gradebook.db").is_file()
    assert (root / "feedback" / "alice" / A / f"{A}.html").is_file()
    assert (root / "reports" / A / "report.html").is_file()
    assert "thresholds written" in runs[f"python -m course calibrate {A} --seeds 2 --write"].stdout
    assert (root / "docs" / "catalog.md").read_text() == (ROOT / "docs" / "catalog.md").read_text()
    student = instructor["base"] / "student-repo"
    assert "someone/course-student" in (student / "README.md").read_text()
    assert (student / A / f"{A}.ipynb").is_file()
