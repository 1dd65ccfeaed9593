"""gradient_descent: SymPy's iterates against plain loops of SGD, Adam and Adagrad, torch.optim and
the seed's printed run; the limit on L1 against a long NumPy descent; every mistake recomputed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy as sp

from autograder.references import mistake_targets, reference
from autograder.values import Gradient, SolutionSet, to_student

TARGET, W0, ETA, STEPS = 3.0, 0.0, 0.25, 3
A, C = np.array([4.0, 7.0]), 20.0
TOL = {"rtol": 1e-3, "atol": 1e-6}

# seed 002's PyTorch SGD run: (step, x after it, f(x) printed in that line). Line 0 prints f(w0)
# before the loop; line k ≥ 1 prints the loss computed before the k-th update, f(w(k−1)).
SEED_RUN = [
    (0, 0.0, 9.0000),
    (1, 1.5, 9.0000),
    (2, 2.25, 2.2500),
    (3, 2.625, 0.5625),
    (4, 2.8125, 0.1406),
    (5, 2.90625, 0.0352),
    (6, 2.953125, 0.0088),
    (7, 2.9765625, 0.0022),
    (8, 2.98828125, 0.0005),
    (9, 2.994140625, 0.0001),
    (10, 2.9970703125, 0.0000),
]


def f(w: float, factor: float = 1.0) -> float:
    return factor * (w - TARGET) ** 2


def f_prime(w: float, factor: float = 1.0) -> float:
    return factor * 2 * (w - TARGET)


def sgd(steps: int, sign: float = 1.0, factor: float = 1.0) -> list[float]:
    """w0 … w_steps of w ← w − η f′(w), written out."""
    ws = [W0]
    for _ in range(steps):
        ws.append(ws[-1] - sign * ETA * f_prime(ws[-1], factor))
    return ws


def adam(sign: float = 1.0, bias_correction: bool = True) -> list[float]:
    """The update torch.optim.Adam documents (betas 0.9, 0.999, eps 1e-8), written out."""
    b1, b2, eps = 0.9, 0.999, 1e-8
    w, m, v, out = W0, 0.0, 0.0, []
    for t in range(1, STEPS + 1):
        g = f_prime(w)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t) if bias_correction else m
        v_hat = v / (1 - b2**t) if bias_correction else v
        w -= sign * ETA * m_hat / (math.sqrt(v_hat) + eps)
        out.append(w)
    return out


def adagrad(sign: float = 1.0, accumulate: bool = True) -> list[float]:
    """The update torch.optim.Adagrad documents (lr_decay 0, accumulator from 0, eps 1e-10)."""
    w, squares, out = W0, 0.0, []
    for _ in range(STEPS):
        g = f_prime(w)
        squares = squares + g * g if accumulate else g * g
        w -= sign * ETA * g / (math.sqrt(squares) + 1e-10)
        out.append(w)
    return out


def values_of(qid: str, mistake: str) -> list[Any]:
    """The targets of one mistake, one per form, in the order of the forms."""
    return [t.value for m, t in mistake_targets(qid) if m == mistake]


# --- iterates and losses ------------------------------------------------------------------


def test_iterates_and_losses_against_a_loop() -> None:
    ws = sgd(STEPS)
    np.testing.assert_allclose(reference("gradient_descent.iterates").value, ws[1:], rtol=1e-15)
    np.testing.assert_allclose(
        reference("gradient_descent.losses").value, [f(w) for w in ws], rtol=1e-15
    )


def test_iterates_and_losses_against_the_seeds_printed_run() -> None:
    iterates = reference("gradient_descent.iterates").value
    losses = reference("gradient_descent.losses").value
    xs = [x for _, x, _ in SEED_RUN]
    printed_f = [loss for _, _, loss in SEED_RUN]
    np.testing.assert_allclose(iterates, xs[1 : STEPS + 1], rtol=1e-15)
    # line k ≥ 1 prints f before its update: the losses f(w0) … f(w3) are lines 1 … 4
    np.testing.assert_allclose(losses, printed_f[1 : STEPS + 2], atol=5e-5)
    # the whole printed run is SGD from 0.0: x to the digits printed, f to 4 decimals
    ws = sgd(10)
    np.testing.assert_allclose(xs, ws, rtol=1e-15)
    np.testing.assert_allclose(printed_f[1:], [f(w) for w in ws[:-1]], atol=5e-5)


MISTAKES = [
    ("iterates", "sign", [sgd(3, sign=-1)[1:]]),
    ("iterates", "factor_two", [sgd(3, factor=2)[1:], sgd(3, factor=0.5)[1:]]),
    # shifted by one: w0 … w2 (w0 taken in), w2 … w4 (one step too many)
    ("iterates", "shifted", [sgd(4)[0:3], sgd(4)[2:5]]),
    ("losses", "loss_after_update", [[f(w) for w in sgd(4)[1:]]]),
    ("losses", "sign", [[f(w) for w in sgd(3, sign=-1)]]),
    ("adam_iterates", "sign", [adam(sign=-1)]),
    ("adam_iterates", "no_bias_correction", [adam(bias_correction=False)]),
    ("adagrad_iterates", "sign", [adagrad(sign=-1)]),
    ("adagrad_iterates", "no_accumulation", [adagrad(accumulate=False)]),
]


@pytest.mark.parametrize(("name", "mistake", "expected"), MISTAKES)
def test_mistakes_against_loops(name: str, mistake: str, expected: list[list[float]]) -> None:
    found = values_of(f"gradient_descent.{name}", mistake)
    assert len(found) == len(expected)
    for value, loop in zip(found, expected, strict=True):
        np.testing.assert_allclose(value, loop, rtol=1e-12)


def test_every_listed_mistake_is_covered_above() -> None:
    listed = {
        (name, m)
        for name in ("iterates", "losses", "adam_iterates", "adagrad_iterates")
        for m, _ in mistake_targets(f"gradient_descent.{name}")
    }
    assert listed == {(name, mistake) for name, mistake, _ in MISTAKES}


def same(got: Any, want: Any) -> bool:
    """Equal within the default tolerance; a function's outputs on every probe."""
    if isinstance(want, list):
        return all(same(g, w) for g, w in zip(got, want, strict=True))
    return np.shape(got) == np.shape(want) and np.allclose(got, want, **TOL)


