"""Grading a class: find the submissions, run each in the sandbox, mark it, record it, report it.

Results are recorded as they come in, a batch at a time, so a run cut off part-way keeps all it
graded before its last batch, and the next run grades only what is missing (unless forced).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from nbformat import NotebookNode

from autograder.classroom.autograded import autograded_notebook, autograded_path, write_autograded
from autograder.classroom.by_hand import ByHand, Hand
from autograder.classroom.gradebook import RECORD_ERRORS, Gradebook, Unrecorded
from autograder.classroom.jobs import job
from autograder.classroom.kept import keep
from autograder.classroom.marking import Result, mark, refused, unmarked
from autograder.classroom.pages import PAGES, write_feedback
from autograder.classroom.submissions import (
    Found,
    Stray,
    Submission,
    SubmissionError,
    find,
    modified,
    printable,
    read,
    valid_student,
)
from autograder.derivation import store
from autograder.derivation.references import ASSIGNMENTS
from autograder.release.per_student import Variants
from autograder.sandbox.execution import BOUNDS, Job, Limits, Run
from autograder.sandbox.pool import Pool, Runner

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
    """What a run did with every submission it found: graded (refused ones among them, with why),
    found graded already, or lost; and the notebooks it ignored, which are none."""

    found: int = 0
    results: list[Result] = field(default_factory=list)
    refused: int = 0
    skipped: list[Submission] = field(default_factory=list)
    # results the gradebook or the feedback folder would not take (each said so on stderr), by path
    unrecorded: dict[str, Result] = field(default_factory=dict)
    ignored: list[Stray] = field(default_factory=list)
    course: Path | None = None

    @property
    def lost(self) -> int:
        """Submissions found that got no result at all."""
        return self.found - len(self.results) - len(self.skipped)

    @property
    def whole(self) -> bool:
        """Every submission found has its result, recorded (or was graded already)."""
        return not self.lost and not self.unrecorded


def course_of(found: Sequence[Found]) -> Path | None:
    """The course directory of an nbgrader tree: the folder that holds `submitted/`."""
    for f in found:
        if f.home is not None:
            return f.home.parent.resolve().parent
    return None


class Unconfined(RuntimeError):
    """Told to grade only in a whole sandbox, on a machine where some of its bounds do not hold."""

    def __init__(self, missing: Sequence[str]) -> None:
        super().__init__(missing)
        self.missing = list(missing)

    def __str__(self) -> str:
        return "not graded: these bounds of the sandbox do not hold on this machine: " + _described(
            self.missing
        )


def _missing(held: dict[str, bool]) -> list[str]:
    return [name for name, holds in held.items() if not holds]


def _described(names: Sequence[str]) -> str:
    return "; ".join(BOUNDS.get(name, name) for name in names)


def said_of_confinement(held: dict[str, bool]) -> str:
    """One line on which bounds of the sandbox hold, printed at the start of a run."""
    missing = _missing(held)
    if not missing:
        return "sandbox: every bound holds (" + ", ".join(held) + ")"
    return (
        "sandbox: these bounds do NOT hold on this machine: "
        + _described(missing)
        + " (--require-confinement refuses to grade without them)"
    )


class NothingToGrade(ValueError):
    """No submission under the paths given (perhaps notebooks that are none)."""

    def __init__(self, ignored: Sequence[Stray] = ()) -> None:
        super().__init__(len(ignored))
        self.ignored = list(ignored)

    def __str__(self) -> str:
        if self.ignored:
            return (
                f"no submissions under the given paths; {len(self.ignored)} notebooks ignored, "
                "not at submitted/STUDENT/ASSIGNMENT/ASSIGNMENT.ipynb: "
                + ", ".join(printable(s.path) for s in self.ignored[:5])
            )
        return "no notebooks (*.ipynb) under the given paths"


def grade(
    paths: Sequence[Path],
    options: Options,
    progress: Progress | None = None,
    announce: Callable[[str], None] | None = None,
    pool: Runner | None = None,
) -> Graded:
    """Grade every submission under `paths`; `announce` hears which bounds of the sandbox hold.

    A caller that has entered a `Pool` already (the CLI does, before it loads the grader) passes it.
    """
    if pool is None:
        with Pool(options.workers, options.limits) as own:
            return grade(paths, options, progress, announce, own)
    found, strays = find(paths)
    if not found:
        raise NothingToGrade(strays)
    # an assignment's references are read (or derived) when its first submission's job is made: the
    # sandbox, warm since the pool was entered, runs the first jobs while the others are read
    with store.reading(options.course or course_of(found)):
        return _grade(found, strays, options, pool, progress, announce)


def _confined(pool: Runner, options: Options, announce: Callable[[str], None] | None) -> None:
    """Waits for the sandbox to say which of its bounds hold; refuses where one is required."""
    held = pool.confinement()
    if announce is not None:
        announce(said_of_confinement(held))
    missing = _missing(held)
    if options.limits.confined and missing:
        raise Unconfined(missing)


def _grade(
    found: Sequence[Found],
    strays: Sequence[Stray],
    options: Options,
    pool: Runner,
    progress: Progress | None,
    announce: Callable[[str], None] | None,
) -> Graded:
    course = options.course or course_of(found)
    outcome = Graded(found=len(found), ignored=list(strays), course=course)

    def unrecorded(refusal: Unrecorded) -> None:
        _warn_unrecorded(refusal)
        outcome.unrecorded[refusal.result.path] = refusal.result

    if options.limits.confined:
        _confined(pool, options, announce)  # refused before the gradebook is even opened
    book = (
        Gradebook(course, options.db_url, options.lang or "de", unrecorded, options.force)
        if course
        else None
    )
    feedback_dir = options.feedback or (course / PAGES if course else None)
    variants = Variants(course)
    total, count = len(found), 0
    hands: ByHand = {}  # what the teacher gave by hand, kept by a regrade: on the pages too

    def finished(key: object, run: Run | None) -> None:
        nonlocal count
        count += 1
        if isinstance(key, tuple) and run is not None:
            submission, the_job, _ = key
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
            if course is not None and not _write_autograded(course, key, run, result, variants):
                outcome.unrecorded[result.path] = result
        elif isinstance(key, Submission):
            outcome.skipped.append(key)
            result = None
        else:
            assert isinstance(key, Result)
            result = key
            outcome.refused += 1
        if result is not None:
            if book is not None:
                result = _dated(book, result)
                _record(book, result, unrecorded)
            hand = hands.get((result.student or "", result.assignment or ""))
            if not _write_feedback(result, feedback_dir, course, hand):
                outcome.unrecorded[result.path] = result
            outcome.results.append(result)
        if progress is not None:
            progress(count, total)

    try:
        graded_already = book.complete() if book and not options.force else {}
        hands.update(book.by_hand() if book and not options.force else {})
        if not options.limits.confined:
            _confined(pool, options, announce)  # the sandbox warmed while the gradebook opened
        if book is not None:
            for assignment in _assignments(found, options):
                book.ensure_assignment(assignment)
        pool.map(_prepared(found, options, graded_already, variants, course), finished)
    finally:
        if book is not None:
            book.close()
    return outcome


def _prepared(
    found: Sequence[Found],
    options: Options,
    graded_already: dict[tuple[str, str], datetime | None],
    variants: Variants,
    course: Path | None,
) -> Iterator[tuple[object, Job | None]]:
    """Each submission with its job, read as the pool asks for the next (never all at once)."""
    for f in found:
        item = _prepare(f, options, graded_already, variants, course)
        if isinstance(item, tuple):
            yield item, item[1]
        else:
            yield item, None


def _prepare(
    f: Found,
    options: Options,
    graded_already: dict[tuple[str, str], datetime | None],
    variants: Variants,
    course: Path | None,
) -> tuple[Submission, Job, NotebookNode] | Submission | Result:
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
            f.notes,
        )
    key = (submission.student, submission.assignment)
    if (
        key in graded_already
        and Gradebook.same_time(graded_already[key], submission.timestamp)
        and (course is None or autograded_path(course, submission).is_file())
    ):
        return submission  # graded, and its autograded notebook is there for formgrader
    the_job = job(submission, notebook, variants.of(submission.assignment, submission.student))
    return submission, the_job, notebook


def _assignments(found: Sequence[Found], options: Options) -> list[str]:
    named = {f.assignment or options.assignment for f in found}
    return sorted(a for a in named if a is not None and a in ASSIGNMENTS)


def _modified(path: Path) -> datetime | None:
    try:
        return modified(path.lstat().st_mtime)
    except OSError:
        return None


def _write_autograded(
    course: Path,
    key: tuple[Submission, Job, NotebookNode],
    run: Run,
    result: Result,
    variants: Variants,
) -> bool:
    """The autograded notebook formgrader opens; one that cannot be made costs a warning."""
    submission, the_job, notebook = key
    try:
        variant = variants.of(submission.assignment, submission.student)
        made = autograded_notebook(submission, notebook, the_job, run, result, variant)
        write_autograded(course, submission, made)
    except (OSError, ValueError, KeyError, TypeError) as problem:
        who = f"{submission.student}/{submission.assignment}"
        print(
            f"autograder: could not write the autograded notebook of {who}: {problem}",
            file=sys.stderr,
        )
        return False
    return True


def _write_feedback(
    result: Result, folder: Path | None, course: Path | None, hand: Mapping[str, Hand] | None
) -> bool:
    """The feedback page, and the result kept with the course to write it again once the teacher
    has graded by hand; a folder that refuses costs this page a warning, not the run."""
    try:
        if course is not None:
            keep(course, result)
        if folder is not None:
            write_feedback(result, folder, hand)
    except OSError as problem:
        who = f"{result.student}/{result.assignment}"
        print(f"autograder: could not write the feedback of {who}: {problem}", file=sys.stderr)
        return False
    return True


def _dated(book: Gradebook, result: Result) -> Result:
    """The result with its lateness; a due date or plugin that fails costs a warning, not the run."""
    try:
        return book.late(result)
    except Exception as problem:  # the boundary: the teacher's plugin may raise anything
        who = f"{result.student}/{result.assignment}"
        print(f"autograder: no late penalty for {who}: {problem}", file=sys.stderr)
        return result


def _record(book: Gradebook, result: Result, unrecorded: Callable[[Unrecorded], None]) -> None:
    """Into the gradebook; a database that refuses costs this record a warning, not the run."""
    try:
        book.record(result)
    except RECORD_ERRORS as problem:  # the assignment could not be entered into the gradebook
        unrecorded(Unrecorded(result, problem))


def _warn_unrecorded(refused: Unrecorded) -> None:
    who = f"{refused.result.student}/{refused.result.assignment}"
    print(
        f"autograder: could not record {who} in the gradebook: {refused.problem}", file=sys.stderr
    )
