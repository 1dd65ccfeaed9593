"""minima: gradients against finite differences, minimisers against NumPy iterations and grids,
probes around every kink, and every mistake recomputed by hand.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy as sp

from autograder.derivation.references import exercise, mistake_targets, pair_targets, reference
from autograder.model.values import SolutionSet, to_student

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


def _l3_slope(sign: float = 1, chain: bool = False, kink: bool = False) -> Vector:
    """L3′ as a slip writes it: the inner −1 of e^(−w) lost (chain), the |·| ignored (kink)."""

    def slope(w: float) -> np.ndarray:
        inner = math.exp(-w) if chain else -math.exp(-w)
        outer = 1.0 if kink else np.sign(w - math.exp(-w))
        return np.asarray(sign * outer * (1 - inner))

    return slope


def _dl1(outer: Callable[[float], float], inner: Callable[[np.ndarray], np.ndarray]) -> Vector:
    """∇L1 by the chain rule, from the outer derivative at A·w − C and the inner gradient."""
    return lambda *w: outer(A @ np.array(w) - C) * inner(np.array(w))


def _dl2(outer: Callable[[float], float], inner: np.ndarray) -> Vector:
    return lambda *w: outer(B @ np.array(w)) * inner


def _swap(pair: np.ndarray) -> np.ndarray:
    return pair[::-1]


def _grad_f(x: float, y: float) -> np.ndarray:
    return np.array([2 * x + y, 3 * y**2 + x])


RIGHT_DL1 = _dl1(lambda v: 2 * v, lambda w: A)


def _hinge(factor: float) -> Callable[[float], float]:
    """d/du of factor·max(0, u)²."""
    return lambda v: factor * 2 * max(0.0, v)


def _step(v: float) -> float:
    """d/du max(0, u), away from its kink."""
    return 1.0 if v > 0 else 0.0


# (question, mistake, the mistaken gradient in NumPy for each form of the mistake)
FUNCTION_MISTAKES: list[tuple[str, str, list[Vector]]] = [
    ("grad_f", "cross_term", [lambda x, y: np.array([2 * x, 3 * y**2])]),
    ("grad_f", "sign", [lambda x, y: -_grad_f(x, y)]),
    ("grad_f", "swapped", [lambda x, y: _swap(_grad_f(x, y))]),
    ("dL1", "chain_factor", [_dl1(lambda v: 2 * v, lambda w: np.ones(2))]),
    (
        "dL1",
        "factor_two",
        [_dl1(lambda v: 2 * 2 * v, lambda w: A), _dl1(lambda v: 0.5 * 2 * v, lambda w: A)],
    ),
    ("dL1", "sign", [lambda *w: -RIGHT_DL1(*w)]),
    # L1 = A·w − C without its square: its gradient is A wherever it is taken
    ("dL1", "not_squared", [_dl1(lambda v: 1.0, lambda w: A)]),
    ("dL1", "swapped", [lambda *w: _swap(RIGHT_DL1(*w))]),
    ("dL2", "kink_ignored", [_dl2(lambda v: 2 * v, B)]),
    ("dL2", "chain_factor", [_dl2(_hinge(1), np.ones(3))]),
    ("dL2", "factor_two", [_dl2(_hinge(2), B), _dl2(_hinge(0.5), B)]),
    ("dL2", "sign", [_dl2(_hinge(-1), B)]),
    ("dL2", "not_squared", [_dl2(_step, B)]),
    ("dL3", "chain_factor", [_l3_slope(chain=True)]),
    ("dL3", "kink_ignored", [_l3_slope(kink=True)]),
    ("dL3", "sign", [_l3_slope(sign=-1)]),
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
    ("grad_f_at_11", "sign", [-3.0, -4.0]),  # −(2x + y, 3y² + x) at (1, 1)
    ("grad_f_at_11", "swapped", [4.0, 3.0]),  # (3y² + x, 2x + y) at (1, 1)
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


def _at(formula: sp.Expr, w: np.ndarray) -> float:
    values = dict(zip(("w1", "w2"), w, strict=True))
    return float(formula.subs({s: values[s.name] for s in formula.free_symbols}))


POINTS = np.random.default_rng(0).normal(size=(20, 2)) * 3


# (mistake, ∂L1/∂w1 as each form of the slip writes it; the right one is 2·a1·(a·w − c))
FORMULA_MISTAKES: list[tuple[str, list[Callable[[np.ndarray], float]]]] = [
    ("chain_factor", [lambda w: 2 * (A @ w - C)]),  # a1 dropped
    ("factor_two", [lambda w: 2 * 2 * A[0] * (A @ w - C), lambda w: 0.5 * 2 * A[0] * (A @ w - C)]),
    ("sign", [lambda w: -2 * A[0] * (A @ w - C)]),
    ("not_squared", [lambda w: A[0]]),  # ∂(a·w − c)/∂w1
]


@pytest.mark.parametrize(("mistake", "forms"), FORMULA_MISTAKES)
def test_the_mistaken_formulas_for_dL1_dw1(
    mistake: str, forms: list[Callable[[np.ndarray], float]]
) -> None:
    formulas = mistakes("minima.dL1_dw1")[mistake]
    assert len(formulas) == len(forms)
    for formula, form in zip(formulas, forms, strict=True):
        for w in POINTS:
            assert _at(formula, w) == pytest.approx(form(w), rel=1e-12, abs=1e-9)
        assert not all(
            _at(formula, w) == pytest.approx(numeric_gradient(l1, w)[0], rel=1e-3) for w in POINTS
        )


def contains(solutions: SolutionSet, at: Any) -> bool:
    """Whether a point satisfies every constraint of a set exactly (to rounding)."""
    values = dict(zip(solutions.variables, np.asarray(at, dtype=float).ravel(), strict=True))
    for relation in solutions.constraints():
        g = float((relation.lhs - relation.rhs).subs(values))
        if not (abs(g) < 1e-9 if isinstance(relation, sp.Eq) else g <= 1e-12):
            return False
    return True


LINE = np.linspace(-3, 3, 7)
NEAR = np.random.default_rng(2).normal(size=(200, 3)) * 5

# (question, mistake, whether a point is in the mistaken set by NumPy, points to try it on)
SET_MISTAKES: list[tuple[str, str, Callable[[np.ndarray], bool], np.ndarray]] = [
    # a2·w2 moved to the other side without its sign: the line a1 w1 − a2 w2 = c
    (
        "argmin_L1",
        "moved_term",
        lambda w: abs(A[0] * w[0] - A[1] * w[1] - C) < 1e-9,
        np.array([[(C + A[1] * t) / A[0] + d, t] for t in LINE for d in (0, 0.1)]),
    ),
    # the coefficients of the gradient's direction, A, as the one minimiser
    (
        "argmin_L1",
        "gradient_as_minimiser",
        lambda w: bool(np.allclose(w, A, rtol=0, atol=1e-12)),
        np.vstack([A, A + np.array([[0.1, 0], [0, -0.1]]), [C / A[0], 0]]),
    ),
    # a step along the gradient of B·w, not against it: the half-space where L2 rises
    ("argmin_L2", "sign", lambda w: bool(B @ w >= 0), np.vstack([B, NEAR])),
]


@pytest.mark.parametrize(("name", "mistake", "inside", "samples"), SET_MISTAKES)
def test_each_mistaken_set_of_minimisers_against_numpy(
    name: str, mistake: str, inside: Callable[[np.ndarray], bool], samples: np.ndarray
) -> None:
    (wrong,) = mistakes(f"minima.{name}")[mistake]
    right = reference(f"minima.{name}").target.exact
    assert {inside(w) for w in samples} == {True, False}
    for w in samples:
        assert contains(wrong, w) == inside(w), w
    member = np.array(wrong.member, dtype=float).ravel()
    assert inside(member)
    # the member is no minimiser, and the right one lies outside the mistaken set
    assert not contains(right, member)
    assert not contains(wrong, np.array(right.member, dtype=float).ravel())


# (question, two mistakes at once, their answer in NumPy: a function on the probes or a value)
PAIRS: list[tuple[str, str, Any]] = [
    ("grad_f_at_11", "cross_term+sign", [-2.0, -3.0]),
    ("grad_f_at_11", "sign+swapped", [-4.0, -3.0]),
    ("grad_f", "cross_term+swapped", lambda x, y: np.array([3 * y**2, 2 * x])),
    ("dL1", "chain_factor+sign", _dl1(lambda v: -2 * v, lambda w: np.ones(2))),
    ("dL1", "not_squared+swapped", _dl1(lambda v: 1.0, lambda w: A[::-1])),
    ("dL2", "kink_ignored+sign", _dl2(lambda v: -2 * v, B)),
    ("dL2", "chain_factor+not_squared", _dl2(_step, np.ones(3))),
    ("dL3", "kink_ignored+sign", _l3_slope(sign=-1, kink=True)),
]


@pytest.mark.parametrize(("name", "pair", "expected"), PAIRS)
def test_two_mistakes_at_once_against_numpy(name: str, pair: str, expected: Any) -> None:
    qid = f"minima.{name}"
    found = [t.value for p, t in pair_targets(qid) if p == pair]
    assert len(found) == 1, (pair, [p for p, _ in pair_targets(qid)])
    if callable(expected):
        expected = [expected(*point(args)) for args in reference(qid).probes]
    np.testing.assert_allclose(np.array(found[0], dtype=float), expected, rtol=1e-12, atol=1e-12)


def test_both_forgotten_in_dL1_dw1_leave_a_constant() -> None:
    # the square and the inner factor a1 both lost: ∂(a·w − c)/∂w1 without a1 is 1
    (found,) = [
        t.value for p, t in pair_targets("minima.dL1_dw1") if p == "chain_factor+not_squared"
    ]
    assert found == 1


def test_no_variant_lets_a_mistake_give_the_right_answer() -> None:
    ex = exercise("minima")
    assert ex.well_posed is not None

    def allowed(**variant: Any) -> bool:
        return ex.well_posed(ex.params(variant)) is None

    for x0, y0 in itertools.product(range(-3, 4), repeat=2):
        right = _grad_f(x0, y0)
        slipped = (np.array([2 * x0, 3 * y0**2]), -right, _swap(right))
        fair = not any(np.allclose(m, right) for m in slipped)
        assert allowed(point=[x0, y0]) == fair, (x0, y0)
    assert not allowed(point=[2, 1])  # ∇f(2, 1) = (5, 5)
    for a1, a2, c in itertools.product(range(3, 10), range(3, 10), range(5, 31)):
        a = np.array([a1, a2], dtype=float)
        # swapped at the probe (0, 0) and the point a against the line a·w = c
        fair = not np.allclose((-2 * c * a)[::-1], -2 * c * a) and a @ a != c
        assert allowed(a=[a1, a2], c=c) == fair, (a1, a2, c)


def test_every_listed_mistake_is_recomputed_in_these_tests() -> None:
    listed = {(q.name, m) for q in exercise("minima").questions for m in q.mistakes}
    covered = {(n, m) for n, m, _ in FUNCTION_MISTAKES} | {(n, m) for n, m, _ in VALUE_MISTAKES}
    covered |= {("dL1_dw1", m) for m, _ in FORMULA_MISTAKES}
    covered |= {(n, m) for n, m, _, _ in SET_MISTAKES}
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


def test_the_formula_for_dL1_dw1_against_finite_differences() -> None:
    formula = reference("minima.dL1_dw1").value
    assert {s.name for s in formula.free_symbols} == {"w1", "w2"}
    for w in POINTS:
        assert _at(formula, w) == pytest.approx(numeric_gradient(l1, w)[0], rel=1e-6, abs=1e-5)


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
