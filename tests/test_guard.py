"""The grading guard (course/integrity/guard.py): its vault in this process, its referee and its command
channel in a real kernel, the way GuardedExecute drives them."""

import textwrap

import jupyter_client
import pytest

from course.integrity.guard import (
    GUARD_MODULE,
    LocalGuard,
    ReferenceUnavailable,
    Vault,
    install_code,
    reference_regions,
)
from course.nbgrader_ext.guarded_execute import GuardChannel

# ---- the vault: trusted copies kept out of the notebook, lent during other questions' tests ----

REFERENCE = textwrap.dedent('''
    def _helper(x):
        return 2 * x


    def double(x):
        return _helper(x)


    class Layer:
        def forward(self, x):
            return double(x)


    TABLE = {'double': (double, lambda y: y)}
''')


def test_reference_regions_are_taken_out_of_a_test_and_dedented():
    source = "x = 1\n### BEGIN HIDDEN TESTS\n    ### BEGIN REFERENCE\n    def f():\n        return 1\n    ### END REFERENCE\ny = 2"
    body, regions = reference_regions(source)
    assert "def f" not in body and "x = 1" in body and "y = 2" in body
    assert regions == "def f():\n    return 1"


def test_a_vault_lends_its_public_copies_only_while_a_test_runs_and_gives_the_students_back():
    ns = {"double": "the student's", "np": None}
    vault = Vault(ns)
    assert vault.register(REFERENCE) == ["Layer", "TABLE", "double"], "helpers (a leading _) are not lent"
    assert ns["double"] == "the student's", "registering lends nothing"
    vault.lend()
    assert ns["double"](3) == 6 and ns["Layer"]().forward(2) == 4 and ns["TABLE"]["double"][0](1) == 2
    kept = ns["double"], ns["Layer"], ns["TABLE"]["double"][1]
    vault.take_back()
    assert ns["double"] == "the student's" and "Layer" not in ns and "TABLE" not in ns
    for call in (lambda: kept[0](1), lambda: kept[1]().forward(1), lambda: kept[2](1)):
        with pytest.raises(ReferenceUnavailable):  # a copy kept by a submission is no use outside a test
            call()


def test_references_call_each_other_not_the_students_code():
    ns = {"double": lambda x: "wrong"}
    vault = Vault(ns, instructor=dict)
    vault.register("def double(x):\n    return 2 * x")
    vault.register("def quadruple(x):\n    return double(double(x))")
    vault.lend()
    assert ns["quadruple"](1) == 4


def test_a_local_guard_grades_each_question_on_its_own():
    ns = {}
    guard = LocalGuard(ns, student_names={"double"})
    exec("def double(x):\n    return x + x + 1", ns)  # noqa: S102 -- the student's (wrong) version
    guard.enter("test_double")
    assert ns["double"](1) == 3, "no copy of the function under test exists while it is graded"
    guard.leave("def double(x):\n    return 2 * x")
    guard.enter("test_later")
    assert ns["double"](1) == 2, "a later question runs with the trusted copy"
    guard.leave()
    guard.enter("test_end_to_end", isolate=False)
    assert ns["double"](1) == 3, "an end-to-end test runs with the student's own"
    guard.leave()


# ---- the referee and the channel, in a kernel ----

@pytest.fixture(scope="module")
def kernel():
    km = jupyter_client.KernelManager(kernel_name="python3")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)

    def execute(code, user_expressions=None, silent=False):
        msg_id = kc.execute(code, silent=silent, store_history=not silent, user_expressions=user_expressions or {})
        errors = []
        while True:
            msg = kc.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "error":
                errors.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        while True:
            reply = kc.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"], errors

    content, _ = execute(install_code(["math"], ["double"]), silent=True)
    assert content["status"] == "ok", content
    channel = GuardChannel(lambda code, ue: execute(code, ue, silent=True)[0])
    assert channel.send("arm", {"secret": channel.secret, "token": "TOKEN"}, key=False)["ok"]
    yield execute, channel
    kc.stop_channels()
    km.shutdown_kernel(now=True)


