"""The command line, `python -m course` or `course`: sync, release, demo, intake, autograde, regrade, formgrader,
report, similarity, feedback, mistakes, mutants, calibrate, publish, otter, catalog.

One function per command, each given the parsed arguments and the Course (course/course.py) of --root; it returns
the exit code. `main` turns the set-up's errors (not a course, no sandbox or data, a bad config value, an unknown
assignment) into one message and exit code 2.
"""

import argparse
import functools
import sys

from .course import Course, UnknownAssignment
from .paths import STUDENT_REPO, NotACourse


def main(argv=None):
    from traitlets import TraitError

    from .nbgrader_ext.preflight import GradingSetupError

    try:
        return run(argv)
    except (GradingSetupError, NotACourse, UnknownAssignment) as exc:  # the set-up: the message says what to do
        print(exc, file=sys.stderr)
        return 2
    except TraitError as exc:  # a bad value in nbgrader_config.py (c.Term.*, ...): the message names it
        print(f"nbgrader_config.py: {exc}", file=sys.stderr)
        return 2


def sync(args, course):
    from .release import sync as sync_master

    for assignment in course:
        changed = sync_master(assignment)
        print(f"{assignment}: {'updated ' + ', '.join(changed) if changed else 'in sync'}")
    return 0


def release(args, course):
    from .release import release as release_all

    release_all(course, args.assignment)
    return 0


def demo(args, course):
    from .demo import demo as run_demo

    _, problems = run_demo(course, args.assignment)
    return 1 if problems else 0


def intake(args, course):
    from .intake import intake as run_intake

    report = run_intake(args.export, course[args.assignment], roster=args.roster)
    print("\n".join(report.lines()))
    return 0


def autograde(args, course):
    from . import report
    from .grading import autograde_class, scores, write_grades
    from .grading.grades import print_table

    rows, failed = [], 0
    for assignment in course.select(args.assignment):
        run = autograde_class(assignment, students=args.student, workers=args.workers, force=args.force,
                              dask="local" if args.dask_local else args.dask, feedback=True, progress=True)
        print(run.summary())
        for student, error in sorted(run.failed.items()):
            print(f"  not graded: {student}: {error}")
        failed += len(run.failed)
        rows += scores(assignment)
        print(f"class report: {report.write_report(assignment)}")
        print("\n".join(report.summary_lines(report.class_report(assignment))))
    if len(rows) <= 40:
        print_table(rows)
    write_grades(rows, course.root / "grades.csv")
    print(f"grades: {course.root / 'grades.csv'}; feedback: {course.root / 'feedback'}")
    return 1 if failed else 0


def regrade(args, course):
    from . import report
    from .grading.regrade import regrade as run_regrade

    assignment = course[args.assignment]
    result = run_regrade(assignment, students=args.student, workers=args.workers)
    print(result.run.summary())
    for student, error in sorted(result.run.failed.items()):
        print(f"  not graded: {student}: {error}")
    print("\n".join(result.lines()))
    print(f"class report: {report.write_report(assignment)}")
    return 1 if result.run.failed else 0


def formgrader(args, course):
    from .formgrader import serve

    return serve(course, args.port, args.ip)


def report(args, course):
    from .lms import export
    from .report import write_report

    for assignment in course.select(args.assignment):
        print(f"class report: {write_report(assignment)}")
        if args.lms:
            print("\n".join(export(assignment, args.lms).lines()))
    return 0


def similarity(args, course):
    from .similarity import similarity as compare_class
    from .similarity import write_report

    for assignment in course.select(args.assignment):
        result = compare_class(assignment)
        print("\n".join(result.lines()))
        print(f"similarity report: {write_report(result, assignment.reports)}")
    return 0


def feedback(args, course):
    from .lms import pack_feedback

    pack = pack_feedback(course[args.assignment], args.lms)
    print("\n".join(pack.lines()))
    return 0


def mistakes(args, course):
    from .mistakes import otter_report

    path, found, unread = otter_report(course[args.assignment], args.results)
    for file, why in sorted(unread.items()):
        print(f"  not read: {file}: {why}")
    for q in found:
        if q.lost:
            print(f"  {q.id:<28} lost by {q.share:.0%} ({q.lost} / {q.graded}): {q.groups[0].message[:90]}")
    print(f"what the class got wrong: {path}")
    return 0