@pytest.mark.parametrize(
    "name", ["iterates", "losses", "adam_iterates", "adagrad_iterates", "gradient_descent"]
)
def test_every_mistake_differs_from_the_reference(name: str) -> None:
    ref = reference(f"gradient_descent.{name}").value
    for mistake, t in mistake_targets(f"gradient_descent.{name}"):
        assert not same(t.value, ref), f"{mistake} gives the reference"


# --- Adam and Adagrad -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "loop"), [("adam_iterates", adam()), ("adagrad_iterates", adagrad())]
)
def test_optimisers_against_the_documented_updates(name: str, loop: list[float]) -> None:
    np.testing.assert_allclose(reference(f"gradient_descent.{name}").value, loop, rtol=1e-13)


def torch_run(optimiser: Any, dtype: Any, **options: Any) -> list[float]:
    """The iterates w1 … w_steps of a torch.optim optimiser on the lecture's f."""
    import torch

    w = torch.tensor([W0], dtype=dtype, requires_grad=True)
    step = optimiser([w], lr=ETA, **options)
    out = []
    for _ in range(STEPS):
        step.zero_grad()
        ((w - TARGET) ** 2).sum().backward()
        step.step()
        out.append(w.item())
    return out


@pytest.mark.parametrize(
    ("name", "mistake", "maximize"),
    [
        ("adam_iterates", None, False),
        ("adam_iterates", "sign", True),
        ("adagrad_iterates", None, False),
        ("adagrad_iterates", "sign", True),
    ],
)
def test_optimisers_against_torch_optim(name: str, mistake: str | None, maximize: bool) -> None:
    """torch.optim itself, in float64; its `maximize` steps up the gradient, as the sign slip."""
    torch = pytest.importorskip("torch")
    optimiser = {"adam_iterates": torch.optim.Adam, "adagrad_iterates": torch.optim.Adagrad}[name]
    out = torch_run(optimiser, torch.float64, maximize=maximize)
    qid = f"gradient_descent.{name}"
    value = reference(qid).value if mistake is None else values_of(qid, mistake)[0]
    np.testing.assert_allclose(value, out, rtol=1e-12)


def test_seed_sgd_against_torch_optim() -> None:
    torch = pytest.importorskip("torch")
    out = torch_run(torch.optim.SGD, torch.float32)
    np.testing.assert_allclose(reference("gradient_descent.iterates").value, out, rtol=1e-7)


# --- where descent on L1 ends ---------------------------------------------------------------


def numpy_l1_descent(start: np.ndarray, eta: float, steps: int = 20000) -> np.ndarray:
    w = np.array(start, dtype=float)
    for _ in range(steps):
        w = w - eta * 2 * (A @ w - C) * A
    return w


