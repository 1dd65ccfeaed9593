"""The `autograder` command: a thin shell over the package's functions, one subcommand per job.

Errors a user can fix are printed as one line and exit with 2; nothing here computes by itself.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from autograder import demo, feedback
from autograder.audit import Finding, PublishedFileError, audit, load
from autograder.key import answer_key, describe
from autograder.notebooks import MissingText
from autograder.references import ASSIGNMENTS, UnknownAssignment, exercise, reference
from autograder.release import ReleaseError
from autograder.selfcheck import NotebookError


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `autograder answers | head` ends quietly
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (
        UnknownAssignment,
        PublishedFileError,
        feedback.UnknownLanguage,
        MissingText,
        ReleaseError,
        NotebookError,
    ) as error:
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
    answers.set_defaults(run=_answers)

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
    audit_cmd.add_argument("--lang", default="de", choices=feedback.LANGUAGES)
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
    rel.add_argument(
        "--course",
        type=Path,
        default=Path("course"),
        help="the nbgrader course directory (default: ./course)",
    )
    rel.add_argument(
        "--lang",
        default="de",
        choices=[*feedback.LANGUAGES, "all"],
        help="all: one course per language, DIR/<lang>",
    )
    rel.add_argument(
        "--out", type=Path, default=Path("."), help="where solutions/ and release/ go (default: .)"
    )
    rel.set_defaults(run=_release)

    chk = commands.add_parser(
        "check", help="the student's self-check: is every answer of the right form?"
    )
    chk.add_argument("notebook", type=Path, metavar="NOTEBOOK")
    chk.set_defaults(run=_check)

    run_demo = commands.add_parser("demo", help="grade a small sample class on every assignment")
    run_demo.add_argument("--lang", default="de", choices=feedback.LANGUAGES)
    run_demo.set_defaults(run=_demo)
    return parser


def _answers(args: argparse.Namespace) -> int:
    names = [args.assignment] if args.assignment else list(ASSIGNMENTS)
    if args.json:
        key = [item for name in names for item in answer_key(name)]
        print(json.dumps(key, indent=1, ensure_ascii=False))
        return 0
    for name in names:
        ex = exercise(name)
        print(f"{ex.name} — {ex.title} ({ex.source})")
        for q in ex.questions:
            ref = reference(f"{ex.name}.{q.name}")
            print(f"  {q.name:<20} {q.kind.value:<13} {q.points:>3g} pt  {describe(ref)}")
            if q.mistakes:
                print(f"  {'':<20} mistakes: {', '.join(q.mistakes)}")
        print()
    return 0


def _audit(args: argparse.Namespace) -> int:
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
    from autograder.release import release  # nbgrader is imported only when a release is made

    names = args.assignments or list(ASSIGNMENTS)
    langs = list(feedback.LANGUAGES) if args.lang == "all" else [args.lang]
    for lang in langs:
        course = args.course / lang if args.lang == "all" else args.course
        for done in release(names, course, lang, args.out):
            print(f"{done.lang}  {done.assignment:<18} {done.solution}  {done.student}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from autograder.selfcheck import self_check  # a Jupyter kernel client, only for a check

    report = self_check(args.notebook)
    for name, lines in report.items():
        for line in lines:
            print(line if line.startswith(name) else f"{name}: {line}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    demo.run(args.lang)
    return 0


if __name__ == "__main__":
    sys.exit(main())