def mutants(args, course):
    import time

    from . import mutants as mutation

    for assignment in course.select(args.assignment):
        start = time.perf_counter()
        outcomes, not_graded = mutation.run(assignment, args.question, args.workers, args.sample, args.timeout)
        seconds = time.perf_counter() - start
        print("\n".join(mutation.summary_lines(outcomes)))
        for cell, why in sorted(not_graded.items()):
            print(f"  not graded here: {cell}: {why}")
        print(f"mutants: {mutation.write_report(assignment, outcomes, not_graded, seconds)} ({seconds:.0f} s)")
    return 0


def calibrate(args, course):
    from . import calibrate as cal

    for assignment in course.select(args.assignment):
        report = cal.calibrate(assignment, args.seeds, args.jobs, full=args.full)
        print(cal.format_report(assignment, report, args.seeds, full=args.full))
        if args.write:
            cal.write_thresholds(assignment, report)
            print(f"thresholds written to {assignment.folder / 'manifest.toml'} and {assignment.master_path}; "
                  "run `python -m course release`")
    return 0


def publish(args, course):
    from .release import publish as publish_release

    publish_release(course, args.dest, args.github, otter=args.otter)
    return 0


def otter(args, course):
    from . import otter as edition

    for assignment in course.select(args.assignment):
        name = assignment.name
        try:
            out = edition.build(assignment, args.out)
        except edition.OtterBuildError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"{name}: {out / 'student' / (name + '.ipynb')}\n{' ' * len(name)}  "
              f"{out / 'autograder' / (name + '-autograder.zip')}  (private: solutions and hidden tests)")
        for line in edition.summary(assignment):
            print(f"{' ' * len(name)}  {line}")
    return 0


def catalog(args, course):
    from .submissions import catalog_doc, catalog_markdown

    text = catalog_markdown(list(course))
    if args.write:
        from .mistakes import write_catalog_messages

        catalog_doc(course).write_text(text)
        print(f"wrote {catalog_doc(course)}")
        for assignment in course:
            path, written = write_catalog_messages(assignment)
            print(f"{'wrote' if written else 'up to date:'} {path} (each bug's first message, for the class report)")
    else:
        print(text, end="")
    return 0


