"""The answer key: every reference of an assignment, as JSON-ready data and as lines for a teacher.

One entry per question: kind, points, tolerance, the reference (rounded for reading) and its mistakes;
for a question the teacher grades, its model answer and rubric.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from autograder.derivation.references import (
    ASSIGNMENTS,
    Reference,
    Target,
    exercise,
    mistake_targets,
    reference,
)
from autograder.judging import feedback
from autograder.judging.grading import named_pairs
from autograder.model.spec import Exercise, Kind, Question
from autograder.model.values import SolutionSet, to_student
from autograder.release.notebooks import MANUAL_PARTS, fill


def plain(value: Any) -> Any:
    """A target's value as JSON data (floats, lists, strings)."""
    if isinstance(value, SolutionSet):
        return {"condition": condition_text(value), "member": plain(to_student(value.member))}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, sp.Basic):
        return sp.sstr(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def condition_text(solutions: SolutionSet) -> str:
    parts = []
    for rel in solutions.constraints():
        op = {sp.Eq: "=", sp.Le: "<=", sp.Ge: ">=", sp.Lt: "<", sp.Gt: ">"}[type(rel)]
        parts.append(f"{sp.sstr(sp.expand(rel.lhs - rel.rhs))} {op} 0")
    return " and ".join(parts)


def entry(ref: Reference) -> dict[str, Any]:
    q = ref.question
    data: dict[str, Any] = {
        "id": ref.qid,
        "kind": q.kind.value,
        "points": q.points,
        "tolerance": {"rtol": q.tolerance.rtol, "atol": q.tolerance.atol},
        "mistakes": list(q.mistakes),
    }
    if q.shape is not None:
        data["shape"] = list(q.shape)
    if q.kind is Kind.FUNCTION:
        data["args"] = list(q.args)
        data["reference"] = [
            {"args": [plain(_arg(a)) for a in args], "expected": plain(out)}
            for args, out in zip(ref.probes, ref.value, strict=True)
        ]
    elif q.kind is Kind.TABLE:
        data["reference"] = {"columns": list(q.columns), "rows": plain(ref.value)}
    elif q.kind is Kind.CHOICE:
        data["reference"] = plain(ref.value)
        data["options"] = dict(q.options)
    elif q.kind is Kind.EXPRESSION:
        data["reference"] = plain(ref.value)
        data["variables"] = list(q.variables)
    else:
        data["reference"] = plain(ref.value)
    if ref.alternatives:
        data["also_right"] = [plain(t.value) for t in ref.alternatives]
    if q.rounding is not None:
        data["rounding"] = q.rounding
    return data


def _arg(a: Any) -> Any:
    value = to_student(a)
    return value.loss if hasattr(value, "loss") else value


def answer_key(assignment: str, variant: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    ex = exercise(assignment)
    return [
        manual_entry(ex, q, variant)
        if q.graded_by_teacher
        else entry(reference(f"{ex.name}.{q.name}", variant))
        for q in ex.questions
    ]


def manual_entry(
    ex: Exercise, q: Question, variant: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A question the teacher grades: its points, and its model answer and rubric in every
    language, as the instructor notebook shows them."""
    return {
        "id": f"{ex.name}.{q.name}",
        "kind": q.kind.value,
        "points": q.points,
        "graded_by": "teacher",
        **{part.removesuffix("s"): teachers_text(ex, q, part, variant) for part in MANUAL_PARTS},
    }


def teachers_text(
    ex: Exercise, q: Question, part: str, variant: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The model answer or the rubric (`part`) of a question, by language, with its numbers."""
    parameters = {**ex.parameters, **(variant or {})}
    texts = feedback.exercise_texts(ex.name).get(part, {}).get(q.name, {})
    return {lang: fill(text, parameters).strip() for lang, text in texts.items()}


def short(target: Target | Any, digits: int = 4) -> str:
    """A reference as a teacher reads it: numbers to `digits` significant digits."""
    value = target.value if isinstance(target, Target) else target
    if isinstance(value, SolutionSet):
        member = ", ".join(_num(v, digits) for v in to_student(value.member))
        return f"{{{condition_text(value)}}}, e.g. ({member})"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return _num(value, digits)
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return _num(float(value), digits)
        rows = value.reshape(-1, value.shape[-1]) if value.ndim > 1 else value[None]
        text = "; ".join(", ".join(_num(v, digits) for v in row) for row in rows)
        return f"[{text}]"
    if isinstance(value, list):
        return f"{len(value)} probes"
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(value)) + "}"
    if isinstance(value, sp.Basic):
        return sp.sstr(value)
    return str(value)


def _num(v: float, digits: int) -> str:
    text = f"{float(v):.{digits}g}"
    return "0" if text == "-0" else text


def describe(ref: Reference, digits: int = 4) -> str:
    """One line for a teacher: the reference, or for a function its value on the first probe."""
    if ref.question.kind is Kind.FUNCTION:
        args = ", ".join(short(_arg(a), digits) for a in ref.probes[0])
        outputs = ref.value[0] if isinstance(ref.value[0], tuple) else (ref.value[0],)
        result = ", ".join(short(o, digits) for o in outputs)
        return f"{ref.question.name}({args}) = {result}  [{len(ref.probes)} probes]"
    return short(ref.target, digits)


def mistakes(qid: str, variant: Mapping[str, Any] | None = None) -> list[tuple[str, list[Target]]]:
    """Every mistake the grader names on a question, one at a time and two at once, with the
    answers it leads to (several where a mistake has forms: a factor 2 or ½, rounded or not)."""
    found: dict[str, list[Target]] = {}
    for mistake, t in [*mistake_targets(qid, variant), *named_pairs(qid, variant)]:
        found.setdefault(mistake, []).append(t)
    return list(found.items())


def mistakes_entry(qid: str, variant: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The mistakes of a question as JSON data: id and each answer it leads to."""
    ref = reference(qid, variant)
    return [
        {"id": mistake, "values": [_shown(ref, t) for t in targets]}
        for mistake, targets in mistakes(qid, variant)
    ]


def _shown(ref: Reference, t: Target) -> Any:
    if ref.question.kind is Kind.FUNCTION:
        return [plain(out) for out in t.value]
    return plain(t.value)


def describe_target(
    ref: Reference, t: Target, digits: int = 4, besides: Sequence[Target] = ()
) -> str:
    """A mistake's answer in one line: for a function, its result on the first of the grader's
    probes where it differs from the reference's and from each of `besides` (for two mistakes at
    once, the single ones: a probe that tells them apart); else the first where it differs from the
    reference's (the first probe where it differs nowhere)."""
    if ref.question.kind is not Kind.FUNCTION:
        return short(t, digits)

    def line(outputs: Any, shown: int) -> str:
        return ", ".join(
            short(o, shown) for o in (outputs if isinstance(outputs, tuple) else (outputs,))
        )

    def differs(k: int, others: Sequence[Sequence[Any]]) -> bool:
        got = line(t.value[k], 8)
        return all(k < len(o) and got != line(o[k], 8) for o in others)

    probes = range(min(len(t.value), len(ref.value)))
    others = [ref.value, *(o.value for o in besides)]
    k = next((i for i in probes if differs(i, others)), None)
    if k is None:
        k = next((i for i in probes if differs(i, [ref.value])), 0)
    args = ", ".join(short(_arg(a), digits) for a in ref.probes[k])
    given = f"probe {k + 1}: {ref.question.name}({args})"
    if k:  # the reference's line shows the first probe only
        given += f", the reference {line(ref.value[k], digits)}"
    return f"{line(t.value[k], digits)}  ({given})"


def mistakes_markdown() -> str:
    """The README's table of the mistakes the grader names, one row per question."""
    lines = ["| question | mistakes named | two at once |", "|---|---|---|"]
    for ex in (exercise(name) for name in ASSIGNMENTS):
        for q in ex.autograded:
            qid = f"{ex.name}.{q.name}"
            pairs = sum(1 for mistake, _ in mistakes(qid) if "+" in mistake)
            named = ", ".join(f"`{m}`" for m in q.mistakes)
            lines.append(f"| `{qid}` | {named} | {pairs} |")
    return "\n".join(lines)
