"""An nbgrader master as an Otter Assign master (otter's v1 notebook format), for `otter assign` to build from.

The mapping, cell by cell:
- a test cell (grade id G, P points) is the otter question G worth P, all or nothing: its visible part is a
  public test (`grader.check("G")` runs it), the whole cell the hidden test. Each test runs the cell's code in
  the notebook's namespace, as nbgrader runs the cell, and fails as this course's nbgrader path scores it: on
  an exception. What it shows on failure is the error's type and message, never test source.
- a written answer (markdown, graded by hand) is a manual question with its points.
- a solution cell keeps its place; its `### BEGIN/END SOLUTION` region becomes otter's solution block, with
  the prompt nbgrader's release shows (`# YOUR CODE HERE` / `raise NotImplementedError()`).
- every other cell is copied; provided (locked) cells carry their grade id in metadata (course.otter.plugin
  restores them while grading) and are read-only in Jupyter.
Extra credit (grade ids starting with `ec_`) stays separate questions; the Gradescope assignment's total leaves
them out (docs/otter.md).
"""

import ast
import copy
import re
import textwrap

import nbformat
import yaml
from nbgrader.preprocessors import ClearSolutions

from ..cells import grade_id, is_locked, is_solution, is_test, is_written_answer, points
from ..integrity.guard import reference_regions, test_label
from ..notebooks import HIDDEN_BEGIN, HIDDEN_END, SOLUTION_BEGIN, SOLUTION_END, drop_regions
from .plugin import CELL_KEY, CHECK_PREFIX, GRADING_VARIABLE, GUARD_MODULE

SETUP_ID = "otter_setup"
HOWTO_ID = "otter_howto"
OTTER_ONLY = ("otter_", CHECK_PREFIX)  # id prefixes of the cells only the otter edition has (its setup, its checks)


def check_id(question):
    """The cell id of question's `grader.check` cell."""
    return CHECK_PREFIX + question
HOWTO = """\
**Checking and handing in (Gradescope edition).** Run this notebook's first cell, above the title, once per \
session: it installs otter-grader (about a minute; if Colab asks you to restart the session, restart it and run \
the cell again). After each task, run \
the `grader.check("...")` cell below it: it runs that question's public tests and says what is probably wrong. In \
this edition those check cells are the notebook's *test cells*; their code is in the `tests/` folder (Colab's Files \
pane). Gradescope grades each question with more, hidden tests as well, so a passing check does not guarantee its \
points. To hand in: *File → Download → Download .ipynb*, then upload that one file to the assignment on Gradescope.\
"""
HOWTO_WRITTEN = " Your written answers are graded by hand from the same file."
PYTHON_VERSION = "3.12"
PLUGIN_DIST = "course-otter-plugin"  # files/<this>/ in the zip: the plugin, the grading guard and the review scan

