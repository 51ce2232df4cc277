"""The command line, `python -m course` or `course`: sync, release, demo, intake, autograde, regrade, formgrader,
report, calibrate, publish, otter, catalog."""

import argparse
import functools
import sys
from pathlib import Path

from . import STUDENT_REPO, demo, release
from .grading import autograde_class, scores, write_grades
from .grading.grades import print_table
from .notebooks import read, sync_provided, write
from .paths import NotACourse, assignments, master_path


def main(argv=None):
    from traitlets import TraitError

    from .nbgrader_ext.preflight import GradingSetupError

    try:
        return run(argv)
    except (GradingSetupError, NotACourse) as exc:  # the set-up, not a bug: the message says what to do
        print(exc, file=sys.stderr)
        return 2
    except TraitError as exc:  # a bad value in nbgrader_config.py (c.Term.*, ...): the message names it
        print(f"nbgrader_config.py: {exc}", file=sys.stderr)
        return 2


def run(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", default=".", help="the course root: the folder with source/ and nbgrader_config.py "
                                                    "(default: the current directory)")
    sub = parser.add_subparsers(dest="command", required=True)
    command = functools.partial(sub.add_parser, parents=[common])  # every command takes --root
    command("sync", help="copy provided code (course/data.py) into the master notebooks")
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
    p = command("publish", help="copy release/ and a student README to a student-facing folder or repo")
    p.add_argument("dest")
    p.add_argument("--github", default=STUDENT_REPO, help=f"owner/repo the Colab links point to ({STUDENT_REPO})")
    p.add_argument("--otter", action="store_true", help="also the otter (Gradescope) student notebooks built by "
                                                        "`python -m course otter`, as otter/<a>/<a>.ipynb")
    p = command("calibrate", help="measure grading-mode accuracy over many seeds; propose thresholds")
    p.add_argument("assignment", nargs="*")
    p.add_argument("--seeds", type=int, default=30)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--write", action="store_true", help="store the thresholds in the master's setup cell")
    p.add_argument("--full", action="store_true", help="run the full-size training instead, and report each "
                                                       "accuracy's margin above the target the notebook states")
    p = command("otter", help="build the otter-grader (Gradescope) edition: DIR/<assignment>/student/<assignment>.ipynb "
                              "and DIR/<assignment>/autograder/<assignment>-autograder.zip")
    p.add_argument("assignment", nargs="*")
    p.add_argument("--out", metavar="DIR", help="where to write (default: dist/otter/ in the course root; the zip "
                                                "holds solutions and hidden tests: keep it private)")
    p = command("catalog", help="print (or --write) docs/catalog.md from the catalog (catalog/<assignment>.py)")
    p.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)

    root = Path(args.root).resolve()
    names = getattr(args, "assignment", None) or assignments(root)
    if args.command == "sync":
        for name in assignments(root):
            nb = read(master_path(name, root))
            changed = sync_provided(nb)
            if changed:
                write(nb, master_path(name, root))
            print(f"{name}: {'updated ' + ', '.join(changed) if changed else 'in sync'}")
    elif args.command == "release":
        release.release(root, names)
    elif args.command == "demo":
        _, problems = demo.demo(root, names)
        return 1 if problems else 0
    elif args.command == "intake":
        from .intake import intake
        report = intake(args.export, args.assignment, root, roster=args.roster)
        print("\n".join(report.lines()))
    elif args.command == "autograde":
        from . import report
        rows, failed = [], 0
        for name in names:
            run = autograde_class(name, root, students=args.student, workers=args.workers, db_url=args.db_url,
                                  force=args.force, dask="local" if args.dask_local else args.dask, feedback=True,
                                  progress=True)
            print(run.summary())
            for student, error in sorted(run.failed.items()):
                print(f"  not graded: {student}: {error}")
            failed += len(run.failed)
            rows += scores(name, root, args.db_url)
            print(f"class report: {report.write_report(name, root, args.db_url)}")
            print("\n".join(report.summary_lines(report.class_report(name, root, args.db_url))))
        if len(rows) <= 40:
            print_table(rows)
        write_grades(rows, root / "grades.csv")
        print(f"grades: {root / 'grades.csv'}; feedback: {root / 'feedback'}")
        return 1 if failed else 0
    elif args.command == "regrade":
        from . import report
        from .grading.regrade import regrade
        result = regrade(args.assignment, root, students=args.student, workers=args.workers, db_url=args.db_url)
        print(result.run.summary())
        for student, error in sorted(result.run.failed.items()):
            print(f"  not graded: {student}: {error}")
        print("\n".join(result.lines()))
        print(f"class report: {report.write_report(args.assignment, root, args.db_url)}")
        return 1 if result.run.failed else 0
    elif args.command == "formgrader":
        from .formgrader import serve
        return serve(root, args.port, args.ip)
    elif args.command == "report":
        from . import report
        for name in names:
            print(f"class report: {report.write_report(name, root, args.db_url)}")
            if args.lms:
                from .lms import export
                print("\n".join(export(name, root, args.lms, args.db_url).lines()))
    elif args.command == "calibrate":
        from . import calibrate
        if args.full and args.write:
            parser.error("--write stores grading-mode thresholds: leave out --full")
        for name in names:
            report = calibrate.calibrate(name, root, args.seeds, args.jobs, full=args.full)
            print(calibrate.format_report(name, report, args.seeds, full=args.full))
            if args.write:
                calibrate.write_thresholds(name, report, root)
                print(f"thresholds written to {master_path(name, root)}; run `python -m course release`")
    elif args.command == "publish":
        release.publish(args.dest, root, args.github, otter=args.otter)
    elif args.command == "otter":
        from . import otter
        unknown = sorted(set(names) - set(assignments(root)))
        if unknown:
            print(f"no such assignment: {', '.join(unknown)} (the course has: {', '.join(assignments(root))})",
                  file=sys.stderr)
            return 2
        for name in names:
            try:
                out = otter.build(name, root, args.out)
            except otter.OtterBuildError as exc:
                print(exc, file=sys.stderr)
                return 1
            print(f"{name}: {out / 'student' / (name + '.ipynb')}\n{' ' * len(name)}  "
                  f"{out / 'autograder' / (name + '-autograder.zip')}  (private: solutions and hidden tests)")
            for line in otter.summary(name, root):
                print(f"{' ' * len(name)}  {line}")
    elif args.command == "catalog":
        from .submissions import catalog_doc, catalog_markdown
        text = catalog_markdown(assignments(root), root)
        if args.write:
            catalog_doc(root).write_text(text)
            print(f"wrote {catalog_doc(root)}")
        else:
            print(text, end="")
    return 0
