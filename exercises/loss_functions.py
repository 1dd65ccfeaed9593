"""Loss functions for regression and classification: MSE, MAE, categorical and binary cross-entropy (seed 002).

Each loss is written as the lecture defines it; the grader calls the student's version on inputs of its own.
"""

from types import SimpleNamespace
from typing import Any

import numpy as np
import sympy as sp

from autograder.spec import Exercise, Sheet, Slip, choice, function
from autograder.values import Rule

PARAMETERS = {
    "probe_seed": 2,
    "probes": 5,
    "n": 5,
    "classes": 4,
    # predictions stay this far from the labels (MAE's kinks) and from 0 and 1 (the logarithms)
    "margin": "0.05",
}

# When is the binary cross-entropy exactly 0? The option and the prediction ŷ it stands for.
BCE_ZERO = {
    "a": "when every prediction equals its label (ŷᵢ = yᵢ with yᵢ ∈ {0, 1})",
    "b": "when every prediction is 0.5",
    "c": "when every prediction is the opposite of its label (ŷᵢ = 1 − yᵢ)",
    "d": "never: the logarithms make it positive",
}
y_hat, label = sp.symbols("y_hat y", real=True)
BCE_ZERO_PREDICTION = {"a": label, "b": sp.Rational(1, 2), "c": 1 - label}
BCE_ZERO_MISTAKES = {"half_prediction": "b", "flipped_labels": "c", "never_zero": "d"}


def mean(terms: list[Any], s: Slip) -> Any:
    return sum(terms) / (1 if s.on("no_mean") else len(terms))


def mse(p_hat: sp.Matrix, y: sp.Matrix, s: Slip) -> Any:
    return s.scale * mean([(a - b) ** 2 for a, b in zip(p_hat, y, strict=True)], s)


def mae(p_hat: sp.Matrix, y: sp.Matrix, s: Slip) -> Any:
    distance = (lambda d: d**2) if s.on("squared") else sp.Abs
    return mean([distance(a - b) for a, b in zip(p_hat, y, strict=True)], s)


def bce(p_hat: sp.Matrix, y: sp.Matrix, s: Slip) -> Any:
    terms = [b * s.log(a) + (1 - b) * s.log(1 - a) for a, b in zip(p_hat, y, strict=True)]
    return -s.sign * mean(terms, s)


def cce(p_hat: sp.Matrix, y: sp.Matrix, s: Slip) -> Any:
    rows = [
        sum(y[i, k] * s.log(p_hat[i, k]) for k in range(y.cols) if y[i, k] != 0)
        for i in range(y.rows)
    ]
    return -s.sign * mean(rows, s)


def ce_int(p: sp.Matrix, k: Any, s: Slip) -> Any:
    index = int(k) - 1 if s.on("label_offset") else int(k)
    return -s.sign * s.log(p[index])


def bce_term_limit(option: str, y: int) -> Any:
    """The BCE of one prediction for label y under an option, as a limit where a logarithm is at 0."""
    term = -(label * sp.log(y_hat) + (1 - label) * sp.log(1 - y_hat))
    target = BCE_ZERO_PREDICTION[option].subs(label, y)
    return sp.limit(term.subs(label, y), y_hat, target, "+" if target == 0 else "-")


def bce_zero_option() -> str:
    """The option under which the BCE is 0 for both labels; "never" only if there is none."""
    zero = [o for o in BCE_ZERO_PREDICTION if all(bce_term_limit(o, y) == 0 for y in (0, 1))]
    return zero[0] if zero else "d"


def probes(p: SimpleNamespace) -> dict[str, tuple[tuple[Any, ...], ...]]:
    """Inputs drawn once from the seed, exact with two decimals; predictions never on a kink."""
    rng = np.random.default_rng(int(p.probe_seed))
    n, k, margin = int(p.n), int(p.classes), float(p.margin)

    def exact(values: np.ndarray) -> sp.Matrix:
        return sp.Matrix(np.round(values, 2).tolist()).applyfunc(lambda v: sp.Rational(str(v)))

    found: dict[str, list[tuple[Any, ...]]] = {
        name: [] for name in ("mse", "mae", "bce", "cce", "ce_int")
    }
    for _ in range(int(p.probes)):
        y = rng.uniform(-3, 3, n)
        gap = rng.uniform(margin + 0.01, 2, n) * rng.choice([-1, 1], n)
        found["mse"].append((exact(y + gap), exact(y)))
        found["mae"].append((exact(y + gap), exact(y)))
        labels = rng.integers(0, 2, n)
        found["bce"].append((exact(rng.uniform(margin, 1 - margin, n)), sp.Matrix(labels.tolist())))
        weights = rng.integers(1, 10, (n, k))
        rows = sp.Matrix(weights.tolist()).applyfunc(sp.Integer)
        probabilities = sp.Matrix([[v / sum(rows.row(i)) for v in rows.row(i)] for i in range(n)])
        one_hot = sp.zeros(n, k)
        for i, c in enumerate(rng.integers(0, k, n)):
            one_hot[i, int(c)] = 1
        found["cce"].append((probabilities, one_hot))
        found["ce_int"].append((probabilities.row(0).T, sp.Integer(int(rng.integers(0, k)))))
    return {name: tuple(values) for name, values in found.items()}


def derive(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    chosen = probes(p)
    r.mse = Rule(lambda a, b: mse(sp.Matrix(a), sp.Matrix(b), s), chosen["mse"])
    r.mae = Rule(lambda a, b: mae(sp.Matrix(a), sp.Matrix(b), s), chosen["mae"])
    r.cce = Rule(lambda a, b: cce(sp.Matrix(a), sp.Matrix(b), s), chosen["cce"])
    r.bce = Rule(lambda a, b: bce(sp.Matrix(a), sp.Matrix(b), s), chosen["bce"])
    r.ce_int = Rule(lambda q, k: ce_int(sp.Matrix(q), k, s), chosen["ce_int"])
    mistaken = {m for m, option in BCE_ZERO_MISTAKES.items() if s.on(m)}
    r.bce_zero = BCE_ZERO_MISTAKES[mistaken.pop()] if mistaken else bce_zero_option()


EXERCISE = Exercise(
    name="loss_functions",
    title="Loss functions for regression and classification",
    source="seed 002",
    parameters=PARAMETERS,
    derive=derive,
    questions=(
        function("mse", ("y_hat", "y"), points=2, mistakes=("factor_two", "no_mean")),
        function("mae", ("y_hat", "y"), points=2, mistakes=("no_mean", "squared")),
        function("cce", ("y_hat", "y"), points=2, mistakes=("log10", "sign", "no_mean")),
        function("bce", ("y_hat", "y"), points=2, mistakes=("log10", "sign", "no_mean")),
        function("ce_int", ("p", "label"), points=2, mistakes=("log10", "sign", "label_offset")),
        choice("bce_zero", BCE_ZERO, mistakes=tuple(BCE_ZERO_MISTAKES)),
    ),
)
