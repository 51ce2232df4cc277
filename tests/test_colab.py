"""The student's world, Google Colab, as closely as an offline machine allows.

"Colab" here is a Python 3.12 virtual environment, .venv-colab/ at the repository root, holding only what
tests/colab-requirements.txt lists: the Colab-preinstalled packages the notebooks use, at Colab's versions,
and Colab's ipykernel. It is built on the first run and reused while its stored copy of the requirements
equals the file. The notebooks run with nbclient from the suite's Python in a kernel whose Python is that
environment's, as a student's kernel: a fresh HOME, none of the suite's COURSE_* variables, a current
directory of its own, and no network but a local server (tests/worlds.py) that plays "the internet" with
../shared/data. COURSE_DATA_MIRROR points the course's loader at that server, and NBGRADER_EXECUTION=autograde
selects the notebooks' small grading budgets to keep the runs short.

- the release with the reference solution filled in runs top to bottom without an error, and its loader
  downloads MNIST from "the internet" into ~/.cache/dlfs/mnist/;
- the blank release runs top to bottom with no ImportError anywhere and no error before the first TODO.
"""

import contextlib
import fcntl
import filecmp
import glob
import hashlib
import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest
import worlds
from checkout import COURSE, ROOT
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from course.cells import grade_id, is_solution
from course.data import MNIST_FILES
from course.notebooks import read, solution_notebook

ASSIGNMENTS = COURSE.names
REQUIREMENTS = ROOT / "tests" / "colab-requirements.txt"
COLAB_VENV = ROOT / ".venv-colab"  # git-ignored; CI builds it once per run, local reruns reuse it
COLAB_PYTHON = COLAB_VENV / "bin" / "python"
STAMP = COLAB_VENV / "colab-requirements.txt"  # the requirements the environment was built from
KERNEL_NAME = "colab-python3.12"
CELL_TIMEOUT = 300  # seconds per cell; the slowest cells take about a minute in grading mode
TODO = "raise NotImplementedError"
IMPORT_ERRORS = ("ImportError", "ModuleNotFoundError")
# The suite's and the machine's settings that Colab's kernel would not see.
NOT_IN_COLAB = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "IPYTHONDIR", "MPLCONFIGDIR")


pytestmark = pytest.mark.slow  # minutes: a Python 3.12 environment to build, a reference run in grading mode


# --- the Colab environment ------------------------------------------------------------------------------------

def _version_key(path):
    return [int(n) for n in re.findall(r"\d+", Path(path).parent.parent.name)]


def find_python312():
    """(path of a working Python 3.12 that can make virtual environments, None) or (None, why not)."""
    candidates = [shutil.which("python3.12")]
    homes = [os.environ.get("PYENV_ROOT"), Path.home() / ".pyenv", Path(pwd.getpwuid(os.getuid()).pw_dir) / ".pyenv"]
    roots = list(dict.fromkeys(str(h) for h in homes if h))
    for root in roots:
        candidates += sorted(glob.glob(f"{root}/versions/3.12*/bin/python3.12"), key=_version_key, reverse=True)
    tried = []
    for candidate in dict.fromkeys(c for c in candidates if c):
        try:
            proc = subprocess.run([candidate, "-c", "import sys, venv, ensurepip; print('%d.%d' % sys.version_info[:2])"],
                                  capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            tried.append(f"{candidate}: {e}")
            continue
        if proc.returncode == 0 and proc.stdout.strip() == "3.12":
            return candidate, None
        said = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        tried.append(f"{candidate}: {said[-1] if said else f'exit status {proc.returncode}'}")
    return None, ("no Python 3.12 with venv and ensurepip to build the Colab environment from: looked for "
                  f"python3.12 on PATH and for versions/3.12*/bin/python3.12 under {', '.join(roots)}"
                  + ("; tried " + "; ".join(tried) if tried else "; found none"))


def _runs_312(python):
    try:
        proc = subprocess.run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and proc.stdout.strip() == "3.12"


@contextlib.contextmanager
def _build_lock():
    """One builder of .venv-colab/ at a time, should several pytest processes start at once."""
    tag = hashlib.sha1(str(COLAB_VENV).encode()).hexdigest()[:12]
    with open(Path(tempfile.gettempdir()) / f"dlfs-venv-colab-{tag}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def build_colab_venv(venv):
    """The Python of a Colab environment at `venv`, built unless it holds tests/colab-requirements.txt already."""
    python, why = find_python312()
    if python is None:
        pytest.skip(why)
    wanted = REQUIREMENTS.read_text()
    stamp, venv_python = venv / STAMP.name, venv / "bin" / "python"
    with _build_lock():
        if stamp.is_file() and stamp.read_text() == wanted and _runs_312(venv_python):
            return venv_python
        shutil.rmtree(venv, ignore_errors=True)
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", *NOT_IN_COLAB)}
        for command in ([python, "-m", "venv", str(venv)],
                        [str(venv_python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                         "-r", str(REQUIREMENTS)]):
            proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800, check=False)
            if proc.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                pytest.fail(f"building the Colab environment failed: {' '.join(command)} exited with "
                            f"{proc.returncode}:\n{(proc.stdout + proc.stderr)[-4000:]}")
        shutil.copyfile(REQUIREMENTS, stamp)  # last: an interrupted build is redone next time
    return venv_python


@pytest.fixture(scope="session")
def colab_python():
    """The Colab environment's Python, building .venv-colab/ unless it holds tests/colab-requirements.txt."""
    return build_colab_venv(COLAB_VENV)


def kernels_for(python, folder):
    """A JUPYTER_PATH-style folder's kernels/ with one kernelspec, KERNEL_NAME, running `python`."""
    kernels = folder / "kernels"
    (kernels / KERNEL_NAME).mkdir(parents=True)
    spec = {"argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Colab (Python 3.12)", "language": "python"}
    (kernels / KERNEL_NAME / "kernel.json").write_text(json.dumps(spec, indent=1))
    return kernels


@pytest.fixture(scope="session")
def colab_kernels(colab_python, tmp_path_factory):
    return kernels_for(colab_python, tmp_path_factory.mktemp("jupyter"))


# --- the notebooks --------------------------------------------------------------------------------------------

def colab_release(name):
    """The release as students get it; it must have the loader that honours COURSE_DATA_MIRROR."""
    nb = read(COURSE[name].release_path)
    loaders = [c for c in nb.cells if grade_id(c) == "provided_data"]
    assert loaders, f"{COURSE[name].release_path} has no provided_data cell (the course's data loader)"
    if not all("COURSE_DATA_MIRROR" in c.source for c in loaders):
        pytest.fail(f"{COURSE[name].release_path.relative_to(ROOT)} predates COURSE_DATA_MIRROR in course/data.py, so it "
                    "cannot load data from the test's local server: run `python -m course release`")
    return nb


def filled_release(name):
    """The release with each solution cell (code and markdown) holding the reference solution's source."""
    nb = colab_release(name)
    solution = {grade_id(c): c.source for c in solution_notebook(COURSE[name].master()).cells if grade_id(c)}
    for cell in nb.cells:
        if is_solution(cell):
            cell.source = solution[grade_id(cell)]
    return nb


def first_todo(nb):
    """Index of the first code cell a student must fill in (len(nb.cells) if none)."""
    return next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and TODO in c.source), len(nb.cells))


