"""Tampering and bad input: each attack is a submission graded by plain `nbgrader autograde` (one run for
the quiz assignment of tests/quiz_course.py, one for model_fitting), next to honest students who must keep
full marks. docs/grading_security.md records each outcome."""

import html
import json
import re
import shutil

import nbformat
import pytest
from checkout import COURSE
from delegation import MEANS, attack
from quiz_course import QUIZ, add_quiz, autograde, graded_cell, master, scores, submit, variant

from course import release
from course.course import Assignment, Course
from course.inspection import fix_name, inspect_submission
from course.notebooks import HIDDEN_BEGIN, HIDDEN_END, cell_by_id, grade_cells, marked_lines
from course.release import copy_course
from course.submissions import reference as mf_reference
from course.submissions import write_submission

pytestmark = pytest.mark.slow  # grades submissions with nbgrader: minutes

WRONG_ADD = "def add(a, b):\n    return a - b"
WRONG_MEAN = "def mean(xs):\n    return 0.0"
FULL, NONE = {"test_add": 1.0, "test_mean": 1.0}, {"test_add": 0.0, "test_mean": 0.0}
ADD_ONLY, MEAN_ONLY = {"test_add": 1.0, "test_mean": 0.0}, {"test_add": 0.0, "test_mean": 1.0}

