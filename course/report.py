"""The class report of an assignment: grades, per-question pass rates, score histogram, test failures.

Scores come from the gradebook; the message of each failing test comes from the autograded notebook:
the error's name and message only (the last line of its traceback), never the hidden tests' source.
Written to reports/<assignment>/: grades.csv, report.html, histogram.png, test_failures.png.
"""

import statistics
from collections import Counter
from dataclasses import dataclass, field

from .cells import grade_id
from .grading import grading_log, scores
from .html import render
from .mistakes import catalog_messages, class_mistakes
from .mistakes import markdown as mistakes_markdown
from .notebooks import HIDDEN_BEGIN, cell_by_id, failure_message, grade_cells, offscreen_pyplot, read
from .similarity import flagged_students


@dataclass
class QuestionStats:
    """How the class did on one autograded test."""

    id: str
    points: float
    hidden: bool  # has hidden parts
    graded: int  # submissions graded
    failed: int = 0
    messages: Counter = field(default_factory=Counter)  # failure message -> students

    @property
    def passed(self):
        return self.graded - self.failed

    @property
    def rate(self):
        return self.passed / self.graded if self.graded else 0.0


@dataclass
class ClassReport:
    assignment: str
    rows: list  # GradeRow per student in the gradebook
    tests: list  # QuestionStats per autograded test, in notebook order
    not_graded: dict  # student -> why
    review: dict  # student -> {test id: why its points are withheld}
    term: object  # the course's Term
    mistakes: list = field(default_factory=list)  # QuestionMistakes per test (course/mistakes.py)
    similar: dict = field(default_factory=dict)  # student -> students flagged as similar (course/similarity.py)

    @property
    def graded(self):
        return [r for r in self.rows if r.counted]


def test_cells(master):
    """[(grade id, points, has hidden tests)] of the autograded test cells, in notebook order."""
    return [(gid, points, HIDDEN_BEGIN in cell_by_id(master, gid).source) for gid, points in grade_cells(master).items()]


def lost_points(assignment, row):
    """{test id: why it lost points (one line)} for one student's GradeRow (grading.scores)."""
    lost = [gid for gid, (score, top) in row.tests.items() if score < top]
    if not lost:
        return {}
    path = assignment.notebook("autograded", row.student)
    cells = {grade_id(c): c for c in read(path).cells} if path.is_file() else {}
    return {gid: failure_message(cells[gid]) if gid in cells else "autograded notebook missing" for gid in lost}


def class_report(assignment):
    """The ClassReport of an Assignment, from its course's gradebook and the autograded notebooks."""
    rows = scores(assignment)
    graded = [r for r in rows if r.counted]
    not_graded = {r.student: r.status.removeprefix("not graded: ") for r in rows if not r.counted}
    review = {r.student: withheld_reasons(assignment, r.student, r.review) for r in rows if r.review}
    in_gradebook = {r.student for r in rows}  # failed before nbgrader wrote anything:
    not_graded.update({s: row["error"] for s, row in grading_log(assignment).items()
                       if s not in in_gradebook and row["status"] != "graded"})
    tests = [QuestionStats(gid, pts, hidden, len(graded)) for gid, pts, hidden in test_cells(assignment.master())]
    by_id = {t.id: t for t in tests}
    outcomes = []
    for row in graded:
        lost = lost_points(assignment, row)
        outcomes.append({gid: (True, message) for gid, message in lost.items()})
        for gid, message in lost.items():
            if gid in by_id:
                by_id[gid].failed += 1
                by_id[gid].messages[message] += 1
    mistakes = class_mistakes([(t.id, t.points) for t in tests], outcomes, catalog_messages(assignment))
    return ClassReport(assignment.name, rows, tests, not_graded, review, assignment.course.term, mistakes,
                       flagged_students(assignment))


def withheld_reasons(assignment, student, tests):
    """{test id: why its points are withheld} for one student (what GuardedExecute recorded in the graded notebook)."""
    path = assignment.notebook("autograded", student)
    recorded = read(path).metadata.get("course", {}).get("review", {}).get("withheld", {}) if path.is_file() else {}
    return {gid: "; ".join(recorded.get(gid, [])) or "withheld (see the graded notebook)" for gid in tests}


