"""The feedback page of one graded submission, in the student's language, written beside the class
report: `COURSE/reports/feedback/STUDENT/ASSIGNMENT/ASSIGNMENT.html` (nbgrader's `feedback/` is
what its generate_feedback writes and release_feedback hands out)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autograder.classroom.by_hand import Hand
from autograder.classroom.late import spoken
from autograder.classroom.marking import Result
from autograder.derivation.references import exercise
from autograder.judging import feedback
from autograder.release.files import write_whole


def feedback_page(result: Result, hand: Mapping[str, Hand] | None = None) -> str:
    """A self-contained HTML page for the student, in their language; with what the teacher gave
    by hand in formgrader (`hand`, by question), their scores count over the grader's."""
    lang = result.lang
    hand = hand or {}

    def label(key: str, **details: Any) -> str:
        return html.escape(feedback.message("report", key, lang, **details))

    def teachers(given: Hand) -> str:
        if not given.comment:
            return ""
        return f"<p class='teacher'>{label('teacher_comment')}: {html.escape(given.comment)}</p>"

    rows, total = [], 0.0
    for m in result.questions:
        name = m.verdict.qid.partition(".")[2]
        given = hand.get(name, Hand())
        score = m.score if given.score is None else given.score
        total += score
        by = f" <small>({label('by_teacher')})</small>" if given.score is not None else ""
        mistake = html.escape(m.verdict.mistake or "")
        rows.append(
            f"<tr class='{m.verdict.status}'><td><code>{html.escape(name)}</code></td>"
            f"<td>{score:g} / {m.points:g}{by}</td><td>{html.escape(m.verdict.feedback)}"
            f"{teachers(given)}</td><td>{mistake}</td></tr>"
        )
    for q in exercise(result.assignment).questions if result.assignment else ():
        if q.graded_by_teacher:
            given = hand.get(q.name, Hand())
            if given.score is None:
                points, said = f"– / {q.points:g}", label("graded_by_teacher")
            else:
                total += given.score
                by = f" <small>({label('by_teacher')})</small>"
                points, said = f"{given.score:g} / {q.points:g}{by}", ""
            rows.append(
                f"<tr class='manual'><td><code>{html.escape(q.name)}</code></td>"
                f"<td>{points}</td><td>{said}{teachers(given)}</td><td></td></tr>"
            )
    total = round(total, 6)
    problems = "".join(f"<li>{html.escape(e)}</li>" for e in result.errors)
    problem_block = f"<h2>{label('problems')}</h2><ul>{problems}</ul>" if problems else ""
    title = label("title", assignment=result.assignment or "?")
    late = ""
    if result.late is not None:
        said = label(
            "late",
            delay=spoken(result.late.seconds),
            penalty=f"{result.late.penalty:g}",
            score=f"{max(total - result.late.penalty, 0.0):g}",
            max_score=f"{result.max_score:g}",
        )
        late = f"<p class='late'>{said}</p>"
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 60em; margin: 2em auto; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border: 1px solid #ccc; padding: 0.4em; text-align: left; vertical-align: top; }}
tr.correct td:nth-child(2) {{ color: #070; }} tr.partial td:nth-child(2) {{ color: #a60; }}
tr.wrong td:nth-child(2), tr.invalid td:nth-child(2) {{ color: #b00; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{label("student")}: <strong>{html.escape(result.student or "?")}</strong> —
{label("total")}: <strong>{total:g} / {result.max_score:g}</strong></p>
{late}
{problem_block}
<table>
<tr><th>{label("question")}</th><th>{label("points")}</th><th>{label("verdict")}</th><th>{label("mistake")}</th></tr>
{"".join(rows)}
</table>
</body>
</html>
"""


# where a course keeps the feedback pages
PAGES = Path("reports") / "feedback"


def write_feedback(
    result: Result, folder: Path, hand: Mapping[str, Hand] | None = None
) -> Path | None:
    """`folder/STUDENT/ASSIGNMENT/ASSIGNMENT.html`, as nbgrader lays out feedback; written whole."""
    if result.student is None or result.assignment is None:
        return None
    path = folder / result.student / result.assignment / f"{result.assignment}.html"
    write_whole(path, feedback_page(result, hand))
    return path


def refresh_pages(course: Path, db_url: str | None, folder: Path | None = None) -> tuple[int, int]:
    """Every kept result's page written again with what the teacher has since given by hand in
    formgrader; the number of pages, and of those with the teacher's scores or comments."""
    from autograder.classroom.gradebook import Gradebook
    from autograder.classroom.kept import kept

    with Gradebook(course, db_url) as book:
        hands = book.by_hand()
    pages = with_hand = 0
    for result in kept(course):
        hand = hands.get((result.student or "", result.assignment or ""))
        if write_feedback(result, folder or course / PAGES, hand):
            pages += 1
            with_hand += bool(hand)
    return pages, with_hand
