"""minima: gradients against finite differences, minimisers against NumPy iterations and grids,
probes around every kink, and every mistake recomputed by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy as sp

from autograder.references import exercise, mistake_targets, reference
from autograder.values import SolutionSet, to_student

H = 1e-6
A, C = np.array([4.0, 7.0]), 20.0
B = np.array([2.0, 3.0, -4.0])

Vector = Callable[..., np.ndarray]


def numeric_gradient(loss: Callable[[np.ndarray], float], point: np.ndarray) -> np.ndarray:
    steps = np.eye(len(point)) * H
    return np.array([(loss(point + e) - loss(point - e)) / (2 * H) for e in steps])


def f(p: np.ndarray) -> float:
    return float(p[0] ** 2 + p[1] ** 3 + p[0] * p[1])


def l1(p: np.ndarray) -> float:
    return float((A @ p - C) ** 2)


def l2(p: np.ndarray) -> float:
    return max(0.0, float(B @ p)) ** 2


def l3(p: np.ndarray) -> float:
    return abs(float(p[0]) - math.exp(-float(p[0])))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def fixed_point_of_exp_minus() -> float:
    """w = e^(−w) by iterating w ← e^(−w) (a contraction near the root: |e^(−w)| < 1)."""
    w = 0.0
    for _ in range(200):
        w = math.exp(-w)
    return w


def point(args: tuple[Any, ...]) -> np.ndarray:
    return np.array([to_student(a) for a in args], dtype=float)


def mistakes(qid: str) -> dict[str, list[Any]]:
    """The target of each mistake, one entry per form (factor_two has two)."""
    found: dict[str, list[Any]] = {}
    for mistake, target in mistake_targets(qid):
        found.setdefault(mistake, []).append(target.value)
    return found


def residual(solutions: SolutionSet, at: Any) -> float:
    """lhs − rhs of the set's one relational at a point (0 on a line, ≤ 0 in a half-space)."""
    expr = solutions.condition.lhs - solutions.condition.rhs
    values = np.asarray(at, dtype=float).ravel()
    return float(expr.subs(dict(zip(solutions.variables, values, strict=True))))


def test_gradient_of_f_at_the_point_as_the_seed_prints_it() -> None:
    # seed 002: ∇f(x, y) = (2x + y, 3y² + x), so ∇f(1, 1) = (3, 4)
    got = reference("minima.grad_f_at_11").value
    np.testing.assert_allclose(got, [3, 4])
    np.testing.assert_allclose(got, numeric_gradient(f, np.ones(2)), rtol=1e-6)


@pytest.mark.parametrize(
    ("qid", "loss"),
    [("minima.grad_f", f), ("minima.dL1", l1), ("minima.dL2", l2), ("minima.dL3", l3)],
)
def test_gradient_functions_against_finite_differences_on_every_probe(
    qid: str, loss: Callable[[np.ndarray], float]
) -> None:
    ref = reference(qid)
    assert len(ref.probes) >= 4
    for args, expected in zip(ref.probes, ref.value, strict=True):
        np.testing.assert_allclose(
            expected, numeric_gradient(loss, point(args)).squeeze(), rtol=1e-5, atol=1e-6
        )


def _mistaken_l3_slope(chain: bool) -> Vector:
    def slope(w: float) -> np.ndarray:
        inner = -math.exp(-w) if chain else math.exp(-w)  # chain: the inner −1 of e^(−w) lost
        return np.asarray(np.sign(w - math.exp(-w)) * (1 + inner))

    return slope


# (question, mistake, the mistaken gradient in NumPy for each form of the mistake)
FUNCTION_MISTAKES: list[tuple[str, str, list[Vector]]] = [
    ("grad_f", "cross_term", [lambda x, y: np.array([2 * x, 3 * y**2])]),
    ("dL1", "chain_factor", [lambda *w: 2 * (A @ w - C) * np.ones(2)]),
    (
        "dL1",
        "factor_two",
        [lambda *w: 2 * 2 * (A @ w - C) * A, lambda *w: 0.5 * 2 * (A @ w - C) * A],
    ),
    ("dL2", "kink_ignored", [lambda *w: 2 * (B @ w) * B]),
    ("dL2", "chain_factor", [lambda *w: 2 * max(0.0, B @ w) * np.ones(3)]),
    (
        "dL2",
        "factor_two",
        [lambda *w: 2 * 2 * max(0.0, B @ w) * B, lambda *w: 0.5 * 2 * max(0.0, B @ w) * B],
    ),
    ("dL3", "chain_factor", [_mistaken_l3_slope(chain=True)]),
    ("dL3", "kink_ignored", [lambda w: np.asarray(1 + math.exp(-w))]),
]


