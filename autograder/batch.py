"""Grading a class: find the submissions, run each in the sandbox, mark it, record it, report it.

Results are recorded as they come in, a batch at a time, so a run cut off part-way keeps all it
graded before its last batch, and the next run grades only what is missing (unless forced).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from autograder.execution import Job, Limits, Pool, Run
from autograder.gradebook import RECORD_ERRORS, Gradebook, Unrecorded
from autograder.marking import Result, mark, refused, unmarked
from autograder.per_student import Variants
from autograder.references import ASSIGNMENTS, derive_assignment
from autograder.reports import write_feedback
from autograder.submissions import (
    Found,
    Submission,
    SubmissionError,
    find,
    job,
    printable,
    read,
    valid_student,
)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Options:
    """How to grade: where the course and gradebook are, how many workers, which bounds, which language."""

    course: Path | None = None
    db_url: str | None = None
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    limits: Limits = field(default_factory=Limits)
    # None: each notebook's own language (German where it has none)
    lang: str | None = None
    force: bool = False
    # for loose notebooks whose path does not say
    student: str | None = None
    assignment: str | None = None
    feedback: Path | None = None


@dataclass
class Graded:
    """What a run did: the results of the submissions it graded and those it found graded already."""

    results: list[Result] = field(default_factory=list)
    skipped: list[Submission] = field(default_factory=list)
    course: Path | None = None


def course_of(found: Sequence[Found]) -> Path | None:
    """The course directory of an nbgrader tree: the folder that holds `submitted/`."""
    for f in found:
        if f.student is not None:
            submitted = f.path.resolve().parents[2]
            if submitted.name == "submitted":
                return submitted.parent
    return None


class NothingToGrade(ValueError):
    """No notebook under the paths given."""

    def __str__(self) -> str:
        return "no notebooks (*.ipynb) under the given paths"


def grade(paths: Sequence[Path], options: Options, progress: Progress | None = None) -> Graded:
    found = find(paths)
    if not found:
        raise NothingToGrade()
    # the sandbox workers warm up in their own processes while this one prepares
    with Pool(min(options.workers, len(found)), options.limits) as pool:
        return _grade(found, options, pool, progress)


def _grade(
    found: Sequence[Found], options: Options, pool: Pool, progress: Progress | None
) -> Graded:
    course = options.course or course_of(found)
    outcome = Graded(course=course)
    book = Gradebook(course, options.db_url, options.lang or "de", _unrecorded) if course else None
    feedback_dir = options.feedback or (course / "feedback" if course else None)
    variants = Variants(course)
    total, count = len(found), 0

    def finished(key: object, run: Run | None) -> None:
        nonlocal count
        count += 1
        if isinstance(key, tuple) and run is not None:
            submission, the_job = key
            lang = options.lang or submission.lang or "de"
            started = time.perf_counter()
            try:
                result = mark(
                    submission,
                    the_job,
                    run,
                    lang,
                    options.limits,
                    variants.of(submission.assignment, submission.student),
                    variants.classmates(submission.assignment),
                )
            except Exception as problem:  # the boundary: a fault in marking costs one submission
                result = unmarked(submission, problem, lang)
            result = replace(result, seconds=run.seconds + time.perf_counter() - started)
        elif isinstance(key, Submission):
            outcome.skipped.append(key)
            result = None
        else:
            assert isinstance(key, Result)
            result = key
        if result is not None:
            if book is not None:
                _record(book, result)
            if feedback_dir is not None:
                _write_feedback(result, feedback_dir)
            outcome.results.append(result)
        if progress is not None:
            progress(count, total)

    try:
        graded_already = book.complete() if book and not options.force else {}
        for assignment in _assignments(found, options):
            if book is not None:
                book.ensure_assignment(assignment)
            derive_assignment(assignment)
        pool.map(_prepared(found, options, graded_already, variants), finished)
    finally:
        if book is not None:
            book.close()
    return outcome


def _prepared(
    found: Sequence[Found],
    options: Options,
    graded_already: dict[tuple[str, str], datetime | None],
    variants: Variants,
) -> Iterator[tuple[object, Job | None]]:
    """Each submission with its job, read as the pool asks for the next (never all at once)."""
    for f in found:
        item = _prepare(f, options, graded_already, variants)
        if isinstance(item, tuple):
            yield item, item[1]
        else:
            yield item, None


def _prepare(
    f: Found,
    options: Options,
    graded_already: dict[tuple[str, str], datetime | None],
    variants: Variants,
) -> tuple[Submission, Job] | Submission | Result:
    """A job to run, a submission graded already, or the result of one that cannot run."""
    lang = options.lang or "de"
    try:
        submission, notebook = read(f, options.student, options.assignment)
    except SubmissionError as problem:
        assignment = f.assignment or options.assignment
        return refused(
            printable(f.path),
            problem,
            lang,
            valid_student(f.student or options.student),
            assignment if assignment in ASSIGNMENTS else None,
            f.timestamp or _modified(f.path),
        )
    key = (submission.student, submission.assignment)
    if key in graded_already and Gradebook.same_time(graded_already[key], submission.timestamp):
        return submission
    return submission, job(
        submission, notebook, variants.of(submission.assignment, submission.student)
    )


def _assignments(found: Sequence[Found], options: Options) -> list[str]:
    named = {f.assignment or options.assignment for f in found}
    return sorted(a for a in named if a in ASSIGNMENTS)


def _modified(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return None


def _write_feedback(result: Result, folder: Path) -> None:
    """The feedback page; a folder that refuses costs this page a warning, not the run."""
    try:
        write_feedback(result, folder)
    except OSError as problem:
        who = f"{result.student}/{result.assignment}"
        print(f"autograder: could not write the feedback of {who}: {problem}", file=sys.stderr)


def _record(book: Gradebook, result: Result) -> None:
    """Into the gradebook; a database that refuses costs this record a warning, not the run."""
    try:
        book.record(result)
    except RECORD_ERRORS as problem:  # the assignment could not be entered into the gradebook
        _unrecorded(Unrecorded(result, problem))


def _unrecorded(refused: Unrecorded) -> None:
    who = f"{refused.result.student}/{refused.result.assignment}"
    print(
        f"autograder: could not record {who} in the gradebook: {refused.problem}", file=sys.stderr
    )
