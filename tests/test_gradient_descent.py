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

from autograder.derivation.references import exercise, mistake_targets, pair_targets, reference
from autograder.model.values import Gradient, SolutionSet, to_student

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


def sgd(
    steps: int,
    sign: float = 1.0,
    factor: float = 1.0,
    lr: float = ETA,
    slope: Callable[[float, float], float] = f_prime,
) -> list[float]:
    """w0 … w_steps of w ← w − η f′(w), written out; `slope` f for the loss taken as the slope."""
    ws = [W0]
    for _ in range(steps):
        ws.append(ws[-1] - sign * lr * slope(ws[-1], factor))
    return ws


def losses_of(ws: list[float], factor: float = 1.0) -> list[float]:
    return [f(w, factor) for w in ws]


def printout(ws: list[float]) -> list[float]:
    """The losses f(w0) … f(w3) as read off seed 002's printout: line k ≥ 1 shows f(w_{k−1})."""
    return [f(ws[0])] + [f(w) for w in ws[:STEPS]]


def adam(sign: float = 1.0, bias_correction: bool = True, lr: float = ETA) -> list[float]:
    """The update torch.optim.Adam documents (betas 0.9, 0.999, eps 1e-8), written out."""
    b1, b2, eps = 0.9, 0.999, 1e-8
    w, m, v, out = W0, 0.0, 0.0, []
    for t in range(1, STEPS + 1):
        g = f_prime(w)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t) if bias_correction else m
        v_hat = v / (1 - b2**t) if bias_correction else v
        w -= sign * lr * m_hat / (math.sqrt(v_hat) + eps)
        out.append(w)
    return out


def adagrad(
    sign: float = 1.0, accumulate: bool = True, lr: float = ETA, root: bool = True
) -> list[float]:
    """The update torch.optim.Adagrad documents (lr_decay 0, accumulator from 0, eps 1e-10);
    without the `root`, divided by Σg² + eps."""
    w, squares, out = W0, 0.0, []
    for _ in range(STEPS):
        g = f_prime(w)
        squares = squares + g * g if accumulate else g * g
        scale = math.sqrt(squares) + 1e-10 if root else squares + 1e-10
        w -= sign * lr * g / scale
        out.append(w)
    return out


def values_of(qid: str, mistake: str) -> list[Any]:
    """The targets of one mistake (or of two at once, "a+b"), one per form, in their order."""
    targets = pair_targets(qid) if "+" in mistake else mistake_targets(qid)
    return [t.value for m, t in targets if m == mistake]


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


def test_the_printout_pairing_is_what_the_seeds_printout_shows_beside_w0_to_w3() -> None:
    (misread,) = values_of("gradient_descent.losses", "printout_pairing")
    printed_f = [loss for _, _, loss in SEED_RUN]
    np.testing.assert_allclose(misread, printed_f[: STEPS + 1], atol=5e-5)
    np.testing.assert_allclose(misread, printout(sgd(STEPS)), rtol=1e-15)


MISTAKES = [
    ("iterates", "sign", [sgd(3, sign=-1)[1:]]),
    ("iterates", "factor_two", [sgd(3, factor=2)[1:], sgd(3, factor=0.5)[1:]]),
    # shifted by one: w0 … w2 (w0 taken in), w2 … w4 (one step too many)
    ("iterates", "shifted", [sgd(4)[0:3], sgd(4)[2:5]]),
    ("iterates", "no_learning_rate", [sgd(3, lr=1)[1:]]),
    # the same as factor_two's form 2 here: f′ doubled or η doubled
    ("iterates", "doubled_step", [sgd(3, lr=2 * ETA)[1:]]),
    ("iterates", "loss_as_gradient", [sgd(3, slope=f)[1:]]),
    ("losses", "loss_after_update", [losses_of(sgd(4)[1:])]),
    ("losses", "printout_pairing", [printout(sgd(3))]),
    ("losses", "sign", [losses_of(sgd(3, sign=-1))]),
    (
        "losses",
        "factor_two",
        [losses_of(sgd(3, factor=2), factor=2), losses_of(sgd(3, factor=0.5), factor=0.5)],
    ),
    ("losses", "no_learning_rate", [losses_of(sgd(3, lr=1))]),
    ("losses", "doubled_step", [losses_of(sgd(3, lr=2 * ETA))]),
    ("losses", "loss_as_gradient", [losses_of(sgd(3, slope=f))]),
    ("adam_iterates", "sign", [adam(sign=-1)]),
    ("adam_iterates", "no_bias_correction", [adam(bias_correction=False)]),
    ("adam_iterates", "plain_sgd", [sgd(3)[1:]]),
    ("adam_iterates", "no_learning_rate", [adam(lr=1)]),
    ("adagrad_iterates", "sign", [adagrad(sign=-1)]),
    ("adagrad_iterates", "no_accumulation", [adagrad(accumulate=False)]),
    ("adagrad_iterates", "plain_sgd", [sgd(3)[1:]]),
    ("adagrad_iterates", "no_sqrt", [adagrad(root=False)]),
    ("adagrad_iterates", "no_learning_rate", [adagrad(lr=1)]),
    ("gd_L1_limit", "gradient_as_minimiser", [A]),
]