@pytest.mark.parametrize(("name", "mistake", "forms"), FUNCTION_MISTAKES)
def test_each_mistaken_gradient_against_numpy_and_apart_from_the_reference(
    name: str, mistake: str, forms: list[Vector]
) -> None:
    qid = f"minima.{name}"
    ref = reference(qid)
    targets = mistakes(qid)[mistake]
    assert len(targets) == len(forms)
    for target, form in zip(targets, forms, strict=True):
        computed = [form(*point(args)) for args in ref.probes]
        np.testing.assert_allclose(np.array(target, dtype=float), computed, rtol=1e-12, atol=1e-12)
        assert not np.allclose(computed, np.array(ref.value, dtype=float), rtol=1e-3, atol=1e-6)


# (question, mistake, the mistaken number or vector)
VALUE_MISTAKES: list[tuple[str, str, Any]] = [
    ("grad_f_at_11", "cross_term", [2.0, 3.0]),  # ∇(x² + y³) at (1, 1)
    ("argmin_L3", "value_for_point", 0.0),  # L3 at its minimiser
    ("sigmoid_grad_max", "point_for_value", 0.0),  # where σ′ is largest
    ("sigmoid_grad_max", "sigmoid_value", 0.5),  # σ(0)
    ("sigmoid_grad_argmax", "value_for_point", 0.25),  # σ′(0)
]


@pytest.mark.parametrize(("name", "mistake", "value"), VALUE_MISTAKES)
def test_each_mistaken_value_and_apart_from_the_reference(
    name: str, mistake: str, value: Any
) -> None:
    (target,) = mistakes(f"minima.{name}")[mistake]
    np.testing.assert_allclose(target, value, atol=1e-12)
    assert not np.allclose(target, reference(f"minima.{name}").value, rtol=1e-3, atol=1e-6)


def test_every_listed_mistake_is_recomputed_in_these_tests() -> None:
    listed = {(q.name, m) for q in exercise("minima").questions for m in q.mistakes}
    covered = {(n, m) for n, m, _ in FUNCTION_MISTAKES} | {(n, m) for n, m, _ in VALUE_MISTAKES}
    covered |= {
        ("dL1_dw1", "chain_factor"),
        ("dL1_dw1", "factor_two"),
        ("argmin_L1", "sign"),
        ("argmin_L2", "sign"),
    }
    assert listed == covered


def test_the_probes_of_dL2_lie_on_both_sides_of_the_hinge_and_never_on_it() -> None:
    scores = np.array([B @ point(args) for args in reference("minima.dL2").probes])
    assert (scores < 0).sum() >= 3 and (scores > 0).sum() >= 3
    assert np.abs(scores).min() >= 0.05 - 1e-12


def test_the_probes_of_dL3_lie_on_both_sides_of_the_kink_and_never_on_it() -> None:
    kink = fixed_point_of_exp_minus()
    ws = np.array([point(args)[0] for args in reference("minima.dL3").probes])
    assert (ws < kink).sum() >= 2 and (ws > kink).sum() >= 2
    assert np.abs(ws - kink).min() >= 0.04


def _at(formula: sp.Expr, w: np.ndarray) -> float:
    names = {s.name: s for s in formula.free_symbols}
    return float(formula.subs({names["w1"]: w[0], names["w2"]: w[1]}))


POINTS = np.random.default_rng(0).normal(size=(20, 2)) * 3


def test_the_formula_for_dL1_dw1_against_finite_differences() -> None:
    formula = reference("minima.dL1_dw1").value
    assert {s.name for s in formula.free_symbols} == {"w1", "w2"}
    for w in POINTS:
        assert _at(formula, w) == pytest.approx(numeric_gradient(l1, w)[0], rel=1e-6, abs=1e-5)


@pytest.mark.parametrize(
    ("mistake", "factors"),
    [("chain_factor", [2.0]), ("factor_two", [2 * 2 * A[0], 0.5 * 2 * A[0]])],
)
def test_the_mistaken_formulas_for_dL1_dw1(mistake: str, factors: list[float]) -> None:
    # the right one is 2·a1·(a·w − c); the chain slip drops a1, factor_two doubles or halves it
    formulas = mistakes("minima.dL1_dw1")[mistake]
    assert len(formulas) == len(factors)
    for formula, factor in zip(formulas, factors, strict=True):
        for w in POINTS:
            assert _at(formula, w) == pytest.approx(factor * (A @ w - C), rel=1e-12, abs=1e-9)


