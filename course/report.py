"""The class report of an assignment: grades, per-question pass rates, score histogram, test failures.

Scores come from the gradebook; the message of each failing test comes from the autograded notebook:
the error's name and message only (the last line of its traceback), never the hidden tests' source.
Written to reports/<assignment>/: grades.csv, report.html, histogram.png, test_failures.png.
"""

import html
import re
import statistics
from collections import Counter
from pathlib import Path

from .cells import grade_id
from .grading import gradebook_url, grading_log
from .notebooks import HIDDEN_BEGIN, cell_by_id, grade_cells, offscreen_pyplot, read
from .paths import master_path, notebook_path, reports_dir


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
    """{test id: why it lost points (one line)} for one student's grade row (pipeline.scores)."""
    lost = [gid for gid, (score, top) in row["tests"].items() if score < top]
    if not lost:
        return {}
    path = notebook_path(root, "autograded", row["student"], name)
    cells = {grade_id(c): c for c in read(path).cells} if path.is_file() else {}
    return {gid: failure_message(cells[gid]) if gid in cells else "autograded notebook missing" for gid in lost}


def class_report(name, root, db_url=None):
    """{'rows': grade rows, 'tests': [per-test stats], 'not_graded': {student: why}} for one assignment."""
    from .pipeline import scores

    root = Path(root)
    rows = scores(name, root, gradebook_url(root, db_url))
    graded = [r for r in rows if r["status"] == "graded"]
    not_graded = {r["student"]: r["status"].removeprefix("not graded: ") for r in rows if r["status"] != "graded"}
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
    return {"assignment": name, "rows": rows, "tests": tests, "not_graded": not_graded}


def most_failed(report, top=10):
    """The tests failed by most students, with their messages (most common first)."""
    failing = [t for t in report["tests"] if t["failed"]]
    return sorted(failing, key=lambda t: (-t["failed"], t["id"]))[:top]


def plot_histogram(report, path):
    from matplotlib.ticker import MaxNLocator

    plt = offscreen_pyplot()

    graded = [r for r in report["rows"] if r["status"] == "graded"]
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


STYLE = ("body{font-family:sans-serif;max-width:70em;margin:2em auto} table{border-collapse:collapse} "
         "td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left} td.num{text-align:right} "
         ".bar{background:#4878a8;height:.8em}")


def render_html(report):
    e = html.escape
    name, rows, tests = e(report["assignment"]), report["rows"], report["tests"]
    graded = [r for r in rows if r["status"] == "graded"]
    scores = [r["core"] for r in graded]
    stats = "no graded submission"
    if scores:
        stats = (f"mean {statistics.mean(scores):.1f}, median {statistics.median(scores):.1f}, min {min(scores):g}, "
                 f"max {max(scores):g} (out of {graded[0]['core_max']:g})")
    students = {r["student"] for r in rows} | set(report["not_graded"])
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{name}: class report</title>",
           f"<style>{STYLE}</style></head><body><h1>{name}: class report</h1>",
           (f"<p>{len(students)} submissions, {len(graded)} graded, {len(report['not_graded'])} not graded. "
            f"Autograded scores: {stats}. Written answers are graded by hand in the formgrader.</p>"),
           "<h2>Scores</h2><img src='histogram.png' alt='score histogram'>",
           "<h2>Pass rate per question</h2><table>",
           "<tr><th>test</th><th>hidden tests</th><th>points</th><th>passed</th><th>pass rate</th><th></th></tr>"]
    for t in tests:
        out.append(f"<tr><td>{e(t['id'])}</td><td>{'yes' if t['hidden'] else ''}</td><td class=num>{t['points']:g}"
                   f"</td><td class=num>{t['passed']} / {t['graded']}</td><td class=num>{t['rate']:.0%}</td>"
                   f"<td style='width:12em'><div class=bar style='width:{100 * t['rate']:.0f}%'></div></td></tr>")
    out.append("</table><h2>Test failures</h2><img src='test_failures.png' alt='per-test failure table'>")
    out.append("<h2>Most failed tests and their messages</h2><table>")
    out.append("<tr><th>test</th><th>failed</th><th>messages (number of students)</th></tr>")
    for t in most_failed(report):
        msgs = "<br>".join(f"{n} × <code>{e(m)}</code>" for m, n in t["messages"].most_common(3))
        hidden = " (hidden tests)" if t["hidden"] else ""
        out.append(f"<tr><td>{e(t['id'])}{hidden}</td><td class=num>{t['failed']} / {t['graded']}</td>"
                   f"<td>{msgs}</td></tr>")
    out.append("</table>")
    if report["not_graded"]:
        out.append("<h2>Not graded</h2><p>The autograder could not grade these submissions (see "
                   "<code>autograde_log.csv</code>, and the worker logs in <code>logs/</code>):</p>")
        out.append("<table><tr><th>student</th><th>error</th></tr>")
        out += [f"<tr><td>{e(s)}</td><td><code>{e(err)}</code></td></tr>"
                for s, err in sorted(report["not_graded"].items())]
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


def write_report(name, root, db_url=None):
    """Write grades.csv, histogram.png, test_failures.png and report.html into reports/<name>/."""
    from .pipeline import write_grades

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
