"""Command line: python -m course {sync,release,demo,intake,autograde,report,calibrate,publish,catalog}."""

import argparse
import sys

from . import ROOT, STUDENT_REPO, assignments, master_path, pipeline
from .notebooks import read, sync_provided, write


def main(argv=None):
    from .preflight import GradingSetupError

    try:
        return run(argv)
    except GradingSetupError as exc:  # the set-up, not a bug: the message says what to do, no traceback
        print(exc, file=sys.stderr)
        return 2


def run(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sync", help="copy provided code (course/data.py) into the master notebooks")
    p = sub.add_parser("release", help="regenerate release/ from the masters with nbgrader")
    p.add_argument("assignment", nargs="*")
    p = sub.add_parser("demo", help="release, autograde example submissions, write feedback and grades.csv")
    p.add_argument("assignment", nargs="*")
    p = sub.add_parser("intake", help="import an LMS export (zip of notebooks) into submitted/<student>/<assignment>/")
    p.add_argument("export", help="the zip file the LMS exported")
    p.add_argument("assignment")
    p.add_argument("--roster", help="student ids, one per line (or a CSV's first column): report the missing ones")
    p = sub.add_parser("autograde", help="autograde submitted/*/<assignment> on parallel workers; write feedback, "
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
    p = sub.add_parser("report", help="write reports/<assignment>/: grades.csv, report.html, histogram, failures")
    p.add_argument("assignment", nargs="*")
    p.add_argument("--db-url", help="the gradebook (default: the course config's)")
    p = sub.add_parser("publish", help="copy release/ and a student README to a student-facing folder or repo")
    p.add_argument("dest")
    p.add_argument("--github", default=STUDENT_REPO, help=f"owner/repo the Colab links point to ({STUDENT_REPO})")
    p = sub.add_parser("calibrate", help="measure grading-mode accuracy over many seeds; propose thresholds")
    p.add_argument("assignment", nargs="*")
    p.add_argument("--seeds", type=int, default=30)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--write", action="store_true", help="store the thresholds in the master's setup cell")
    p = sub.add_parser("catalog", help="print (or --write) docs/catalog.md from the submission catalog in tests/")
    p.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)

    names = getattr(args, "assignment", None) or assignments()
    if args.command == "sync":
        for name in assignments():
            nb = read(master_path(name))
            changed = sync_provided(nb)
            if changed:
                write(nb, master_path(name))
            print(f"{name}: {'updated ' + ', '.join(changed) if changed else 'in sync'}")
    elif args.command == "release":
        pipeline.release(ROOT, names)
    elif args.command == "demo":
        _, problems = pipeline.demo(ROOT, names)
        return 1 if problems else 0
    elif args.command == "intake":
        from .intake import intake
        report = intake(args.export, args.assignment, ROOT, roster=args.roster)
        print("\n".join(report.lines()))
    elif args.command == "autograde":
        from . import report
        rows, failed = [], 0
        for name in names:
            run = pipeline.autograde(name, ROOT, students=args.student, workers=args.workers, db_url=args.db_url,
                                     force=args.force, dask="local" if args.dask_local else args.dask,
                                     feedback=True, progress=True)
            print(run.summary())
            for student, error in sorted(run.failed.items()):
                print(f"  not graded: {student}: {error}")
            failed += len(run.failed)
            rows += pipeline.scores(name, ROOT, args.db_url)
            print(f"class report: {report.write_report(name, ROOT, args.db_url)}")
            print("\n".join(report.summary_lines(report.class_report(name, ROOT, args.db_url))))
        if len(rows) <= 40:
            pipeline.print_table(rows)
        pipeline.write_grades(rows, ROOT / "grades.csv")
        print(f"grades: {ROOT / 'grades.csv'}; feedback: {ROOT / 'feedback'}")
        return 1 if failed else 0
    elif args.command == "report":
        from . import report
        for name in names:
            print(f"class report: {report.write_report(name, ROOT, args.db_url)}")
    elif args.command == "calibrate":
        from . import calibrate
        for name in names:
            report = calibrate.calibrate(name, args.seeds, args.jobs)
            print(calibrate.format_report(name, report, args.seeds))
            if args.write:
                calibrate.write_thresholds(name, report)
                print(f"thresholds written to {master_path(name)}; run `python -m course release`")
    elif args.command == "publish":
        pipeline.publish(args.dest, args.github, ROOT)
    elif args.command == "catalog":
        from .submissions import CATALOG_DOC, catalog_markdown
        text = catalog_markdown(assignments())
        if args.write:
            CATALOG_DOC.write_text(text)
            print(f"wrote {CATALOG_DOC}")
        else:
            print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