COMMANDS = {f.__name__: f for f in (sync, release, demo, intake, autograde, regrade, formgrader, report, similarity,
                                    feedback, mistakes, mutants, calibrate, publish, otter, catalog)}


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__.split("\n\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", default=".", help="the course root: the folder with source/ and nbgrader_config.py "
                                                    "(default: the current directory)")
    sub = parser.add_subparsers(dest="command", required=True)
    command = functools.partial(sub.add_parser, parents=[common])  # every command takes --root
    command("sync", help="copy provided code (course/data.py) and the manifests' grading thresholds into the masters")
    p = command("release", help="regenerate release/ from the masters with nbgrader")
    p.add_argument("assignment", nargs="*")
    p = command("demo", help="release, autograde example submissions, write feedback and grades.csv")
    p.add_argument("assignment", nargs="*")
    p = command("intake", help="import an LMS export (zip of notebooks) into submitted/<student>/<assignment>/")
    p.add_argument("export", help="the zip file the LMS exported")
    p.add_argument("assignment")
    p.add_argument("--roster", help="student ids, one per line (or a CSV's first column): report the missing ones")
    p = command("autograde", help="autograde submitted/*/<assignment> on parallel workers; write feedback, "
                                  "grades.csv and the class report (reports/<assignment>/)")
    p.add_argument("assignment", nargs="*")
    p.add_argument("--workers", type=int, help="parallel workers (default: one per core; with --dask-local, "
                                               "that many Dask workers)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--dask", metavar="tcp://HOST:8786", help="grade on a running Dask scheduler's workers")
    where.add_argument("--dask-local", action="store_true", help="grade on a Dask LocalCluster on this machine")
    p.add_argument("--db-url", help="the gradebook (nbgrader's db_url), e.g. postgresql://user@host/gradebook; "
                                    "default: the course config's, else sqlite:///gradebook.db")
    p.add_argument("--force", action="store_true", help="regrade submissions already graded")
    p.add_argument("--student", action="append", help="only this student (repeatable)")
    p = command("regrade", help="grade chosen students (or all) again against the edited master, keeping hand-entered "
                                "scores; list whose final score changed (reports/<assignment>/regrade.csv)")
    p.add_argument("assignment")
    p.add_argument("--student", action="append", help="only this student (repeatable; default: everyone)")
    p.add_argument("--workers", type=int, help="parallel workers (default: one per core)")
    p.add_argument("--db-url", help="the gradebook (default: the course config's)")
    p = command("formgrader", help="start Jupyter with nbgrader's formgrader on this course, for hand grading")
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--ip", default="127.0.0.1", help="address to listen on (default: this machine only)")
    p = command("report", help="write reports/<assignment>/: grades.csv, report.html, histogram, failures")
    p.add_argument("assignment", nargs="*")
    p.add_argument("--db-url", help="the gradebook (default: the course config's)")
    p.add_argument("--lms", choices=["canvas", "moodle"], help="also write reports/<assignment>/<lms>.csv, the file "
                                                              "the LMS imports (Canvas gradebook, Moodle worksheet)")
    p = command("similarity", help="compare the code every pair of students wrote: reports/<assignment>/"
                                   "similarity.html (pairs ranked, side by side) and similarity.csv")
    p.add_argument("assignment", nargs="*")
    p = command("feedback", help="write every student's feedback (nbgrader) and pack it for the LMS's bulk upload: "
                                 "reports/<assignment>/feedback_<lms>.zip")
    p.add_argument("assignment")
    p.add_argument("--lms", choices=["canvas", "moodle"], required=True)
    p = command("mistakes", help="what the class got wrong, from a folder of otter-grader results.json files "
                                 "(Gradescope): reports/<assignment>/otter_mistakes.md")
    p.add_argument("assignment")
    p.add_argument("results", help="folder of results.json files, one per submission (any depth)")
    p = command("mutants", help="mutation analysis: one-line mistakes in the solution regions, graded by the "
                                "master's tests; killed only if their own question loses points "
                                "(reports/mutants/<assignment>.md and .csv)")
    p.add_argument("assignment", nargs="*")
    p.add_argument("--question", action="append", help="only the cells this test grades (repeatable)")
    p.add_argument("--workers", type=int, default=2, help="parallel workers (default 2)")
    p.add_argument("--sample", type=int, metavar="N", help="only N mutants per cell, a fixed sample")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds a mutant may take (default 120)")
    p = command("publish", help="copy release/ and a student README to a student-facing folder or repo")
    p.add_argument("dest")
    p.add_argument("--github", default=STUDENT_REPO, help=f"owner/repo the Colab links point to ({STUDENT_REPO})")
    p.add_argument("--otter", action="store_true", help="also the otter (Gradescope) student notebooks built by "
                                                        "`python -m course otter`, as otter/<a>/<a>.ipynb")
    p = command("calibrate", help="measure grading-mode accuracy over many seeds; propose thresholds")
    p.add_argument("assignment", nargs="*")
    p.add_argument("--seeds", type=int, default=30)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--write", action="store_true", help="store the thresholds in the manifest and the master")
    p.add_argument("--full", action="store_true", help="run the full-size training instead, and report each "
                                                       "accuracy's margin above the target the notebook states")
    p = command("otter", help="build the otter-grader (Gradescope) edition: DIR/<assignment>/student/<assignment>.ipynb "
                              "and DIR/<assignment>/autograder/<assignment>-autograder.zip")
    p.add_argument("assignment", nargs="*")
    p.add_argument("--out", metavar="DIR", help="where to write (default: dist/otter/ in the course root; the zip "
                                                "holds solutions and hidden tests: keep it private)")
    p = command("catalog", help="print (or --write) docs/catalog.md from the catalog (source/<assignment>/catalog.py); "
                                "--write also records each bug's message (source/<assignment>/catalog_messages.json)")
    p.add_argument("--write", action="store_true")
    return parser


def run(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "calibrate" and args.full and args.write:
        parser.error("--write stores grading-mode thresholds: leave out --full")
    course = Course.at(args.root, db_url=getattr(args, "db_url", None))
    named = getattr(args, "assignment", None)
    course.select([named] if isinstance(named, str) else named)  # an unknown name stops here, before any work
    return COMMANDS[args.command](args, course)
