"""What goes to students: release/ regenerated from the masters with nbgrader, published with Colab links; and
the nbgrader command line run in a course root (scratch copies of a course for tests and benchmarks)."""

import html
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .cells import COURSE_KEY
from .manifest import sync_thresholds
from .notebooks import leaks, read, sync_provided, write
from .paths import STUDENT_REPO, NotACourse, colab_url

# What a scratch copy of the course needs to release and grade (nbgrader runs in its root).
COURSE_FILES = ["source", "release", "course", "nbgrader_config.py", "ruff.toml"]


def copy_course(course, dest):
    """A scratch copy of a Course (masters with their manifests and catalogs, releases, tooling) at dest, to run
    nbgrader in. Returns the copy's Course (with the same gradebook, if one was given)."""
    from .course import Course

    dest = Path(dest)
    for name in COURSE_FILES:
        src = course.root / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        else:
            shutil.copy2(src, dest / name)
    return Course.at(dest, db_url=course.db_url)


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


def sync(assignment):
    """Bring the master up to date with what it is made from: the provided files (course/data.py) and the
    manifest's grading thresholds. Returns what changed (grade ids, "GRADING_THRESHOLDS"); writes only then."""
    master = assignment.master()
    changed = sync_provided(master)
    if sync_thresholds(master, assignment.manifest):
        changed.append("GRADING_THRESHOLDS")
    if changed:
        write(master, assignment.master_path)
    return changed


def release(course, names=None):
    """Sync each master (`sync`), then regenerate release/<assignment>/ with nbgrader: the notebook alone, without
    the course's own cell metadata (roles)."""
    for assignment in course.select(names):
        sync(assignment)
        nbgrader("generate_assignment", assignment.name, "--force", root=course.root)
        out = assignment.release_path
        nb = read(out)
        for cell in nb.cells:
            cell.get("metadata", {}).pop(COURSE_KEY, None)
        write(nb, out)
        problems = leaks(nb)
        if problems:
            raise RuntimeError(f"{out} leaks instructor material:\n" + "\n".join(problems))
        for junk in out.parent.rglob("*"):  # nothing but the notebook goes to students
            if junk != out:
                shutil.rmtree(junk) if junk.is_dir() else junk.unlink()
        print(f"released {out.relative_to(course.root)}")


def feedback(assignment):
    nbgrader("generate_feedback", assignment.name, "--force", root=assignment.root)


def publish(course, dest, github=STUDENT_REPO, otter=False):
    """Copy release/ (and nothing else) plus a student README into dest, with Colab links to `github`; with
    otter, also each assignment's otter (Gradescope) student notebook from dist/otter/ as otter/<a>/<a>.ipynb."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    lines = ["# Deep learning from scratch: assignments", "",
             "Open an assignment in Google Colab, then *File → Save a copy in Drive* to keep your work.",
             "When you are done: *File → Download → Download .ipynb*, and upload that file to the course page.", ""]
    names = course.names
    for name in names:
        src = course[name].release_path
        text = src.read_text().replace(colab_url(name), colab_url(name, github))
        target = dest / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        url = colab_url(name, github)
        lines.append(f"- [{name}]({url}) [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})")
    if otter:
        lines += _publish_otter(dest, course.otter_dir, github, names)
    (dest / "README.md").write_text("\n".join(lines) + "\n")
    print(f"published {len(names)} assignment(s) to {dest} (links point to github.com/{github})")
    return dest


def _publish_otter(dest, built, github, names):
    """Copy the otter student notebooks (not their autograder zips) into dest/otter/; README lines."""
    missing = [n for n in names if not (built / n / "student" / f"{n}.ipynb").is_file()]
    if missing:
        raise NotACourse(f"no otter edition of {', '.join(missing)} in {built}: run "
                         f"`python -m course otter` first")
    lines = ["", "## On Gradescope", "",
             ("If your course grades on Gradescope, open these instead; run their first cell, then upload the "
             "downloaded .ipynb to the Gradescope assignment."), ""]
    for name in names:
        text = (built / name / "student" / f"{name}.ipynb").read_text()
        target = dest / "otter" / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace(colab_url(name, otter=True), colab_url(name, github, otter=True)))
        url = colab_url(name, github, otter=True)
        lines.append(f"- [{name}]({url}) [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})")
    return lines


def feedback_files(assignment):
    root = assignment.root
    folder = assignment.notebook("feedback", "*").parent.relative_to(root)
    return sorted(root.glob(f"{folder}/*.html"))


def html_text(path):
    return html.unescape(Path(path).read_text())
