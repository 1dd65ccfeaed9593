"""What the teacher gave by hand in formgrader, read from nbgrader's gradebook: a score for a
question answered in words or over an auto score, and a comment of their own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select


@dataclass(frozen=True)
class Hand:
    """One question's score and comment given by the teacher (None where they gave none)."""

    score: float | None = None
    comment: str | None = None


# (student, assignment) → question name → what the teacher gave
ByHand = dict[tuple[str, str], dict[str, Hand]]


def by_hand(db: Any) -> ByHand:
    """Every manual score and comment in the gradebook (one query each), by submission and
    question: a grade cell `NAME_test` and a solution cell `NAME` are the question NAME."""
    from nbgrader.api import Assignment, BaseCell, Comment, Grade, SubmittedAssignment
    from nbgrader.api import SubmittedNotebook as Notebook

    found: ByHand = {}

    def rows(model: Any, column: Any) -> Any:
        return db.execute(
            select(SubmittedAssignment.student_id, Assignment.name, BaseCell.name, column)
            .join(Notebook, Notebook.id == model.notebook_id)
            .join(SubmittedAssignment, SubmittedAssignment.id == Notebook.assignment_id)
            .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
            .join(BaseCell, BaseCell.id == model.cell_id)
            .where(column.is_not(None))
        )

    for student, assignment, cell, score in rows(Grade, Grade.manual_score):
        given = found.setdefault((student, assignment), {})
        question = cell.removesuffix("_test")
        given[question] = Hand(float(score), given.get(question, Hand()).comment)
    for student, assignment, cell, comment in rows(Comment, Comment.manual_comment):
        if not str(comment).strip():
            continue
        given = found.setdefault((student, assignment), {})
        given[cell] = Hand(given.get(cell, Hand()).score, str(comment))
    return found