# The body of every test case: the cell's code in the notebook's namespace (`env`), failing on an exception, as
# this course's nbgrader path scores a test cell (its GuardedExecute: what a passing test writes to stderr is
# shown, not held against it). Only the error's type and message leave it, never the test's source.
# A public test passes at once while otter grades: the hidden test, the whole cell with this part in it, decides,
# and the cell's code runs once, in its place, as under nbgrader.
WHILE_GRADING = '''\
    import os
    if os.environ.get({variable!r}) == "otter":
        return
'''
# A hidden test first enters the grading guard (put in by the plugin while otter grades): it restores what tests rely
# on and lends the trusted copies of earlier questions' functions; then it leaves it, handing over the test's own
# copies (its `### BEGIN REFERENCE` regions, which never run with it), fails if the guard refused the notebook's
# code something while it ran, and has it remember the names the test cell defines, as GuardedExecute does.
GUARDED = '''\
    guard = __import__("sys").modules.get({module!r})
    if guard is not None:
        guard.enter({gid!r}, {isolate!r})
'''
LEAVE = '''\
    if guard is not None:
        refused = [a for a in guard.leave({references!r}, {label!r}, failure is None).get("attempts", [])
                   if a.get("test") == {gid!r}]
        if refused and failure is None:
            failure = ("WithheldForReview", "this test passed, but its points are withheld until a person has read "
                       "the code behind it: while it ran, the grader refused the notebook's code: " + "; ".join(
                           f"it {{a['detail']}} ({{a.get('line', '')}})" for a in refused))
        elif failure is not None:
            failure = (failure[0], guard.explain(failure[0], failure[1], {needs!r}))
'''
TEST_CASE = '''\
def {function}(env):
{while_grading}{guarded}    source = {source!r}
    failure = None
    try:
        exec(compile(source, {label!r}, "exec"), env)
    except NotImplementedError as error:
        failure = ("NotImplementedError", str(error) or "a task this test needs is not done yet: its "
                   "`raise NotImplementedError()` is still there")
    except AssertionError as error:
        failure = ("AssertionError", str(error) or "an assertion of the test failed")
    except (Exception, SystemExit) as error:  # sys.exit() in a student's function fails this test only
        failure = (type(error).__name__, str(error))
{leave}{remember}    if failure is not None:
        ename, message = failure
        if ename not in ("AssertionError", "NotImplementedError"):
            message = f"{{ename}}: {{message}}"
        for line in source.split("\\n"):  # the test's own lines, should student code have put them in the message
            if len(line.strip()) >= 12:
                message = message.replace(line.strip(), "[a line of the test]")
        raise AssertionError(message) from None
'''
REMEMBER = '''\
    if guard is not None:
        guard.remember({names!r})
'''


def _raw(text):
    return nbformat.v4.new_raw_cell(text)


def _config_cell(kind, config=None):
    text = f"# {kind}"
    if config:
        text += "\n" + yaml.safe_dump(config, sort_keys=False, width=10_000)
    return _raw(text.rstrip())


def test_case(gid, source, hidden, remember=(), isolate=True, needs=()):
    """The source of one otter test cell (exception-based format) that runs `source` as grade cell `gid`; a
    hidden one runs inside the guard (isolated: the trusted copies of earlier questions' functions lent), hands it
    the source's reference regions afterwards, has it remember the names `remember`, and on failure says first which
    of the tests it needs ([(id, label)]) failed above."""
    function = f"test_{'hidden' if hidden else 'visible'}"
    while_grading = "" if hidden else WHILE_GRADING.format(variable=GRADING_VARIABLE)
    source, references = reference_regions(source)
    guarded = GUARDED.format(module=GUARD_MODULE, gid=gid, isolate=isolate) if hidden else ""
    leave = LEAVE.format(references=references, label=f"<{gid}: reference>", gid=gid,
                         needs=[list(n) for n in needs]) if hidden else ""
    names = REMEMBER.format(names=list(remember)) if hidden and remember else ""
    body = TEST_CASE.format(function=function, source=source, label=f"<{gid}>", while_grading=while_grading,
                            guarded=guarded, leave=leave, remember=names)
    ast.parse(body)  # a cell otter cannot parse would fail at `otter assign`, far from here
    return ("# HIDDEN\n" if hidden else "") + body


def visible_part(source):
    return drop_regions(source, HIDDEN_BEGIN, HIDDEN_END).strip("\n")


def whole_test(source):
    return drop_regions(source, HIDDEN_BEGIN, HIDDEN_END, "keep").strip("\n")


def prompt(course):
    """What nbgrader's release puts in place of a solution (the course's ClearSolutions.code_stub), as lines."""
    return ClearSolutions(config=course.config).code_stub["python"].split("\n")


def otter_solution(source, prompt_lines):
    """A solution cell's source with otter's markers: the solution hidden from students, nbgrader's prompt shown."""
    out = []
    for line in source.split("\n"):
        indent = line[: len(line) - len(line.lstrip())]
        if SOLUTION_BEGIN in line:
            out.append(f"{indent}# BEGIN SOLUTION NO PROMPT")
        elif SOLUTION_END in line:
            out.append(f"{indent}# END SOLUTION")
            out.append(f'{indent}""" # BEGIN PROMPT')
            out.extend(indent + p for p in prompt_lines)
            out.append(f'{indent}""" # END PROMPT')
        else:
            out.append(line)
    return "\n".join(out)