REFUSED = {
    "frames": "import sys\nsys._getframe(0)",
    "frames through inspect": "import inspect\ninspect.currentframe()",
    "frames through a traceback": "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    e.__traceback__.tb_frame",
    "the collector's objects": "import gc\ngc.get_objects()",
    "tracing": "import sys\nsys.settrace(None)",
    "code objects": "def f():\n    pass\nf.__code__",
    "code compiled as a library's": "import os\ncompile('x = 1', os.__file__, 'exec')",
    "a command without the key": f"import sys\nsys.modules[{GUARD_MODULE!r}].enter('test_x')",
}
ALLOWED = {
    "imports and plots": "import json, numpy\nimport matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
                         "plt.plot([1, 2])",
    "a namedtuple (the standard library uses a frame for itself)": "from collections import namedtuple\n"
                                                                   "namedtuple('P', 'x y')(1, 2)",
    "formatting one's own exception": "import traceback\ntry:\n    1 / 0\nexcept ZeroDivisionError:\n"
                                      "    traceback.format_exc()",
    "an error of the student's own": None,
}


@pytest.mark.parametrize("what", REFUSED)
def test_the_referee_refuses_notebook_code_what_reaches_around_the_tests_and_records_it(kernel, what):
    execute, channel = kernel
    _, errors = execute(REFUSED[what])
    assert errors and errors[0].startswith("Refused:"), (what, errors)
    reply = channel.send("report")
    assert reply["attempts"], f"{what}: refused but not recorded"


@pytest.mark.parametrize("what", ALLOWED)
def test_the_referee_lets_ordinary_code_run(kernel, what):
    execute, channel = kernel
    code = ALLOWED[what] or "def g():\n    raise ValueError('mine')\ng()"
    _, errors = execute(code)
    assert errors == ([] if ALLOWED[what] else ["ValueError: mine"]), (what, errors)
    assert channel.send("report")["attempts"] == []


def test_the_channel_lends_references_and_signs_its_replies(kernel):
    execute, channel = kernel
    execute("def double(x):\n    return x + x + 1")
    assert channel.send("enter", {"test": "test_double", "isolate": True})["ok"]
    execute("assert double(1) == 3")  # nothing registered yet: the student's own
    reply = channel.send("leave", {"references": "def double(x):\n    return 2 * x", "label": "<ref>"})
    assert reply["registered"] == ["double"]
    assert channel.send("enter", {"test": "test_later", "isolate": True})["ok"]
    _, errors = execute("assert double(1) == 2")
    assert not errors, errors
    channel.send("leave", {"references": "", "label": "<ref>"})
    _, errors = execute("assert double(1) == 3")
    assert not errors, "the student's version is back after the test"


def test_a_forged_reply_is_not_taken_for_the_guards(kernel):
    _, channel = kernel
    other = GuardChannel(channel.execute)  # another secret: the guard's signature cannot match it
    assert other.send("report") is None


# ---- what explains a failure ----

def test_a_failure_says_first_which_earlier_test_it_needs_failed_and_which_error_left_a_name_unmade():
    from nbformat.v4 import new_code_cell, new_notebook

    from course.manifest import Manifest
    from course.notebooks import grade_in_process

    def cell(gid, source, kind):
        meta = {"grade_id": gid, "schema_version": 3, "grade": kind == "test", "solution": kind == "solution",
                "locked": kind != "solution", "points": 1.0}
        return new_code_cell(source, metadata={"nbgrader": meta})

    nb = new_notebook(cells=[
        cell("add", "def add(a, b):\n    return a - b", "solution"),
        cell("test_add", '"""add: the sum."""\nassert add(2, 3) == 5, "add(2, 3) should be 5"', "test"),
        cell("train", "def fit():\n    raise ValueError('the loss became nan')\n\n\nhistory = fit()", "provided"),
        cell("test_trained", '"""the trained model."""\nassert history[-1] == 2', "test"),
    ])
    messages = {}
    manifest = Manifest("demo", tests={"test_trained": {"end_to_end": True}})
    failed, _ = grade_in_process(nb, messages=messages, manifest=manifest)
    assert failed == ["test_add", "test_trained"]
    said = messages["test_trained"]
    assert said.startswith("NameError: the test of add (test_add) failed above, and this test needs it to pass"), said
    assert "history was never made: cell 2 (train) stopped with ValueError: the loss became nan" in said
    assert messages["test_add"] == "AssertionError: add(2, 3) should be 5", "a first failure says only its own"
