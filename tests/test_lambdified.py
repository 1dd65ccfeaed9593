"""The lambdified references of variants agree with the exact derivation, question by question.

Random well-posed variants of every assignment, every question a formula holds, with no slip and
with every slip of its mistakes: the formula's value equals the exact derivation's (as floats).
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from autograder.derivation.lambdified import compiled, holds, many
from autograder.derivation.references import (
    ASSIGNMENTS,
    NO_SLIP,
    derive,
    exercise,
    reference,
    slips,
    target,
)
from autograder.derivation.variants import random_variant

VARIANTS = 8


def agree(fast: object, slow: object) -> bool:
    pairs = list(zip(fast, slow, strict=True)) if isinstance(fast, list) else [(fast, slow)]
    return all(
        np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True)
        for a, b in pairs
    )


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_formulas_agree_with_the_exact_derivation(assignment: str) -> None:
    ex = exercise(assignment)
    rng = random.Random(f"lambdified {assignment}")
    cases = [(NO_SLIP, q) for q in ex.autograded]
    cases += [(slip, q) for q in ex.autograded for _, slip in slips(q)]
    checked = 0
    for _ in range(VARIANTS):
        variant = random_variant(assignment, rng)
        for slip, q in cases:
            plan = compiled(assignment, slip)
            formula = plan.formulas.get(q.name) if plan else None
            if formula is None:
                continue
            fast = formula.value(plan.layout.written(ex, variant))
            slow = target(q, derive(ex, variant, slip)[q.name]).value
            assert agree(fast, slow), (q.name, slip, variant)
            checked += 1
    if ex.vary and ex.lambdify:
        assert checked > 0


def test_a_formula_for_every_number_of_a_symbol_friendly_exercise() -> None:
    """Where the derivation runs on symbols, the numeric questions are held by formulas."""
    assert holds("gradient_descent", "iterates")
    assert holds("softmax_ce", "dW2")
    assert not holds("softmax_ce", "predicted_token")  # it compares numbers
    assert not holds("backprop_chain", "weights")  # eleven nested steps: exact per variant


def test_many_variants_at_once_equal_one_by_one() -> None:
    rng = random.Random(3)
    variants = [random_variant("gradient_descent", rng) for _ in range(5)]
    table = many("gradient_descent", variants)
    assert "iterates" in table
    for row, variant in zip(table["iterates"], variants, strict=True):
        expected = reference("gradient_descent.iterates", variant).value
        assert np.allclose(row, expected, rtol=1e-12)
