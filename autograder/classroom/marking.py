"""Marking a submission: from what its run reported to one verdict per question, with points.

The run's data is the student's and is read as plain values only; every comparison happens here,
in the grader's process, through `grade_answer`.
"""

from __future__ import annotations

import math
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from autograder.classroom.copies import whose_numbers
from autograder.classroom.late import Lateness
from autograder.classroom.submissions import Note, Submission, SubmissionError, printable
from autograder.derivation.references import exercise
from autograder.judging import feedback
from autograder.judging.deadline import OutOfTime, within
from autograder.judging.forms import FormError, to_array
from autograder.judging.grading import ANSWER_SECONDS, Outputs, Verdict, form_verdict, grade_answer
from autograder.judging.read_back import answer_read
from autograder.model.spec import Kind, Question
from autograder.sandbox.execution import Answer, Job, Limits, Run
from autograder.sandbox.plain import Opaque

# how the sandbox reports a cell that ran past its bound
CELL_TIMEOUT = "CellTimeout"


@dataclass(frozen=True)
class Marked:
    """One question of a submission: the verdict and the points it is worth."""

    verdict: Verdict
    points: float
    # the classmate whose numbers a wrong answer is right for (per-student variants only)
    copied_from: str | None = None
    # the answer as the grader read it, shown back to the student (judging/read_back.py)
    read: str | None = None

    @property
    def score(self) -> float:
        return round(self.verdict.score * self.points, 6)

    def as_dict(self) -> dict[str, Any]:
        v = self.verdict
        return {
            "id": v.qid,
            "score": self.score,
            "max_score": self.points,
            "correct": v.correct,
            "status": v.status,
            "mistake": v.mistake,
            "feedback": v.feedback,
            "error": v.error,
            "copied_from": self.copied_from,
            "answer": self.read,
        }


@dataclass(frozen=True)
class Result:
    """A graded submission: whose, which assignment, each question's verdict, what went wrong."""

    student: str | None
    assignment: str | None
    path: str
    timestamp: datetime | None
    lang: str
    questions: tuple[Marked, ...]
    errors: tuple[str, ...] = ()
    seconds: float = 0.0
    # after nbgrader's due date (with the student's extension): how late, and the points lost
    late: Lateness | None = None

    @property
    def score(self) -> float:
        return round(sum(m.score for m in self.questions), 6)

    @property
    def final_score(self) -> float:
        """The score less the late penalty, as nbgrader's export counts it."""
        return round(self.score - (self.late.penalty if self.late else 0.0), 6)

    @property
    def max_score(self) -> float:
        """Every question's points, those the teacher gives in formgrader included."""
        if self.assignment is None:
            return 0.0
        return float(sum(q.points for q in exercise(self.assignment).questions))

    @property
    def manual_points(self) -> float:
        """The points of max_score that wait for the teacher: the questions answered in words,
        which the grader leaves to formgrader (none of them is in `score`)."""
        if self.assignment is None:
            return 0.0
        return float(
            sum(q.points for q in exercise(self.assignment).questions if q.graded_by_teacher)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "assignment": self.assignment,
            "path": self.path,
            "score": self.score,
            "max_score": self.max_score,
            "late_seconds": self.late.seconds if self.late else 0.0,
            "late_penalty": self.late.penalty if self.late else 0.0,
            "final_score": self.final_score,
            "manual_max_score": self.manual_points,
            "questions": [m.as_dict() for m in self.questions],
            "errors": list(self.errors),
            # the submission's run in the sandbox and its marking, in seconds
            "seconds": round(self.seconds, 4),
        }


def mark(
    submission: Submission,
    job: Job,
    run: Run,
    lang: str,
    limits: Limits,
    variant: Mapping[str, Any] | None = None,
    classmates: Mapping[str, Mapping[str, Any]] | None = None,
) -> Result:
    """Grade every question of a submission from its run; earlier answers explain later ones.

    With per-student variants, `classmates` maps the other students to theirs: a wrong answer that
    is right for one of them is marked as their numbers (copied), at no extra credit.
    """
    ex = exercise(submission.assignment)
    stopped = _stopped(run, job, lang, limits)
    errors = [stopped] if stopped else []
    if run.invalid:
        errors.append(feedback.message("submission", "invalid_data", lang, count=run.invalid))
    solution_cells = {i for i, c in enumerate(job.cells) if c.question is not None}
    for index, error in sorted(run.cell_errors.items()):
        # nbgrader's default stub, in notebooks released with it: an unanswered question, not a fault
        if index in solution_cells and error.startswith("NotImplementedError"):
            continue
        errors.append(_cell_problem(job, index, error, lang, limits))
    errors += [_note(n, lang) for n in submission.notes]
    given: dict[str, Any] = {}
    marked = []
    for q in ex.autograded:
        qid = f"{ex.name}.{q.name}"
        answer = run.answers.get(q.name)
        source = read = None
        # the boundary: a fault of the grader, in marking or in looking for whose numbers a wrong
        # answer has, costs one verdict, not the class
        try:
            verdict = _verdict(qid, q, answer, run, job, lang, stopped, variant, given, limits)
            if classmates and not verdict.correct and answer is not None and not answer.missing:
                source = _whose_numbers(qid, q, answer.value, submission.student or "", classmates)
            if answer is not None and not answer.missing:
                read = answer_read(qid, q, answer.value, answer.outputs, variant)
        except Exception as problem:
            verdict = _grader_fault(qid, problem, lang)
        if source is not None:
            verdict = _copied(verdict, lang)
        marked.append(
            Marked(_printable(verdict), float(q.points), source, read and printable(read))
        )
        if answer is not None and _usable_as_given(q, answer):
            given[q.name] = answer.value
    return Result(
        submission.student,
        submission.assignment,
        printable(submission.path),
        submission.timestamp,
        lang,
        tuple(marked),
        tuple(printable(e) for e in errors),
        run.seconds,
    )


