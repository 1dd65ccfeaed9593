"""Every assignment's answers once more, in plain NumPy and apart from the SymPy derivations:
loops for the trajectories, the optimisers' documented update rules, finite differences for gradients.

`expected(assignment, variant)` gives, per question name, a value, a `Function` (compared on the
grader's probes) or a `Minimiser` (the reference's member must minimise that loss).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import sympy as sp

from autograder.derivation.references import exercise
from autograder.model.catalogue import spec_module
from autograder.model.spec import Kind

H = 1e-6


@dataclass(frozen=True)
class Function:
    """A function question's answer as NumPy computes it, called with what a student's gets."""

    call: Callable[..., Any]


@dataclass(frozen=True)
class Minimiser:
    """A point-in-set question: any point where `loss` is 0 (its least value) is right."""

    loss: Callable[[np.ndarray], float]


def given(assignment: str, variant: dict[str, Any] | None) -> SimpleNamespace:
    """The parameters of a variant as floats and float arrays (the seed's where it is silent)."""

    def number(value: Any) -> Any:
        if isinstance(value, list):
            return np.array([float(v) for v in value])
        if isinstance(value, int | str):
            try:
                return float(value)
            except ValueError:
                return value
        return value

    written = {**exercise(assignment).parameters, **(variant or {})}
    return SimpleNamespace(**{k: number(v) for k, v in written.items()})


def gradient(loss: Callable[[np.ndarray], float], at: np.ndarray) -> np.ndarray:
    """Central differences of `loss` at `at`."""
    at = np.asarray(at, dtype=float)
    steps = np.eye(at.size) * H
    return np.array([(loss(at + e) - loss(at - e)) / (2 * H) for e in steps])


def sigmoid(v: Any) -> Any:
    return 1 / (1 + np.exp(-v))


def minima(p: SimpleNamespace) -> dict[str, Any]:
    def f(v: np.ndarray) -> float:
        return float(v[0] ** 2 + v[1] ** 3 + v[0] * v[1])

    def l1(v: np.ndarray) -> float:
        return float((p.a @ v - p.c) ** 2)

    def l2(v: np.ndarray) -> float:
        return max(0.0, float(p.b @ v)) ** 2

    def l3(v: np.ndarray) -> float:
        return abs(float(v[0]) - math.exp(-float(v[0])))

    # w = e^(−w) by iteration: a contraction near the root
    fixed_point = 0.0
    for _ in range(200):
        fixed_point = math.exp(-fixed_point)
    xs = np.linspace(-10, 10, 200001)
    slope = sigmoid(xs) * (1 - sigmoid(xs))
    return {
        "grad_f_at_11": gradient(f, p.point),
        "grad_f": Function(lambda x, y: gradient(f, np.array([x, y]))),
        "dL1": Function(lambda w1, w2: gradient(l1, np.array([w1, w2]))),
        "dL1_dw1": Function(lambda w1, w2: gradient(l1, np.array([w1, w2]))[0]),
        "argmin_L1": Minimiser(l1),
        "dL2": Function(lambda w1, w2, w3: gradient(l2, np.array([w1, w2, w3]))),
        "argmin_L2": Minimiser(l2),
        "dL3": Function(lambda w: gradient(l3, np.array([w]))[0]),
        "argmin_L3": fixed_point,
        "sigmoid_grad_max": slope.max(),
        "sigmoid_grad_argmax": xs[slope.argmax()],
    }


def descend(grad: Callable[[Any], Any], w0: Any, eta: float, n: int) -> np.ndarray:
    w = np.asarray(w0, dtype=float)
    out = [w]
    for _ in range(n):
        w = w - eta * np.asarray(grad(w), dtype=float)
        out.append(w)
    return np.array(out)


def gradient_descent(p: SimpleNamespace) -> dict[str, Any]:
    n = int(p.steps)

    def f(w: float) -> float:
        return (w - p.target) ** 2

    ws = descend(lambda w: 2 * (w - p.target), p.w0, p.eta, n)
    adam, w, m, v = [], p.w0, 0.0, 0.0
    for t in range(1, n + 1):
        g = 2 * (w - p.target)
        m = p.beta1 * m + (1 - p.beta1) * g
        v = p.beta2 * v + (1 - p.beta2) * g * g
        w -= p.eta * (m / (1 - p.beta1**t)) / (math.sqrt(v / (1 - p.beta2**t)) + p.adam_eps)
        adam.append(w)
    adagrad, w, squares = [], p.w0, 0.0
    for _ in range(n):
        g = 2 * (w - p.target)
        squares += g * g
        w -= p.eta * g / (math.sqrt(squares) + p.adagrad_eps)
        adagrad.append(w)
    # L1's residual shrinks by 1 − 2η|a|² per step: ½ with this η, so 200 steps reach float64's end
    l1_step = 1 / (4 * float(p.a @ p.a))
    limit = descend(lambda u: 2 * (p.a @ u - p.c) * p.a, p.start, l1_step, 200)[-1]
    return {
        "iterates": ws[1:],
        "losses": [f(w) for w in ws],
        "gradient_descent": Function(descend),
        "gd_L1_limit": limit,
        "adam_iterates": adam,
        "adagrad_iterates": adagrad,
    }


def attention_step(p: SimpleNamespace) -> dict[str, Any]:
    def loss(w: np.ndarray) -> float:
        return 0.5 * (float(w @ p.x) - p.z) ** 2

    w, rows = p.w_start.copy(), []
    for k in range(int(p.iterations) + 1):
        z_hat = float(w @ p.x)
        rows.append([k, z_hat, z_hat - p.z, *w])
        w = w - p.eta * gradient(loss, w)
    grad = gradient(loss, p.w_start)
    return {
        "z_hat": float(p.w_start @ p.x),
        "loss": loss(p.w_start),
        "grad": grad,
        "w_new": p.w_start - p.eta * grad,
        "table": np.array(rows),
        # a variant's slide loses the sign of this cell; the lecture's slide has it wrong too
        "slide_error": p.slide_cell,
    }


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - np.max(z))
    return e / e.sum()


