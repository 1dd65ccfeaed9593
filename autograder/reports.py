"""What a grading run leaves for people: the class summary, a feedback page per student, the JSON,
and grade exports for a learning management system.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from autograder import feedback
from autograder.marking import Marked, Result
from autograder.references import exercise
from autograder.submissions import Stray, printable


def mark_symbol(m: Marked) -> str:
    """One short cell of the summary: ✓, a partial score, the named mistake, – or ✗."""
    v = m.verdict
    if v.correct:
        return "✓"
    if v.status == "partial":
        return f"½ {m.score:.3g}/{m.points:g}"
    if v.mistake:
        return f"✗ {v.mistake}"
    return {"unanswered": "–", "invalid": "✗ form"}.get(v.status, "✗")


def summary(results: Sequence[Result]) -> str:
    """One table per assignment: a row per student, a column per question, and the total."""
    blocks = []
    by_assignment: dict[str | None, list[Result]] = {}
    for r in results:
        by_assignment.setdefault(r.assignment, []).append(r)
    for assignment, group in by_assignment.items():
        if assignment is None:
            lines = ["unreadable submissions"]
            lines += [f"  {r.path}: {' '.join(r.errors)}" for r in group]
            blocks.append("\n".join(lines))
            continue
        names = [q.name for q in exercise(assignment).questions]
        widths = [max(len(n), 6) for n in names]
        for r in group:
            for i, m in enumerate(r.questions):
                widths[i] = max(widths[i], len(mark_symbol(m)))
        who = max([7, *(len(r.student or "?") for r in group)])
        head = f"{'student':<{who}}  " + "  ".join(
            f"{n:<{w}}" for n, w in zip(names, widths, strict=True)
        )
        lines = [f"{assignment}", head + "  total"]
        for r in sorted(group, key=lambda r: r.student or ""):
            cells = "  ".join(
                f"{mark_symbol(m):<{w}}" for m, w in zip(r.questions, widths, strict=True)
            )
            lines.append(f"{r.student or '?':<{who}}  {cells}  {r.score:.4g}/{r.max_score:g}")
            lines += [f"{'':<{who}}  ! {e}" for e in r.errors[:3]]
        scores = [r.score for r in group]
        count = _many(len(group), "submission")
        lines.append(f"{count}, mean {sum(scores) / len(scores):.1f}/{group[0].max_score:g}")
        lines += copy_report(group)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


# the class summary names this many ignored notebooks (a folder may hold thousands)
LISTED_STRAYS = 20


def tally(
    *,
    found: int,
    graded: int,
    refused: int,
    skipped: int,
    unrecorded: int,
    ignored: Sequence[Stray],
) -> str:
    """What became of every submission found, and the notebooks that are none, for the teacher."""
    lines = []
    if ignored:
        lines.append(
            "ignored (no submission: only submitted/STUDENT/ASSIGNMENT/ASSIGNMENT.ipynb is one):"
        )
        for stray in ignored[:LISTED_STRAYS]:
            whose = f"  (in {printable(stray.student)}'s folder)" if stray.student else ""
            lines.append(f"  {printable(stray.path)}{whose}")
        if len(ignored) > LISTED_STRAYS:
            lines.append(f"  … and {len(ignored) - LISTED_STRAYS} more")
    lines.append(
        f"{_many(found, 'submission')} found: {graded - refused} graded, {refused} refused, "
        f"{skipped} graded already; {_many(len(ignored), 'notebook')} ignored"
    )
    if unrecorded:
        lines.append(f"{_many(unrecorded, 'result')} not recorded (see the warnings above)")
    if found - graded - skipped:
        lines.append(f"{_many(found - graded - skipped, 'submission')} without any result")
    return "\n".join(lines)


def _many(count: int, thing: str) -> str:
    return f"{count} {thing}" + ("s" if count != 1 else "")


def copy_report(results: Iterable[Result]) -> list[str]:
    """The answers that are wrong for their student's numbers but right for a classmate's."""
    copies = [
        (r.student or "?", m.verdict.qid.partition(".")[2], m.copied_from)
        for r in sorted(results, key=lambda r: r.student or "")
        for m in r.questions
        if m.copied_from is not None
    ]
    if not copies:
        return []
    lines = ["copies (wrong for the student's own numbers, right for a classmate's; no credit):"]
    lines += [f"  {who}: {question} has {source}'s numbers" for who, question, source in copies]
    return lines


def as_json(results: Iterable[Result]) -> str:
    return json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=1)


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
    problems = "".join(f"<li>{html.escape(e)}</li>" for e in result.errors)
    problem_block = f"<h2>{label('problems')}</h2><ul>{problems}</ul>" if problems else ""
    title = label("title", assignment=result.assignment or "?")
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
{problem_block}
<table>
<tr><th>{label("question")}</th><th>{label("points")}</th><th>{label("verdict")}</th><th>{label("mistake")}</th></tr>
{"".join(rows)}
</table>
</body>
</html>
"""


def write_feedback(result: Result, folder: Path) -> Path | None:
    """`folder/STUDENT/ASSIGNMENT/ASSIGNMENT.html`, as nbgrader lays out feedback; written whole."""
    if result.student is None or result.assignment is None:
        return None
    path = folder / result.student / result.assignment / f"{result.assignment}.html"
    write_whole(path, feedback_page(result))
    return path


def write_whole(path: Path, text: str) -> None:
    """Write to a temporary file beside `path` and rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(name, 0o644)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def export(rows: Sequence[dict[str, Any]], form: str) -> str:
    """Grades for an LMS. `csv`: one row per student and assignment; `moodle`: one row per student,
    a column per assignment, keyed by username (Moodle's "Import grades from CSV" maps both).
    """
    out = io.StringIO()
    if form == "csv":
        writer = csv.writer(out)
        writer.writerow(["student", "assignment", "score", "max_score"])
        for row in rows:
            writer.writerow(
                [row["student"], row["assignment"], f"{row['score']:g}", f"{row['max_score']:g}"]
            )
        return out.getvalue()
    if form != "moodle":
        raise ValueError(f"no export format {form!r}; choose csv or moodle")
    assignments = sorted({row["assignment"] for row in rows})
    table: dict[str, dict[str, float]] = {}
    for row in rows:
        table.setdefault(row["student"], {})[row["assignment"]] = row["score"]
    writer = csv.writer(out)
    writer.writerow(["Username", *assignments])
    for student in sorted(table):
        scores = [table[student].get(a) for a in assignments]
        # no submission: an empty cell, which Moodle's import leaves alone
        writer.writerow([student, *("" if s is None else f"{s:g}" for s in scores)])
    return out.getvalue()