def unmarked(submission: Submission, problem: Exception, lang: str) -> Result:
    """A submission whose marking failed in the grader: 0 for every question, and why."""
    who = f"{submission.student}/{submission.assignment}"
    print(f"autograder: marking {who} failed: {type(problem).__name__}: {problem}", file=sys.stderr)
    text = feedback.message("submission", "grader_fault", lang)
    return Result(
        submission.student,
        submission.assignment,
        printable(submission.path),
        submission.timestamp,
        lang,
        _nothing_marked(submission.assignment, text, "grader_error"),
        (text,),
    )


def refused(
    path: str,
    problem: SubmissionError,
    lang: str,
    student: str | None = None,
    assignment: str | None = None,
    timestamp: datetime | None = None,
    notes: Sequence[Note] = (),
) -> Result:
    """A submission that could not be run at all: 0 for every question, and why."""
    text = printable(feedback.message("submission", problem.key, lang, **problem.details))
    questions: tuple[Marked, ...] = ()
    if assignment is not None:
        head = feedback.message("verdict", "invalid", lang)
        questions = _nothing_marked(assignment, f"{head} {text}", problem.key)
    told = tuple(printable(_note(n, lang)) for n in notes)
    return Result(student, assignment, path, timestamp, lang, questions, (text, *told))


def _note(note: Note, lang: str) -> str:
    return feedback.message("submission", note.key, lang, **dict(note.details))


def _printable(verdict: Verdict) -> Verdict:
    """The verdict with feedback that every page, file and database can hold: a student's text
    quoted in it (an error message, a column name) may hold what none can, a lone surrogate."""
    return replace(verdict, feedback=printable(verdict.feedback))


def _nothing_marked(assignment: str, text: str, error: str) -> tuple[Marked, ...]:
    """Every question of the assignment at 0, for the one reason `text` gives."""
    return tuple(
        Marked(
            Verdict(f"{assignment}.{q.name}", "invalid", 0.0, None, text, error), float(q.points)
        )
        for q in exercise(assignment).autograded
    )


def _verdict(
    qid: str,
    q: Question,
    answer: Answer | None,
    run: Run,
    job: Job,
    lang: str,
    stopped: str | None,
    variant: Mapping[str, Any] | None,
    given: dict[str, Any],
    limits: Limits,
) -> Verdict:
    if answer is None:
        reason = stopped or feedback.message("submission", "worker_lost", lang)
        text = feedback.message("submission", "not_run", lang, reason=reason)
        head = feedback.message("verdict", "invalid", lang)
        return Verdict(qid, "invalid", 0.0, None, f"{head} {text}", f"run_{run.status}")
    if answer.missing:
        failed = _failed_answer_cell(q.name, run, job)
        if failed is not None:
            head = feedback.message("verdict", "invalid", lang)
            if failed.startswith(CELL_TIMEOUT):
                seconds = f"{limits.cell_seconds:g}"
                text = feedback.message(
                    "submission", "answer_cell_timeout", lang, name=q.name, seconds=seconds
                )
                return Verdict(qid, "invalid", 0.0, None, f"{head} {text}", "cell_timeout")
            text = feedback.message(
                "submission", "answer_cell_failed", lang, name=q.name, error=failed
            )
            return Verdict(qid, "invalid", 0.0, None, f"{head} {text}", "cell_error")
        return grade_answer(qid, None, variant, lang)
    value: Any = answer.value
    if q.kind is Kind.FUNCTION and (answer.outputs is not None or answer.timeout is not None):
        value = Outputs(tuple(answer.outputs or ()), answer.timeout)
    elif isinstance(value, Opaque):
        return _opaque(qid, q, value, lang)
    return grade_answer(qid, value, variant, lang, given=dict(given))


def _whose_numbers(
    qid: str, q: Question, answer: Any, own: str, classmates: Mapping[str, Mapping[str, Any]]
) -> str | None:
    """The classmate whose numbers the answer is right for, looked for within the answer's bound
    of time (a whole class of comparisons); none where the bound ends the search."""
    try:
        with within(ANSWER_SECONDS):
            return whose_numbers(qid, q, answer, own, classmates)
    except OutOfTime:
        return None