# student: (what the submission does, how it is built, the scores it must get). Built lazily from the reference.
ATTACKS = {
    "honest": ("the reference solution", lambda: variant(), FULL),
    "honest_warns": ("correct, but mean() writes a warning to stderr", lambda: variant(edits={"mean": '''
def mean(xs):
    warnings.warn("this mean is computed the slow way")
    return float(np.mean(xs))'''}), FULL),
    "blank": ("the release, nothing done", None, NONE),
    "edited_test": ("wrong add(); test_add replaced by `pass`", lambda: variant(
        edits={"add": WRONG_ADD, "test_add": "pass"}), MEAN_ONLY),
    "deleted_tests": ("wrong add(); both test cells deleted", lambda: variant(
        edits={"add": WRONG_ADD}, drop={"test_add", "test_mean"}), MEAN_ONLY),
    "deleted_helpers": ("correct; the locked helper and example cells deleted", lambda: variant(
        drop={"helpers", "mean_examples"}), FULL),
    "duplicated_test": ("wrong add(); a copy of test_add (same grade id) before add()", lambda: _duplicate(), MEAN_ONLY),
    "invented_cell": ("correct; a new test cell claiming 100 points under a new grade id",
                      lambda: _invented(), FULL),
    "forged_metadata": ("correct; the add() cell re-labelled a graded cell worth 50 points", lambda: _forged(), FULL),
    "future_schema": ("correct; a cell claims a newer nbgrader metadata schema", lambda: _future(), FULL),
    "lost_metadata": ("correct; the add() cell re-created without nbgrader metadata", lambda: _lost(), FULL),
    "patch_numpy_builtins": ("wrong code; np.allclose, math.isclose and builtins.abs replaced", lambda: variant(
        edits={"add": WRONG_ADD, "mean": WRONG_MEAN}, extra=[("add", '''
import builtins
np.allclose = lambda *args, **kwargs: True
math.isclose = lambda *args, **kwargs: True
builtins.abs = lambda x: 0''')]), NONE),
    "shadow_names": ("wrong code; np, math, abs and the test helper check_close rebound", lambda: variant(
        edits={"add": WRONG_ADD, "mean": WRONG_MEAN}, extra=[("add", '''
import types
fake = types.ModuleType("numpy")
fake.__dict__.update(vars(np))
fake.allclose = lambda *args, **kwargs: True
np = fake
math = types.SimpleNamespace(isclose=lambda *args, **kwargs: True)
abs = lambda x: 0
def check_close(*args, **kwargs):
    pass''')]), NONE),
    "loosen_tolerance": ("add() off by 1e-3; the test's tolerance dict changed", lambda: variant(
        edits={"add": "def add(a, b):\n    return a + b + 1e-3"}, extra=[("add", "TOLERANCE['rel'] = 1e9")]),
        MEAN_ONLY),
    "always_equal": ("add() and mean() return an object equal to everything", lambda: variant(edits={
        "add": "class Anything(float):\n    def __eq__(self, other):\n        return True\n"
               "    __ne__ = lambda self, other: False\n\ndef add(a, b):\n    return Anything(0)",
        "mean": "def mean(xs):\n    return Anything(0)"}), NONE),
    "drop_asserts": ("wrong code; an input transformer deletes the test lines", lambda: variant(
        edits={"add": WRONG_ADD, "mean": WRONG_MEAN}, extra=[("add", '''
def _drop(lines):
    return [line for line in lines if not line.startswith(("check_close", "assert"))]
get_ipython().input_transformers_post.append(_drop)''')]), NONE),
    "swallow_errors": ("wrong code; IPython's run_code patched to swallow exceptions, a custom exception handler",
                       lambda: variant(edits={"add": WRONG_ADD, "mean": WRONG_MEAN}, extra=[("add", '''
from IPython.core.interactiveshell import InteractiveShell

async def quiet_run_code(self, code_obj, result=None, *, async_=False):
    try:
        exec(code_obj, self.user_global_ns, self.user_ns)
    except BaseException:
        pass
    return False

InteractiveShell.run_code = quiet_run_code
get_ipython().set_custom_exc((Exception,), lambda *args, **kwargs: None)''')]), NONE),
    "hide_failure_in_test": ("wrong code; add() itself marks the running cell a success and hides its traceback",
                             lambda: variant(edits={"add": '''
def add(a, b):
    from IPython.core.interactiveshell import ExecutionResult
    ExecutionResult.success = property(lambda self: True)
    get_ipython().showtraceback = lambda *args, **kwargs: None
    return a - b''', "mean": WRONG_MEAN}), NONE),
    "sys_exit": ("add() calls sys.exit()", lambda: variant(
        edits={"add": "import sys\ndef add(a, b):\n    sys.exit('bye')"}), MEAN_ONLY),
    "os_exit_in_test": ("add() calls os._exit(0): the kernel dies inside test_add", lambda: variant(
        edits={"add": "import os\ndef add(a, b):\n    os._exit(0)"}), NONE),
    "os_exit_after": ("correct add(); a cell after test_add kills the kernel", lambda: variant(
        extra=[("test_add", "import os\nos._exit(1)")]), ADD_ONLY),
    "infinite_loop": ("mean() never returns", lambda: variant(
        edits={"mean": "def mean(xs):\n    while True:\n        pass"}), ADD_ONLY),
    "stubborn_loop": ("add() loops and ignores interrupts", lambda: variant(edits={"add": '''
import time
def add(a, b):
    while True:
        try:
            time.sleep(0.1)
        except KeyboardInterrupt:
            pass'''}), NONE),
    "memory_bomb": ("mean() asks for 8 GiB", lambda: variant(
        edits={"mean": "def mean(xs):\n    hog = bytearray(8 << 30)\n    return float(np.mean(xs))"}), ADD_ONLY),
    "output_flood": ("add() prints without end", lambda: variant(
        edits={"add": "def add(a, b):\n    while True:\n        print('spam ' * 2000)"}), MEAN_ONLY),
    "leak_hidden_tests": ("correct; add() prints the code of the test calling it, a later cell the history",
                          lambda: variant(edits={"add": '''
def add(a, b):
    print(get_ipython().kernel.get_parent()["content"]["code"])
    return a + b'''}, extra=[("test_add", "print(In)\nprint(_ih)")]), NONE),
    "no_metadata": ("a notebook without any nbgrader metadata", lambda: _no_metadata(), NONE),
    "wrong_assignment": ("the model_fitting release handed in as quiz.ipynb", None, NONE),
    "malformed_json": ("a truncated file", None, NONE),
    "renamed_file": ("the reference, named 'Copy of quiz.ipynb'", lambda: variant(), NONE),
}
REJECTED = {"no_metadata", "wrong_assignment", "malformed_json", "renamed_file"}  # nbgrader reports these as errors