def kernel_env(home, mirror, colab_python):
    env = worlds.user_env(home, COURSE_DATA_MIRROR=mirror, NBGRADER_EXECUTION="autograde", MPLBACKEND="Agg",
                          PYDEVD_DISABLE_FILE_VALIDATION="1")  # the last one: silences debugpy's frozen-modules note
    for key in [k for k in env if k in NOT_IN_COLAB or k.startswith("JUPYTER_")]:
        del env[key]
    env["PATH"] = str(colab_python.parent) + os.pathsep + env["PATH"]  # `python`, `pip`: the kernel's own
    return env


ANSI = re.compile(r"\x1b\[[0-9;]*m")
PROBE = "print(tuple(__import__('sys').version_info[:2]), __import__('sys').prefix)"  # binds no name


def run_in_colab(nb, kernels, env, workdir, stop_on_error):
    """Execute nb in the Colab kernel. Returns (probe output, [(cell index, grade_id, ename, evalue, traceback)])."""
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, startup_timeout=120, allow_errors=True)
    errors = []
    with client.setup_kernel(env=env, cwd=str(workdir), cleanup_kc=True):
        probe = nbformat.v4.new_code_cell(PROBE)
        nb.cells.append(probe)  # nbclient routes a cell's outputs by its index in nb: give the probe one
        try:
            client.execute_cell(probe, len(nb.cells) - 1, store_history=False)
        finally:
            nb.cells.pop()
        said = "".join(o.get("text", "") for o in probe.outputs if o.output_type == "stream")
        for index, cell in enumerate(nb.cells):
            try:
                client.execute_cell(cell, index)
            except (CellTimeoutError, DeadKernelError) as e:
                errors.append((index, grade_id(cell), type(e).__name__, str(e).strip(), ""))
                break
            for out in cell.get("outputs", []):
                if out.output_type == "error":
                    tb = ANSI.sub("", "\n".join(out.get("traceback", [])))
                    errors.append((index, grade_id(cell), out.ename, out.evalue, tb))
            if errors and stop_on_error:
                break
    return said, errors


def describe(errors, executed):
    lines = [f"{len(errors)} cell(s) raised in the Colab kernel; the executed notebook: {executed}"]
    for index, gid, ename, evalue, tb in errors:
        lines.append(f"cell {index} ({gid or 'no grade_id'}): {ename}: {evalue}")
        tail = [line for line in tb.splitlines() if line.strip()][-8:]
        lines += ["    " + line for line in tail]
    return "\n".join(lines)


