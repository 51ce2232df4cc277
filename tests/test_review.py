"""course/integrity/review.py: the static scan of the code students write, and which questions a finding withholds."""

import nbformat
import pytest
from checkout import COURSE

from course.inspection import master_plan, notebook_cells, scan, withheld
from course.integrity import review
from course.notebooks import cell_by_id
from course.submissions import blank, reference, variant

ASSIGNMENTS = COURSE.names

# Means of reaching what the tests keep: each must be found, and withhold what it can reach.
SUSPECT = {
    "a namespace by name": "def add(a, b):\n    return globals()['_reference_add'](a, b)",
    "a computed attribute": "def add(a, b):\n    name = 'glob' + 'als'\n    return getattr(add, '__' + name + '__')",
    "a function's globals": "def add(a, b):\n    return softmax.__globals__['x']",
    "a closure": "def add(a, b):\n    return softmax.__closure__[0].cell_contents",
    "frames": "import sys\ndef add(a, b):\n    return sys._getframe(1).f_locals['want']",
    "frames through inspect": "import inspect\ndef add(a, b):\n    return inspect.stack()",
    "the garbage collector": "import gc\ndef add(a, b):\n    return [f for f in gc.get_objects() if callable(f)]",
    "modules": "import sys\ndef add(a, b):\n    return sys.modules['__main__'].add_reference(a, b)",
    "generated code": "def add(a, b):\n    return eval('a' + ' + b')",
    "the shell": "def add(a, b):\n    return get_ipython().user_ns['x']",
    "the cell history": "def add(a, b):\n    return _ih[-1]",
    "the tests' source": "import linecache\ndef add(a, b):\n    return linecache.cache",
    "the grader": "def add(a, b):\n    return __import__('_dlfs_guard')",
    "a name only the tests define": "def add(a, b):\n    return want",
    "a dunder in a string": "import operator\ndef add(a, b):\n    return operator.attrgetter('__globals__')(add)",
}
HONEST = {
    "numpy": "import numpy as np\ndef f(x):\n    return np.stack([x, x]).sum(axis=0, keepdims=True)",
    "a class": "class A:\n    def __init__(self, x):\n        super().__init__()\n        self.x = x\n"
               "    def __repr__(self):\n        return f'{type(self).__name__}({self.x})'",
    "local names like the tests'": "def f(want):\n    m = want * 2\n    return m",
    "a main guard": "if __name__ == '__main__':\n    print('hi')",
}


@pytest.mark.parametrize("what", SUSPECT)
def test_the_scan_finds_each_means_of_reaching_what_the_tests_keep(what):
    found = review.scan_source(SUSPECT[what], test_names=frozenset({"want"}))
    assert any(severity == review.WITHHOLD for _, _, severity in found), (what, found)


@pytest.mark.parametrize("what", HONEST)
def test_the_scan_leaves_ordinary_code_alone(what):
    found = review.scan_source(HONEST[what], test_names=frozenset({"want", "m"}))
    assert not [f for f in found if f[2] == review.WITHHOLD], (what, found)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_no_reference_solution_blank_release_or_correct_variant_is_flagged(name):
    master = COURSE[name].master()
    subs = {"reference": reference(COURSE[name]), "blank": blank(COURSE[name])} | \
        {v: variant(COURSE[name], v) for v in COURSE[name].catalog.VARIANTS}
    for label, nb in subs.items():
        assert not scan(nb, master), (label, scan(nb, master))


def _with_helper(name, gid, helper, call):
    """The reference of `name` with a suspect helper in a new cell before `gid`, and `call` replacing gid's source."""
    nb = reference(COURSE[name])
    cell = cell_by_id(nb, gid)
    cell.source = call
    nb.cells.insert(nb.cells.index(cell), nbformat.v4.new_code_cell(helper))
    return nb


def test_a_finding_withholds_the_questions_it_can_reach_and_no_other():
    name = "autograd_mlp"
    master = COURSE[name].master()
    helper = "def _peek(a, b):\n    return globals()['_x']\n"
    add = "def add(a, b):\n    return _peek(a, b)\n"
    nb = _with_helper(name, "add", helper, add)
    held = withheld(scan(nb, master), nb, master, COURSE[name].manifest.end_to_end_tests)
    assert "test_add" in held and "cell" in held["test_add"][0]
    assert "test_forward_values" not in held, "forward is graded with the trusted add: the helper cannot reach it"
    assert "test_base_model" in held, "the trained model runs the student's own add"
    assert "test_multiply" not in held


def test_code_that_runs_when_its_cell_runs_withholds_every_later_test():
    name = "autograd_mlp"
    master = COURSE[name].master()
    nb = reference(COURSE[name])
    index = nb.cells.index(cell_by_id(nb, "forward"))
    nb.cells.insert(index, nbformat.v4.new_code_cell("import sys\nsys.settrace(None)\n"))
    held = withheld(scan(nb, master), nb, master)
    later = [gid for i, gid, _ in notebook_cells(nb) if i > index and gid and gid.startswith(("test_", "ec_test_"))]
    assert set(later) <= set(held) and "test_add" not in held


def test_the_plan_keeps_no_test_code():
    plan = master_plan(COURSE["autograd_mlp"].master())
    text = repr(plan)
    assert "_make_reference_node" not in text and "check_scalar_op(add" not in text
    assert next(e for e in plan if e["id"] == "test_add")["references"] == ["add"]
