"""The demo class: three sample students answer every question, and the grader marks them.

Anna answers as the references do, Ben makes each question's first typical mistake, Clara leaves
some answers out and gives others in the wrong form; their answers are built from the derivations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sympy as sp

from autograder.grading import Verdict, grade_answer
from autograder.key import describe
from autograder.references import Reference, Target, exercises, mistake_targets, reference
from autograder.spec import Kind, Question
from autograder.values import Rule, SolutionSet, to_student


@dataclass(frozen=True)
class Student:
    name: str
    answer: Callable[[Reference], Any]


def answer_for(q: Question, t: Target) -> Any:
    """What a student would assign to reach this target (a value, a DataFrame, a def, a formula)."""
    value = t.value
    if isinstance(value, SolutionSet):
        return to_student(value.member)
    if q.kind is Kind.FUNCTION:
        rule: Rule = t.exact
        return rule.numeric()
    if q.kind is Kind.TABLE:
        return pd.DataFrame(value, columns=list(q.columns))
    if q.kind is Kind.EXPRESSION:
        return sp.sstr(value)
    if q.kind is Kind.CHOICE:
        return sorted(value)[0] if isinstance(value, frozenset) else value
    return value.tolist()


def _first_mistake(ref: Reference) -> Any:
    found = mistake_targets(ref.qid)
    return answer_for(ref.question, found[0][1]) if found else None


def _careless(ref: Reference) -> Any:
    """Every third answer missing, every third in a wrong form, the rest right."""
    position = sum(map(ord, ref.qid)) % 3
    if position == 0:
        return None
    if position == 1:
        return "?" if ref.question.kind is not Kind.FUNCTION else 42
    return answer_for(ref.question, ref.target)


CLASS = (
    Student("Anna", lambda ref: answer_for(ref.question, ref.target)),
    Student("Ben", _first_mistake),
    Student("Clara", _careless),
)


def mark(verdict: Verdict) -> str:
    if verdict.correct:
        return "✓"
    if verdict.mistake:
        return f"✗ {verdict.mistake}"
    return {"unanswered": "–", "invalid": "✗ form"}.get(verdict.status, "✗")


def run(lang: str = "de", out: Callable[[str], None] = print) -> dict[str, float]:
    """Grade the sample class on every assignment and print one table per assignment."""
    totals = {s.name: 0.0 for s in CLASS}
    possible = 0.0
    for ex in exercises():
        out(f"\n{ex.name} — {ex.title}")
        out(
            f"{'question':<20}{'points':>6}  {'reference':<34}"
            + "".join(f"{s.name:<20}" for s in CLASS)
        )
        for q in ex.questions:
            ref = reference(f"{ex.name}.{q.name}")
            row = f"{q.name:<20}{q.points:>6g}  {_clip(describe(ref), 32):<34}"
            for s in CLASS:
                verdict = grade_answer(ref.qid, s.answer(ref), lang=lang)
                totals[s.name] += verdict.score * q.points
                row += f"{mark(verdict):<20}"
            possible += q.points
            out(row)
    out("\n" + "  ".join(f"{name}: {score:g}/{possible:g}" for name, score in totals.items()))
    return {name: score / possible for name, score in totals.items()}


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
