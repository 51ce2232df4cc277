"""Packaging: a plain, non-editable `pip install .` into a fresh venv gives a `course` command that works from any
folder: the demo grades in a clean clone (the installed package, not the checkout's sources), and the otter edition
builds (course.otter, its plugin files and the templates are in the wheel).

The venv gets the pinned versions (`-c requirements.txt`) from pip's registry, through pip's own cache when warm.
"""

import shutil
import subprocess
import sys
import zipfile

import pytest
import worlds

from course.otter import PLUGIN_FILES

A = "model_fitting"  # grades in seconds


@pytest.fixture(scope="module")
def installed():
    base = worlds.scratch("dlfs-packaging-")
    root = worlds.clean_clone(base / "course", venv=False)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in worlds.user_env(base / "home").items() if "proxy" not in k.lower()}  # pip reaches PyPI
    env["PIP_CACHE_DIR"] = worlds.pip_cache()  # the suite's own cache: the wheels set-up fetched
    command = f". {venv}/bin/activate && pip install -c requirements.txt ."  # the README's line, in that venv
    pip = worlds.run_as_typed(command, root, env, timeout=900)
    yield {"base": base, "root": root, "venv": venv, "pip": pip, "env": worlds.user_env(base / "home")}
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_a_plain_install_is_not_the_checkout(installed):
    pip = installed["pip"]
    assert pip.returncode == 0, f"pip install . failed:\n{pip.stdout[-3000:]}\n{pip.stderr[-3000:]}"
    python = installed["venv"] / "bin" / "python"
    where = subprocess.run([str(python), "-c", "import course, course.otter.plugin; print(course.__file__)"],
                           cwd=installed["base"], capture_output=True, text=True, check=True).stdout.strip()
    assert "site-packages" in where and str(installed["root"]) not in where, where
    assert (installed["venv"] / "bin" / "course").exists()


@pytest.mark.slow
def test_the_installed_command_runs_the_demo_and_builds_the_otter_edition(installed):
    assert installed["pip"].returncode == 0, "see test_a_plain_install_is_not_the_checkout"
    bin_dir, root, env = installed["venv"] / "bin", installed["root"], dict(installed["env"])
    env["PATH"] = f"{bin_dir}:{env['PATH']}"  # as `. venv/bin/activate` would: nbgrader and otter come from it
    with worlds.serve(worlds.SHARED_DATA) as (url, _):
        env["COURSE_DATA_MIRROR"] = url
        demo = worlds.run_as_typed(f"course demo {A} --root {root}", installed["base"], env, timeout=1200)
    assert demo.returncode == 0, f"course demo exited {demo.returncode}:\n{demo.stdout[-4000:]}\n{demo.stderr[-3000:]}"
    assert "All as expected" in demo.stdout and "Traceback" not in demo.stderr, demo.stderr[-3000:]
    otter = worlds.run_as_typed(f"course otter {A} --root {root} --out built", installed["base"], env, timeout=900)
    assert otter.returncode == 0, f"course otter failed:\n{otter.stdout[-3000:]}\n{otter.stderr[-3000:]}"
    archive = installed["base"] / "built" / A / "autograder" / f"{A}-autograder.zip"
    with zipfile.ZipFile(archive) as z:
        names = set(z.namelist())
    assert {f"files/course-otter-plugin/course/{name}" for name in PLUGIN_FILES} <= names, sorted(names)
