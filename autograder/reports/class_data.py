"""A course's class as the report reads it: the scores from nbgrader's gradebook (regrades and the
teacher's scores in formgrader count), the verdicts and mistakes from the results kept with it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from autograder.classroom.kept import kept
from autograder.classroom.marking import Result
from autograder.derivation.references import ASSIGNMENTS, exercise
from autograder.reports.statistics import (
    Answer,
    AssignmentStats,
    Question,
    Sheet,
    assignment_stats,
)


def class_stats(
    course: Path, db_url: str | None = None, assignments: Sequence[str] = ()
) -> tuple[list[AssignmentStats], tuple[str, ...]]:
    """The statistics of each assignment the gradebook knows (or of those asked), in the
    catalogue's order, and every student enrolled."""
    from autograder.classroom.gradebook import Gradebook

    results = {(r.student, r.assignment): r for r in kept(course)}
    with Gradebook(course, db_url) as book:
        rows = _grades(book.gb.db)
        enrolled = tuple(sorted(s.id for s in book.gb.students))
        known = {a.name for a in book.gb.assignments}
    wanted = [a for a in ASSIGNMENTS if a in known and (not assignments or a in assignments)]
    found = []
    for assignment in wanted:
        questions = [
            Question(q.name, float(q.points), q.graded_by_teacher)
            for q in exercise(assignment).questions
        ]
        sheets = [
            _sheet(student, assignment, questions, grades, results.get((student, assignment)))
            for (student, name), grades in sorted(rows.items())
            if name == assignment
        ]
        found.append(assignment_stats(assignment, questions, sheets, enrolled))
    return found, enrolled


# (student, assignment) → grade cell → (auto score, manual score, late penalty of its notebook)
Grades = dict[tuple[str, str], dict[str, tuple[float | None, float | None, float | None]]]


def _grades(db: Any) -> Grades:
    """Every grade in the gradebook, in one query."""
    from nbgrader.api import Assignment, BaseCell, Grade, SubmittedAssignment
    from nbgrader.api import SubmittedNotebook as Notebook

    found: Grades = {}
    query = (
        select(
            SubmittedAssignment.student_id,
            Assignment.name,
            BaseCell.name,
            Grade.auto_score,
            Grade.manual_score,
            Notebook.late_submission_penalty,
        )
        .join(Notebook, Notebook.id == Grade.notebook_id)
        .join(SubmittedAssignment, SubmittedAssignment.id == Notebook.assignment_id)
        .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
        .join(BaseCell, BaseCell.id == Grade.cell_id)
    )
    for student, assignment, cell, auto, manual, penalty in db.execute(query):
        found.setdefault((student, assignment), {})[cell] = (auto, manual, penalty)
    return found


def _sheet(
    student: str,
    assignment: str,
    questions: Sequence[Question],
    grades: dict[str, tuple[float | None, float | None, float | None]],
    result: Result | None,
) -> Sheet:
    marked = {m.verdict.qid.partition(".")[2]: m for m in result.questions} if result else {}
    answers = {}
    penalty: float | None = None
    for q in questions:
        auto, manual, penalty_here = grades.get(q.name if q.by_teacher else f"{q.name}_test") or (
            None,
            None,
            None,
        )
        penalty = penalty if penalty_here is None else penalty_here
        score = manual if manual is not None else auto
        if q.by_teacher:
            answers[q.name] = Answer(score, "by_teacher" if score is not None else "waiting")
            continue
        m = marked.get(q.name)
        if m is None:  # graded by another tool, or before results were kept: the score says
            full = score is not None and score >= q.points
            outcome = "correct" if full else "wrong" if not score else "partial"
            answers[q.name] = Answer(score, outcome)
        else:
            answers[q.name] = Answer(score, m.verdict.status, m.verdict.mistake, m.copied_from)
    late = penalty is not None or (result is not None and result.late is not None)
    return Sheet(student, answers, float(penalty or 0.0), late)


def report_course(
    course: Path,
    db_url: str | None = None,
    lang: str = "de",
    assignments: Sequence[str] = (),
    out: Path | None = None,
) -> tuple[Path, list[AssignmentStats]]:
    """Read the class from the gradebook and the kept results, write the report; its path and
    the statistics it shows."""
    from autograder.reports.class_report import write_report

    stats, enrolled = class_stats(course, db_url, assignments)
    return write_report(course, stats, enrolled, lang, out), stats
