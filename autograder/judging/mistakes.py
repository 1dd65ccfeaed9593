"""Naming the mistake behind a wrong answer: one slip, a right step from the student's own earlier
answer (carried), or two slips at once; several that fit alike named together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from autograder.derivation.references import (
    Target,
    derive,
    freeze_variant,
    locate,
    mistake_targets,
    pair_targets,
    reference,
    target,
    thaw_variant,
)
from autograder.judging import feedback
from autograder.judging.deadline import excluded
from autograder.judging.forms import FormError
from autograder.judging.matching import matches
from autograder.judging.verdict import Verdict
from autograder.model.spec import Kind, Question
from autograder.model.values import SolutionSet


def recognise(
    qid: str,
    q: Question,
    canonical: Any,
    variant: Mapping[str, Any] | None,
    given: Mapping[str, Any] | None,
    lang: str,
) -> Verdict | None:
    """The mistake a wrong answer is: one slip, else a right step from the student's own earlier
    answer, else two slips at once. Where several fit, they are named together, never one guessed.

    Each is tried within the tolerance first, then at the precision the answer is printed with
    (0.15 for 0.1547): an answer that one explanation fits exactly is not named after another
    that it fits only once rounded.
    """
    assignment = qid.partition(".")[0]
    earlier = {k: v for k, v in (given or {}).items() if k != q.name}
    # derived from the student's own answers only where no slip explains the answer: a derivation
    # of the whole worksheet (SymPy may solve for a minimiser), once per student's numbers
    follows: list[Target | None] = []
    with excluded():
        singles = mistake_targets(qid, variant)
    for lenient in (False, True):
        named = _fitting(q, canonical, singles, lenient)
        if named:
            return _named(qid, assignment, named, lang)
        if earlier and not follows:
            follows.append(_following(qid, q, variant, earlier))
        if follows and follows[0] is not None and matches(q, canonical, follows[0], lenient):
            source = ", ".join(sorted(earlier))
            text = feedback.mistake_text(assignment, "carried", lang, source=source)
            return Verdict(qid, "wrong", 0.0, "carried", text)
        with excluded():
            pairs = named_pairs(qid, variant)
        named = _fitting(q, canonical, pairs, lenient)
        if named:
            return _named(qid, assignment, named, lang)
    return None


def _following(
    qid: str, q: Question, variant: Mapping[str, Any] | None, earlier: Mapping[str, Any]
) -> Target | None:
    """The answer that follows by the right rule from the student's own earlier answers."""
    ex, _ = locate(qid)
    try:
        return target(q, derive(ex, variant, given=earlier)[q.name])
    except Exception:
        # the earlier answers are the student's: any that cannot be used explain nothing
        return None


def named_pairs(qid: str, variant: Mapping[str, Any] | None = None) -> list[tuple[str, Target]]:
    """The pairs of mistakes the grader can name: those whose answer lies outside the tolerance of
    the reference, of what else is right and of every single mistake's answer (which explains it
    more simply), and that a student's answer could reach at all (no inf, no NaN in a value)."""
    return list(_named_pairs(qid, freeze_variant(variant) if variant else None))


@lru_cache(maxsize=4096)
def _named_pairs(qid: str, frozen_variant: Any) -> tuple[tuple[str, Target], ...]:
    variant = thaw_variant(frozen_variant)
    _, q = locate(qid)
    ref = reference(qid, variant)
    simpler = [ref.target, *ref.alternatives, *(t for _, t in mistake_targets(qid, variant))]
    return tuple(
        (pair, t)
        for pair, t in pair_targets(qid, variant)
        if _reachable(q, t) and not any(_within(q, t, other) for other in simpler)
    )


def _reachable(q: Question, t: Target) -> bool:
    if q.kind in (Kind.NUMBER, Kind.VECTOR, Kind.MATRIX, Kind.TABLE):
        return bool(np.isfinite(np.asarray(t.value, dtype=float)).all())
    return True


def _within(q: Question, t: Target, other: Target) -> bool:
    """Whether the answer `t` leads to would be taken for `other`'s within the tolerance."""
    if isinstance(t.value, SolutionSet | frozenset):
        return False
    if q.kind is Kind.POINT_IN_SET and isinstance(other.value, SolutionSet):
        return matches(q, np.asarray(t.value, dtype=float), other, lenient=False)
    canonical = t.value
    if q.kind is Kind.FUNCTION:
        canonical = [FormError("not_finite") if _not_finite(v) else v for v in t.value]
    return matches(q, canonical, other, lenient=False)


def _not_finite(output: Any) -> bool:
    parts = output if isinstance(output, tuple) else (output,)
    return any(not np.isfinite(np.asarray(p, dtype=float)).all() for p in parts)


def _fitting(
    q: Question, canonical: Any, targets: Sequence[tuple[str, Target]], lenient: bool
) -> list[str]:
    """The mistakes (in the spec's order, each once) whose answer the canonical answer fits."""
    found: list[str] = []
    for mistake, t in targets:
        if mistake not in found and matches(q, canonical, t, lenient):
            found.append(mistake)
    return found


def _named(qid: str, assignment: str, mistakes: list[str], lang: str) -> Verdict:
    """One mistake by its id; two at once as "a+b"; mistakes that fit alike as "a|b"."""
    mistake = "|".join(mistakes)
    return Verdict(qid, "wrong", 0.0, mistake, feedback.mistake_text(assignment, mistake, lang))