# two mistakes at once, as the grader tries them where no single one fits
PAIRS = [
    ("iterates", "sign+no_learning_rate", [sgd(3, sign=-1, lr=1)[1:]]),
    ("iterates", "sign+loss_as_gradient", [sgd(3, sign=-1, slope=f)[1:]]),
    (
        "iterates",
        "factor_two+loss_as_gradient",
        [sgd(3, factor=2, slope=f)[1:], sgd(3, factor=0.5, slope=f)[1:]],
    ),
    ("losses", "printout_pairing+sign", [printout(sgd(3, sign=-1))]),
    ("losses", "loss_after_update+doubled_step", [losses_of(sgd(4, lr=2 * ETA)[1:])]),
    ("adam_iterates", "sign+plain_sgd", [sgd(3, sign=-1)[1:]]),
    ("adam_iterates", "no_bias_correction+no_learning_rate", [adam(bias_correction=False, lr=1)]),
    ("adagrad_iterates", "no_accumulation+no_sqrt", [adagrad(accumulate=False, root=False)]),
    ("adagrad_iterates", "no_sqrt+no_learning_rate", [adagrad(root=False, lr=1)]),
]


@pytest.mark.parametrize(("name", "mistake", "expected"), MISTAKES + PAIRS)
def test_mistakes_against_loops(name: str, mistake: str, expected: list[Any]) -> None:
    found = values_of(f"gradient_descent.{name}", mistake)
    assert len(found) == len(expected)
    for value, loop in zip(found, expected, strict=True):
        np.testing.assert_allclose(value, loop, rtol=1e-12)


def test_every_listed_mistake_is_covered() -> None:
    listed = {
        (q.name, m)
        for q in exercise("gradient_descent").autograded
        for m, _ in mistake_targets(f"gradient_descent.{q.name}")
    }
    covered = {(name, mistake) for name, mistake, _ in MISTAKES}
    # the other minimisers by their own test below, the function's mistakes on every probe
    covered |= {("gd_L1_limit", "other_minimiser")}
    covered |= {("gradient_descent", mistake) for mistake, _ in FUNCTION_MISTAKES}
    assert listed == covered


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


def torch_run(optimiser: Any, dtype: Any, lr: float = ETA, **options: Any) -> list[float]:
    """The iterates w1 … w_steps of a torch.optim optimiser on the lecture's f."""
    import torch

    w = torch.tensor([W0], dtype=dtype, requires_grad=True)
    step = optimiser([w], lr=lr, **options)
    out = []
    for _ in range(STEPS):
        step.zero_grad()
        ((w - TARGET) ** 2).sum().backward()
        step.step()
        out.append(w.item())
    return out


