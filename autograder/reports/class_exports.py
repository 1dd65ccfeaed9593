"""Exports beside the gradebook's totals: one row per student and question (for a spreadsheet or a
script), and a gradebook that Canvas imports."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from autograder.reports.statistics import AssignmentStats

QUESTION_COLUMNS = (
    "student",
    "assignment",
    "question",
    "score",
    "max_score",
    "outcome",
    "mistake",
    "copied_from",
)
# the identity columns of a Canvas gradebook CSV; Canvas matches a row by any of the IDs
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def questions_csv(stats: Sequence[AssignmentStats]) -> str:
    """student, assignment, question: the score (empty while it waits for the teacher), the
    outcome and the mistake named."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(QUESTION_COLUMNS)
    for s in stats:
        for sheet in s.sheets:
            for q in s.questions:
                a = sheet.answers.get(q.question.name)
                score = "" if a is None or a.score is None else f"{a.score:g}"
                writer.writerow(
                    [
                        sheet.student,
                        s.assignment,
                        q.question.name,
                        score,
                        f"{q.question.points:g}",
                        a.outcome if a else "unanswered",
                        (a.mistake or "") if a else "",
                        (a.copied_from or "") if a else "",
                    ]
                )
    return out.getvalue()


def canvas_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Canvas's gradebook import: the identity columns (the student's id as the SIS login, the
    others empty), a column per assignment, a "Points Possible" row, then a row per student with
    the score after the late penalty; an empty cell where nothing was handed in."""
    assignments = sorted({row["assignment"] for row in rows})
    possible = {row["assignment"]: row["max_score"] for row in rows}
    table: dict[str, dict[str, float]] = {}
    for row in rows:
        table.setdefault(row["student"], {})[row["assignment"]] = row["score"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CANVAS_COLUMNS, *assignments])
    writer.writerow(["Points Possible", "", "", "", "", *(f"{possible[a]:g}" for a in assignments)])
    for student in sorted(table):
        scores = [table[student].get(a) for a in assignments]
        cells = ["" if s is None else f"{s:g}" for s in scores]
        writer.writerow([student, "", "", student, "", *cells])
    return out.getvalue()
