"""The instructor's pipeline: release, autograde, feedback, grades, publish."""

import csv
import html
import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import EXTRA_CREDIT_PREFIX, STUDENT_REPO
from .cells import grade_id, is_solution, is_test, points
from .notebooks import grade_cells, leaks, manual_cells, read, sync_provided, write
from .paths import assignments, master_path, notebook_path, release_path
from .submissions import demo_submissions, write_submission

# What a scratch copy of the course needs to release and grade (nbgrader runs in its root).
COURSE_FILES = ["source", "release", "catalog", "course", "nbgrader_config.py", "ruff.toml"]


def copy_course(root, dest):
    """A scratch copy of the course at root (masters, releases, catalog, tooling) at dest, to run nbgrader in.
    Returns dest."""
    dest = Path(dest)
    for name in COURSE_FILES:
        src = Path(root) / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def nbgrader(*args, root):
    """Run an nbgrader command in the course root with this Python's environment."""
    env = dict(os.environ)
    # nbgrader shells out to `alembic`, which lives next to this Python in a virtual environment.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], check=False, cwd=root, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def release(root, names=None):
    """Sync provided code into the masters, then regenerate release/<assignment>/ with nbgrader."""
    root = Path(root)
    for name in names or assignments(root):
        master = read(master_path(name, root))
        if sync_provided(master):
            write(master, master_path(name, root))
        nbgrader("generate_assignment", name, "--force", root=root)
        out = release_path(name, root)
        problems = leaks(read(out))
        if problems:
            raise RuntimeError(f"{out} leaks instructor material:\n" + "\n".join(problems))
        for junk in out.parent.rglob("*"):  # nothing but the notebook goes to students
            if junk != out:
                shutil.rmtree(junk) if junk.is_dir() else junk.unlink()
        print(f"released {out.relative_to(root)}")


def scores(name, root, db_url=None):
    """Per student: autograded 'core' and 'extra' (credit) scores with their maxima, hand-graded 'manual'
    (0 until a grader scores the written answers in the formgrader), 'total', 'tests': {id: (score, max)},
    and 'status': 'graded', or 'not graded: why' when the gradebook lacks a score for some test."""
    from .grading import gradebook_state, gradebook_url, grading_log, grading_status

    root = Path(root)
    master = read(master_path(name, root))
    points, manual_points = grade_cells(master), manual_cells(master)
    rows, log, test_ids = [], grading_log(root, name), list(grade_cells(master))
    for student, entry in sorted(gradebook_state(gradebook_url(root, db_url), name).items()):
        tests = {k: v[:2] for k, v in entry["grades"].items() if k in points}
        manual = {k: v[:2] for k, v in entry["grades"].items() if k in manual_points}
        core = {k: v for k, v in tests.items() if not k.startswith(EXTRA_CREDIT_PREFIX)}
        extra = {k: v for k, v in tests.items() if k.startswith(EXTRA_CREDIT_PREFIX)}
        row = {"student": student, "assignment": name,
               "core": sum(s for s, _ in core.values()), "core_max": sum(m for _, m in core.values()),
               "extra": sum(s for s, _ in extra.values()), "extra_max": sum(m for _, m in extra.values()),
               "manual": sum(s for s, _ in manual.values()), "manual_max": sum(manual_points.values()),
               "tests": tests, "status": grading_status(root, name, student, entry, test_ids, log.get(student))}
        row["total"] = row["core"] + row["manual"] + row["extra"]
        rows.append(row)
    return rows


GRADE_FIELDS = ["student", "assignment", "core", "core_max", "manual", "manual_max", "extra", "extra_max", "total",
                "status"]


