"""The `autograder` command: a thin shell over the package's functions, one subcommand per job.

Errors a user can fix are printed as one line and exit with 2; nothing here computes by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from autograder import demo, feedback
from autograder.audit import Finding, PublishedFileError, audit, load
from autograder.execution import Limits
from autograder.key import answer_key, describe, describe_target, mistakes, mistakes_entry
from autograder.notebooks import MissingText
from autograder.per_student import BadRoster
from autograder.references import ASSIGNMENTS, UnknownAssignment, exercise, reference
from autograder.release import ReleaseError
from autograder.reports import as_json, export, summary, tally, write_whole
from autograder.selfcheck import NotebookError
from autograder.spec import Kind
from autograder.variants import BadSecret, MissingSecret


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
        BadRoster,
        MissingSecret,
        BadSecret,
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
    _course_option(rel, "the nbgrader course directory")
    rel.add_argument(
        "--lang",
        default="de",
        choices=[*feedback.LANGUAGES, "all"],
        help="all: one course per language, DIR/<lang>",
    )
    rel.add_argument(
        "--out", type=Path, default=Path("."), help="where solutions/ and release/ go (default: .)"
    )
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
    chk.set_defaults(run=_check)

    _grade_parser(commands)

    exp = commands.add_parser("export", help="write the gradebook's grades for an LMS")
    exp.add_argument(
        "--course", type=Path, default=Path("."), help="the course directory (default: .)"
    )
    exp.add_argument("--db", metavar="URL", help="a SQLAlchemy URL instead of DIR/gradebook.db")
    exp.add_argument("--format", default="csv", choices=("csv", "moodle"))
    exp.add_argument("--out", type=Path, help="write to this file (default: print)")
    exp.set_defaults(run=_export)

    run_demo = commands.add_parser("demo", help="grade a small sample class on every assignment")
    run_demo.add_argument("--lang", default="de", choices=feedback.LANGUAGES)
    run_demo.set_defaults(run=_demo)
    return parser


def _grade_parser(commands: argparse._SubParsersAction) -> None:
    default = Limits()
    grade = commands.add_parser(
        "grade",
        help="grade submitted notebooks into the gradebook, with feedback and a summary",
        description="PATH is a notebook, a folder of notebooks or an nbgrader submitted/ tree "
        "(submitted/STUDENT/ASSIGNMENT/*.ipynb).",
    )
    grade.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    grade.add_argument(
        "--course",
        type=Path,
        help="the nbgrader course directory (default: the folder holding submitted/)",
    )
    grade.add_argument("--db", metavar="URL", help="a SQLAlchemy URL instead of DIR/gradebook.db")
    grade.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON")
    grade.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="parallel workers (default: cores)"
    )
    grade.add_argument(
        "--lang",
        choices=feedback.LANGUAGES,
        help="feedback language (default: each notebook's own, else de)",
    )
    grade.add_argument("--student", help="the student of a loose notebook (default: its file name)")
    grade.add_argument("--assignment", choices=ASSIGNMENTS, help="when a notebook does not say")
    grade.add_argument("--force", action="store_true", help="grade again what is graded already")
    grade.add_argument(
        "--feedback", type=Path, metavar="DIR", help="feedback pages (default: COURSE/feedback)"
    )
    bounds = grade.add_argument_group("bounds of each submission")
    for option, value, text in (
        ("--wall-seconds", default.wall_seconds, "a whole notebook, in seconds"),
        ("--cell-seconds", default.cell_seconds, "one cell; the next cells still run"),
        ("--function-seconds", default.function_seconds, "a function on the grader's inputs"),
        ("--cpu-seconds", default.cpu_seconds, "CPU time of a notebook"),
    ):
        bounds.add_argument(
            option, type=float, default=value, metavar="S", help=f"{text} (default {value:g})"
        )
    for option, value, text in (
        ("--memory-mb", default.memory_bytes // 1024**2, "memory of a notebook, MiB"),
        ("--output-kb", default.output_bytes // 1024, "what a notebook prints, KiB"),
        ("--processes", default.processes, "processes a notebook may start"),
        ("--threads", default.threads, "threads a notebook may start"),
        ("--scratch-mb", default.scratch_bytes // 1024**2, "its scratch folder, MiB in all"),
        ("--scratch-files", default.scratch_files, "files in its scratch folder"),
    ):
        bounds.add_argument(
            option, type=int, default=value, metavar="N", help=f"{text} (default {value})"
        )
    bounds.add_argument(
        "--require-confinement",
        action="store_true",
        help="grade nothing where a bound of the sandbox does not hold on this machine "
        "(an identity of its own, no capabilities, Landlock, seccomp, a bounded scratch folder)",
    )
    grade.set_defaults(run=_grade)


def _grade(args: argparse.Namespace) -> int:
    from autograder.batch import NothingToGrade, Options, Unconfined, grade

    for path in args.paths:
        if not path.exists():
            print(f"autograder: {path} does not exist", file=sys.stderr)
            return 2
    limits = Limits(
        wall_seconds=args.wall_seconds,
        cell_seconds=args.cell_seconds,
        function_seconds=args.function_seconds,
        cpu_seconds=args.cpu_seconds,
        memory_bytes=args.memory_mb * 1024**2,
        output_bytes=args.output_kb * 1024,
        processes=args.processes,
        threads=args.threads,
        scratch_bytes=args.scratch_mb * 1024**2,
        scratch_files=args.scratch_files,
        confined=args.require_confinement,
    )
    options = Options(
        course=args.course,
        db_url=args.db,
        workers=max(1, args.workers),
        limits=limits,
        lang=args.lang,
        force=args.force,
        student=args.student,
        assignment=args.assignment,
        feedback=args.feedback,
    )
    try:
        graded = grade(
            args.paths, options, _progress_bar(), lambda line: print(line, file=sys.stderr)
        )
    except (NothingToGrade, Unconfined) as problem:
        print(f"autograder: {problem}", file=sys.stderr)
        return 2
    print(summary(graded.results))
    if graded.skipped:
        print(f"\n{len(graded.skipped)} submissions graded already (--force grades them again)")
    counts = tally(
        found=graded.found,
        graded=len(graded.results),
        refused=graded.refused,
        skipped=len(graded.skipped),
        unrecorded=len(graded.unrecorded),
        ignored=graded.ignored,
    )
    print(f"\n{counts}")
    if graded.course is not None:
        print(f"\ngradebook and feedback: {graded.course}")
    written = True
    if args.json:
        try:
            write_whole(args.json, as_json(graded.results))
        except OSError as problem:
            print(f"autograder: could not write {args.json}: {problem}", file=sys.stderr)
            written = False
    if not graded.whole:
        missing = graded.lost + len(graded.unrecorded)
        print(
            f"autograder: {missing} submissions without a recorded result; grade again to retry",
            file=sys.stderr,
        )
    # 0 only where every submission found has its result, recorded, and the JSON is written
    return 0 if graded.whole and written else 1


def _progress_bar() -> Callable[[int, int], None]:
    """A bar on a terminal, a line per tenth elsewhere; nothing for a handful of notebooks."""
    shown: set[int] = set()

    def show(done: int, total: int) -> None:
        if total <= 5:
            return
        if sys.stderr.isatty():
            filled = 30 * done // total
            bar = "#" * filled + "-" * (30 - filled)
            end = "\n" if done == total else ""
            print(f"\r[{bar}] {done}/{total} notebooks", end=end, file=sys.stderr, flush=True)
        elif 10 * done // total not in shown:
            shown.add(10 * done // total)
            print(f"graded {done}/{total} notebooks", file=sys.stderr, flush=True)

    return show


def _export(args: argparse.Namespace) -> int:
    from autograder.gradebook import Gradebook

    if args.db is None and not (args.course / "gradebook.db").exists():
        print(
            f"autograder: no gradebook in {args.course} (grade first, or give --db)",
            file=sys.stderr,
        )
        return 2
    with Gradebook(args.course, args.db) as book:
        text = export(book.rows(), args.format)
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


def _answers(args: argparse.Namespace) -> int:
    names = [args.assignment] if args.assignment else list(ASSIGNMENTS)
    variants = {name: _variant(args, name) for name in names}
    if args.json:
        key = [item for name in names for item in answer_key(name, variants[name])]
        if args.mistakes:
            for item in key:
                item["mistake_answers"] = mistakes_entry(
                    item["id"], variants[item["id"].partition(".")[0]]
                )
        print(json.dumps(key, indent=1, ensure_ascii=False))
        return 0
    for name in names:
        ex = exercise(name)
        print(f"{ex.name} — {ex.title} ({ex.source})")
        variant = variants[name]
        if variant:
            shown = ", ".join(f"{k} = {v}" for k, v in variant.items() if v is not None)
            print(f"  numbers of {args.student}: {shown}")
        for q in ex.questions:
            ref = reference(f"{ex.name}.{q.name}", variants[name])
            print(f"  {q.name:<20} {q.kind.value:<13} {q.points:>3g} pt  {describe(ref)}")
            if args.mistakes:
                for mistake, targets in mistakes(ref.qid, variant):
                    shown = " | ".join(describe_target(ref, t) for t in targets)
                    where = "  (first probe)" if q.kind is Kind.FUNCTION else ""
                    print(f"  {'':<4}{mistake:<32} {shown}{where}")
            elif q.mistakes:
                print(f"  {'':<20} mistakes: {', '.join(q.mistakes)}")
        print()
    return 0


def _variant(args: argparse.Namespace, assignment: str) -> dict[str, object] | None:
    """The numbers of `--student`: their own where the assignment went out per student."""
    if args.student is None:
        return None
    from autograder.per_student import Variants

    return Variants(args.course).of(assignment, args.student)


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
    if args.per_student:
        return _release_per_student(args, names, langs)
    for lang in langs:
        course = args.course / lang if args.lang == "all" else args.course
        for done in release(names, course, lang, args.out):
            print(f"{done.lang}  {done.assignment:<18} {done.solution}  {done.student}")
    return 0


def _release_per_student(args: argparse.Namespace, names: list[str], langs: list[str]) -> int:
    from autograder.per_student import read_students, release_per_student, students_in_gradebook

    if len(langs) != 1:
        print(
            "autograder: --per-student releases in one language (--lang de|en|ru)", file=sys.stderr
        )
        return 2
    if args.students is not None:
        students = read_students(args.students.read_text(encoding="utf-8"))
    elif args.from_gradebook:
        students = students_in_gradebook(args.course)
    else:
        print(
            "autograder: --per-student needs --students FILE or --from-gradebook", file=sys.stderr
        )
        return 2
    made = release_per_student(names, args.course, langs[0], students)
    for personal in made:
        print(f"{langs[0]}  {personal.assignment:<18} {personal.student:<12} {personal.notebook}")
    print(
        f"\n{len(made)} notebooks for {len(students)} students; the numbers follow from "
        f"{args.course / '.autograder' / 'secret'} (keep it out of the students' reach)"
    )
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
