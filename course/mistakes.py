"""What the class got wrong: per question, the share of students who lost it, their first messages grouped, and the
catalog bug each group matches, so that an instructor reads "38% forgot `+=` in `add`" before the next lecture.

Both grading paths feed it: the nbgrader gradebook and autograded notebooks (course/report.py), and a folder of
otter-grader's results.json files, one per submission (Gradescope's "Download Grades > Export Submissions", or
`otter run` for each notebook). Messages are grouped once their numbers are rounded to three significant digits:
the tests are seeded, so one mistake gives one message, whatever else the student wrote (each question is graded
with trusted copies of the others).

A group matches a catalog bug (source/<a>/catalog.py) when that bug's own first message, as the in-process grader
gives it (source/<a>/catalog_messages.json, written by `python -m course catalog --write` for the master and catalog
as they are, and checked by tests/test_catalog.py), is the group's message (numbers rounded as above: a message
that carries a timing matches no bug, but names its cause itself). Mutants (issue 24's `course mutants`)
are not matched yet.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
ERROR_LINE = re.compile(r"^\s*((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Review)): (.*)$")
MESSAGES = "catalog_messages.json"


NEEDS = re.compile(r"(?<=: ).*? failed above, and this test needs (?:it|them) to pass: fix (?:it|them) first "
                   r"\(what follows may only be a consequence\)\. ")


def normalize(message):
    """A message as a group key: without what the grader said first of earlier tests that failed (the same mistake
    is the same group whatever else the student got wrong), numbers rounded to three significant digits, spacing
    collapsed."""
    message = NEEDS.sub("", message, count=1)
    def rounded(m):
        try:
            return f"{float(m.group()):.3g}"
        except ValueError:
            return m.group()

    return re.sub(r"\s+", " ", NUMBER.sub(rounded, message)).strip()[:500]


@dataclass
class Group:
    message: str  # the commonest exact message of the group
    students: int
    bugs: list = field(default_factory=list)  # catalog bugs whose message this is


@dataclass
class QuestionMistakes:
    id: str
    points: float
    graded: int
    lost: int = 0
    groups: list = field(default_factory=list)  # Group, most students first

    @property
    def share(self):
        return self.lost / self.graded if self.graded else 0.0


def catalog_key(assignment):
    """What the catalog's messages depend on: the master's and the catalog's bytes (sha256)."""
    import hashlib

    digest = hashlib.sha256(assignment.master_path.read_bytes())
    catalog = assignment.folder / "catalog.py"
    digest.update(catalog.read_bytes() if catalog.is_file() else b"")
    return digest.hexdigest()


def catalog_messages(assignment):
    """{bug: {"test": first question to fail, "message": what it says}} of the Assignment's catalog, as recorded for
    the master and catalog as they are now; {} when none is recorded or the record is stale (a message recorded for
    another version of a test could name the wrong bug)."""
    path = assignment.folder / MESSAGES
    if not path.is_file():
        return {}
    recorded = json.loads(path.read_text())
    return recorded.get("bugs", {}) if recorded.get("key") == catalog_key(assignment) else {}


def bug_messages(assignment):
    """The catalog's bugs graded in process as test_catalog grades them: {bug: {"test", "message"}}."""
    from .notebooks import grade_in_process
    from .submissions import with_bugs

    out = {}
    for bug, entry in sorted(assignment.catalog.BUGS.items()):
        messages = {}
        grade_in_process(with_bugs(assignment, [bug], keep_hidden_tests=True), assignment.left_out(),
                         messages=messages)
        first = entry["fails"][0]
        out[bug] = {"test": first, "message": messages.get(first, "")}
    return out


def write_catalog_messages(assignment):
    """Record each catalog bug's first message in source/<a>/catalog_messages.json, unless the record is already
    for this master and catalog. Returns (path, whether it was written)."""
    path = assignment.folder / MESSAGES
    key = catalog_key(assignment)
    if path.is_file() and json.loads(path.read_text()).get("key") == key:
        return path, False
    path.write_text(json.dumps({"key": key, "bugs": bug_messages(assignment)}, indent=1, sort_keys=True) + "\n")
    return path, True


