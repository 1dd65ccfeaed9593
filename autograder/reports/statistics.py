"""The class's statistics of one assignment, as a quiz report gives them: the totals' spread, and
per question its facility, spread, discrimination, outcomes and the mistakes named by frequency.

Pure functions of the class's answers (no gradebook, no files). The definitions are those of
Moodle's quiz statistics: facility is the mean score as a share of the question's points, the
standard deviation is of that share (n − 1 in the denominator), and the discrimination index is
the correlation of the question's score with the rest of the assignment's score (the question
itself left out). The flags follow PrairieLearn's advice on questions to look at again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

# what became of an answer: the grader's verdicts, and for a question answered in words either
# the teacher's score (by_teacher) or none yet (waiting)
OUTCOMES = ("correct", "partial", "wrong", "invalid", "unanswered", "by_teacher", "waiting")
TOO_EASY, TOO_HARD = 0.90, 0.50
WEAK_DISCRIMINATION, EASY_ENOUGH_TO_NOT_DISCRIMINATE = 0.20, 0.95


@dataclass(frozen=True)
class Answer:
    """One student's answer to one question: its score (None while it waits for the teacher),
    the outcome, the mistake named, and whose numbers it was right for if it was a copy."""

    score: float | None
    outcome: str
    mistake: str | None = None
    copied_from: str | None = None


@dataclass(frozen=True)
class Question:
    name: str
    points: float
    by_teacher: bool = False


@dataclass(frozen=True)
class Sheet:
    """One student's submission of the assignment, as the gradebook and the kept result hold it."""

    student: str
    answers: dict[str, Answer]
    late_penalty: float = 0.0
    late: bool = False

    def score(self) -> float:
        return round(sum(a.score or 0.0 for a in self.answers.values()), 6)

    def final(self) -> float:
        return round(max(self.score() - self.late_penalty, 0.0), 6)


@dataclass(frozen=True)
class Mistake:
    name: str
    count: int
    share: float  # of the answers that were not right
    students: tuple[str, ...]


@dataclass(frozen=True)
class QuestionStats:
    question: Question
    scored: int  # answers with a score (those waiting for the teacher are left out)
    facility: float | None
    sd: float | None
    discrimination: float | None
    # why the discrimination index is undefined: "one" (a single answer) or "spread" (no spread)
    undefined: str | None
    outcomes: dict[str, float]
    mistakes: tuple[Mistake, ...]
    flags: tuple[str, ...]


@dataclass(frozen=True)
class Copy:
    student: str
    question: str
    whose: str


@dataclass(frozen=True)
class AssignmentStats:
    assignment: str
    max_score: float
    submitted: int
    late: int
    missing: tuple[str, ...]
    mean: float | None
    median: float | None
    sd: float | None
    histogram: tuple[tuple[float, float, int], ...]  # (from, to, submissions)
    questions: tuple[QuestionStats, ...]
    copies: tuple[Copy, ...]
    sheets: tuple[Sheet, ...] = field(repr=False)


def assignment_stats(
    assignment: str,
    questions: Sequence[Question],
    sheets: Sequence[Sheet],
    enrolled: Sequence[str] = (),
) -> AssignmentStats:
    """Everything the report says of one assignment; None wherever a number is undefined."""
    totals = np.array([s.score() for s in sheets], dtype=np.float64)
    max_score = float(sum(q.points for q in questions))
    handed = {s.student for s in sheets}
    copies = tuple(
        Copy(s.student, name, a.copied_from)
        for s in sheets
        for name, a in sorted(s.answers.items())
        if a.copied_from is not None
    )
    return AssignmentStats(
        assignment=assignment,
        max_score=max_score,
        submitted=len(sheets),
        late=sum(s.late for s in sheets),
        missing=tuple(sorted(set(enrolled) - handed)),
        mean=_defined(float(np.mean(totals))) if len(totals) else None,
        median=_defined(float(np.median(totals))) if len(totals) else None,
        sd=_sd(totals),
        histogram=histogram(totals, max_score),
        questions=tuple(question_stats(q, sheets) for q in questions),
        copies=copies,
        sheets=tuple(sorted(sheets, key=lambda s: s.student)),
    )


