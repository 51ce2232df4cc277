"""Static checks of masters and releases: hygiene, leaks, points, provided code, Colab-readiness."""

import ast
import json
import re
import subprocess
import sys

import pytest
from checkout import COURSE, ROOT

from course.notebooks import (
    HIDDEN_BEGIN,
    HIDDEN_END,
    PROVIDED,
    SOLUTION_BEGIN,
    SOLUTION_END,
    grade_cells,
    grade_id,
    is_test,
    leaked_lines,
    leaks,
    manual_cells,
    marked_lines,
    provided_text,
    read,
)
from course.paths import colab_url

ASSIGNMENTS = COURSE.names
# What Colab has preinstalled, besides the standard library.
COLAB_PACKAGES = {"numpy", "matplotlib", "pandas", "tqdm", "sklearn", "scipy"}
# Points per part, from the assignment's specification.
PARTS = {
    "autograd_mlp": {
        "Part 2": (["test_add", "test_multiply", "test_power", "test_relu", "test_sigmoid", "test_log_exp"], 15),
        "Part 3": (["test_initialize_model", "test_forward_structure", "test_forward_values",
                    "test_forward_gradients"], 30),
        "Part 4": (["test_cross_entropy_loss", "test_cross_entropy_gradient"], 5),
        "Part 6": (["test_to_one_hot", "test_get_accuracy", "test_train_step", "test_train_learns",
                    "test_base_model", "test_improved_model"], 50),
        "Part 7 (extra credit)": (["ec_test_create_value_vec", "ec_test_vec_ops", "ec_test_vec_model",
                                   "ec_test_train_vec"], 20),
    },
    "model_fitting": {
        "Part 1": (["test_one_hot", "test_stable_softmax", "test_accuracy"], 6),
        "Part 2": (["test_activations", "test_activation_derivatives", "test_d_softmax"], 18),
        "Part 3": (["test_cross_entropy", "test_regression_losses"], 12),
        "Part 4": (["test_dense_init", "test_dense_forward", "test_dense_backward"], 18),
        "Part 5": (["test_model_gradients", "test_update"], 14),
        "Part 6": (["test_train_model"], 8),
        "Part 7": (["test_mnist_accuracy"], 10),
        "Part 8 (written, graded by hand)": (["answer_optimizer", "answer_losses"], 7),
        "Part 9": (["test_standardize", "answer_cifar"], 7),
    },
}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_master_is_stored_without_outputs(name):
    nb = COURSE[name].master()
    dirty = [i for i, c in enumerate(nb.cells) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, f"cells {dirty} carry outputs; clear them before committing"


def test_masters_and_tooling_are_ruff_clean():
    """The one ruff run of the suite: masters, tooling (the pasted loader included), catalog, tests, benchmarks."""
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_provided_code_cells_equal_their_single_source(name):
    nb = COURSE[name].master()
    found = [grade_id(c) for c in nb.cells if grade_id(c) in PROVIDED]
    assert found, "each assignment loads its data with the course loader"
    for cell in nb.cells:
        if grade_id(cell) in PROVIDED:
            assert cell.source == provided_text(grade_id(cell)).rstrip("\n"), \
                f"cell {grade_id(cell)} differs from {PROVIDED[grade_id(cell)].name}: run `python -m course sync`"
            assert cell.metadata["nbgrader"]["locked"], "provided code is read-only for students"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_has_no_markers_solutions_or_hidden_tests(name):
    master, release = COURSE[name].master(), read(COURSE[name].release_path)
    assert not leaks(release)
    for begin, end in [(SOLUTION_BEGIN, SOLUTION_END), (HIDDEN_BEGIN, HIDDEN_END)]:
        assert len(marked_lines(master, begin, end)) > 10
    assert leaked_lines(master, [c.source for c in release.cells if c.cell_type == "code"]) == \
        {"solution": [], "hidden test": []}
    assert not any(c.get("outputs") for c in release.cells)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_points_per_part_match_the_specification(name):
    nb = COURSE[name].master()
    points = {**grade_cells(nb), **manual_cells(nb)}  # autograded and hand-graded points count alike
    listed = set()
    for part, (ids, total) in PARTS[name].items():
        assert sum(points[i] for i in ids) == total, f"{part} should be worth {total}"
        listed.update(ids)
    assert listed == set(points), f"grade cells not assigned to a part: {set(points) - listed}"
    assert sum(v for k, v in points.items() if not k.startswith("ec_")) == 100


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_grade_ids_are_unique_and_tests_are_locked(name):
    nb = COURSE[name].master()
    ids = [grade_id(c) for c in nb.cells if grade_id(c)]
    assert len(ids) == len(set(ids))
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            assert meta["locked"] and not meta["solution"]
            doc = ast.get_docstring(ast.parse(cell.source))
            assert doc, f"test cell {meta['grade_id']} should start with a docstring saying what it checks"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_runs_in_stock_colab(name):
    """Only Colab's preinstalled packages and the standard library; no nbgrader, no local files."""
    nb = read(COURSE[name].release_path)
    stdlib = set(sys.stdlib_module_names)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert not cell.source.lstrip().startswith(("!", "%")), "no shell or magic commands: Colab needs none"
        for node in ast.walk(ast.parse(cell.source)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            for mod in mods:
                top = mod.split(".")[0]
                assert top in stdlib or top in COLAB_PACKAGES, f"{name} imports {mod}, which Colab lacks"
        assert "import nbgrader" not in cell.source


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_links_to_its_colab_copy(name):
    text = COURSE[name].release_path.read_text()
    assert colab_url(name) in text
    json.loads(text)
    assert re.search(r"colab-badge\.svg", text)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_folder_holds_the_notebook_alone(name):
    """The manifest beside a master is the grader's (nbgrader's CourseDirectory.ignore): never released."""
    folder = COURSE[name].release_path.parent
    assert sorted(p.name for p in folder.iterdir()) == [f"{name}.ipynb"]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_manifest_names_tests_of_its_master(name):
    tests = {grade_id(c) for c in COURSE[name].master().cells if is_test(c)}
    manifest = COURSE[name].manifest
    named = set(manifest.tests) | {t for entry in manifest.tests.values() for t in entry.get("needs", [])}
    assert named <= tests, sorted(named - tests)


def test_a_misspelt_manifest_key_stops_with_its_name(tmp_path):
    from course.manifest import ManifestError, validate

    with pytest.raises(ManifestError, match="end_too_end"):
        validate({"tests": {"test_x": {"end_too_end": True}}}, "manifest.toml")
    with pytest.raises(ManifestError, match="must be a bool"):
        validate({"tests": {"test_x": {"end_to_end": "yes"}}}, "manifest.toml")