def _duplicate():
    nb = variant(edits={"add": WRONG_ADD})
    copy = nbformat.from_dict(cell_by_id(nb, "test_add"))
    nb.cells.insert(nb.cells.index(cell_by_id(nb, "add")), copy)
    return nb


def _invented():
    nb = variant()
    cell = nbformat.v4.new_code_cell("pass", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "points": 100, "grade_id": "bonus", "schema_version": 3}})
    nb.cells.append(cell)
    return nb


def _forged():
    nb = variant()
    cell_by_id(nb, "add").metadata.nbgrader.update(grade=True, points=50)
    return nb


def _future():
    nb = variant()
    cell_by_id(nb, "mean").metadata.nbgrader["schema_version"] = 99
    nb.cells.append(nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"schema_version": 99}}))
    return nb


def _lost():
    nb = variant()
    del cell_by_id(nb, "add").metadata["nbgrader"]
    return nb


def _no_metadata():
    nb = variant()
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    return nb


@pytest.fixture(scope="module")
def quiz(tmp_path_factory):
    root = copy_course(COURSE, tmp_path_factory.mktemp("tampering")).root
    add_quiz(root)
    release.release(Course.at(root), ["model_fitting"])
    blank = nbformat.read(str(root / "release" / QUIZ / f"{QUIZ}.ipynb"), as_version=4)
    for student, (_, build, _) in ATTACKS.items():
        if build:
            submit(root, student, build(), filename="Copy of quiz.ipynb" if student == "renamed_file" else None)
    submit(root, "blank", blank)
    submit(root, "wrong_assignment", nbformat.read(str(root / "release" / "model_fitting" / "model_fitting.ipynb"),
                                                    as_version=4))
    submit(root, "malformed_json", nbformat.writes(variant())[:-200])
    proc = autograde(root, QUIZ, "--Execute.timeout=6")
    release.feedback(Course.at(root)[QUIZ])
    return {"root": root, "proc": proc, "log": proc.stdout + proc.stderr, "scores": scores(root, QUIZ)}


@pytest.mark.parametrize("student", list(ATTACKS))
def test_attack_outcome(quiz, student):
    what, _, expected = ATTACKS[student]
    got = quiz["scores"].get(student, {})
    got = {k: got.get(k, 0.0) for k in expected}
    assert got == expected, f"{student} ({what}): scores {got}, expected {expected}\n{quiz['log'][-3000:]}"


def test_no_attack_adds_tests_or_points(quiz):
    for student, tests in quiz["scores"].items():
        assert set(tests) <= set(FULL), f"{student} has grades for cells the master lacks: {sorted(tests)}"


def test_only_unreadable_submissions_are_reported_as_failures(quiz):
    # nbgrader grades everyone else, then exits 1 naming the submissions it could not grade.
    assert quiz["proc"].returncode == 1
    failed = {line.split("for student '")[1].split("'")[0] for line in quiz["log"].splitlines()
              if "There was an error processing assignment 'quiz' for student" in line}
    assert failed == REJECTED


def test_rejections_say_why(quiz):
    log = quiz["log"]
    assert "this is the notebook of another assignment (model_fitting)" in log
    assert "none of the assignment's nbgrader cell metadata" in log
    assert "No notebooks found" in log  # the renamed file: nbgrader sees no quiz.ipynb


def test_kernel_death_and_timeouts_are_recorded_in_the_test_cells(quiz):
    root = quiz["root"]
    assert graded_cell(root, "os_exit_in_test", "test_add").outputs[-1].ename == "KernelDied"
    assert graded_cell(root, "os_exit_in_test", "test_mean").outputs[-1].ename == "NotRun"
    assert graded_cell(root, "stubborn_loop", "test_add").outputs[-1].ename == "CellTimeoutError"
    assert any(o.get("ename") == "MemoryError" for o in graded_cell(root, "memory_bomb", "test_mean").outputs)
    assert graded_cell(root, "hide_failure_in_test", "test_add").outputs[-1].ename == "IncompleteTest"


