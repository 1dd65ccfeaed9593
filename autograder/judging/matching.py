"""One answer against one target (the reference, an alternative or a mistake's answer), by the
question's kind; the tolerance of a calculation by hand."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from autograder.derivation.references import (
    Target,
)
from autograder.judging.compare import (
    Outcome,
    compare_array,
    compare_choice,
    compare_outputs,
    in_set,
)
from autograder.judging.forms import FormError
from autograder.judging.formulas import equivalent
from autograder.model.spec import Kind, Question, Tolerance
from autograder.model.values import SolutionSet


def by_hand(q: Question) -> Question:
    """The question as a calculation by hand answers it: to `rounding` decimals, half a unit either way."""
    if q.rounding is None:
        return q
    half_unit = 0.5 * 10.0**-q.rounding * (1 + 1e-9)
    return replace(q, tolerance=Tolerance(q.tolerance.rtol, max(q.tolerance.atol, half_unit)))


def judge(q: Question, canonical: Any, t: Target, lenient: bool = False) -> Outcome:
    """Compare a canonical answer with one target (the reference, an alternative or a mistake)."""
    if isinstance(t.value, SolutionSet):
        return in_set(canonical, t.value, q.tolerance)
    if q.kind is Kind.FUNCTION:
        return compare_outputs(canonical, t.value, q.tolerance, lenient)
    if q.kind is Kind.EXPRESSION:
        return Outcome(equivalent(canonical, t.value, q.variables, q.tolerance))
    if q.kind is Kind.CHOICE:
        return compare_choice(canonical, t.value)
    return compare_array(canonical, t.value, q.tolerance, lenient)


def matches(q: Question, canonical: Any, t: Target, lenient: bool) -> bool:
    try:
        return judge(q, canonical, t, lenient).correct
    except FormError:
        return False
