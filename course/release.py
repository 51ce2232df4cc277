"""What goes to students: release/ regenerated from the masters with nbgrader, published with Colab links; and
the nbgrader command line run in a course root (scratch copies of a course for tests and benchmarks)."""

import html
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .notebooks import leaks, read, sync_provided, write
from .paths import STUDENT_REPO, NotACourse, assignments, colab_url, master_path, notebook_path, otter_dir, release_path

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


def feedback(name, root):
    nbgrader("generate_feedback", name, "--force", root=root)


def publish(dest, root, github=STUDENT_REPO, otter=False):
    """Copy release/ (and nothing else) plus a student README into dest, with Colab links to `github`; with
    otter, also each assignment's otter (Gradescope) student notebook from dist/otter/ as otter/<a>/<a>.ipynb."""
    root, dest = Path(root), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    lines = ["# Deep learning from scratch: assignments", "",
             "Open an assignment in Google Colab, then *File → Save a copy in Drive* to keep your work.",
             "When you are done: *File → Download → Download .ipynb*, and upload that file to the course page.", ""]
    names = assignments(root)
    for name in names:
        src = release_path(name, root)
        text = src.read_text().replace(colab_url(name), colab_url(name, github))
        target = dest / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        url = colab_url(name, github)
        lines.append(f"- [{name}]({url}) [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})")
    if otter:
        lines += _publish_otter(dest, root, github, names)
    (dest / "README.md").write_text("\n".join(lines) + "\n")
    print(f"published {len(names)} assignment(s) to {dest} (links point to github.com/{github})")
    return dest


def _publish_otter(dest, root, github, names):
    """Copy the otter student notebooks (not their autograder zips) into dest/otter/; README lines."""
    missing = [n for n in names if not (otter_dir(root) / n / "student" / f"{n}.ipynb").is_file()]
    if missing:
        raise NotACourse(f"no otter edition of {', '.join(missing)} in {otter_dir(root)}: run "
                         f"`python -m course otter` first")
    lines = ["", "## On Gradescope", "",
             ("If your course grades on Gradescope, open these instead; run their first cell, then upload the "
             "downloaded .ipynb to the Gradescope assignment."), ""]
    for name in names:
        text = (otter_dir(root) / name / "student" / f"{name}.ipynb").read_text()
        target = dest / "otter" / name / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace(colab_url(name, otter=True), colab_url(name, github, otter=True)))
        url = colab_url(name, github, otter=True)
        lines.append(f"- [{name}]({url}) [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})")
    return lines


def feedback_files(name, root):
    root = Path(root).resolve()
    folder = notebook_path(root, "feedback", "*", name).parent.relative_to(root)
    return sorted(root.glob(f"{folder}/*.html"))


def html_text(path):
    return html.unescape(Path(path).read_text())