@pytest.mark.parametrize("start", [[0, 0], [1, -2], [5, 0]])
def test_the_limit_on_L1_against_long_numpy_descents(start: list[int]) -> None:
    limit = reference("gradient_descent.gd_L1_limit", {"start": start}).value
    # any small stable step (η < 1/(a·a)) ends at the same point
    for eta in (0.001, 0.005, 0.01):
        np.testing.assert_allclose(limit, numpy_l1_descent(np.array(start), eta), rtol=1e-9)
    assert A @ limit == pytest.approx(C)


def test_the_limit_on_L1_is_the_seeds_line_point_nearest_the_start() -> None:
    limit = reference("gradient_descent.gd_L1_limit").value
    np.testing.assert_allclose(limit, [16 / 13, 28 / 13], rtol=1e-15)  # C · A / (A · A)


def test_other_minimisers_are_the_whole_line_but_not_the_limit() -> None:
    ((mistake, t),) = mistake_targets("gradient_descent.gd_L1_limit")
    assert mistake == "other_minimiser"
    solutions: SolutionSet = t.value
    w1, w2 = solutions.variables
    line = sp.lambdify((w1, w2), solutions.condition.lhs - solutions.condition.rhs)
    limit = reference("gradient_descent.gd_L1_limit").value
    member = np.array(solutions.member, dtype=float).reshape(-1)
    for point in (limit, member, np.array([C / A[0], 0.0]), np.array([0.0, C / A[1]])):
        assert line(*point) == pytest.approx(0, abs=1e-12)
    assert line(1.0, 1.0) != pytest.approx(0)
    assert not np.allclose(member, limit, **TOL)


# --- the function gradient_descent(grad, w0, eta, n) ----------------------------------------


def numpy_descent(
    grad: Callable[[Any], Any], w0: Any, eta: float, n: int, sign: float = 1.0
) -> np.ndarray:
    w = np.asarray(w0, dtype=float)
    out = [w]
    for _ in range(n):
        w = w - sign * eta * np.asarray(grad(w), dtype=float)
        out.append(w)
    return np.array(out)


def loss_function(grad: Gradient) -> Callable[[np.ndarray], float]:
    function = sp.lambdify(grad.symbols(), grad.expression(), "numpy")
    return lambda point: float(function(*np.atleast_1d(point)))


def test_the_probes_gradients_against_finite_differences() -> None:
    h = 1e-6
    for grad, w0, *_ in reference("gradient_descent.gradient_descent").probes:
        loss = loss_function(grad)
        start = np.atleast_1d(to_student(w0)).astype(float)
        for point in (start, start + 0.3, start - 0.7):
            steps = np.eye(len(point)) * h
            numeric = [(loss(point + e) - loss(point - e)) / (2 * h) for e in steps]
            np.testing.assert_allclose(np.atleast_1d(grad(point)), numeric, rtol=1e-6, atol=1e-6)


def test_the_probes_as_a_student_gets_them() -> None:
    probes = reference("gradient_descent.gradient_descent").probes
    assert {len(grad.variables) for grad, *_ in probes} == {1, 2, 3}
    for grad, w0, eta, n in probes:
        dims = len(grad.variables)
        start = to_student(w0)
        # a float for one variable (an int would break an in-place update), else a float array
        assert np.asarray(start).dtype == float
        assert np.shape(start) == ((dims,) if dims > 1 else ())
        assert type(to_student(eta)) is float and type(to_student(n)) is int
    grad, w0, eta, n = probes[0]
    assert (grad.loss, to_student(w0), to_student(eta), to_student(n)) == (
        "(w - 3)**2",
        W0,
        ETA,
        STEPS,
    )


def test_the_function_reference_against_numpy_on_every_probe() -> None:
    ref = reference("gradient_descent.gradient_descent")
    for args, expected in zip(ref.probes, ref.value, strict=True):
        grad, w0, eta, n = (to_student(a) for a in args)
        loop = numpy_descent(grad, w0, eta, n)
        assert expected.shape == loop.shape == (n + 1, *np.shape(w0))
        np.testing.assert_allclose(expected, loop, rtol=1e-12, atol=1e-15)


def test_the_function_mistakes_against_numpy_on_every_probe() -> None:
    ref = reference("gradient_descent.gradient_descent")
    (upwards,) = values_of(ref.qid, "sign")
    last_step_missing, start_missing = values_of(ref.qid, "shifted")
    for i, args in enumerate(ref.probes):
        grad, w0, eta, n = (to_student(a) for a in args)
        loop = numpy_descent(grad, w0, eta, n)
        np.testing.assert_allclose(upwards[i], numpy_descent(grad, w0, eta, n, -1), rtol=1e-12)
        # n entries instead of n + 1
        np.testing.assert_allclose(last_step_missing[i], loop[:-1], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(start_missing[i], loop[1:], rtol=1e-12, atol=1e-15)
