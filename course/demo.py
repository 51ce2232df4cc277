"""The README's main job, `python -m course demo`: release, then grade example submissions built from each master
(the reference, the blank release, one with bugs), and say whether all is as expected."""

from .cells import grade_id, is_solution, is_test, points
from .grading import autograde_class, scores, write_grades
from .grading.grades import print_table
from .nbgrader_ext.preflight import require_ready
from .release import release
from .report import lost_points
from .submissions import demo_submissions, write_submission


def done_for_you(master):
    """{test id: points} of the tests a student earns without writing code: those before the first solution
    cell (a TODO), which can check only provided code."""
    out = {}
    for cell in master.cells:
        if is_solution(cell):
            break
        if is_test(cell):
            out[grade_id(cell)] = points(cell)
    return out


def demo_problems(assignment, rows, run):
    """What the demo's graders must hear: a submission not graded (and why), the reference short of full marks
    or the blank release earning more than the done-for-you points (each failing test with its first error line),
    a buggy submission with full marks."""
    name = assignment.name
    free = sum(done_for_you(assignment.master()).values())
    found = [f"{name}/{student}: not graded: {error}" for student, error in sorted(run.failed.items())]
    for row in rows:
        who = f"{name}/{row.student}"
        if row.status != "graded":
            if row.student not in run.failed:
                found.append(f"{who}: {row.status}")
        elif row.student == "reference" and not row.full_marks:
            lost = lost_points(assignment, row)
            found.append(f"{who}: the reference solution scored {row.core:g}/{row.core_max:g} "
                         f"(extra credit {row.extra:g}/{row.extra_max:g}); failing tests:\n"
                         + "\n".join(f"    {gid}: {message}" for gid, message in lost.items()))
        elif row.student == "blank" and row.core + row.extra > free:
            found.append(f"{who}: the blank release scored {row.core + row.extra:g} points, more than the "
                         f"{free:g} done-for-you points")
        elif row.student == "buggy" and row.core >= row.core_max:
            found.append(f"{who}: the submission with bugs kept full marks")
    return found


def demo(course, names=None, workers=None):
    """Check the set-up, release, then autograde example submissions built from each master (the reference, the
    blank release, one with bugs), with feedback and grades. Returns (grade rows, problems): see demo_problems."""
    chosen = course.select(names)
    require_ready(chosen)  # before release, which writes the gradebook
    release(course, names)
    rows, problems = [], []
    for assignment in chosen:
        for student, nb in demo_submissions(assignment).items():
            write_submission(nb, assignment, student)
        print(f"autograding {assignment} ...", flush=True)
        run = autograde_class(assignment, workers=workers, force=True, feedback=True, progress=True)
        print(run.summary(), flush=True)
        graded = scores(assignment)
        rows += graded
        problems += demo_problems(assignment, graded, run)
    root = course.root
    print_table(rows)
    write_grades(rows, root / "grades.csv")
    print(f"grades: {root / 'grades.csv'}; feedback: {root / 'feedback'}")
    if problems:
        print("\nThe demo found problems:\n" + "\n".join(f"- {p}" for p in problems))
    else:
        print("All as expected: the reference has full marks, the blank release only the done-for-you points, "
              "the submission with bugs lost points.")
    return rows, problems
