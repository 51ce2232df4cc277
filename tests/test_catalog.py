"""The submission catalog (source/<assignment>/catalog.py): every bug loses points in its own question with a
message that contains the words the entry records (`says`), every correct variant keeps full marks, and
docs/catalog.md lists them as they are.

Graded in-process with the hidden tests in place (seconds per notebook); the cells that train on the full
data sets, and the accuracy tests that need them, are left out here (Assignment.left_out, from the cells'
roles): the end-to-end pipeline test grades those with nbgrader.
"""

import pytest
from checkout import COURSE

from course.mistakes import NUMBER, catalog_messages
from course.notebooks import grade_in_process
from course.submissions import catalog_doc, catalog_markdown, reference, variant, with_bugs

pytestmark = pytest.mark.slow  # grades ~150 submissions in-process, hidden tests included: minutes

ASSIGNMENTS = COURSE.names
BUGS = [(a, b) for a in ASSIGNMENTS for b in sorted(COURSE[a].catalog.BUGS)]
VARIANTS = [(a, v) for a in ASSIGNMENTS for v in sorted(COURSE[a].catalog.VARIANTS)]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_reference_passes_every_test_in_process(name):
    failed, crashed = grade_in_process(reference(COURSE[name], keep_hidden_tests=True), COURSE[name].left_out())
    assert not failed and not crashed, (failed, crashed)


@pytest.mark.parametrize(("name", "bug"), BUGS)
def test_bug_loses_points_in_its_own_question(name, bug):
    entry = COURSE[name].catalog.BUGS[bug]
    messages = {}
    failed, crashed = grade_in_process(with_bugs(COURSE[name], [bug], keep_hidden_tests=True), COURSE[name].left_out(),
                                       messages=messages)
    # A broken edit (bad indentation, a typo) would "fail" tests without being the bug it claims to be. Visible
    # self-checks that call the buggy code may crash (a student sees that too); the edited cells may not.
    edited = {gid for gid, _, _ in entry["edits"]}
    broken = {gid: err for gid, err in crashed.items() if gid in edited or err.startswith(("SyntaxError",
                                                                                            "IndentationError"))}
    assert not broken, f"{bug}: the edit itself is broken: {broken}"
    assert set(entry["fails"]) <= set(failed), f"{entry['what']}: expected {entry['fails']} to fail, failed: {failed}"
    unrelated = set(failed) - set(entry["fails"]) - set(entry.get("also", []))
    assert not unrelated, f"{entry['what']}: unrelated questions lost points too: {sorted(unrelated)}"
    # What the student reads must name this mistake (or state plainly what came out), never another one.
    own = messages.get(entry["fails"][0], "")
    missing = [word for word in entry["says"] if word.lower() not in own.lower()]
    assert not missing, f"{bug}: the message of {entry['fails'][0]} should contain {missing}; it says: {own}"
    # The class report names this bug when a student's message is this one (course/mistakes.py): the record must be
    # the message as it is now.
    recorded = catalog_messages(COURSE[name]).get(bug, {"test": None, "message": ""})
    same = recorded["test"] == entry["fails"][0] and NUMBER.sub("#", recorded["message"]) == NUMBER.sub("#", own)
    assert same, (f"source/{name}/catalog_messages.json is stale or lacks {bug} (it records {recorded}): run "
                  "`python -m course catalog --write`")  # numbers aside: a message may carry a timing


@pytest.mark.parametrize(("name", "var"), VARIANTS)
def test_correct_variant_keeps_full_marks(name, var):
    entry = COURSE[name].catalog.VARIANTS[var]
    failed, crashed = grade_in_process(variant(COURSE[name], var, keep_hidden_tests=True), COURSE[name].left_out())
    assert not failed and not crashed, f"{entry['what']}: lost points in {failed}; cells crashed: {crashed}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_catalog_entries_are_well_formed(name):
    cat = COURSE[name].catalog  # its keys checked against course.submissions.ENTRY_KEYS when loaded
    for label, entry in [*cat.BUGS.items(), *cat.VARIANTS.items()]:
        assert entry["what"] and entry["edits"], label
    for bug, entry in cat.BUGS.items():
        assert entry["fails"], f"{bug}: name the question that must catch it"
        assert entry.get("says"), f"{bug}: record the words its first question's message must contain ('says')"


def test_catalog_doc_is_up_to_date():
    assert catalog_doc(COURSE).read_text() == catalog_markdown(list(COURSE)), \
        "docs/catalog.md is stale: run `python -m course catalog --write`"
