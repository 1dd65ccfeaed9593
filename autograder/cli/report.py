"""`autograder report`: the class report of a course, from its gradebook and kept results, as one
HTML page, and its statistics as JSON for scripts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.cli.course import gradebook_missing
from autograder.cli.folders import exercises_option
from autograder.judging.feedback import LANGUAGES
from autograder.model.catalogue import ASSIGNMENTS


def report_parser(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report", help="write the class report: per question, what the class got wrong"
    )
    report.add_argument(
        "--course", type=Path, default=Path("."), help="the course directory (default: .)"
    )
    report.add_argument("--db", metavar="URL", help="a SQLAlchemy URL instead of DIR/gradebook.db")
    report.add_argument(
        "--assignment", nargs="+", choices=ASSIGNMENTS, default=(), help="only these"
    )
    report.add_argument(
        "--out", type=Path, metavar="FILE", help="the page (default: COURSE/reports/report.html)"
    )
    report.add_argument("--lang", default="de", choices=LANGUAGES)
    exercises_option(report)
    report.add_argument("--json", type=Path, metavar="FILE", help="the statistics as JSON")
    report.set_defaults(run=_report)


def _report(args: argparse.Namespace) -> int:
    from autograder.release.files import write_whole
    from autograder.reports.class_data import report_course
    from autograder.reports.statistics import as_json

    if gradebook_missing(args.course, args.db):
        return 2
    try:
        path, stats = report_course(args.course, args.db, args.lang, args.assignment, args.out)
        if args.json:
            write_whole(args.json, as_json(stats))
    except OSError as problem:
        print(f"autograder: could not write the report: {problem}", file=sys.stderr)
        return 1
    print(f"class report: {path}")
    if args.json:
        print(f"statistics: {args.json}")
    return 0