def run_release(nb, name, tmp_path, request, stop_on_error):
    """Run nb in the Colab kernel in a student's world.

    Returns (the probe's output, errors, the executed notebook's path, the HOME, the paths requested from the
    server). The Colab environment is built only now, once the notebook and the data are known to be there."""
    if not (worlds.SHARED_DATA / "mnist").is_dir():
        pytest.skip(f"{worlds.SHARED_DATA / 'mnist'} is missing: the local 'internet' would have no MNIST to serve")
    kernels = request.getfixturevalue("colab_kernels")
    home, workdir = tmp_path / "home", tmp_path / "content"  # Colab's working folder is /content
    workdir.mkdir()
    with worlds.serve(worlds.SHARED_DATA) as (url, requested):
        said, errors = run_in_colab(nb, kernels, kernel_env(home, url, COLAB_PYTHON), workdir, stop_on_error)
    executed = tmp_path / f"{name}.executed.ipynb"
    nbformat.write(nb, str(executed))
    return said, errors, executed, home, requested


def check_kernel_and_download(said, home, requested):
    assert said.startswith("(3, 12) "), f"the kernel is not the Colab environment's Python 3.12: it said {said!r}"
    assert Path(said.split(" ", 2)[2].strip()) == COLAB_VENV, f"the kernel runs outside {COLAB_VENV}: {said!r}"
    cache = home / ".cache" / "dlfs" / "mnist"
    for file in MNIST_FILES:
        assert f"/mnist/{file}" in requested, f"the loader did not download {file} from the local server: {requested}"
        assert (cache / file).is_file() and filecmp.cmp(cache / file, worlds.SHARED_DATA / "mnist" / file,
                                                        shallow=False), f"{cache / file} is missing or differs"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_reference_solution_runs_in_colab(name, tmp_path, request):
    """The release, filled with the reference solution, runs top to bottom in Colab without an error."""
    said, errors, executed, home, requested = run_release(filled_release(name), name, tmp_path, request, True)
    assert not errors, describe(errors, executed)
    check_kernel_and_download(said, home, requested)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_blank_release_runs_in_colab(name, tmp_path, request):
    """The blank release runs top to bottom in Colab: nothing is missing to import anywhere, and nothing fails
    before the first TODO (after it, the unfilled functions raise NotImplementedError, as they should)."""
    nb = colab_release(name)
    todo = first_todo(nb)
    said, errors, executed, home, requested = run_release(nb, name, tmp_path, request, False)
    imports = [e for e in errors if e[2] in IMPORT_ERRORS]
    assert not imports, "an import fails in Colab: " + describe(imports, executed)
    early = [e for e in errors if e[0] < todo]
    assert not early, f"cells before the first TODO (cell {todo}) fail: " + describe(early, executed)
    check_kernel_and_download(said, home, requested)


# --- the otter-grader (Gradescope) edition -------------------------------------------------------------------

OTTER_COLAB_VENV = ROOT / ".venv-colab-otter"  # git-ignored: a second Colab, which the notebook installs otter into
OTTER_CHECKS = 3  # the first questions' checks, run with the reference solution (and one run blank)


def test_otter_student_notebook_installs_otter_and_checks_in_colab(tmp_path):
    """The otter edition's first cell, in Colab, installs otter-grader from the package index and writes the
    public tests; `grader.check` then passes on the reference solution and fails, saying why, on the blank."""
    from course.otter import build
    from course.otter.submissions import as_otter

    name = "model_fitting"  # its first checks need no data set
    python = build_colab_venv(OTTER_COLAB_VENV)
    kernels = kernels_for(python, tmp_path / "jupyter")
    out = build(COURSE[name], tmp_path / "dist")
    student = read(out / "student" / f"{name}.ipynb")
    from course.otter.convert import check_cell_question

    for label, nb, passes in [("reference", as_otter(solution_notebook(COURSE[name].master()), student), True),
                              ("blank", student, False)]:
        nb = nbformat.from_dict(nb)
        checks = [i for i, c in enumerate(nb.cells) if check_cell_question(c)][:OTTER_CHECKS]
        nb.cells = nb.cells[:checks[-1] + 1]
        workdir = tmp_path / f"content-{label}"
        workdir.mkdir()
        env = kernel_env(tmp_path / f"home-{label}", "http://127.0.0.1:9/", python)
        for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):  # pip reaches the index, as in Colab
            env.pop(key, None)
        said, errors = run_in_colab(nb, kernels, env, workdir, stop_on_error=False)
        executed = tmp_path / f"{name}.{label}.executed.ipynb"
        nbformat.write(nb, str(executed))
        assert said.startswith("(3, 12) "), said
        assert not [e for e in errors if e[0] == 0], "the first cell failed: " + describe(errors, executed)
        assert (workdir / "tests").is_dir() and not any("hidden=True" in p.read_text()
                                                        for p in (workdir / "tests").glob("*.py"))
        outputs = {check_cell_question(nb.cells[i]): "".join(
            o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in nb.cells[i].get("outputs", []))
            for i in checks}
        for question, shown in outputs.items():
            assert ("passed" in shown) == passes and ("Test case failed" in shown) != passes, \
                f"{label}: grader.check({question!r}) showed {shown[:500]!r}; the notebook: {executed}"
        if not passes:
            assert all("NotImplementedError" in shown for shown in outputs.values()), outputs