def gradient_descent(grad: Vector, start: np.ndarray, eta: float, steps: int) -> np.ndarray:
    w = start.astype(float)
    for _ in range(steps):
        w = w - eta * grad(w)
    return w


def test_the_minimisers_of_L1_are_the_line_where_it_is_zero() -> None:
    ref = reference("minima.argmin_L1")
    line = ref.target.exact
    assert str(ref.condition) == "Eq(4*w1 + 7*w2 - 20, 0)"
    assert l1(ref.member) == pytest.approx(0, abs=1e-12)
    # gradient descent from anywhere ends on the line (the Hessian 2aaᵀ has largest eigenvalue 130)
    for start in POINTS[:5]:
        end = gradient_descent(lambda w: 2 * (A @ w - C) * A, start, 0.005, 2000)
        assert residual(line, end) == pytest.approx(0, abs=1e-9)
    # the line, sampled in NumPy, lies in the set; points beside it do not
    for w2 in np.linspace(-3, 3, 7):
        w1 = (C - A[1] * w2) / A[0]
        assert residual(line, [w1, w2]) == pytest.approx(0, abs=1e-12)
        assert abs(residual(line, [w1 + 0.1, w2])) > 0.1


def test_the_sign_slip_gives_the_line_a1_w1_minus_a2_w2_equal_c() -> None:
    (wrong,) = mistakes("minima.argmin_L1")["sign"]
    ref = reference("minima.argmin_L1")
    for w2 in np.linspace(-3, 3, 7):
        assert residual(wrong, [(C + A[1] * w2) / A[0], w2]) == pytest.approx(0, abs=1e-12)
    member = np.array(wrong.member, dtype=float).ravel()
    assert A[0] * member[0] - A[1] * member[1] == pytest.approx(C)
    # each member lies off the other line, so neither answer passes for the other
    assert abs(residual(ref.target.exact, member)) > 1
    assert abs(residual(wrong, ref.member)) > 1


def test_the_minimisers_of_L2_are_the_half_space_where_it_is_zero() -> None:
    ref = reference("minima.argmin_L2")
    half_space = ref.target.exact
    assert isinstance(ref.condition, sp.Le)
    assert l2(ref.member) == 0
    for w in np.random.default_rng(1).normal(size=(200, 3)) * 5:
        assert (residual(half_space, w) <= 0) == (l2(w) == 0)
    # the seed's exercise: descent from a point with L2 > 0 ends in the set (up to rounding)
    start = np.array([3.0, 2.0, -1.0])
    end = gradient_descent(lambda w: 2 * max(0.0, B @ w) * B, start, 0.01, 500)
    assert residual(half_space, end) <= 1e-9


def test_the_sign_slip_on_L2_gives_the_opposite_half_space() -> None:
    (wrong,) = mistakes("minima.argmin_L2")["sign"]
    for w in np.random.default_rng(2).normal(size=(200, 3)) * 5:
        assert (residual(wrong, w) <= 0) == (B @ w >= 0)
    member = np.array(wrong.member, dtype=float).ravel()
    assert l2(member) > 0  # no minimiser of the real L2
    assert residual(reference("minima.argmin_L2").target.exact, member) > 0


def test_the_minimiser_of_L3_solves_w_equal_e_to_the_minus_w() -> None:
    w = float(reference("minima.argmin_L3").value)
    assert w == pytest.approx(fixed_point_of_exp_minus(), abs=1e-14)
    assert w == pytest.approx(0.5671, abs=5e-5)  # the omega constant W(1)
    grid = np.linspace(-2, 3, 500001)
    assert w == pytest.approx(grid[np.argmin(np.abs(grid - np.exp(-grid)))], abs=1e-5)


def test_the_sigmoid_is_steepest_at_zero_with_slope_one_quarter() -> None:
    xs = np.linspace(-10, 10, 200001)
    slope = sigmoid(xs) * (1 - sigmoid(xs))
    steepest = float(reference("minima.sigmoid_grad_max").value)
    assert steepest == pytest.approx(slope.max(), abs=1e-12)
    assert steepest == pytest.approx(0.25)  # seed 002: the maximal value of σ′ is 0.25
    assert float(reference("minima.sigmoid_grad_argmax").value) == pytest.approx(
        xs[slope.argmax()], abs=1e-4
    )