@pytest.mark.parametrize(
    ("name", "mistake", "optimiser", "options"),
    [
        ("adam_iterates", None, "Adam", {}),
        ("adam_iterates", "sign", "Adam", {"maximize": True}),
        ("adam_iterates", "plain_sgd", "SGD", {}),
        ("adam_iterates", "no_learning_rate", "Adam", {"lr": 1.0}),
        ("adagrad_iterates", None, "Adagrad", {}),
        ("adagrad_iterates", "sign", "Adagrad", {"maximize": True}),
        ("adagrad_iterates", "plain_sgd", "SGD", {}),
        ("adagrad_iterates", "no_learning_rate", "Adagrad", {"lr": 1.0}),
    ],
)
def test_optimisers_against_torch_optim(
    name: str, mistake: str | None, optimiser: str, options: dict[str, Any]
) -> None:
    """torch.optim itself, in float64; its `maximize` steps up the gradient, as the sign slip."""
    torch = pytest.importorskip("torch")
    out = torch_run(getattr(torch.optim, optimiser), torch.float64, **options)
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
    (solutions,) = values_of("gradient_descent.gd_L1_limit", "other_minimiser")
    assert isinstance(solutions, SolutionSet)
    w1, w2 = solutions.variables
    line = sp.lambdify((w1, w2), solutions.condition.lhs - solutions.condition.rhs)
    limit = reference("gradient_descent.gd_L1_limit").value
    member = np.array(solutions.member, dtype=float).reshape(-1)
    for point in (limit, member, np.array([C / A[0], 0.0]), np.array([0.0, C / A[1]])):
        assert line(*point) == pytest.approx(0, abs=1e-12)
    assert line(1.0, 1.0) != pytest.approx(0)
    assert not np.allclose(member, limit, **TOL)
    # the direction a, given for the point, is neither the limit nor on the line
    (direction,) = values_of("gradient_descent.gd_L1_limit", "gradient_as_minimiser")
    assert not np.allclose(direction, limit, **TOL)
    assert line(*direction) != pytest.approx(0)


@pytest.mark.parametrize(("a", "c"), [([1, 2], 5), ([3, 4], 25), ([7, 7], 98)])
def test_a_variant_whose_limit_is_the_direction_a_is_redrawn(a: list[int], c: int) -> None:
    ex = exercise("gradient_descent")
    assert ex.well_posed is not None
    assert ex.well_posed(ex.params({"a": a, "c": c})) is not None
    assert ex.well_posed(ex.params({"a": a, "c": c + 1})) is None


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


Descent = Callable[[Callable[[Any], Any], Any, float, int], np.ndarray]

FUNCTION_MISTAKES: list[tuple[str, list[Descent]]] = [
    ("sign", [lambda grad, w0, eta, n: numpy_descent(grad, w0, eta, n, -1)]),
    # n entries instead of n + 1: the last step missing, or w0 left out
    (
        "shifted",
        [
            lambda grad, w0, eta, n: numpy_descent(grad, w0, eta, n)[:-1],
            lambda grad, w0, eta, n: numpy_descent(grad, w0, eta, n)[1:],
        ],
    ),
    ("no_learning_rate", [lambda grad, w0, eta, n: numpy_descent(grad, w0, 1.0, n)]),
    ("doubled_step", [lambda grad, w0, eta, n: numpy_descent(grad, w0, 2 * eta, n)]),
]
FUNCTION_PAIRS: list[tuple[str, list[Descent]]] = [
    ("sign+no_learning_rate", [lambda grad, w0, eta, n: numpy_descent(grad, w0, 1.0, n, -1)]),
    (
        "shifted+doubled_step",
        [
            lambda grad, w0, eta, n: numpy_descent(grad, w0, 2 * eta, n)[:-1],
            lambda grad, w0, eta, n: numpy_descent(grad, w0, 2 * eta, n)[1:],
        ],
    ),
]


@pytest.mark.parametrize(("mistake", "loops"), FUNCTION_MISTAKES + FUNCTION_PAIRS)
def test_the_function_mistakes_against_numpy_on_every_probe(
    mistake: str, loops: list[Descent]
) -> None:
    ref = reference("gradient_descent.gradient_descent")
    found = values_of(ref.qid, mistake)
    assert len(found) == len(loops)
    for outputs, loop in zip(found, loops, strict=True):
        for output, args in zip(outputs, ref.probes, strict=True):
            grad, w0, eta, n = (to_student(a) for a in args)
            np.testing.assert_allclose(output, loop(grad, w0, eta, n), rtol=1e-12, atol=1e-15)