def matching_bugs(test, message, known):
    """The catalog bugs (`known`: catalog_messages) whose first message in `test` is this one."""
    key = normalize(message)
    return sorted(bug for bug, seen in known.items()
                  if seen["test"] == test and seen["message"] and key == normalize(seen["message"]))


def class_mistakes(tests, outcomes, known=None):
    """[QuestionMistakes] per question of `tests` ([(id, points)], in order), from `outcomes`: one
    {test id: (lost points?, message)} per graded student; `known`: catalog_messages."""
    known = known or {}
    out = []
    for test, pts in tests:
        q = QuestionMistakes(test, pts, len(outcomes))
        groups, examples = Counter(), {}
        for student in outcomes:
            lost, message = student.get(test, (False, ""))
            if lost:
                q.lost += 1
                key = normalize(message)
                groups[key] += 1
                examples.setdefault(key, Counter())[message] += 1
        for key, n in groups.most_common():
            message = examples[key].most_common(1)[0][0]
            q.groups.append(Group(message, n, matching_bugs(test, message, known)))
        out.append(q)
    return out


def first_error(output):
    """The error ('AssertionError: ...', with the lines of its message that follow) in an otter test's output, as
    the class report reads it from nbgrader's (one line); else the output's last non-empty line."""
    lines = (output or "").splitlines()
    for i in range(len(lines) - 1, -1, -1):
        m = ERROR_LINE.match(lines[i])
        if m:
            rest = []
            for line in lines[i + 1:]:
                if not line.strip():
                    break
                rest.append(line.strip())
            return re.sub(r"\s+", " ", " ".join([f"{m.group(1)}: {m.group(2).strip()}", *rest])).strip()
    filled = [line for line in lines if line.strip()]
    return filled[-1].strip() if filled else "lost points without an error message"


def otter_outcomes(folder):
    """From a folder of otter results.json files (one per submission, any depth): ([(question, points)], [{question:
    (lost?, message)}], {file: why it was not read})."""
    tests, outcomes, unread = {}, [], {}
    for path in sorted(Path(folder).rglob("*.json")):
        try:
            results = json.loads(path.read_text())
            entries = [t for t in results["tests"] if "score" in t and "max_score" in t]
        except (ValueError, KeyError, TypeError) as exc:
            unread[str(path)] = f"not otter's results.json ({type(exc).__name__})"
            continue
        student = {}
        for t in entries:
            tests.setdefault(t["name"], float(t["max_score"]))
            lost = float(t["score"]) < float(t["max_score"])
            student[t["name"]] = (lost, first_error(t.get("output", "")) if lost else "")
        outcomes.append(student)
    return list(tests.items()), outcomes, unread


def markdown(assignment_name, mistakes, top=3):
    """The table as Markdown: question, share who lost it, the commonest messages with the bugs they match."""
    lines = [f"# {assignment_name}: what the class got wrong", "",
             "| question | lost it | commonest messages (students) | catalog bug |", "|---|---|---|---|"]
    for q in mistakes:
        if not q.lost:
            continue
        for i, g in enumerate(q.groups[:top]):
            head = (f"`{q.id}` ({q.points:g} points)", f"{q.share:.0%} ({q.lost} / {q.graded})") if i == 0 else ("", "")
            message = g.message.replace("|", "\\|")
            bugs = ", ".join(f"`{b}`" for b in g.bugs) or "-"
            lines.append(f"| {head[0]} | {head[1]} | {g.students} × {message} | {bugs} |")
    return "\n".join(lines) + "\n"


def otter_report(assignment, folder, out=None):
    """reports/<a>/otter_mistakes.md from a folder of otter results.json files; returns (path, mistakes, unread)."""
    tests, outcomes, unread = otter_outcomes(folder)
    mistakes = class_mistakes(tests, outcomes, catalog_messages(assignment))
    path = Path(out) if out else assignment.reports / "otter_mistakes.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(assignment.name, mistakes))
    return path, mistakes, unread
