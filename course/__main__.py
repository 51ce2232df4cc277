"""Command line: python -m course {sync,release,demo,autograde,calibrate,publish,catalog}."""

import argparse
import sys

from . import ROOT, STUDENT_REPO, assignments, master_path, pipeline
from .notebooks import read, sync_provided, write


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sync", help="copy provided code (course/data.py) into the master notebooks")
    p = sub.add_parser("release", help="regenerate release/ from the masters with nbgrader")
    p.add_argument("assignment", nargs="*")
    p = sub.add_parser("demo", help="release, autograde example submissions, write feedback and grades.csv")
    p.add_argument("assignment", nargs="*")
    p = sub.add_parser("autograde", help="autograde submitted/*/<assignment>, write feedback and grades.csv")
    p.add_argument("assignment", nargs="*")
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
        pipeline.demo(ROOT, names)
    elif args.command == "autograde":
        rows = []
        for name in names:
            pipeline.autograde(name, ROOT)
            pipeline.feedback(name, ROOT)
            rows += pipeline.scores(name, ROOT)
        pipeline.print_table(rows)
        pipeline.write_grades(rows, ROOT / "grades.csv")
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
