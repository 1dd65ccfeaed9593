"""`autograder feedback`: the feedback pages written again from the kept results, with the scores
and comments the teacher has since given in formgrader."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.cli.course import gradebook_missing


def feedback_parser(commands: argparse._SubParsersAction) -> None:
    pages = commands.add_parser(
        "feedback",
        help="write the feedback pages again, with the teacher's scores from formgrader",
    )
    pages.add_argument(
        "--course", type=Path, default=Path("."), help="the course directory (default: .)"
    )
    pages.add_argument("--db", metavar="URL", help="a SQLAlchemy URL instead of DIR/gradebook.db")
    pages.add_argument(
        "--feedback", type=Path, metavar="DIR", help="where (default: COURSE/reports/feedback)"
    )
    pages.set_defaults(run=_feedback)


def _feedback(args: argparse.Namespace) -> int:
    from autograder.classroom.pages import PAGES, refresh_pages

    if gradebook_missing(args.course, args.db):
        return 2
    try:
        pages, with_hand = refresh_pages(args.course, args.db, args.feedback)
    except OSError as problem:
        print(f"autograder: could not write the feedback pages: {problem}", file=sys.stderr)
        return 1
    where = args.feedback or args.course / PAGES
    print(f"{pages} feedback pages in {where}, {with_hand} with the teacher's scores or comments")
    return 0
