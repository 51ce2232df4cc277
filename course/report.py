"""The class report of an assignment: grades, per-question pass rates, score histogram, test failures.

Scores come from the gradebook; the message of each failing test comes from the autograded notebook:
the error's name and message only (the last line of its traceback), never the hidden tests' source.
Written to reports/<assignment>/: grades.csv, report.html, histogram.png, test_failures.png.
"""

import re
import statistics
from collections import Counter
from pathlib import Path

from .cells import grade_id
from .grading import counted, gradebook_url, grading_log
from .notebooks import HIDDEN_BEGIN, cell_by_id, grade_cells, offscreen_pyplot, read
from .paths import master_path, notebook_path, reports_dir
from .term import term


def test_cells(master):
    """[(grade id, points, has hidden tests)] of the autograded test cells, in notebook order."""
    return [(gid, points, HIDDEN_BEGIN in cell_by_id(master, gid).source) for gid, points in grade_cells(master).items()]


def failure_message(cell):
    """Why a graded test cell lost its points: 'ErrorName: message' (one line), or what it wrote to stderr."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            text = f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip().rstrip(":")
            return re.sub(r"\s+", " ", text)[:200]
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            first = next((line for line in out.get("text", "").splitlines() if line.strip()), "")
            return f"wrote to stderr (a test must not): {first.strip()[:150]}"
    return "lost points without an error message"


def lost_points(root, name, row):
    """{test id: why it lost points (one line)} for one student's grade row (grading.scores)."""
    lost = [gid for gid, (score, top) in row["tests"].items() if score < top]
    if not lost:
        return {}
    path = notebook_path(root, "autograded", row["student"], name)
    cells = {grade_id(c): c for c in read(path).cells} if path.is_file() else {}
    return {gid: failure_message(cells[gid]) if gid in cells else "autograded notebook missing" for gid in lost}


def class_report(name, root, db_url=None):
    """{'rows': grade rows, 'tests': [per-test stats], 'not_graded': {student: why}, 'term': the Term} for one
    assignment."""
    from .grading import counted, scores

    root = Path(root)
    rows = scores(name, root, gradebook_url(root, db_url))
    graded = [r for r in rows if counted(r)]
    not_graded = {r["student"]: r["status"].removeprefix("not graded: ") for r in rows if not counted(r)}
    review = {r["student"]: withheld_reasons(root, name, r["student"], r["review"]) for r in rows if r["review"]}
    in_gradebook = {r["student"] for r in rows}  # failed before nbgrader wrote anything:
    not_graded.update({s: row["error"] for s, row in grading_log(root, name).items()
                       if s not in in_gradebook and row["status"] != "graded"})
    tests = [{"id": gid, "points": pts, "hidden": hidden, "graded": len(graded), "failed": 0, "messages": Counter()}
             for gid, pts, hidden in test_cells(read(master_path(name, root)))]
    by_id = {t["id"]: t for t in tests}
    for row in graded:
        for gid, message in lost_points(root, name, row).items():
            if gid in by_id:
                by_id[gid]["failed"] += 1
                by_id[gid]["messages"][message] += 1
    for t in tests:
        t["passed"] = t["graded"] - t["failed"]
        t["rate"] = t["passed"] / t["graded"] if t["graded"] else 0.0
    return {"assignment": name, "rows": rows, "tests": tests, "not_graded": not_graded, "review": review,
            "term": term(root)}


def withheld_reasons(root, name, student, tests):
    """{test id: why its points are withheld} for one student (what GuardedExecute recorded in the graded notebook)."""
    path = notebook_path(root, "autograded", student, name)
    recorded = read(path).metadata.get("course", {}).get("review", {}).get("withheld", {}) if path.is_file() else {}
    return {gid: "; ".join(recorded.get(gid, [])) or "withheld (see the graded notebook)" for gid in tests}


def most_failed(report, top=10):
    """The tests failed by most students, with their messages (most common first)."""
    failing = [t for t in report["tests"] if t["failed"]]
    return sorted(failing, key=lambda t: (-t["failed"], t["id"]))[:top]


def plot_histogram(report, path):
    from matplotlib.ticker import MaxNLocator

    plt = offscreen_pyplot()

    graded = [r for r in report["rows"] if counted(r)]
    top = max((r["core_max"] for r in graded), default=100) or 100
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist([r["core"] for r in graded], bins=20, range=(0, top), color="#4878a8", edgecolor="white")
    ax.set_xlabel(f"autograded score (out of {top:g})")
    ax.set_ylabel("students")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"{report['assignment']}: {len(graded)} graded submissions")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_failures(report, path):
    """The per-test failure table as an image: test, points, failed / graded, pass rate, commonest message."""
    plt = offscreen_pyplot()
    tests = report["tests"]
    cells = [[t["id"] + (" (hidden)" if t["hidden"] else ""), f"{t['points']:g}", f"{t['failed']} / {t['graded']}",
              f"{t['rate']:.0%}", _short(t["messages"].most_common(1)[0][0], 70) if t["messages"] else ""]
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
        shade = 1 - 0.6 * (1 - t["rate"])
        table[i, 3].set_facecolor((1.0, shade, shade))
    ax.set_title(f"{report['assignment']}: test failures", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _short(text, n):
    return text if len(text) <= n else text[: n - 1] + "…"


def render_html(report):
    """report.html, from the Jinja2 template course/templates/class_report.html.j2 (every value escaped)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("course", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    graded = [r for r in report["rows"] if counted(r)]
    scores = [r["core"] for r in graded]
    stats = "no graded submission"
    if scores:
        stats = (f"mean {statistics.mean(scores):.1f}, median {statistics.median(scores):.1f}, min {min(scores):g}, "
                 f"max {max(scores):g} (out of {graded[0]['core_max']:g})")
    students = {r["student"] for r in report["rows"]} | set(report["not_graded"])
    due, policy = report["term"].due(report["assignment"]), report["term"]
    rule = (f"{policy.late_penalty_per_day:.0%} of the score per day or part of a day late, after "
            f"{policy.grace_minutes:g} minutes of grace")
    return env.get_template("class_report.html.j2").render(
        assignment=report["assignment"], students=len(students), graded=len(graded), stats=stats,
        tests=report["tests"], most_failed=most_failed(report), not_graded=report["not_graded"],
        review=report["review"],
        late=[r for r in report["rows"] if r["late_hours"]], due=due.strftime("%Y-%m-%d %H:%M UTC") if due else "",
        policy=rule)


def write_report(name, root, db_url=None):
    """Write grades.csv, histogram.png, test_failures.png and report.html into reports/<name>/."""
    from .grading import write_grades

    report = class_report(name, root, db_url)
    out = reports_dir(root, name)
    out.mkdir(parents=True, exist_ok=True)
    write_grades(report["rows"], out / "grades.csv")
    plot_histogram(report, out / "histogram.png")
    plot_failures(report, out / "test_failures.png")
    (out / "report.html").write_text(render_html(report))
    return out / "report.html"


def summary_lines(report, top=5):
    """The most failed tests with their commonest message, for the terminal."""
    lines = []
    for t in most_failed(report, top):
        message, n = t["messages"].most_common(1)[0]
        lines.append(f"  {t['id']:<28} failed by {t['failed']}/{t['graded']}: {_short(message, 80)} ({n})")
    return lines
