"""The feedback page of one graded submission, in the student's language, written beside the class
report: `COURSE/reports/feedback/STUDENT/ASSIGNMENT/ASSIGNMENT.html` (nbgrader's `feedback/` is
what its generate_feedback writes and release_feedback hands out)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from autograder.classroom.late import spoken
from autograder.classroom.marking import Result
from autograder.derivation.references import exercise
from autograder.judging import feedback
from autograder.release.files import write_whole


def feedback_page(result: Result) -> str:
    """A self-contained HTML page for the student, in their language."""
    lang = result.lang

    def label(key: str, **details: Any) -> str:
        return html.escape(feedback.message("report", key, lang, **details))

    rows = []
    for m in result.questions:
        name = m.verdict.qid.partition(".")[2]
        mistake = html.escape(m.verdict.mistake or "")
        rows.append(
            f"<tr class='{m.verdict.status}'><td><code>{html.escape(name)}</code></td>"
            f"<td>{m.score:g} / {m.points:g}</td><td>{html.escape(m.verdict.feedback)}</td>"
            f"<td>{mistake}</td></tr>"
        )
    for q in exercise(result.assignment).questions if result.assignment else ():
        if q.graded_by_teacher:
            rows.append(
                f"<tr class='manual'><td><code>{html.escape(q.name)}</code></td>"
                f"<td>– / {q.points:g}</td><td>{label('graded_by_teacher')}</td><td></td></tr>"
            )
    problems = "".join(f"<li>{html.escape(e)}</li>" for e in result.errors)
    problem_block = f"<h2>{label('problems')}</h2><ul>{problems}</ul>" if problems else ""
    title = label("title", assignment=result.assignment or "?")
    late = ""
    if result.late is not None:
        said = label(
            "late",
            delay=spoken(result.late.seconds),
            penalty=f"{result.late.penalty:g}",
            score=f"{result.final_score:g}",
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
{label("total")}: <strong>{result.score:g} / {result.max_score:g}</strong></p>
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


def write_feedback(result: Result, folder: Path) -> Path | None:
    """`folder/STUDENT/ASSIGNMENT/ASSIGNMENT.html`, as nbgrader lays out feedback; written whole."""
    if result.student is None or result.assignment is None:
        return None
    path = folder / result.student / result.assignment / f"{result.assignment}.html"
    write_whole(path, feedback_page(result))
    return path