def test_output_flood_is_cut_short(quiz):
    cell = graded_cell(quiz["root"], "output_flood", "test_add")
    assert sum(len(o.get("text", "")) for o in cell.outputs) < 2_100_000
    assert "output stopped" in json.dumps(cell.outputs)


def test_a_warning_does_not_fail_a_passing_test(quiz):
    outputs = graded_cell(quiz["root"], "honest_warns", "test_mean").outputs
    assert any("slow way" in o.get("text", "") and o.name == "stdout" for o in outputs), outputs


def page_text(path):
    """What a student reads in a feedback page: the HTML without tags (highlighted code is split into spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def test_feedback_never_shows_hidden_tests(quiz):
    secret = marked_lines(master(), HIDDEN_BEGIN, HIDDEN_END)
    files = release.feedback_files(Course.at(quiz["root"])[QUIZ])
    assert len(files) == len(ATTACKS) - len(REJECTED)
    for path in files:
        text = page_text(path)
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{path} shows hidden test lines: {leaked}"
        assert "dlfs-test-completed" not in text, "the completion token must not reach students"
    feedback = quiz["root"] / "feedback"
    assert "[hidden test line]" in page_text(feedback / "leak_hidden_tests" / QUIZ / f"{QUIZ}.html"), \
        "the test code printed by add() should show, redacted"
    assert 'check_close("add(2, 3)", add(2, 3), 5)' in page_text(feedback / "honest" / QUIZ / f"{QUIZ}.html"), \
        "visible tests stay in the feedback"


def test_inspect_submission_reports_each_bad_file(quiz):
    root = quiz["root"]
    sub, q = root / "submitted", Course.at(root)[QUIZ]
    assert inspect_submission(sub / "honest" / QUIZ / "quiz.ipynb", q).ok
    assert "not valid JSON" in inspect_submission(sub / "malformed_json" / QUIZ / "quiz.ipynb", q).problems[0]
    assert "model_fitting" in inspect_submission(sub / "wrong_assignment" / QUIZ / "quiz.ipynb", q).problems[0]
    assert not inspect_submission(sub / "no_metadata" / QUIZ / "quiz.ipynb", q).ok
    renamed = inspect_submission(sub / "renamed_file" / QUIZ / "Copy of quiz.ipynb", q)
    assert renamed.ok and renamed.rename_to == "quiz.ipynb"
    dup = inspect_submission(sub / "duplicated_test" / QUIZ / "quiz.ipynb", q)
    assert any("appears 2 times" in n for n in dup.notes)
    (sub / "honest" / QUIZ / "extra.txt").symlink_to(root / "source" / QUIZ / "quiz.ipynb")
    assert "links or special files" in inspect_submission(sub / "honest" / QUIZ / "quiz.ipynb", q).problems[0]
    (sub / "honest" / QUIZ / "extra.txt").unlink()
    deleted = inspect_submission(sub / "deleted_tests" / QUIZ / "quiz.ipynb", q)
    assert any("'test_add' is missing" in n for n in deleted.notes)
    flagged = {s for s in ATTACKS if s not in REJECTED and s != "blank"
               and inspect_submission(sub / s / QUIZ / "quiz.ipynb", q).review}
    assert {"patch_numpy_builtins", "drop_asserts", "swallow_errors", "os_exit_in_test", "leak_hidden_tests",
            "always_equal", "sys_exit"} <= flagged
    assert "honest" not in flagged and "honest_warns" not in flagged


def test_fix_name_gives_a_renamed_download_its_name(tmp_path):
    for name in ["Copy of quiz.ipynb", "quiz (1).ipynb", "Copy of Copy of quiz (2).ipynb", "quiz.ipynb.ipynb"]:
        path = tmp_path / name
        nbformat.write(variant(), str(path))
        fixed = fix_name(path, Assignment(COURSE, QUIZ))
        assert fixed.name == "quiz.ipynb" and fixed.is_file(), name
        fixed.unlink()


# ---- model_fitting: attacks that must meet the real tests ----------------------------------------------------

ANYTHING = """
class Anything(float):
    shape = property(lambda self: (3, 10))
    def __eq__(self, other):
        return True
    __ne__ = lambda self, other: False
    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    def __sub__(self, other):
        return self
    __rsub__ = __sub__
    def __abs__(self):
        return self
    def __getitem__(self, key):
        return self
    sum = lambda self, *a, **k: self
