"""The `autograder` command: a thin shell over the package's functions, one subcommand per job.

Errors a user can fix are printed as one line and exit with 2; nothing here computes by itself.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from autograder.cli.answers import run_answers
from autograder.cli.course import gradebook_missing
from autograder.cli.feedback import feedback_parser
from autograder.cli.folders import exercises_option, take_folders
from autograder.cli.grade import grade_parser
from autograder.cli.lint import lint_parser
from autograder.cli.new import new_parser
from autograder.cli.report import report_parser
from autograder.judging.feedback import LANGUAGES
from autograder.model.catalogue import ASSIGNMENTS, exercise
from autograder.model.errors import UserError

# Each command imports what it needs when it runs: `autograder --help` loads no SymPy, NumPy,
# nbformat or nbgrader.


# jsonschema's format checker imports a library for each format it knows; a notebook's schema uses
# none of them, and in this process nothing else asks for them (60 ms of every command that reads
# a notebook). Where a library is missing, jsonschema leaves its format unchecked.
FORMAT_ONLY = (
    "fqdn",
    "isoduration",
    "rfc3339_validator",
    "rfc3986_validator",
    "uri_template",
    "webcolors",
)


def command() -> None:
    """The `autograder` command: `main`, then the exit handlers, and the process ends without the
    interpreter's teardown of every module it loaded (SymPy, SQLAlchemy, nbformat: 0.3 s after a
    run of one notebook, with nothing left to write)."""
    if "jsonschema" not in sys.modules:
        for name in FORMAT_ONLY:
            sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    code = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `autograder answers | head` ends quietly
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        take_folders(argv)
        args = _parser().parse_args(argv)
        return int(args.run(args))
    except UserError as error:
        print(f"autograder: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder",
        description="Exercises on how neural networks learn: references derived by SymPy, "
        "answers graded with named mistakes.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    answers = commands.add_parser("answers", help="print the answer key")
    answers.add_argument(
        "assignment", nargs="?", choices=ASSIGNMENTS, help="one assignment (default: all)"
    )
    answers.add_argument("--json", action="store_true", help="print the key as JSON")
    answers.add_argument(
        "--mistakes",
        action="store_true",
        help="also every mistake the grader names, alone and two at once, with the answer it gives",
    )
    answers.add_argument(
        "--student",
        metavar="ID",
        help="the key of one student's own numbers (an assignment released with --per-student)",
    )
    _course_option(answers, "the course whose secret draws the student's numbers")
    answers.set_defaults(run=run_answers)

    audit_cmd = commands.add_parser(
        "audit",
        help="list published values (slides, worksheets) that the derivation does not support",
    )
    audit_cmd.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="YAML or JSON: question id → value as printed",
    )
    audit_cmd.add_argument("--lang", default="de", choices=LANGUAGES)
    audit_cmd.add_argument("--json", action="store_true", help="print the findings as JSON")
    audit_cmd.set_defaults(run=_audit)

    rel = commands.add_parser(
        "release",
        help="write instructor (solutions/) and student (release/) notebooks through nbgrader",
    )
    rel.add_argument(
        "assignments",
        nargs="*",
        choices=[[], *ASSIGNMENTS],
        metavar="ASSIGNMENT",
        help="default: all",
    )
    _course_option(rel, "the nbgrader course directory")
    rel.add_argument(
        "--lang",
        default="de",
        choices=[*LANGUAGES, "all"],
        help="all: one course per language, DIR/<lang>",
    )
    rel.add_argument(
        "--out", type=Path, default=Path("."), help="where solutions/ and release/ go (default: .)"
    )
    rel.add_argument("--db", metavar="URL", help="a SQLAlchemy URL instead of DIR/gradebook.db")
    rel.add_argument(
        "--per-student",
        action="store_true",
        help="also one notebook per student with their own numbers, drawn from the course's "
        "secret: COURSE/release_per_student/STUDENT/ASSIGNMENT/",
    )
    roster = rel.add_mutually_exclusive_group()
    roster.add_argument(
        "--students", type=Path, metavar="FILE", help="the class list: one student id per line"
    )
    roster.add_argument(
        "--from-gradebook",
        action="store_true",
        help="the students in the course's nbgrader gradebook",
    )
    rel.set_defaults(run=_release)

    chk = commands.add_parser(
        "check", help="the student's self-check: is every answer of the right form?"
    )
    chk.add_argument("notebook", type=Path, metavar="NOTEBOOK")
    for takes_an_assignment in (answers, audit_cmd, rel, chk):
        exercises_option(takes_an_assignment)
    chk.set_defaults(run=_check)

    grade_parser(commands)
    feedback_parser(commands)
    report_parser(commands)
    new_parser(commands)
    lint_parser(commands)

    exp = commands.add_parser("export", help="write the gradebook's grades for an LMS")
    exp.add_argument(
        "--course", type=Path, default=Path("."), help="the course directory (default: .)"
    )
    exp.add_argument("--db", metavar="URL", help="a SQLAlchemy URL instead of DIR/gradebook.db")
    exp.add_argument(
        "--format",
        default="csv",
        choices=("csv", "moodle", "canvas", "questions"),
        help="csv: totals; moodle, canvas: for their grade imports; questions: a row per question",
    )
    exp.add_argument("--out", type=Path, help="write to this file (default: print)")
    exp.set_defaults(run=_export)

    run_demo = commands.add_parser("demo", help="grade a small sample class on every assignment")
    run_demo.add_argument("--lang", default="de", choices=LANGUAGES)
    run_demo.add_argument(
        "--out",
        type=Path,
        help="where the class report and feedback pages stay (default: TMP/autograder-demo/reports)",
    )
    run_demo.set_defaults(run=_demo)
    return parser


def _export(args: argparse.Namespace) -> int:
    from autograder.classroom.gradebook import Gradebook
    from autograder.release.files import write_whole
    from autograder.reports.results import export

    if gradebook_missing(args.course, args.db):
        return 2
    if args.format == "questions":
        from autograder.reports.class_data import class_stats
        from autograder.reports.class_exports import questions_csv

        text = questions_csv(class_stats(args.course, args.db)[0])
    else:
        with Gradebook(args.course, args.db) as book:
            rows = book.rows()
        if args.format == "canvas":
            from autograder.reports.class_exports import canvas_csv

            text = canvas_csv(rows)
        else:
            text = export(rows, args.format)
    if args.out:
        try:
            write_whole(args.out, text)
        except OSError as problem:
            print(f"autograder: could not write {args.out}: {problem}", file=sys.stderr)
            return 1
    else:
        print(text, end="")
    return 0


def _course_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--course", type=Path, default=Path("course"), help=f"{what} (default: ./course)"
    )


def _audit(args: argparse.Namespace) -> int:
    from autograder.judging import feedback
    from autograder.reports.audit import Finding, audit, load

    sources = [source for path in args.files for source in load(path)]
    findings = audit(sources, args.lang)
    if args.json:
        print(json.dumps([f.as_dict() for f in findings], indent=1, ensure_ascii=False))
        return 1 if findings else 0
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.source, f.qid), []).append(f)
    for (source, qid), found in groups.items():
        total = _count(dict(next(v for s, v in sources if s == source))[qid])
        head = feedback.message(
            "audit", "finding", args.lang, source=source, id=qid, count=len(found), total=total
        )
        print(head)
        for f in found:
            where = "".join(f"[{i}]" for i in f.where)
            entry = feedback.message(
                "audit", "entry", args.lang, published=f.published, right=f.right
            )
            print(f"    {where:<8} {entry}")
        if found[0].mistake:
            print(f"    → {found[0].mistake}: {found[0].explanation}")
    answers = sum(len(values) for _, values in sources)
    print(feedback.message("audit", "summary", args.lang, count=len(findings), answers=answers))
    return 1 if findings else 0


def _count(value: object) -> int:
    return sum(_count(v) for v in value) if isinstance(value, list) else 1


def _release(args: argparse.Namespace) -> int:
    from autograder.release.assignments import (
        release,  # nbgrader is imported only when a release is made
    )

    names = args.assignments or list(ASSIGNMENTS)
    for name in names:  # a spec that does not load stops the release before the course is touched
        exercise(name)
    langs = list(LANGUAGES) if args.lang == "all" else [args.lang]
    if args.per_student:
        return _release_per_student(args, names, langs)
    for lang in langs:
        course = args.course / lang if args.lang == "all" else args.course
        for done in release(names, course, lang, args.out, args.db):
            print(f"{done.lang}  {done.assignment:<18} {done.solution}  {done.student}")
    return 0


def _release_per_student(args: argparse.Namespace, names: list[str], langs: list[str]) -> int:
    from autograder.release.per_student import (
        read_students,
        release_per_student,
        students_in_gradebook,
    )

    if len(langs) != 1:
        print(
            "autograder: --per-student releases in one language (--lang de|en|ru)", file=sys.stderr
        )
        return 2
    if args.students is not None:
        students = read_students(args.students.read_text(encoding="utf-8"))
    elif args.from_gradebook:
        students = students_in_gradebook(args.course, args.db)
    else:
        print(
            "autograder: --per-student needs --students FILE or --from-gradebook", file=sys.stderr
        )
        return 2
    made = release_per_student(names, args.course, langs[0], students, args.db)
    for personal in made:
        print(f"{langs[0]}  {personal.assignment:<18} {personal.student:<12} {personal.notebook}")
    print(
        f"\n{len(made)} notebooks for {len(students)} students; the numbers follow from "
        f"{args.course / '.autograder' / 'secret'} (keep it out of the students' reach)"
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    from autograder.release.selfcheck import self_check  # a Jupyter kernel client, only for a check

    report = self_check(args.notebook)
    for name, lines in report.items():
        for line in lines:
            print(line if line.startswith(name) else f"{name}: {line}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from autograder import demo

    demo.run(args.lang, kept=args.out or demo.KEPT)
    return 0


if __name__ == "__main__":
    command()
