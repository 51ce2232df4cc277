"""Example submissions (course/submissions.py: reference, blank, catalog entries) as otter submissions, and
`otter run` on them: what the parity test, the tampering measurements and the benchmark grade."""

import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..cells import grade_id, is_test
from ..notebooks import write
from .convert import CHECK_PREFIX, OTTER_ONLY, check_id
from .plugin import cell_id


def as_otter(nb, student):
    """nbgrader-format notebook nb (a submission written in the release) as the same work in the otter student
    notebook `student`: each cell with grade id G gives its source to the otter cell with id G (solutions,
    written answers, and any edit of a provided code cell, which the plugin undoes); cells nb added (no grade id, a cell id
    the master does not have) follow the cell they followed in nb; cells nb deleted are deleted."""
    out = copy.deepcopy(student)
    theirs = {grade_id(c): c for c in nb.cells if grade_id(c)}
    instructors = {c.get("id") for c in student.cells}  # the cell ids otter assign kept from the master
    cells, added_after = [], {}
    anchor = None
    for c in nb.cells:
        if grade_id(c):
            anchor = check_id(grade_id(c)) if is_test(c) else grade_id(c)  # a test's place: its check cell
        elif c.get("id") not in instructors:
            added_after.setdefault(anchor, []).append(c)
    for c in added_after.pop(None, []):
        cells.append(copy.deepcopy(c))
    for c in out.cells:
        gid = cell_id(c)
        if gid in theirs or gid is None or gid.startswith(OTTER_ONLY):  # cells an nbgrader notebook cannot have
            if gid in theirs and (c.metadata.get("editable") is not False or _edited(theirs[gid], c)):
                c.source = theirs[gid].source
            cells.append(c)
            cells.extend(copy.deepcopy(a) for a in added_after.get(gid, []))
        # an instructor cell nb lacks: deleted in the submission
    out.cells = cells
    return out


def _edited(cell, instructor):
    """Whether a provided code cell of the submission differs from the instructor's (blank lines aside: the
    example submissions are written with runs of blank lines collapsed)."""
    def norm(s):
        return re.sub(r"\n\s*\n", "\n", s).strip()
    return cell.cell_type == "code" and norm(cell.source) != norm(instructor.source)


# Said by jupyter_client when a kernel exits before its first reply, or gives none within its start-up timeout: before
# any cell ran, so never the submission's doing (two kernels started at once can race for the same ports; a busy
# machine can be slow to start one). Such a run is started again.
KERNEL_START_FAILED = ("Kernel died before replying to kernel_info", "Kernel didn't respond in")


def run_otter(args, cwd, env=None, timeout=1800, attempts=3):
    """`otter run ARGS` in cwd, started again (up to `attempts` times) when its kernel failed to start."""
    for _ in range(attempts):
        proc = subprocess.run(["otter", "run", *args], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
        if not any(said in proc.stdout + proc.stderr for said in KERNEL_START_FAILED):
            break
    return proc


def otter_run(zip_path, nb, name, env=None, timeout=1800):
    """Grade notebook nb (otter format) with `otter run -a ZIP -o DIR` as an instructor types it; returns
    (results.json as a dict, the command's output)."""
    with tempfile.TemporaryDirectory(prefix="otter-run-") as tmp:
        sub = Path(tmp) / f"{name}.ipynb"
        write(nb, sub)
        out = Path(tmp) / "out"
        out.mkdir()
        proc = run_otter(["-a", str(zip_path), "-o", str(out), str(sub)], tmp, env, timeout)
        results = out / "results.json"
        if proc.returncode != 0 or not results.exists():
            raise RuntimeError(f"otter run failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return json.loads(results.read_text()), proc.stdout + proc.stderr


def scores(results):
    """{question: score} from otter's results.json (its per-question tests; not the summary entries)."""
    return {t["name"]: t["score"] for t in results["tests"] if "score" in t and "max_score" in t}


def autograder_config(zip_path):
    """otter_config.json of an autograder zip, and {question: test file source} of its tests/."""
    with zipfile.ZipFile(zip_path) as zf:
        config = json.loads(zf.read("otter_config.json"))
        tests = {Path(n).stem: zf.read(n).decode() for n in zf.namelist() if n.startswith("tests/") and n.endswith(".py")}
    return config, tests


def plugin_config(config):
    """The zip's plugin configuration (in its otter_config.json)."""
    from . import PLUGIN

    for entry in config.get("plugins", []):
        if isinstance(entry, dict) and PLUGIN in entry:
            return entry[PLUGIN]
    raise ValueError(f"the autograder's otter_config.json does not configure {PLUGIN}")


def plugin_cells(config):
    """The instructor cells the zip's plugin restores (its configuration)."""
    return plugin_config(config)["cells"]


def grade_in_process(nb, zip_path, skip=()):
    """Grade otter submission nb in this process with otter's own test runner and the zip's tests and plugin
    restore: {question: score} for every question whose check cell ran (not those of cells in `skip`, grade
    ids). The loop is course.notebooks.run_graded, as for nbgrader: seconds, where `otter run` takes a kernel and
    the training cells."""
    from otter.test_files import ExceptionTestFile

    from ..integrity.guard import GUARD_MODULE, LocalGuard
    from ..notebooks import run_graded
    from .convert import SETUP_ID, check_cell_question
    from .plugin import GRADING_VARIABLE, restore

    config, tests = autograder_config(zip_path)
    nb = copy.deepcopy(nb)
    restore(nb, plugin_cells(config))
    ns = {"__name__": "__course__"}
    result = {}

    def run_test(question, cell, _):
        test = ExceptionTestFile.from_string(tests[question], path=f"tests/{question}.py")
        test.run(ns)
        result[question] = test.score

    skipped = set(skip) | {SETUP_ID} | {c for c in (cell_id(x) or "" for x in nb.cells)
                                        if c.removeprefix(CHECK_PREFIX) in skip}
    os.environ[GRADING_VARIABLE] = "otter"
    # The tests enter and leave the guard (each question graded on its own): here, one over this namespace.
    guard = sys.modules[GUARD_MODULE] = LocalGuard(ns, plugin_config(config).get("guard", {}).get("student", ()))
    try:
        run_graded(nb, guard, ns, run_test, cell_id=cell_id, test_of=check_cell_question, skip=skipped)
    finally:
        os.environ.pop(GRADING_VARIABLE, None)
        sys.modules.pop(GUARD_MODULE, None)
    return result
