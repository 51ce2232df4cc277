"""Intake: an LMS export (zip) becomes submitted/<student>/<assignment>/<assignment>.ipynb, with a report
of every file that could not be matched."""

import csv
import zipfile

import nbformat
import pytest
from checkout import COURSE

from course import cli
from course.intake import clean_name, intake, parse_member
from course.notebooks import cell_by_id
from course.release import copy_course
from course.submissions import blank, reference, with_bugs

A = "model_fitting"


def nb_bytes(nb):
    return nbformat.writes(nb).encode()


@pytest.fixture(scope="module")
def notebooks():
    return {"ref": nb_bytes(reference(COURSE[A])), "blank": nb_bytes(blank(COURSE[A])),
            "buggy": nb_bytes(with_bugs(COURSE[A], ["lr_applied_twice"])), "other": nb_bytes(blank(COURSE["autograd_mlp"]))}


@pytest.fixture
def export(tmp_path, notebooks):
    """A zip as LMSs export them, with the usual mess; {member: (student it belongs to, notebook)}."""
    good = {
        "alice - Copy of model_fitting (2).ipynb": ("alice", "ref"),
        "smithjane_12345_67890_Copy of Copy of model_fitting.ipynb": ("smithjane", "buggy"),  # Canvas
        "doejohn_LATE_222_333_model_fitting-1.ipynb": ("doejohn", "blank"),  # Canvas, late resubmission
        "Ada Lovelace_777_assignsubmission_file_/model_fitting.ipynb": ("ada_lovelace", "ref"),  # Moodle folder
        "bob/Copy of model_fitting.ipynb": ("bob", "buggy"),  # a folder per student
        "carol/homework3.ipynb": ("carol", "ref"),  # renamed by the student: matched by content
    }
    bad = {
        "Copy of model_fitting.ipynb": ("ref", "no student in the name"),
        "dave_autograd_mlp.ipynb": ("other", "named for another assignment (autograd_mlp)"),
        "erin/notes.ipynb": ("other", "notebook of another assignment (autograd_mlp)"),
        "frank_model_fitting.ipynb": (None, "not valid JSON"),
        "grace_model_fitting.pdf": (None, "not a notebook (.ipynb)"),
        "mallory_model_fitting.ipynb": ("ref", "student 'mallory' is not on the roster"),
    }
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for member, (_, which) in good.items():
            zf.writestr(member, notebooks[which])
        for member, (which, _) in bad.items():
            zf.writestr(member, notebooks[which] if which else b"%PDF-1.4 or any garbage")
        # Two files for alice: the newer one (written above, dated now) wins over this older one.
        old = zipfile.ZipInfo("alice_model_fitting.ipynb", date_time=(2020, 1, 1, 0, 0, 0))
        zf.writestr(old, notebooks["blank"])
        zf.writestr("__MACOSX/._alice_model_fitting.ipynb", b"resource fork")
    bad["alice_model_fitting.ipynb"] = ("blank", "older duplicate for alice")
    return path, good, bad


def test_names_colab_and_lms_produce():
    assert clean_name("Copy of Copy of model_fitting (2).ipynb") == A
    assert clean_name("model_fitting-1.ipynb") == A
    assert parse_member("x/Jane Smith_1_assignsubmission_file_model_fitting.ipynb", A, [A])[0] == "jane_smith"
    assert parse_member("Copy of model_fitting (1).ipynb", A, [A])[0] is None


def test_intake_imports_matched_files_and_reports_the_rest(tmp_path, export, notebooks):
    course = copy_course(COURSE, tmp_path / "course")
    root = course.root
    path, good, bad = export
    (tmp_path / "roster.txt").write_text("id\nalice\nsmithjane\ndoejohn\nada_lovelace\nbob\ncarol\nerin\nfrank\nzoe\n")
    report = intake(path, course[A], roster=tmp_path / "roster.txt")

    assert set(report.imported) == {student for student, _ in good.values()}
    for member, (student, which) in good.items():
        target = root / "submitted" / student / A / f"{A}.ipynb"
        assert target.read_bytes() == notebooks[which], f"{member} -> {target}"
    assert report.renamed == {"carol": "carol/homework3.ipynb"}
    unmatched = dict(report.unmatched)
    assert set(unmatched) == set(bad), "every file not imported is reported (macOS junk aside)"
    for member, (_, reason) in bad.items():
        assert reason in unmatched[member], (member, unmatched[member])
    assert report.missing == ["erin", "frank", "zoe"]
    with open(root / "reports" / A / "intake.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["file"] for r in rows if r["status"] == "not matched"} == set(bad)
    assert [r["student"] for r in rows if r["status"] == "missing"] == ["erin", "frank", "zoe"]


def test_intake_again_leaves_unchanged_files_untouched(tmp_path, export):
    course = copy_course(COURSE, tmp_path / "course")
    root = course.root
    path, good, _ = export
    first = intake(path, course[A])
    assert set(first.imported) == {s for s, _ in good.values()} | {"mallory"}  # no roster: mallory is in
    target = root / "submitted" / "alice" / A / f"{A}.ipynb"
    before = target.stat().st_mtime_ns
    again = intake(path, course[A])
    assert not again.imported and again.unchanged == first.imported
    assert target.stat().st_mtime_ns == before, "an unchanged file keeps its time: autograde can skip it"


def test_intake_command_line(tmp_path, export, monkeypatch, capsys):
    root = copy_course(COURSE, tmp_path / "course").root
    assert cli.main(["intake", str(export[0]), A, "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "7 imported" in out and "not matched: dave_autograd_mlp.ipynb" in out
    assert (root / "submitted" / "bob" / A / f"{A}.ipynb").is_file()


def test_suspicious_code_is_listed_for_review(tmp_path):
    nb = reference(COURSE[A])
    cell = cell_by_id(nb, "activations")
    cell.source = "import subprocess\n" + cell.source
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("eve_model_fitting.ipynb", nb_bytes(nb))
        zf.writestr("ann_model_fitting.ipynb", nb_bytes(reference(COURSE[A])))
    report = intake(path, copy_course(COURSE, tmp_path / "course")[A])
    assert set(report.imported) == {"eve", "ann"}, "imported all the same: a person decides"
    assert list(report.review) == ["eve"] and "subprocess" in report.review["eve"][0]