"""
MF_CHEAT = [  # (cell, new source): functions that return an object equal to everything
    ("one_hot", ANYTHING + "\ndef one_hot(labels, num_classes):\n    return Anything(0)"),
    ("accuracy", "def accuracy(pred_probs, labels):\n    return Anything(0)"),
]


MF_LOOSEN = """
_real_train_model = train_model
def train_model(model, *args, **kwargs):
    kwargs["lr"] = 0.0  # no learning at all
    return _real_train_model(model, *args, **kwargs)

GRADING_THRESHOLDS["mnist"] = 0.0
def budget(full, grading):
    return grading if isinstance(full, int) else 0.0"""


@pytest.fixture(scope="module")
def mf(quiz):
    root = quiz["root"]
    a = Course.at(root)["model_fitting"]
    write_submission(mf_reference(a), a, "mf_honest")
    cheat = mf_reference(a)
    for gid, source in MF_CHEAT:
        cell_by_id(cheat, gid).source = source
    cell_by_id(cheat, "train_model").source += MF_LOOSEN
    write_submission(cheat, a, "mf_cheat")
    first = autograde(root, "model_fitting")
    once = scores(root, "model_fitting")
    second = autograde(root, "model_fitting", "--student", "mf_honest")
    return {"procs": (first, second), "once": once, "twice": scores(root, "model_fitting")}


def test_model_fitting_honest_student_keeps_full_marks(mf):
    assert all(p.returncode == 0 for p in mf["procs"]), mf["procs"][0].stderr[-3000:]
    lost = {k: v for k, v in mf["once"]["mf_honest"].items() if v == 0}
    assert not lost, f"the reference lost points: {lost}"


def test_model_fitting_cheats_earn_nothing(mf):
    cheat = mf["once"]["mf_cheat"]
    for gid in ["test_one_hot", "test_train_model", "test_mnist_accuracy"]:
        assert cheat[gid] == 0, f"{gid} gave points to a cheat: {cheat}"


def test_model_fitting_accuracy_rejects_an_object_equal_to_everything(mf):
    assert mf["once"]["mf_cheat"]["test_accuracy"] == 0


def test_grading_twice_gives_identical_scores(mf):
    assert mf["twice"]["mf_honest"] == mf["once"]["mf_honest"]


def test_feedback_reads_the_master_the_submission_was_graded_against(quiz, tmp_path):
    """The instructor edits the hidden tests in source/ after grading and regenerates the feedback without
    regrading: the feedback still redacts the hidden lines the graded outputs hold (the gradebook's copy)."""
    root = tmp_path / "course"
    shutil.copytree(quiz["root"], root)
    path = root / "source" / QUIZ / f"{QUIZ}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    old = marked_lines(nb, HIDDEN_BEGIN, HIDDEN_END)
    assert old
    for cell in nb.cells:
        for line in old:
            cell.source = cell.source.replace(line, line + "  # edited after grading")
    nbformat.write(nb, str(path))
    release.feedback(Course.at(root)[QUIZ])
    text = page_text(root / "feedback" / "leak_hidden_tests" / QUIZ / f"{QUIZ}.html")
    assert "[hidden test line]" in text
    leaked = [line for line in old if line in text]
    assert not leaked, f"the feedback shows hidden lines of the master it was graded against: {leaked}"


# ---- grades that only the student's own work earns: delegation to trusted copies (tests/delegation.py) ----

@pytest.fixture(scope="module")
def delegated(tmp_path_factory):
    """Every means of tests/delegation.py on both assignments, graded by one plain `nbgrader autograde` each, next
    to an honest student (the reference)."""
    course = copy_course(COURSE, tmp_path_factory.mktemp("delegation"))
    root = course.root
    release.release(course, ["autograd_mlp", "model_fitting"])  # the gradebook's copy of each master
    runs = {}
    for name in ("autograd_mlp", "model_fitting"):
        blank = nbformat.read(str(root / "release" / name / f"{name}.ipynb"), as_version=4)
        for means in MEANS:
            write_submission(attack(blank, means), course[name], f"steal_{means}")
        write_submission(mf_reference(course[name]), course[name], "honest")
        runs[name] = autograde(root, name)
    # correct code, with a debugging line a person should read: test_add passes, but its points wait for review, and so
    # do the trained models' (they run this add); the other questions are graded with the trusted add
    curious = mf_reference(Course.at(root)["autograd_mlp"])
    cell = cell_by_id(curious, "add")
    cell.source = cell.source.replace("    return out", "    seen = sorted(vars())  # debugging\n    return out")
    write_submission(curious, course["autograd_mlp"], "curious")
    curious_run = autograde(root, "autograd_mlp", "--student", "curious")
    return {"root": root, "procs": runs | {"curious": curious_run},
            "scores": {name: scores(root, name) for name in ("autograd_mlp", "model_fitting")}}


@pytest.mark.parametrize("name", ["autograd_mlp", "model_fitting"])
@pytest.mark.parametrize("means", sorted(MEANS))
def test_delegation_to_a_trusted_copy_gains_nothing(delegated, name, means):
    assert delegated["procs"][name].returncode == 0, delegated["procs"][name].stderr[-3000:]
    got = delegated["scores"][name][f"steal_{means}"]
    won = {gid: score for gid, score in got.items() if score}
    assert not won, f"{means} on {name} earned points: {won}"


@pytest.mark.parametrize("name", ["autograd_mlp", "model_fitting"])
def test_honest_students_keep_full_marks_next_to_the_delegation_attacks(delegated, name):
    master = nbformat.read(str(delegated["root"] / "source" / name / f"{name}.ipynb"), as_version=4)
    full = {gid: points for gid, points in grade_cells(master).items()}
    assert delegated["scores"][name]["honest"] == full


@pytest.mark.parametrize("means", ["by_name", "frames", "garbage_collector", "closures", "stash"])
def test_each_means_that_reaches_around_the_tests_is_flagged_for_a_person(delegated, means):
    """Refused by the referee, or found by the static scan: either way the graded notebook says "needs review"."""
    path = delegated["root"] / "autograded" / f"steal_{means}" / "autograd_mlp" / "autograd_mlp.ipynb"
    review = nbformat.read(str(path), as_version=4).metadata["course"]["review"]
    assert review["needs_review"], review


def test_withheld_points_show_as_needs_review_in_the_gradebook_and_the_class_report(delegated):
    """A flagged submission is not silent full marks: its withheld tests need a grader in nbgrader's gradebook, its
    status says "needs review" (grades.csv, the class report), and the LMS export leaves its grade blank."""
    from nbgrader.api import Gradebook

    from course.grading import scores as grade_rows
    from course.lms import export as lms_export
    from course.report import write_report

    root = delegated["root"]
    assert delegated["procs"]["curious"].returncode == 0, delegated["procs"]["curious"].stderr[-3000:]
    rows = {r.student: r for r in grade_rows(Course.at(root)["autograd_mlp"])}
    assert rows["honest"].status == "graded"
    assert rows["steal_by_name"].status.startswith("needs review"), rows["steal_by_name"]
    curious = rows["curious"]
    assert curious.review == ["test_add", "test_base_model", "test_improved_model"], curious
    assert curious.tests["test_add"][0] == 0 and curious.tests["test_multiply"][0] == 2.5
    assert curious.status == "needs review: test_add, test_base_model, test_improved_model"
    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        waiting = {g.name for g in gb.find_submission_notebook("autograd_mlp", "autograd_mlp", "curious").grades
                   if g.needs_manual_grade}
    assert waiting == set(curious.review)
    html = write_report(Course.at(root)["autograd_mlp"]).read_text()
    assert "Needs review" in html and "curious" in html and "vars" in html
    export = lms_export(Course.at(root)["autograd_mlp"], "canvas")
    assert any("curious" in w and "needs review" in w for w in export.warnings), export.warnings
