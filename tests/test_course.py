"""The course model (course/course.py): a Course and its Assignments, cell roles, what an in-process run leaves out,
and the checks on a manifest and a catalog."""

import shutil
import types

import nbformat
import pytest
from checkout import COURSE, ROOT
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from course import cli
from course.course import Course, UnknownAssignment
from course.notebooks import cell_names, leaks, left_out
from course.submissions import CatalogError, check_catalog


def test_an_unknown_assignment_is_refused_naming_the_ones_there_are(capsys):
    with pytest.raises(UnknownAssignment, match=r"no assignment 'nope' in .* \(it has: autograd_mlp, model_fitting\)"):
        COURSE["nope"]
    assert cli.main(["report", "nope", "--root", str(ROOT)]) == 2
    assert "no assignment 'nope'" in capsys.readouterr().err


def test_a_course_from_an_nbgrader_config_and_with_another_gradebook(tmp_path):
    config = Config()
    config.CourseDirectory.root = str(ROOT)
    assert Course.of(config) == Course(ROOT)
    other = COURSE.with_gradebook("sqlite:////tmp/other.db")
    assert other.gradebook == "sqlite:////tmp/other.db" and COURSE.gradebook == f"sqlite:///{ROOT / 'gradebook.db'}"
    assert other["model_fitting"].course is other


def test_a_master_is_read_once_and_handed_out_as_a_copy():
    a = COURSE["model_fitting"]
    first = a.master()
    first.cells.clear()
    assert a.master().cells, "a caller's change does not reach the next caller"


def test_cell_names_follow_pythons_scoping():
    binds, reads = cell_names("import numpy as np\nx = np.zeros(3)\ndef f(v):\n    h = v + model\n    return h\n"
                              "for k in range(2):\n    total = k\n")
    assert binds == {"np", "x", "f", "k", "total"}
    assert reads == {"model", "range"}, "a function's locals are not reads; what it reads from the notebook is"


def _cell(gid, source, role=None, test=False):
    meta = {"nbgrader": {"grade_id": gid, "grade": test, "solution": False, "locked": True, "schema_version": 3,
                         **({"points": 1} if test else {})}}
    if role:
        meta["course"] = {"role": role}
    return new_code_cell(source, metadata=meta)


def test_left_out_takes_the_tests_of_what_was_left_out_and_data_nothing_reads():
    nb = new_notebook(cells=[
        _cell("data", "x_all = load()", role="loads"),
        _cell("helpers", "def subset():\n    return x_all[:10]"),
        _cell("other_data", "c_all = load_c()", role="loads"),
        _cell("train_run", "model = fit(subset())", role="trains"),
        _cell("plot", "show(model)", role="demonstrates"),
        _cell("test_unit", "assert subset() is not None", test=True),
        _cell("test_model", "assert accuracy(model) > 0.9", test=True),
        _cell("vec_run", "vec = fit_vec(subset())", role="trains"),
        _cell("test_vec", "assert vec", test=True),
    ])
    assert left_out(nb) == {"other_data", "train_run", "plot", "test_model", "vec_run", "test_vec"}
    assert left_out(nb, keep={"test_vec"}) == {"other_data", "train_run", "plot", "test_model"}


def test_the_masters_roles_and_what_the_catalog_grading_leaves_out():
    a = COURSE["autograd_mlp"]
    assert set(a.cells("trains")) == {"overfit_tiny_batch", "train_base", "improve", "train_vec_run"}
    assert a.left_out() == {*a.cells("trains", "demonstrates"), "test_base_model", "test_improved_model",
                            "ec_test_train_vec"}, "the data loaded for later tests stays"
    mf = COURSE["model_fitting"]
    assert mf.left_out() == {*mf.cells("loads", "trains", "demonstrates"), "test_mnist_accuracy"}


def test_a_role_never_reaches_students():
    nb = new_notebook(cells=[_cell("train_run", "fit()", role="trains")])
    assert leaks(nb) == ["cell 0 (train_run): carries its role in the course's metadata (trains)"]
    for name in COURSE.names:
        released = nbformat.read(str(COURSE[name].release_path), as_version=4)
        assert not any("course" in c.metadata for c in released.cells)


def test_a_catalog_with_a_misspelt_key_stops_with_its_name():
    catalog = types.SimpleNamespace(BUGS={"b": {"what": "w", "edits": [("c", "x", "y")], "fails": ["t"], "say": ["z"]}},
                                    VARIANTS={}, DEMO=[])
    with pytest.raises(CatalogError, match=r"BUGS\['b'\] has keys .*'say'.*needs .*'says'"):
        check_catalog(catalog, "catalog.py")
    catalog.BUGS["b"]["says"] = catalog.BUGS["b"].pop("say")
    catalog.DEMO = ["nope"]
    with pytest.raises(CatalogError, match="DEMO names bugs BUGS does not have"):
        check_catalog(catalog, "catalog.py")


def test_a_broken_manifest_stops_the_command_that_reads_it(tmp_path, capsys):
    root = tmp_path / "course"
    shutil.copytree(ROOT / "source" / "model_fitting", root / "source" / "model_fitting")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    (root / "source" / "model_fitting" / "manifest.toml").write_text("[measures.mnist]\nexpresion = 'acc()'\n")
    from course.manifest import ManifestError

    with pytest.raises(ManifestError, match="unknown key 'expresion'"):
        Course.at(root)["model_fitting"].manifest  # noqa: B018
