"""The rows of a batch of results, as column values of nbgrader's models, for bulk statements.

A new submission mirrors its assignment's cells as nbgrader's add_submission does; one graded
before gets its scores and feedback updated in the rows it has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from autograder.classroom.late import naive_utc
from autograder.classroom.marking import Marked, Result
from autograder.judging import feedback


@dataclass(frozen=True)
class Layout:
    """An assignment's notebooks and cells as nbgrader holds them, read once per run.

    A new submission mirrors them as nbgrader's add_submission does: a Grade per grade cell and
    task cell, a Comment per solution cell and task cell.
    """

    assignment_id: str
    # nbgrader's due date of the assignment (naive UTC), if it has one
    duedate: datetime | None
    # notebook id → (ids of the cells that get a Grade, ids of those that get a Comment)
    notebooks: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
    # cell id → the name of the question it scores or comments on
    question: dict[str, str]


@dataclass
class Found:
    """The rows a batch's submissions have already: ids, and (row id, cell id) per submission."""

    students: set[str]
    submissions: dict[tuple[str, str], str]
    grades: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    comments: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # submission id → the ids of its notebooks' rows
    notebooks: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Rows:
    """The rows of one batch, as column values by model, for one bulk statement each."""

    students: list[dict[str, Any]] = field(default_factory=list)
    submissions: list[dict[str, Any]] = field(default_factory=list)
    notebooks: list[dict[str, Any]] = field(default_factory=list)
    grades: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)

    def add_submission(self, layout: Layout, student: str, result: Result) -> None:
        """A new submission mirroring the assignment's cells, as nbgrader's add_submission does."""
        from nbgrader.api import new_uuid

        marks = _marks(result)
        submission = new_uuid()
        self.submissions.append(
            {
                "id": submission,
                "assignment_id": layout.assignment_id,
                "student_id": student,
                "timestamp": naive_utc(result.timestamp) if result.timestamp else None,
            }
        )
        for notebook_id, (graded, commented) in layout.notebooks.items():
            notebook = new_uuid()
            self.notebooks.append(
                {
                    "id": notebook,
                    "notebook_id": notebook_id,
                    "assignment_id": submission,
                    "late_submission_penalty": _penalty(result),
                }
            )
            for cell_id in graded:
                self.grades.append(
                    {
                        "id": new_uuid(),
                        "cell_id": cell_id,
                        "notebook_id": notebook,
                        **_grade(marks.get(layout.question[cell_id])),
                    }
                )
            for cell_id in commented:
                self.comments.append(
                    {
                        "id": new_uuid(),
                        "cell_id": cell_id,
                        "notebook_id": notebook,
                        **_comment(marks.get(layout.question[cell_id]), result.lang),
                    }
                )

    def update_submission(
        self,
        layout: Layout,
        submission: str,
        found: Found,
        result: Result,
        forget_manual_scores: bool = False,
    ) -> None:
        """New scores and feedback into the rows of a submission graded before; the scores a
        teacher gave stay, unless forgotten: then every grade is the grader's, and the cells
        without a mark (the written answers) wait for the teacher again."""
        marks = _marks(result)
        if result.timestamp is not None:
            self.submissions.append({"id": submission, "timestamp": naive_utc(result.timestamp)})
        for notebook in found.notebooks.get(submission, []):
            self.notebooks.append({"id": notebook, "late_submission_penalty": _penalty(result)})
        forgotten = {"manual_score": None} if forget_manual_scores else {}
        for rows, values, kept, anew in (
            (self.grades, _grade, found.grades, forgotten),
            (self.comments, partial(_comment, lang=result.lang), found.comments, {}),
        ):
            for row_id, cell_id in kept.get(submission, []):
                marked = marks.get(layout.question.get(cell_id, ""))
                if marked is not None or anew:
                    rows.append({"id": row_id, **values(marked), **anew})


def _penalty(result: Result) -> float | None:
    """nbgrader's late penalty of a notebook: None when on time (one notebook per assignment)."""
    return result.late.penalty if result.late else None


def _marks(result: Result) -> dict[str, Marked]:
    return {m.verdict.qid.partition(".")[2]: m for m in result.questions}


def _grade(marked: Marked | None) -> dict[str, Any]:
    """A grade row's scores: the auto score, or none yet (for a human to give)."""
    if marked is None:
        return {"auto_score": None, "needs_manual_grade": True}
    return {"auto_score": marked.score, "needs_manual_grade": False}


def _comment(marked: Marked | None, lang: str) -> dict[str, Any]:
    return {"auto_comment": None if marked is None else comment(marked, lang)}


def comment(marked: Marked, lang: str) -> str:
    """The grader's comment on a question: its feedback, then the answer as the grader read it
    (so that a teacher in formgrader sees what the student sees on their page)."""
    read = marked.read or feedback.message("report", "not_read", lang)
    said = feedback.message("report", "your_answer", lang)
    return f"{marked.verdict.feedback}\n{said}: {read}"
