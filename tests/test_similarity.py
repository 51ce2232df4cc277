"""The similarity report (course/similarity.py) on a class whose honest students differ the way real ones do
(tests/class_of.py): every planted pair must rank above every honest pair and be flagged; nobody else may be,
least of all the students who wrote only the short functions everyone writes alike.
"""

import pytest
from checkout import COURSE
from class_of import A, compose, versions

from course import cli
from course.notebooks import read
from course.release import copy_course
from course.similarity import Pair, SimilarityReport, compare, flagged_students, own_code, similarity, write_report
from course.submissions import blank, reference

HONEST = 14
MINIMAL = 3  # only add and multiply done


@pytest.fixture(scope="module")
def class_report(tmp_path_factory):
    course = copy_course(COURSE, tmp_path_factory.mktemp("similarity") / "course")
    a = course[A]
    found = versions()
    assert all(len(v) >= 4 for v in found.values()), {g: len(v) for g, v in found.items() if len(v) < 4}
    planted = compose(a, HONEST, [("renamed", 0), ("reordered", 3), ("recommented", 6), ("buggy", 9)], MINIMAL)
    assert cli.main(["similarity", A, "--root", str(course.root)]) == 0
    return a, similarity(a), {(source, copy) for copy, source in planted.items()}


def test_every_planted_copy_ranks_above_every_honest_pair(class_report):
    _a, report, planted = class_report
    def key(p):
        return tuple(sorted((p.a, p.b)))

    planted = {tuple(sorted(pair)) for pair in planted}
    copies = [p for p in report.pairs if key(p) in planted]
    others = [p for p in report.pairs if key(p) not in planted]
    assert len(copies) == len(planted), f"planted pairs not found: {planted - {key(p) for p in copies}}"
    lowest = min(p.score for p in copies)
    highest = max((p.score for p in others), default=0)
    assert lowest > highest, (f"a planted copy ({lowest:.0%}) ranks below an honest pair ({highest:.0%}): "
                              f"{[(p.a, p.b, round(p.score, 2)) for p in report.pairs[:8]]}")
    assert {key(p) for p in report.flagged} == planted, [(p.a, p.b, p.score) for p in report.flagged]


def test_short_functions_everyone_writes_alike_flag_nobody(class_report):
    _a, report, _ = class_report
    flagged = set(report.flagged_students)
    assert not any(s.startswith("minimal") for s in flagged), flagged
    assert report.skipped == {"nothing": "no code of their own (the release as it was handed out)"}


def test_the_report_files_and_the_class_report_link(class_report):
    a, report, planted = class_report
    html = (a.reports / "similarity.html").read_text()
    for p in report.flagged:
        page = a.reports / p.page
        assert p.page in html and page.is_file()
        assert "<mark>" in page.read_text(), "the shared passages are marked side by side"
    rows = (a.reports / "similarity.csv").read_text().splitlines()
    assert rows[0].startswith("student_a,student_b,score,share_of_a") and len(rows) == len(report.pairs) + 1
    assert set(flagged_students(a)) == {s for pair in planted for s in pair}


def test_own_code_leaves_out_what_the_release_gave():
    rel = read(COURSE[A].release_path)
    assert own_code(blank(COURSE[A]), rel) == ""
    mine = own_code(reference(COURSE[A]), rel)
    assert "a['grad'] += out['grad']" in mine
    assert "def add(" not in mine and '"""out = a + b."""' not in mine, "the def line and docstring were given"


def test_the_pair_page_escapes_student_code(tmp_path):
    code = {"x": "s = '<script>alert(1)</script>'\n" * 30, "y": "s = '<script>alert(1)</script>'\n" * 30}
    pairs, _ = compare(code, "")
    report = SimilarityReport(A, code, pairs)
    write_report(report, tmp_path)
    page = (tmp_path / pairs[0].page).read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert isinstance(pairs[0], Pair)