def softmax_ce(p: SimpleNamespace) -> dict[str, Any]:
    p1, p2 = softmax(p.z1), softmax(p.z2)

    def cross_entropy(z: np.ndarray, y: np.ndarray) -> float:
        return float(-np.sum(y * np.log(softmax(z))))

    dz1 = gradient(lambda z: cross_entropy(z, p.y1), p.z1)
    dz2 = gradient(lambda z: cross_entropy(z, p.y2), p.z2)
    return {
        "softmax": Function(softmax),
        "stable_softmax": Function(softmax),
        "predicted_token": str(list(p.vocabulary)[int(np.argmax(p.logits))]),
        "p1": p1,
        "loss1": cross_entropy(p.z1, p.y1),
        "dz1": dz1,
        "dW1": np.outer(dz1, p.x1),
        "p2": p2,
        "loss2": cross_entropy(p.z2, p.y2),
        "dW2": np.outer(dz2, p.x2),
        "loss_after": -math.log(p.p_after),
    }


def train(x: float, w: float, t: float, lr: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The weights after each of n updates of one sigmoid neuron, and the cost before each."""
    weights, costs = [], []
    for _ in range(n):
        costs.append((sigmoid(x * w) - t) ** 2)
        w -= lr * gradient(lambda v: (sigmoid(x * v[0]) - t) ** 2, np.array([w]))[0]
        weights.append(w)
    return np.array(weights), np.array(costs)


def backprop_chain(p: SimpleNamespace) -> dict[str, Any]:
    a = sigmoid(p.x * p.w0)
    da_di = gradient(lambda i: sigmoid(i[0]), np.array([p.x * p.w0]))[0]
    weights, costs = train(p.x, p.w0, p.t, p.lr, int(p.updates))
    return {
        "factors": [2 * (a - p.t), da_di, p.x],
        "dC_dw": gradient(lambda w: (sigmoid(p.x * w[0]) - p.t) ** 2, np.array([p.w0]))[0],
        "weights": weights,
        "costs": costs,
        "train": Function(lambda x, w, t, lr, n: train(x, w, t, lr, n)[0]),
        "chain_rule_name": rule_for_nesting(),
    }


def rule_for_nesting() -> str:
    """The option whose formula is the slope of sin(exp(x)), by central differences."""
    xs = np.array([-0.7, 0.3, 1.1])
    slope = (np.sin(np.exp(xs + H)) - np.sin(np.exp(xs - H))) / (2 * H)
    rules = {
        "a": np.cos(xs) * np.exp(xs) + np.sin(xs) * np.exp(xs),  # product rule
        "b": np.cos(np.exp(xs)) * np.exp(xs),  # chain rule
        "c": (np.cos(xs) * np.exp(xs) - np.sin(xs) * np.exp(xs)) / np.exp(xs) ** 2,
        "d": np.cos(xs) + np.exp(xs),  # sum rule
    }
    (found,) = (key for key, rule in rules.items() if np.allclose(rule, slope, rtol=1e-6))
    return found


def neuron_step(
    x: np.ndarray, w: np.ndarray, b: float, target: float, lr: float
) -> tuple[np.ndarray, float]:
    def loss(v: np.ndarray) -> float:
        return float((sigmoid(x @ v[:-1] + v[-1]) - target) ** 2)

    step = gradient(loss, np.array([*w, b]))
    return w - lr * step[:-1], b - lr * step[-1]


def backprop_neuron(p: SimpleNamespace) -> dict[str, Any]:
    z = float(p.X @ p.W + p.b)
    pred = sigmoid(z)
    dL_dpred = gradient(lambda q: (q[0] - p.target) ** 2, np.array([pred]))[0]
    dpred_dZ = gradient(lambda v: sigmoid(v[0]), np.array([z]))[0]
    W_new, b_new = neuron_step(p.X, p.W, p.b, p.target, p.lr)
    return {
        "Z": z,
        "pred": pred,
        "loss": (pred - p.target) ** 2,
        "dL_dpred": dL_dpred,
        "dpred_dZ": dpred_dZ,
        "dL_dZ": dL_dpred * dpred_dZ,
        "dL_dW": (p.W - W_new) / p.lr,
        "dL_db": (p.b - b_new) / p.lr,
        "W_new": W_new,
        "b_new": b_new,
        "loss_new": (sigmoid(float(p.X @ W_new + b_new)) - p.target) ** 2,
        "neuron_step": Function(neuron_step),
    }


def loss_functions(p: SimpleNamespace) -> dict[str, Any]:
    def cce(y_hat: np.ndarray, y: np.ndarray) -> float:
        return float(-np.mean(np.sum(y * np.log(y_hat), axis=1)))

    def bce(y_hat: np.ndarray, y: np.ndarray) -> float:
        return float(-np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))

    return {
        "mse": Function(lambda y_hat, y: float(np.mean((y_hat - y) ** 2))),
        "mae": Function(lambda y_hat, y: float(np.mean(np.abs(y_hat - y)))),
        "cce": Function(cce),
        "bce": Function(bce),
        "ce_int": Function(lambda q, k: float(-np.log(q[k]))),
        # −[y ln ŷ + (1 − y) ln(1 − ŷ)] is 0 exactly where ŷ = y ∈ {0, 1}
        "bce_zero": "a",
        "cce_zero": cce_zero(int(p.classes)),
    }


def cce_zero(k: int) -> str:
    """The option whose rows make the CCE vanish: of a one-hot row only −ln p of the right class
    is left, taken here with the right class's probability 1, 1/K, 0 (a tiny one) as the options give."""
    right = {"a": 1.0, "b": 1 / k, "c": 1e-300}
    zero = [key for key, p in right.items() if abs(-math.log(p)) < 1e-12]
    return zero[0] if len(zero) == 1 else "d"


EXPECTED = {
    "loss_functions": loss_functions,
    "minima": minima,
    "gradient_descent": gradient_descent,
    "attention_step": attention_step,
    "softmax_ce": softmax_ce,
    "backprop_chain": backprop_chain,
    "backprop_neuron": backprop_neuron,
}


def expected(assignment: str, variant: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Every question's answer of one variant, by NumPy alone: from this file for the lecture's
    exercises, from the spec's own `independent(p)` for the others; None where there is neither
    (`autograder lint` says so)."""
    if assignment in EXPECTED:
        return EXPECTED[assignment](given(assignment, variant))
    own = getattr(spec_module(assignment), "independent", None)
    if own is None:
        return None
    answers = own(given(assignment, variant))
    for q in exercise(assignment).autograded:
        answer = answers.get(q.name)
        if q.kind is Kind.EXPRESSION and isinstance(answer, str):  # a formula, compared on points
            symbols = [sp.Symbol(v) for v in q.variables]
            answers[q.name] = Function(sp.lambdify(symbols, sp.sympify(answer)))
        elif callable(answer):
            answers[q.name] = Function(answer)
    return answers