def most_failed(report, top=10):
    """The tests failed by most students, with their messages (most common first)."""
    failing = [t for t in report.tests if t.failed]
    return sorted(failing, key=lambda t: (-t.failed, t.id))[:top]


def plot_histogram(report, path):
    from matplotlib.ticker import MaxNLocator

    plt = offscreen_pyplot()

    graded = report.graded
    top = max((r.core_max for r in graded), default=100) or 100
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist([r.core for r in graded], bins=20, range=(0, top), color="#4878a8", edgecolor="white")
    ax.set_xlabel(f"autograded score (out of {top:g})")
    ax.set_ylabel("students")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"{report.assignment}: {len(graded)} graded submissions")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_failures(report, path):
    """The per-test failure table as an image: test, points, failed / graded, pass rate, commonest message."""
    plt = offscreen_pyplot()
    tests = report.tests
    cells = [[t.id + (" (hidden)" if t.hidden else ""), f"{t.points:g}", f"{t.failed} / {t.graded}",
              f"{t.rate:.0%}", _short(t.messages.most_common(1)[0][0], 70) if t.messages else ""]
             for t in tests]
    fig, ax = plt.subplots(figsize=(13, 0.25 * (len(tests) + 1) + 0.5))
    ax.axis("off")
    table = ax.table(cellText=cells, colLabels=["test", "points", "failed", "pass rate", "most common message"],
                     colWidths=[0.24, 0.06, 0.08, 0.08, 0.54], bbox=[0, 0, 1, 1], cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    for cell in table.get_celld().values():
        cell.PAD = 0.02  # of the cell's width: keep the text near the left edge of the wide columns
    for i, t in enumerate(tests, start=1):  # red for tests most students fail, white for tests all pass
        shade = 1 - 0.6 * (1 - t.rate)
        table[i, 3].set_facecolor((1.0, shade, shade))
    ax.set_title(f"{report.assignment}: test failures", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _short(text, n):
    return text if len(text) <= n else text[: n - 1] + "…"


def render_html(report, folder=None):
    """report.html, from the Jinja2 template course/templates/class_report.html.j2 (every value escaped)."""
    graded = report.graded
    cores = [r.core for r in graded]
    stats = "no graded submission"
    if cores:
        stats = (f"mean {statistics.mean(cores):.1f}, median {statistics.median(cores):.1f}, min {min(cores):g}, "
                 f"max {max(cores):g} (out of {graded[0].core_max:g})")
    students = {r.student for r in report.rows} | set(report.not_graded)
    due, policy = report.term.due(report.assignment), report.term
    rule = policy.rule()
    return render("class_report.html.j2",
        assignment=report.assignment, students=len(students), graded=len(graded), stats=stats,
        tests=report.tests, mistakes=[q for q in report.mistakes if q.lost], not_graded=report.not_graded,
        similar=report.similar, similarity_page=bool(folder and (folder / "similarity.html").is_file()),
        review=report.review,
        late=[r for r in report.rows if r.late_hours], due=due.strftime("%Y-%m-%d %H:%M UTC") if due else "",
        policy=rule)


def write_report(assignment):
    """Write grades.csv, histogram.png, test_failures.png and report.html into reports/<assignment>/."""
    from .grading import write_grades

    report = class_report(assignment)
    out = assignment.reports
    out.mkdir(parents=True, exist_ok=True)
    write_grades(report.rows, out / "grades.csv")
    plot_histogram(report, out / "histogram.png")
    plot_failures(report, out / "test_failures.png")
    (out / "report.html").write_text(render_html(report, out))
    (out / "mistakes.md").write_text(mistakes_markdown(assignment.name, report.mistakes))
    return out / "report.html"


def summary_lines(report, top=5):
    """The most failed tests with their commonest message, for the terminal."""
    lines = []
    for t in most_failed(report, top):
        message, n = t.messages.most_common(1)[0]
        lines.append(f"  {t.id:<28} failed by {t.failed}/{t.graded}: {_short(message, 80)} ({n})")
    return lines
