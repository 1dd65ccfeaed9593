"""`autograder grade`: its options (one per bound of the sandbox), the run with a progress bar,
the summary, and the exit code that counts every submission found."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autograder.cli.folders import exercises_option
from autograder.judging.feedback import LANGUAGES
from autograder.model.catalogue import ASSIGNMENTS
from autograder.sandbox.limits import Limits


def grade_parser(commands: argparse._SubParsersAction) -> None:
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
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="submissions run side by side (default: cores)",
    )
    grade.add_argument(
        "--lang",
        choices=LANGUAGES,
        help="feedback language (default: each notebook's own, else de)",
    )
    grade.add_argument("--student", help="the student of a loose notebook (default: its file name)")
    grade.add_argument("--assignment", choices=ASSIGNMENTS, help="when a notebook does not say")
    exercises_option(grade)
    grade.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the submissions on a Dask cluster: tcp://HOST:PORT, tls://HOST:PORT (with "
        "Dask's TLS settings), or local:N for N worker processes here; needs the cluster extra",
    )
    grade.add_argument("--force", action="store_true", help="grade again what is graded already")
    grade.add_argument(
        "--no-report",
        action="store_true",
        help="leave the class report as it is (0.9 s less for a run of one notebook)",
    )
    grade.add_argument(
        "--feedback",
        type=Path,
        metavar="DIR",
        help="feedback pages (default: COURSE/reports/feedback)",
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
    from autograder.sandbox.pool import Pool

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
    if args.scheduler:
        from autograder.sandbox.cluster import DaskPool

        try:
            cluster = DaskPool(args.scheduler, limits).__enter__()
        except (OSError, ValueError, TimeoutError) as problem:
            print(f"autograder: no Dask cluster at {args.scheduler}: {problem}", file=sys.stderr)
            return 2
        try:
            return _run(args, limits, cluster)
        finally:
            cluster.__exit__(None, None, None)
    # the sandbox warms up in its own process while this one loads the grader (SymPy, nbformat,
    # nbgrader's gradebook): in a run of one notebook, most of the time
    with Pool(max(1, args.workers), limits) as pool:
        return _run(args, limits, pool)


def _run(args: argparse.Namespace, limits: Limits, pool: Any) -> int:
    from autograder.classroom.batch import NothingToGrade, Options, Unconfined, grade
    from autograder.release.files import write_whole
    from autograder.reports.results import as_json, summary, tally, waiting_for_teacher

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
            args.paths, options, _progress_bar(), lambda line: print(line, file=sys.stderr), pool
        )
    except (NothingToGrade, Unconfined) as problem:
        print(f"autograder: {problem}", file=sys.stderr)
        return 2
    print(summary(graded.results))
    waiting = waiting_for_teacher(graded.results)
    if waiting:
        print(f"\n{waiting}")
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
        report = None if args.no_report else class_report(graded.course, args.db, args.lang or "de")
        if report is not None:
            print(f"class report: {report}")
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


def class_report(course: Path, db_url: str | None, lang: str) -> Path | None:
    """The class report after a run; one that cannot be written costs a warning, not the run's
    exit code (every result is recorded by then)."""
    from autograder.reports.class_data import report_course

    try:
        return report_course(course, db_url, lang)[0]
    except Exception as problem:  # the boundary: the grades are recorded, the report is extra
        print(f"autograder: could not write the class report: {problem}", file=sys.stderr)
        return None


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
