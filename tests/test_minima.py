"""minima: gradients against finite differences, minimisers against NumPy, probes around every kink."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from autograder import grade_answer, reference
from autograder.references import mistake_targets
from autograder.values import to_student

H = 1e-6


def numeric_gradient(f: object, point: np.ndarray) -> np.ndarray:
    return np.array([(f(point + H * e) - f(point - H * e)) / (2 * H) for e in np.eye(len(point))])  # type: ignore[operator]


def f(p: np.ndarray) -> float:
    return p[0] ** 2 + p[1] ** 3 + p[0] * p[1]


def l1(p: np.ndarray) -> float:
    return (4 * p[0] + 7 * p[1] - 20) ** 2


def l2(p: np.ndarray) -> float:
    return max(0.0, 2 * p[0] + 3 * p[1] - 4 * p[2]) ** 2


def l3(p: np.ndarray) -> float:
    return abs(p[0] - math.exp(-p[0]))


def test_gradient_of_f_at_the_point_as_the_seed_says() -> None:
    # seed 002: ∇f(1, 1) = (3, 4)
    np.testing.assert_allclose(reference("minima.grad_f_at_11").value, [3, 4])
    np.testing.assert_allclose(
        reference("minima.grad_f_at_11").value, numeric_gradient(f, np.ones(2)), rtol=1e-6
    )


@pytest.mark.parametrize(
    ("qid", "loss"),
    [("minima.grad_f", f), ("minima.dL1", l1), ("minima.dL2", l2), ("minima.dL3", l3)],
)
def test_gradient_functions_against_finite_differences_on_every_probe(
    qid: str, loss: object
) -> None:
    ref = reference(qid)
    for args, expected in zip(ref.probes, ref.value, strict=True):
        point = np.array([to_student(a) for a in args], dtype=float)
        np.testing.assert_allclose(
            expected, numeric_gradient(loss, point).squeeze(), rtol=1e-5, atol=1e-6
        )


def test_dL2_probes_lie_on_both_sides_of_the_hinge_and_never_on_it() -> None:
    values = [
        2 * float(a) + 3 * float(b) - 4 * float(c) for a, b, c in reference("minima.dL2").probes
    ]
    assert min(values) < 0 < max(values)
    assert min(abs(v) for v in values) >= 0.05 - 1e-12


def test_dL3_probes_lie_on_both_sides_of_the_kink_and_never_on_it() -> None:
    values = [float(w) - math.exp(-float(w)) for (w,) in reference("minima.dL3").probes]
    assert min(values) < 0 < max(values)
    assert min(abs(v) for v in values) > 1e-3


def test_the_expression_is_the_first_component_of_the_gradient() -> None:
    w1, w2 = sp.symbols("w1 w2")
    formula = reference("minima.dL1_dw1").value
    point = {
        s: v
        for s in formula.free_symbols
        for name, v in (("w1", 0.3), ("w2", -1.1))
        if s.name == name
    }
    assert float(formula.subs(point)) == pytest.approx(
        numeric_gradient(l1, np.array([0.3, -1.1]))[0], rel=1e-6
    )
    assert grade_answer("minima.dL1_dw1", "8*(4*w1 + 7*w2 - 20)").correct
    assert grade_answer("minima.dL1_dw1", sp.expand(8 * (4 * w1 + 7 * w2 - 20))).correct
    assert grade_answer("minima.dL1_dw1", "2*(4*w1 + 7*w2 - 20)").mistake == "chain_factor"
    assert grade_answer("minima.dL1_dw1", "4*(4*w1 + 7*w2 - 20)").mistake == "factor_two"


def test_the_minimisers_of_L1_are_a_line_where_the_loss_is_zero() -> None:
    ref = reference("minima.argmin_L1")
    assert str(ref.condition) == "Eq(4*w1 + 7*w2 - 20, 0)"
    member = ref.member
    assert l1(member) == pytest.approx(0, abs=1e-12)
    assert np.allclose(numeric_gradient(l1, member), 0, atol=1e-6)
    assert grade_answer("minima.argmin_L1", [6.75, 1]).mistake == "sign"  # 4w1 − 7w2 = 20


def test_the_minimisers_of_L2_are_a_half_space() -> None:
    ref = reference("minima.argmin_L2")
    assert isinstance(ref.condition, sp.Le)
    assert l2(ref.member) == 0
    rng = np.random.default_rng(0)
    for point in rng.normal(size=(50, 3)) * 5:
        inside = 2 * point[0] + 3 * point[1] - 4 * point[2] <= 0
        assert (l2(point) == 0) == inside
        assert grade_answer("minima.argmin_L2", point).correct == inside


def test_the_minimiser_of_L3_solves_w_equal_e_to_the_minus_w() -> None:
    w = float(reference("minima.argmin_L3").value)
    assert w == pytest.approx(math.exp(-w), abs=1e-12)
    grid = np.linspace(-2, 3, 200001)
    assert w == pytest.approx(grid[np.argmin(np.abs(grid - np.exp(-grid)))], abs=1e-4)
    assert grade_answer("minima.argmin_L3", 0.5671).correct
    assert grade_answer("minima.argmin_L3", 0.0).mistake == "value_for_point"


def test_the_sigmoid_is_steepest_at_zero_with_slope_one_quarter() -> None:
    xs = np.linspace(-10, 10, 200001)
    s = 1 / (1 + np.exp(-xs))
    slope = s * (1 - s)
    assert float(reference("minima.sigmoid_grad_max").value) == pytest.approx(
        slope.max(), abs=1e-12
    )
    assert float(reference("minima.sigmoid_grad_argmax").value) == pytest.approx(
        xs[slope.argmax()], abs=1e-4
    )
    # seed 002: "Diese Funktion hat als Maximalwert 0.25"
    assert float(reference("minima.sigmoid_grad_max").value) == 0.25


def test_a_student_who_ignores_the_max_is_named() -> None:
    def dL2(w1: float, w2: float, w3: float) -> np.ndarray:
        s = 2 * w1 + 3 * w2 - 4 * w3
        return 2 * s * np.array([2.0, 3.0, -4.0])

    def dL3(w: float) -> float:
        return 1 + math.exp(-w)

    assert grade_answer("minima.dL2", dL2).mistake == "kink_ignored"
    assert grade_answer("minima.dL3", dL3).mistake == "kink_ignored"


def test_mistaken_gradients_against_numpy() -> None:
    found = dict(mistake_targets("minima.grad_f"))
    ref = reference("minima.grad_f")
    for args, wrong in zip(ref.probes, found["cross_term"].value, strict=True):
        x, y = (float(a) for a in args)
        np.testing.assert_allclose(wrong, [2 * x, 3 * y**2], rtol=1e-12)
