"""What a grading run leaves for people: the class summary and the JSON (the feedback pages are
written as each submission is graded), and grade exports for a learning management system.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from autograder.classroom.late import spoken
from autograder.classroom.marking import Marked, Result
from autograder.classroom.submissions import Stray, printable
from autograder.derivation.references import exercise


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
        names = [q.name for q in exercise(assignment).autograded]
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
            total = f"{r.score:.4g}/{r.max_score:g}"
            if r.late is not None:
                total += f" (−{r.late.penalty:g} late)"
            lines.append(f"{r.student or '?':<{who}}  {cells}  {total}")
            lines += [f"{'':<{who}}  ! {e}" for e in r.errors[:3]]
        scores = [r.score for r in group]
        count = _many(len(group), "submission")
        lines.append(f"{count}, mean {sum(scores) / len(scores):.1f}/{group[0].max_score:g}")
        lines += late_report(group)
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


def waiting_for_teacher(results: Iterable[Result]) -> str | None:
    """One line on the points the grader leaves to the teacher (the answers in words), if any."""
    waiting = [r.manual_points for r in results if r.manual_points]
    if not waiting:
        return None
    return (
        f"manual grading: {sum(waiting):g} points of {_many(len(waiting), 'submission')} "
        "wait for the teacher in nbgrader's formgrader"
    )


def _many(count: int, thing: str) -> str:
    return f"{count} {thing}" + ("s" if count != 1 else "")


def late_report(results: Iterable[Result]) -> list[str]:
    """The submissions after nbgrader's due date, how late, and the penalty its plugin gave."""
    late = [r for r in sorted(results, key=lambda r: r.student or "") if r.late is not None]
    if not late:
        return []
    lines = ["late (after the due date; penalty by nbgrader's late-submission plugin):"]
    for r in late:
        assert r.late is not None
        lines.append(
            f"  {r.student}: {spoken(r.late.seconds)} late, −{r.late.penalty:g} points, "
            f"{r.final_score:g}/{r.max_score:g} count"
        )
    return lines


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


# the column of an export with the points that wait for the teacher's grading in formgrader
WAITING = "waiting_for_teacher"


def export(rows: Sequence[dict[str, Any]], form: str) -> str:
    """Grades for an LMS. `csv`: one row per student and assignment; `moodle`: one row per student,
    a column per assignment, keyed by username (Moodle's "Import grades from CSV" maps both).

    Both say what waits for the teacher: the points of the answers in words not graded yet in
    formgrader (in a score they count 0 until then), per assignment in `csv`, per student in the
    last column of `moodle` (a column its import may leave unmapped).
    """
    out = io.StringIO()
    if form == "csv":
        writer = csv.writer(out)
        writer.writerow(["student", "assignment", "score", "max_score", "late_penalty", WAITING])
        for row in rows:
            numbers = (row["score"], row["max_score"], row.get("late_penalty", 0.0), row[WAITING])
            writer.writerow([row["student"], row["assignment"], *(f"{n:g}" for n in numbers)])
        return out.getvalue()
    if form != "moodle":
        raise ValueError(f"no export format {form!r}; choose csv or moodle")
    assignments = sorted({row["assignment"] for row in rows})
    table: dict[str, dict[str, float]] = {}
    waiting: dict[str, float] = {}
    for row in rows:
        table.setdefault(row["student"], {})[row["assignment"]] = row["score"]
        waiting[row["student"]] = waiting.get(row["student"], 0.0) + row[WAITING]
    writer = csv.writer(out)
    writer.writerow(["Username", *assignments, WAITING])
    for student in sorted(table):
        scores = [table[student].get(a) for a in assignments]
        # no submission: an empty cell, which Moodle's import leaves alone
        cells = ["" if s is None else f"{s:g}" for s in scores]
        writer.writerow([student, *cells, f"{waiting[student]:g}"])
    return out.getvalue()