def _copied(verdict: Verdict, lang: str) -> Verdict:
    """A classmate's right answer earns nothing, also where parts of it would count as carried
    forward from one's own wrong entries (two variants may share a step's rule)."""
    text = feedback.message("submission", "copied", lang)
    return replace(verdict, status="wrong", score=0.0, mistake="copied", feedback=text)


def _grader_fault(qid: str, problem: Exception, lang: str) -> Verdict:
    print(f"autograder: grading {qid} failed: {type(problem).__name__}: {problem}", file=sys.stderr)
    text = feedback.message("submission", "grader_error", lang)
    return Verdict(qid, "invalid", 0.0, None, text, "grader_error")


def _opaque(qid: str, q: Question, value: Opaque, lang: str) -> Verdict:
    if value.tag == "too_large":
        size = math.prod(value.detail) if isinstance(value.detail, list) else 0
        return form_verdict(qid, FormError("too_large", {"size": size}), lang)
    if value.tag == "function" and q.kind is not Kind.FUNCTION:
        return form_verdict(qid, FormError("not_numbers", {"type": "function"}), lang)
    head = feedback.message("verdict", "invalid", lang)
    text = feedback.message("submission", "opaque", lang, name=q.name, type=str(value.detail)[:60])
    return Verdict(qid, "invalid", 0.0, None, f"{head} {text}", "opaque")


def _cell_problem(job: Job, index: int, error: str, lang: str, limits: Limits) -> str:
    cell = _cell(job, index)
    if error.startswith(CELL_TIMEOUT):
        seconds = f"{limits.cell_seconds:g}"
        return feedback.message("submission", "cell_timeout", lang, cell=cell, seconds=seconds)
    return feedback.message("submission", "cell_error", lang, cell=cell, error=error)


def _failed_answer_cell(name: str, run: Run, job: Job) -> str | None:
    for index, cell in enumerate(job.cells):
        error = run.cell_errors.get(index)
        if cell.question == name and error and not error.startswith("NotImplementedError"):
            return error
    return None


def _usable_as_given(q: Question, answer: Answer) -> bool:
    """Earlier numeric answers, finite and of the asked number of entries (in any shape), feed the
    follow-on check of later ones; others cannot be the entries a rule takes, and a derivation from
    them would cost the grader in proportion to their size."""
    if q.kind not in (Kind.NUMBER, Kind.VECTOR, Kind.MATRIX) or answer.missing:
        return False
    entries = math.prod(q.shape or ())
    try:
        return to_array(answer.value, limit=entries).size == entries
    except FormError:
        return False


def _cell(job: Job, index: int | None) -> str:
    if index is None or index >= len(job.cells):
        return "?"
    position = job.cells[index].position
    return str(position + 1) if position is not None else "0"


def _stopped(run: Run, job: Job, lang: str, limits: Limits) -> str | None:
    """Why the run ended before its last cell, in the student's language (None if it did not)."""
    cell = _cell(job, run.stopped_in)
    if run.status == "timeout":
        return feedback.message(
            "submission", "timeout", lang, seconds=f"{limits.wall_seconds:g}", cell=cell
        )
    if run.status == "result_too_large":
        return feedback.message("submission", "result_too_large", lang, limit=limits.result_bytes)
    if run.status == "worker_lost":
        return feedback.message("submission", "worker_lost", lang)
    if run.status == "unconfined":
        return feedback.message("submission", "unconfined", lang)
    if run.status == "fault":
        return feedback.message("submission", "grader_fault", lang)
    if run.status == "killed" or run.signal is not None:
        return feedback.message(
            "submission", "killed", lang, cell=cell, reason=_signal_reason(run, lang, limits)
        )
    if run.unread:
        return feedback.message("submission", "too_many_lines", lang, count=run.unread)
    if not run.completed:
        return feedback.message("submission", "stopped", lang, cell=cell)
    return None


def _signal_reason(run: Run, lang: str, limits: Limits) -> str:
    # SIGXCPU is the CPU bound's own signal; SIGKILL is its hard limit, one second later
    if run.signal == signal.SIGXCPU or (
        run.signal == signal.SIGKILL and run.cpu_seconds >= limits.cpu_seconds
    ):
        return feedback.message("submission", "signal_cpu", lang, limit=f"{limits.cpu_seconds:g}")
    if run.max_rss_kb * 1024 >= 0.9 * limits.memory_bytes:
        limit = f"{limits.memory_bytes / 1024**3:g} GiB"
        return feedback.message("submission", "signal_memory", lang, limit=limit)
    if run.signal == signal.SIGSYS:
        return feedback.message("submission", "signal_syscall", lang)
    try:
        name = signal.Signals(run.signal or 0).name
    except ValueError:
        name = str(run.signal)
    return feedback.message("submission", "signal_other", lang, signal=name)