def question_stats(q: Question, sheets: Sequence[Sheet]) -> QuestionStats:
    """One question over the class: only the submissions where it has a score count."""
    answers = [(s, s.answers.get(q.name, Answer(0.0, "unanswered"))) for s in sheets]
    scored = [(s, a.score) for s, a in answers if a.score is not None]
    shares = np.array([x / q.points if q.points else 0.0 for _, x in scored], dtype=np.float64)
    own = np.array([x for _, x in scored], dtype=np.float64)
    rest = np.array([s.score() - x for s, x in scored], dtype=np.float64)
    discrimination, undefined = _correlation(own, rest)
    facility = _defined(float(np.mean(shares))) if len(shares) else None
    outcomes = {o: sum(a.outcome == o for _, a in answers) / (len(answers) or 1) for o in OUTCOMES}
    return QuestionStats(
        question=q,
        scored=len(scored),
        facility=facility,
        sd=_sd(shares),
        discrimination=discrimination,
        undefined=undefined,
        outcomes=outcomes,
        mistakes=_mistakes(answers),
        flags=flags(facility, discrimination),
    )


def flags(facility: float | None, discrimination: float | None) -> tuple[str, ...]:
    """The reasons to look at a question again: too easy, too hard, weak discrimination."""
    found = []
    if facility is not None and facility > TOO_EASY:
        found.append("too_easy")
    if facility is not None and facility < TOO_HARD:
        found.append("too_hard")
    easy = facility is not None and facility > EASY_ENOUGH_TO_NOT_DISCRIMINATE
    if discrimination is not None and discrimination < WEAK_DISCRIMINATION and not easy:
        found.append("weak_discrimination")
    return tuple(found)


def histogram(totals: np.ndarray, max_score: float) -> tuple[tuple[float, float, int], ...]:
    """The totals in bins of a whole number of points (at most 10 bins) from 0, the last bin
    closed at the maximum."""
    if not len(totals) or max_score <= 0:
        return ()
    width = max(1, math.ceil(max_score / 10))
    bins = max(1, math.ceil(max_score / width))
    top = bins * width
    counts, edges = np.histogram(np.clip(totals, 0, max_score), bins=bins, range=(0, top))
    return tuple(
        (round(float(a), 6), round(float(b), 6), int(c))
        for a, b, c in zip(edges[:-1], edges[1:], counts, strict=True)
    )


def _mistakes(answers: Sequence[tuple[Sheet, Answer]]) -> tuple[Mistake, ...]:
    """Each mistake named, by how often: its share is of the answers that were not right."""
    not_right = [(s, a) for s, a in answers if a.outcome in ("partial", "wrong")]
    named: dict[str, list[str]] = {}
    for s, a in not_right:
        if a.mistake:
            named.setdefault(a.mistake, []).append(s.student)
    found = [
        Mistake(name, len(who), len(who) / len(not_right), tuple(sorted(who)))
        for name, who in named.items()
    ]
    return tuple(sorted(found, key=lambda m: (-m.count, m.name)))


def _sd(values: np.ndarray) -> float | None:
    """The sample standard deviation; undefined for fewer than two values."""
    return _defined(float(np.std(values, ddof=1))) if len(values) >= 2 else None


def _correlation(x: np.ndarray, y: np.ndarray) -> tuple[float | None, str | None]:
    """Pearson's r of two columns, or why there is none: fewer than two, or no spread in one."""
    if len(x) < 2:
        return None, "one"
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return None, "spread"
    return _defined(float(np.corrcoef(x, y)[0, 1])), None


def _defined(value: float) -> float | None:
    return value if math.isfinite(value) else None


def as_json(stats: Sequence[AssignmentStats]) -> str:
    """The statistics for scripts: every figure of the report, None where it is undefined."""
    import json
    from dataclasses import asdict

    def plain(s: AssignmentStats) -> dict[str, object]:
        data = asdict(s)
        data["sheets"] = [
            {
                "student": x.student,
                "score": x.score(),
                "late_penalty": x.late_penalty,
                "final": x.final(),
                "late": x.late,
            }
            for x in s.sheets
        ]
        return data

    return json.dumps([plain(s) for s in stats], ensure_ascii=False, indent=1)
