"""attention_step: the SymPy references against a NumPy loop and against the seed's printed slide."""

from __future__ import annotations

import numpy as np
import pytest

from autograder import grade_answer
from autograder.references import mistake_targets, reference

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


def numpy_table(step_sign: float = 1.0, factor: float = 1.0, with_x: bool = True) -> np.ndarray:
    w, rows = W0.copy(), []
    for k in range(6):
        z_hat = float(w @ X)
        rows.append([k, z_hat, z_hat - Z, *w])
        g = factor * (z_hat - Z) * (X if with_x else np.ones(4))
        w = w - step_sign * ETA * g
    return np.array(rows)


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


@pytest.mark.parametrize(
    ("mistake", "table"),
    [
        ("sign", numpy_table(step_sign=-1)),
        ("chain_factor", numpy_table(with_x=False)),
    ],
)
def test_mistaken_tables_against_numpy(mistake: str, table: np.ndarray) -> None:
    targets = dict(mistake_targets("attention_step.table"))
    np.testing.assert_allclose(targets[mistake].value, table, atol=1e-12)


def test_factor_two_has_both_forms() -> None:
    forms = [t.value for m, t in mistake_targets("attention_step.table") if m == "factor_two"]
    for factor in (2.0, 0.5):
        assert any(np.allclose(f, numpy_table(factor=factor)) for f in forms)
