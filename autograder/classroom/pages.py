"""The feedback page of one graded submission, in the student's language, written beside the class
report: `COURSE/reports/feedback/STUDENT/ASSIGNMENT/ASSIGNMENT.html` (nbgrader's `feedback/` is
what its generate_feedback writes and release_feedback hands out)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from autograder.classroom.by_hand import Hand
from autograder.classroom.late import spoken
from autograder.classroom.marking import Marked, Result
from autograder.classroom.titles import task_title
from autograder.derivation.references import exercise
from autograder.judging import feedback
from autograder.release.files import write_whole


def feedback_page(result: Result, hand: Mapping[str, Hand] | None = None) -> str:
    """A self-contained HTML page for the student, in their language: per question what was asked,
    the answer as read, the points and the verdict, a recognised mistake by its name; with what the
    teacher gave by hand in formgrader (`hand`, by question), whose scores count over the grader's."""
    lang = result.lang
    hand = hand or {}

    def label(key: str, **details: Any) -> str:
        return html.escape(feedback.message("report", key, lang, **details))

    rows, total, waiting = [], 0.0, 0.0
    marked = {m.verdict.qid.partition(".")[2]: m for m in result.questions}
    questions = exercise(result.assignment).questions if result.assignment else ()
    names = [q.name for q in questions if q.name in marked or q.graded_by_teacher]
    names += [n for n in marked if n not in names]
    for number, name in enumerate(names, start=1):
        given = hand.get(name, Hand())
        m = marked.get(name)
        points = m.points if m else next(q.points for q in questions if q.name == name)
        score = given.score if given.score is not None else (m.score if m else None)
        if score is None:
            waiting += points
        else:
            total += score
        rows.append(_row(result, number, name, m, given, score, points, label))
    total = round(total, 6)
    problems = "".join(f"<li>{html.escape(e)}</li>" for e in result.errors)
    problem_block = f"<h2>{label('problems')}</h2><ul>{problems}</ul>" if problems else ""
    title = label("title", assignment=_assignment_title(result.assignment, lang))
    notes = []
    if waiting:
        notes.append(f"<p class='waiting'>{label('waiting', points=f'{waiting:g}')}</p>")
    if result.late is not None:
        said = label(
            "late",
            delay=spoken(result.late.seconds),
            penalty=f"{result.late.penalty:g}",
            score=f"{max(total - result.late.penalty, 0.0):g}",
            max_score=f"{result.max_score:g}",
        )
        notes.append(f"<p class='late'>{said}</p>")
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 72em; margin: 2em auto; padding: 0 1em; line-height: 1.4; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border: 1px solid #ccc; padding: 0.5em; text-align: left; vertical-align: top; }}
th {{ background: #f2f2f2; }}
.task {{ width: 30%; }} .read code {{ white-space: pre-wrap; word-break: break-word; }}
.name {{ color: #555; font-size: 0.85em; }}
tr.correct .points {{ color: #070; }} tr.partial .points {{ color: #a60; }}
tr.wrong .points, tr.invalid .points, tr.unanswered .points {{ color: #b00; }}
.mistake {{ display: block; font-weight: bold; margin-bottom: 0.2em; }}
.note {{ color: #555; font-size: 0.9em; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{label("student")}: <strong>{html.escape(result.student or "?")}</strong> —
{label("total")}: <strong>{total:g} / {result.max_score:g}</strong></p>
{"".join(notes)}
{problem_block}
<table>
<tr><th>{label("question")}</th><th>{label("points")}</th><th>{label("your_answer")}</th><th>{label("said")}</th></tr>
{"".join(rows)}
</table>
<p class="note">{label("read_note")}</p>
</body>
</html>
"""


def _row(
    result: Result,
    number: int,
    name: str,
    m: Marked | None,
    given: Hand,
    score: float | None,
    points: float,
    label: Callable[..., str],
) -> str:
    """One question's row: what was asked, the points, the answer as read, what the grader and the
    teacher said."""
    lang, assignment = result.lang, result.assignment or ""
    asked = html.escape(task_title(assignment, name, lang)) if assignment else ""
    task = (
        f"<strong>{label('numbered', n=number)}.</strong> {_code_spans(asked)}"
        f"<br><span class='name'>{label('in_notebook', name='')} <code>{html.escape(name)}</code></span>"
    )
    shown = f"{score:g} / {points:g}" if score is not None else f"– / {points:g}"
    if given.score is not None:
        shown += f" <small>({label('by_teacher')})</small>"
    if m is None:
        read, said, status = "", label("graded_by_teacher"), "manual"
    else:
        read = f"<code>{html.escape(m.read)}</code>" if m.read else label("not_read")
        mistake = m.verdict.mistake
        named = (
            f"<span class='mistake'>{label('mistake')}: "
            f"{html.escape(feedback.mistake_name(assignment, mistake, lang))}</span>"
            if mistake and assignment
            else ""
        )
        said, status = named + html.escape(m.verdict.feedback), m.verdict.status
    if given.comment:
        said += f"<p class='teacher'>{label('teacher_comment')}: {html.escape(given.comment)}</p>"
    return (
        f"<tr class='{status}' data-question='{html.escape(name)}'><td class='task'>{task}</td>"
        f"<td class='points'>{shown}</td><td class='read'>{read}</td><td class='said'>{said}</td></tr>"
    )


def _code_spans(escaped: str) -> str:
    """`name` in a title as code, as the notebook writes it."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", escaped)


def _assignment_title(assignment: str | None, lang: str) -> str:
    if assignment is None:
        return "?"
    texts = feedback.exercise_texts(assignment).get("title")
    return feedback.pick(texts, lang) if texts else assignment


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
