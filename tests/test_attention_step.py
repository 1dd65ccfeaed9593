"""attention_step: the SymPy references against a NumPy loop and against the seed's printed slide."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograder import grade_answer
from autograder.derivation.references import exercise, mistake_targets, pair_targets, reference

X = np.array([1.0, 2.0, 1.0, 0.0])
W0 = np.ones(4)
Z, ETA = 0.5, 0.1

# As printed on the slide (seed 000); the seed says rows 0–4 agree and w22 of row 5 does not.
SLIDE_TEXT = """
0 4.00 3.50 1.000 1.000 1.000 1.00
1 1.90 1.40 0.650 0.300 0.650 1.00
2 1.060 0.56 0.510 0.020 0.510 1.00
3 0.724 0.224 0.454 -0.092 0.454 1.00
4 0.590 0.090 0.432 -0.137 0.432 1.00
5 0.54 0.04 0.42 0.15 0.42 1.00
"""
CELLS = [line.split() for line in SLIDE_TEXT.strip().splitlines()]
SLIDE = np.array(CELLS, dtype=float)
HALF_UNIT = np.array([[0.5 * 10.0 ** -len(c.partition(".")[2]) for c in row] for row in CELLS])


def diagonals(
    updates: int = 5,
    sign: float = 1.0,
    factor: float = 1.0,
    with_x: bool = True,
    eta: float = ETA,
    squared: bool = True,
    loss_step: bool = False,
    rounded: bool = False,
) -> list[np.ndarray]:
    """w0 … w_updates of w ← w − η ∂L/∂w for L = factor · ½(ẑ − z)² (½(ẑ − z) unsquared), with
    the loss's value for every component of the gradient (loss_step), each new w rounded to 3
    decimals (rounded: with integer inputs, ẑ and ẑ − z then have 3 decimals as well; no value of
    the seed's steps is a tie, so that NumPy's rounding is the rounding by hand)."""
    w, out = W0.copy(), [W0.copy()]
    for _ in range(updates):
        error = float(w @ X) - Z
        if loss_step:
            slope = factor * 0.5 * (error**2 if squared else error) * np.ones(4)
        else:
            slope = factor * (error if squared else 0.5) * (X if with_x else np.ones(4))
        w = w - sign * eta * slope
        if rounded:
            w = np.round(w, 3)
        out.append(w)
    return out


def table_of(ws: list[np.ndarray]) -> np.ndarray:
    """One row per diagonal, numbered from 0: iteration, ẑ, ẑ − z, w11 … w44."""
    return np.array([[k, float(w @ X), float(w @ X) - Z, *w] for k, w in enumerate(ws)])


def numpy_table(**step: Any) -> np.ndarray:
    return table_of(diagonals(**step))


def test_one_step_against_numpy() -> None:
    z_hat = float(W0 @ X)
    assert reference("attention_step.z_hat").value == pytest.approx(z_hat)
    assert reference("attention_step.loss").value == pytest.approx(0.5 * (z_hat - Z) ** 2)
    np.testing.assert_allclose(reference("attention_step.grad").value, (z_hat - Z) * X)
    np.testing.assert_allclose(reference("attention_step.w_new").value, W0 - ETA * (z_hat - Z) * X)


def test_gradient_against_finite_differences() -> None:
    def loss(w: np.ndarray) -> float:
        return 0.5 * (float(w @ X) - Z) ** 2

    h = 1e-6
    numeric = [(loss(W0 + h * e) - loss(W0 - h * e)) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(reference("attention_step.grad").value, numeric, rtol=1e-6)


def test_table_against_numpy_loop() -> None:
    np.testing.assert_allclose(reference("attention_step.table").value, numpy_table(), atol=1e-12)


def test_table_agrees_with_the_slide_except_w22_in_iteration_5() -> None:
    derived = reference("attention_step.table").value
    wrong = np.abs(derived - SLIDE) > HALF_UNIT + 1e-12
    assert [tuple(i) for i in np.argwhere(wrong)] == [(5, 4)]
    assert derived[5, 4] == pytest.approx(-0.1547, abs=1e-4)  # the seed: "w22 ≈ -0.155"


def test_the_slide_error_is_named_by_the_grader() -> None:
    assert reference("attention_step.slide_error").value == "5,w22"
    verdict = grade_answer("attention_step.table", SLIDE)
    assert verdict.mistake == "slide_value"
    assert grade_answer("attention_step.slide_error", (5, "w22")).correct


# --- every mistake, recomputed by NumPy ---

E0 = float(W0 @ X) - Z  # ẑ − z at the start
GRAD = E0 * X


def with_slide_value(table: np.ndarray) -> np.ndarray:
    """The table as the slide has it: w22 of iteration 5 with its sign lost."""
    slide = table.copy()
    slide[5, 4] = -slide[5, 4]
    return slide


def merely_rounded() -> frozenset[str]:
    """The slide's cells that are off from the exact table, but by no more than they are rounded."""
    gap = np.abs(numpy_table() - SLIDE)
    columns = ["iteration", "z_hat", "error", "w11", "w22", "w33", "w44"]
    return frozenset(
        f"{i},{columns[j]}"
        for i, j in np.argwhere((gap > 1e-12) & (gap <= HALF_UNIT + 1e-12))
        if j > 0
    )