def write_grades(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=GRADE_FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def print_table(rows):
    print(f"{'student':<14}{'assignment':<16}{'autograded':>13}{'by hand':>14}{'extra credit':>16}  status")
    for r in rows:
        print(f"{r['student']:<14}{r['assignment']:<16}{r['core']:>7.1f} / {r['core_max']:<4.0f}"
              f"{r['manual']:>7.1f} / {r['manual_max']:<4.0f}{r['extra']:>9.1f} / {r['extra_max']:<4.0f}  {r['status']}")


def feedback(name, root):
    nbgrader("generate_feedback", name, "--force", root=root)


def done_for_you(master):
    """{test id: points} of the tests a student earns without writing code: those before the first solution
    cell (a TODO), which can check only provided code."""
    out = {}
    for cell in master.cells:
        if is_solution(cell):
            break
        if is_test(cell):
            out[grade_id(cell)] = points(cell)
    return out


def demo_problems(name, root, rows, run):
    """What the demo's graders must hear: a submission not graded (and why), the reference short of full marks
    or the blank release earning more than the done-for-you points (each failing test with its first error line),
    a buggy submission with full marks."""
    from .report import lost_points

    free = sum(done_for_you(read(master_path(name, root))).values())
    found = [f"{name}/{student}: not graded: {error}" for student, error in sorted(run.failed.items())]
    for row in rows:
        who = f"{name}/{row['student']}"
        if row["status"] != "graded":
            if row["student"] not in run.failed:
                found.append(f"{who}: {row['status']}")
        elif row["student"] == "reference" and row["core"] < row["core_max"]:
            lost = lost_points(root, name, row)
            found.append(f"{who}: the reference solution scored {row['core']:g}/{row['core_max']:g}; failing tests:\n"
                         + "\n".join(f"    {gid}: {message}" for gid, message in lost.items()))
        elif row["student"] == "blank" and row["core"] + row["extra"] > free:
            found.append(f"{who}: the blank release scored {row['core'] + row['extra']:g} points, more than the "
                         f"{free:g} done-for-you points")
        elif row["student"] == "buggy" and row["core"] >= row["core_max"]:
            found.append(f"{who}: the submission with bugs kept full marks")
    return found


def demo(root, names=None, workers=None):
    """Check the set-up, release, then autograde example submissions built from each master (the reference, the
    blank release, one with bugs), with feedback and grades. Returns (grade rows, problems): see demo_problems."""
    from .grading import autograde_class
    from .preflight import require_ready

    root = Path(root)
    names = names or assignments(root)
    require_ready(names, root)  # before release, which writes the gradebook
    release(root, names)
    rows, problems = [], []
    for name in names:
        for student, nb in demo_submissions(name, root).items():
            write_submission(nb, root, student, name)
        print(f"autograding {name} ...", flush=True)
        run = autograde_class(name, root, workers=workers, force=True, feedback=True, progress=True)
        print(run.summary(), flush=True)
        graded = scores(name, root)
        rows += graded
        problems += demo_problems(name, root, graded, run)
    print_table(rows)
    write_grades(rows, root / "grades.csv")
    print(f"grades: {root / 'grades.csv'}; feedback: {root / 'feedback'}")
    if problems:
        print("\nThe demo found problems:\n" + "\n".join(f"- {p}" for p in problems))
    else:
        print("All as expected: the reference has full marks, the blank release only the done-for-you points, "
              "the submission with bugs lost points.")
    return rows, problems


def colab_url(github, name):
    return f"https://colab.research.google.com/github/{github}/blob/main/{name}/{name}.ipynb"


def publish(dest, root, github=STUDENT_REPO):
    """Copy release/ (and nothing else) plus a student README into dest, with Colab links to `github`."""
    root, dest = Path(root), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    lines = ["# Deep learning from scratch: assignments", "",
             "Open an assignment in Google Colab, then *File → Save a copy in Drive* to keep your work.",
             "When you are done: *File → Download → Download .ipynb*, and upload that file to the course page.", ""]
    names = assignments(root)
    for name in names:
        src = release_path(name, root)
        text = src.read_text().replace(colab_url(STUDENT_REPO, name), colab_url(github, name))
        target = dest / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        lines.append(f"- [{name}]({colab_url(github, name)}) "
                     f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                     f"({colab_url(github, name)})")
    (dest / "README.md").write_text("\n".join(lines) + "\n")
    print(f"published {len(names)} assignment(s) to {dest} (links point to github.com/{github})")
    return dest


def feedback_files(name, root):
    root = Path(root).resolve()
    folder = notebook_path(root, "feedback", "*", name).parent.relative_to(root)
    return sorted(root.glob(f"{folder}/*.html"))


def html_text(path):
    return html.unescape(Path(path).read_text())
