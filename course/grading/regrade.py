"""Regrades: chosen students (or all) graded again against today's master, and whose final score changed.

nbgrader keeps what a grader entered by hand (Grade.manual_score) when it autogrades again, and recomputes the
late penalty from scratch; the master's edited tests reach the gradebook first (prepare_gradebook syncs them).
"""

import csv
from dataclasses import dataclass, field

from .classrun import autograde_class
from .grades import scores


@dataclass
class Regrade:
    run: object  # the ClassRun
    changes: list = field(default_factory=list)  # (student, final before or None, final after or None)

    def lines(self):
        changed = [(s, a, b) for s, a, b in self.changes if a != b]
        out = [f"{self.run.assignment}: regraded {len(self.changes)}, {len(changed)} final score(s) changed"]
        for student, before, after in changed:
            if before is None or after is None:
                out.append(f"  {student}: {_fmt(before)} -> {_fmt(after)}")
            else:
                out.append(f"  {student}: {before:g} -> {after:g} ({after - before:+g})")
        return out


def _fmt(x):
    return "not graded" if x is None else f"{x:g}"


def regrade(assignment, students=None, workers=None, progress=True):
    """Autograde `students` of an Assignment (None: everyone submitted) again, with feedback; write
    reports/<a>/regrade.csv."""
    def finals():
        return {r.student: r.final if r.status == "graded" else None for r in scores(assignment)}

    before = finals()
    run = autograde_class(assignment, workers=workers, force=True, students=students, feedback=True,
                          progress=progress)
    after = finals()
    chosen = sorted(students) if students else sorted(set(run.graded) | set(run.failed))
    result = Regrade(run, [(s, before.get(s), after.get(s)) for s in chosen])
    path = assignment.reports / "regrade.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "final before", "final after", "change"])
        for student, a, b in result.changes:
            w.writerow([student, "" if a is None else a, "" if b is None else b,
                        "" if a is None or b is None else round(b - a, 6)])
    return result
