"""Realistic student mistakes (course/submissions.py BUGS) lose points, and in their own question.

Graded in-process (hidden tests included) for speed; the training cells, and the accuracy tests
that need them, are skipped here: the end-to-end pipeline test grades those with nbgrader.
"""

import pytest

from course.notebooks import grade_in_process
from course.submissions import BUGS, reference, with_bugs

# Questions whose tests call the code of another question, and so may fail along with it.
_OPS_USERS = {"test_forward_gradients", "test_cross_entropy_gradient", "test_train_step", "test_train_learns"}
DOWNSTREAM = {
    **{t: _OPS_USERS for t in ["test_add", "test_multiply", "test_power", "test_relu", "test_sigmoid",
                               "test_log_exp"]},
    "test_forward_values": {"test_forward_gradients", "test_forward_structure", "test_get_accuracy",
                            "test_train_step", "test_train_learns"},
    "test_train_step": {"test_train_learns"},  # both grade train()
    "ec_test_vec_ops": {"ec_test_vec_model"},
}

SKIP = {
    "autograd_mlp": {"train_base", "plot_training_results", "test_base_model", "improve", "test_improved_model",
                     "train_vec_run", "ec_test_train_vec"},
}


@pytest.fixture(scope="module")
def reference_failures():
    return {name: grade_in_process(reference(name, keep_hidden_tests=True), SKIP[name]) for name in SKIP}


@pytest.mark.parametrize("name", sorted(SKIP))
def test_reference_passes_every_test_in_process(reference_failures, name):
    failed, crashed = reference_failures[name]
    assert not failed and not crashed, (failed, crashed)


@pytest.mark.parametrize("bug", sorted(b for b in BUGS if BUGS[b][0] in SKIP))
def test_bug_loses_points_in_its_own_question(bug):
    name, _, what, expected = BUGS[bug]
    failed, _ = grade_in_process(with_bugs(name, [bug], keep_hidden_tests=True), SKIP[name])
    assert set(expected) <= set(failed), f"{what}: expected {expected} to fail, failed: {failed}"
    allowed = set(expected).union(*(DOWNSTREAM.get(t, set()) for t in expected))
    assert set(failed) <= allowed, f"{what}: unrelated questions lost points too: {sorted(set(failed) - allowed)}"