def _tagged(cell, gid, locked):
    cell = copy.deepcopy(cell)
    cell.metadata.pop("nbgrader", None)
    cell.metadata[CELL_KEY] = {"id": gid}
    if locked:
        cell.metadata["editable"] = False
        cell.metadata["deletable"] = False
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def otter_master(master, name, generate, prompt_lines, remember=None, manifest=None):
    """The otter master of nbgrader master `master` (assignment `name`); `generate`: otter's grading config;
    `prompt_lines`: what students see in place of a solution (prompt(course)); `remember`: {test grade id: names
    the guard records after it} (guard_plan); `manifest`: the assignment's (its end-to-end tests, what tests need)."""
    earlier, labels = [], {grade_id(c): test_label(grade_id(c), c.source) for c in master.cells if is_test(c)}
    config = {
        "name": name,
        "init_cell": False,  # the notebook's own first cell starts otter (and installs it in Colab)
        "check_all_cell": False,
        "export_cell": False,  # students hand in the .ipynb itself
        "run_tests": False,
        "solutions_pdf": False,
        "template_pdf": False,
        "strip_solutions_from_all_cells": True,
        "tests": {"files": True, "ok_format": False},
        "runs_on": "colab",
        "python_version": PYTHON_VERSION,  # Colab's
        "requirements": "requirements.txt",  # next to the otter master; see course.otter.build
        "autograder_files": [PLUGIN_DIST],
        "generate": generate,
    }
    cells = [_config_cell("ASSIGNMENT CONFIG", config)]
    setup = nbformat.v4.new_code_cell("import otter\ngrader = otter.Notebook()")
    cells.append(_tagged(setup, SETUP_ID, locked=True))
    written = any(is_written_answer(c) for c in master.cells)
    howto = _tagged(nbformat.v4.new_markdown_cell(HOWTO + (HOWTO_WRITTEN if written else "")), HOWTO_ID, locked=True)
    for i, cell in enumerate(master.cells):
        if i == 1:
            cells.append(howto)  # after the title and introduction
        gid = grade_id(cell)
        if is_test(cell):
            question = {"name": gid, "points": points(cell), "all_or_nothing": True}
            cells += [_config_cell("BEGIN QUESTION", question), _config_cell("BEGIN TESTS"),
                      nbformat.v4.new_code_cell(test_case(gid, visible_part(cell.source), hidden=False)),
                      nbformat.v4.new_code_cell(test_case(
                          gid, whole_test(cell.source), hidden=True, remember=(remember or {}).get(gid, ()),
                          isolate=not (manifest and manifest.end_to_end(gid)),
                          needs=[(t, labels[t]) for t in (manifest.needs(gid, earlier) if manifest else [])])),
                      _config_cell("END TESTS"), _config_cell("END QUESTION")]
            earlier.append(gid)
        elif is_written_answer(cell):
            answer = _tagged(cell, gid, locked=False)
            cells += [_config_cell("BEGIN QUESTION", {"name": gid, "points": points(cell), "manual": True}),
                      _config_cell("BEGIN SOLUTION"), answer, _config_cell("END SOLUTION"),
                      _config_cell("END QUESTION")]
        elif is_solution(cell):
            answer = _tagged(cell, gid, locked=False)
            answer.source = otter_solution(cell.source, prompt_lines)
            cells.append(answer)
        elif gid is not None:
            cells.append(_tagged(cell, gid, locked=is_locked(cell)))
        else:
            cells.append(copy.deepcopy(cell))
    nb = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(master.metadata))
    return nb


def check_cell_question(cell):
    """The question a `grader.check("...")` cell of otter's runs, else None."""
    m = re.fullmatch(r'(?:\s*#[^\n]*\n)*\s*grader\.check\("([^"]+)"\)\s*', cell.source) if cell.cell_type == "code" else None
    return m.group(1) if m else None


def describe(test_source):
    """A test cell's docstring (what it checks, what grading checks beyond it), or ''."""
    try:
        return ast.get_docstring(ast.parse(textwrap.dedent(test_source))) or ""
    except SyntaxError:
        return ""


__all__ = ["SETUP_ID", "check_cell_question", "describe", "otter_master", "prompt", "test_case"]