# (question, mistake, the answer of each of its forms)
MISTAKES = [
    ("z_hat", "error_for_output", [E0]),
    ("loss", "factor_two", [E0**2, 0.25 * E0**2]),
    ("loss", "not_squared", [0.5 * E0]),
    ("grad", "chain_factor", [E0 * np.ones(4)]),
    ("grad", "factor_two", [2 * GRAD, 0.5 * GRAD]),
    ("grad", "sign", [-GRAD]),
    ("grad", "not_squared", [0.5 * X]),
    ("w_new", "sign", [W0 + ETA * GRAD]),
    ("w_new", "chain_factor", [W0 - ETA * E0]),
    ("w_new", "factor_two", [W0 - ETA * 2 * GRAD, W0 - ETA * 0.5 * GRAD]),
    ("w_new", "no_learning_rate", [W0 - GRAD]),
    ("w_new", "doubled_step", [W0 - 2 * ETA * GRAD]),
    ("w_new", "not_squared", [W0 - ETA * 0.5 * X]),
    ("w_new", "loss_as_gradient", [W0 - ETA * 0.5 * E0**2]),
    ("table", "slide_value", [with_slide_value(numpy_table())]),
    ("table", "sign", [numpy_table(sign=-1)]),
    # the loop once too few (iterations 0 … 4), or each row one update late (numbered 0 … 5)
    ("table", "shifted", [numpy_table(updates=4), table_of(diagonals(updates=6)[1:])]),
    ("table", "rounded", [numpy_table(rounded=True)]),
    ("table", "chain_factor", [numpy_table(with_x=False)]),
    ("table", "factor_two", [numpy_table(factor=2), numpy_table(factor=0.5)]),
    ("table", "no_learning_rate", [numpy_table(eta=1.0)]),
    ("table", "doubled_step", [numpy_table(eta=2 * ETA)]),
    ("table", "not_squared", [numpy_table(squared=False)]),
    ("table", "loss_as_gradient", [numpy_table(loss_step=True)]),
    ("slide_error", "rounding_only", [merely_rounded()]),
]


def test_the_slide_rows_0_to_4_are_the_table_rounded_at_every_update() -> None:
    # the seed's slide rounds as it goes: its rows 0–4 are the rounded table's to the last digit
    np.testing.assert_allclose(numpy_table(rounded=True)[:5], SLIDE[:5], rtol=0, atol=1e-12)
    # and beyond the tolerance: ẑ − z of iteration 4 is 0.090, not 0.0896
    assert numpy_table(rounded=True)[4, 2] == pytest.approx(0.09)
    assert numpy_table()[4, 2] == pytest.approx(0.0896)
    assert not np.allclose(numpy_table(rounded=True), numpy_table(), rtol=1e-3, atol=1e-6)


def same(found: Any, expected: Any) -> bool:
    if isinstance(expected, frozenset):
        return bool(found == expected)
    found = np.asarray(found, dtype=float)
    return found.shape == np.shape(expected) and np.allclose(
        found, expected, rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize(("name", "mistake", "forms"), MISTAKES)
def test_mistakes_against_numpy(name: str, mistake: str, forms: list[Any]) -> None:
    found = [t.value for m, t in mistake_targets(f"attention_step.{name}") if m == mistake]
    assert len(found) == len(forms)
    for value, expected in zip(found, forms, strict=True):
        assert same(value, expected), (name, mistake, value)


def test_every_listed_mistake_is_recomputed_above() -> None:
    listed = {(q.name, m) for q in exercise("attention_step").questions for m in q.mistakes}
    assert listed == {(name, mistake) for name, mistake, _ in MISTAKES}


# two mistakes at once: (question, the pair's id, its answer)
PAIRS = [
    ("loss", "factor_two+not_squared", E0),
    ("loss", "factor_two+not_squared", 0.25 * E0),
    ("grad", "sign+not_squared", -0.5 * X),
    ("w_new", "sign+no_learning_rate", W0 + GRAD),
    ("w_new", "sign+loss_as_gradient", W0 + ETA * 0.5 * E0**2),
    ("w_new", "no_learning_rate+not_squared", W0 - 0.5 * X),
    ("w_new", "sign+doubled_step", W0 + 2 * ETA * GRAD),
    ("table", "sign+no_learning_rate", numpy_table(sign=-1, eta=1.0)),
    ("table", "sign+doubled_step", numpy_table(sign=-1, eta=2 * ETA)),
    ("table", "slide_value+rounded", with_slide_value(numpy_table(rounded=True))),
    ("table", "shifted+rounded", numpy_table(updates=4, rounded=True)),
    ("table", "rounded+factor_two", numpy_table(factor=2, rounded=True)),
    ("table", "shifted+not_squared", numpy_table(updates=4, squared=False)),
    ("table", "shifted+loss_as_gradient", table_of(diagonals(updates=6, loss_step=True)[1:])),
]


@pytest.mark.parametrize(("name", "pair", "expected"), PAIRS)
def test_pairs_of_mistakes_against_numpy(name: str, pair: str, expected: Any) -> None:
    found = [t.value for m, t in pair_targets(f"attention_step.{name}") if m == pair]
    assert any(same(value, expected) for value in found), (name, pair, found)
