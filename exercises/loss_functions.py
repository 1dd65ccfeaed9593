"""Loss functions for regression and classification: MSE, MAE, categorical and binary CE (seed 002).

Each loss is written as the lecture defines it; the grader calls the student's version on inputs of its own.
"""

from types import SimpleNamespace
from typing import Any

import numpy as np
import sympy as sp

from autograder.model.spec import Exercise, Sheet, Slip, choice, function, manual
from autograder.model.values import Rule

PARAMETERS = {
    "probe_seed": 2,
    "probes": 5,
    "n": 5,
    "classes": 4,
    # predictions stay this far from the labels (MAE's kinks) and from 0 and 1 (the logarithms)
    "margin": "0.05",
}

# When is the binary cross-entropy exactly 0? The options, and the prediction ŷ each stands for.
BCE_ZERO = {
    "a": "when every prediction equals its label (ŷᵢ = yᵢ with yᵢ ∈ {0, 1})",
    "b": "when every prediction is 0.5",
    "c": "when every prediction is the opposite of its label (ŷᵢ = 1 − yᵢ)",
    "d": "never: the logarithms make it positive",
}
y_hat, label = sp.symbols("y_hat y", real=True)
BCE_ZERO_PREDICTION = {"a": label, "b": sp.Rational(1, 2), "c": 1 - label}
NONE_IS_ZERO = "d"

# When is the categorical cross-entropy exactly 0? The options, and the K probabilities each gives
# a row whose right class is the first; t → 0⁺ where a probability meets 0.
CCE_ZERO = {
    "a": "when in every row the right class gets the probability 1",
    "b": "when every class gets the same probability 1/K",
    "c": "when in every row the right class gets the probability 0",
    "d": "never: the logarithms make it positive",
}
t = sp.symbols("t", positive=True)
CCE_ZERO_ROW = {
    "a": lambda k: [1 - (k - 1) * t] + [t] * (k - 1),
    "b": lambda k: [sp.Rational(1, k)] * k,
    "c": lambda k: [t] + [(1 - t) / (k - 1)] * (k - 1),
}


def mean(terms: list[Any], s: Slip) -> Any:
    return sum(terms) / (1 if s.on("no_mean") else len(terms))


def mse(p_hat: sp.Matrix, y: sp.Matrix, s: Slip) -> Any:
    return s.scale * mean([s.square(a - b) for a, b in zip(p_hat, y, strict=True)], s)


def mae(p_hat: sp.Matrix, y: sp.Matrix, s: Slip) -> Any:
    distance = (lambda d: d**2) if s.on("squared") else sp.Abs
    return mean([distance(a - b) for a, b in zip(p_hat, y, strict=True)], s)


def logged(q: Any, s: Slip) -> Any:
    """ln of the probability the cross-entropy takes, or of its complement 1 − q in that slip."""
    return s.log(1 - q if s.on("complement") else q)


def bce(p_hat: sp.Matrix, y: sp.Matrix, s: Slip) -> Any:
    # the complement slip takes ln(1 − ŷ) in the term of label 1 too; swapping ŷ and 1 − ŷ in both
    # terms would give the flipped labels of bce_zero
    terms = [b * logged(a, s) + (1 - b) * s.log(1 - a) for a, b in zip(p_hat, y, strict=True)]
    return -s.sign * mean(terms, s)


def one_hot_sum(p: Any, y: Any, s: Slip) -> Any:
    """Σₖ yₖ ln pₖ without the terms where yₖ = 0; every ln pₖ summed in the sum-all slip."""
    if s.on("sum_all"):
        return sum(logged(q, s) for q in p)
    return sum(weight * logged(q, s) for q, weight in zip(p, y, strict=True) if weight != 0)


def cce(p_hat: sp.Matrix, y: sp.Matrix, s: Slip) -> Any:
    rows = [one_hot_sum(p_hat.row(i), y.row(i), s) for i in range(y.rows)]
    return -s.sign * mean(rows, s)


def ce_int(p: sp.Matrix, k: Any, s: Slip) -> Any:
    one_hot = sp.zeros(len(p), 1)
    # counted from 1, class 0 becomes p[−1]: the last entry, as in NumPy
    one_hot[int(k) - 1 if s.on("label_offset") else int(k)] = 1
    return -s.sign * one_hot_sum(p, one_hot, s)


def bce_term(s: Slip) -> sp.Expr:
    """One term of the BCE for prediction ŷ and label y, as the student reads it."""
    if s.on("flipped_labels"):  # y and 1 − y swapped
        return -((1 - label) * sp.log(y_hat) + label * sp.log(1 - y_hat))
    if s.on("half_prediction"):  # the two logarithms taken to cancel where they are equal
        return sp.log(y_hat) - sp.log(1 - y_hat)
    return -(label * sp.log(y_hat) + (1 - label) * sp.log(1 - y_hat))


def bce_term_under(option: str, y: int, s: Slip) -> Any:
    """The term for label y with the option's prediction; a limit where a logarithm meets 0."""
    at = BCE_ZERO_PREDICTION[option].subs(label, y)
    if s.on("never_zero"):  # 0 · ln 0 plugged in as it stands: undefined, never 0
        return bce_term(s).xreplace({label: y, y_hat: at})
    return sp.limit(bce_term(s).subs(label, y), y_hat, at, "+" if at == 0 else "-")


def cce_row_under(option: str, k: int, s: Slip) -> Any:
    """−Σₖ yₖ ln pₖ of a row with the option's probabilities, its right class the first; the limit
    t → 0⁺ where a probability meets 0."""
    labels = sp.symbols(f"y0:{k}")
    row = -sum(y * logged(q, s) for y, q in zip(labels, CCE_ZERO_ROW[option](k), strict=True))
    one_hot = {y: int(i == 0) for i, y in enumerate(labels)}
    if s.on("never_zero"):  # 0 · ln 0 plugged in as it stands: undefined, never 0
        return row.xreplace({**one_hot, t: 0})
    return sp.limit(row.xreplace(one_hot), t, 0, "+")


def zero_option(loss: str, values: dict[str, list[Any]]) -> str:
    """The option whose values of the loss are all 0; "never" only if there is none."""
    zero = [option for option, found in values.items() if all(v == 0 for v in found)]
    if len(zero) > 1:
        raise ValueError(f"options {', '.join(zero)} all make the {loss} 0; keep one of them")
    return zero[0] if zero else NONE_IS_ZERO


def bce_zero_option(s: Slip) -> str:
    """The option under which the BCE is 0 for both labels."""
    terms = {o: [bce_term_under(o, y, s) for y in (0, 1)] for o in BCE_ZERO_PREDICTION}
    return zero_option("BCE", terms)


def cce_zero_option(k: int, s: Slip) -> str:
    """The option under which the CCE of a row is 0 (one row stands for all: the classes are alike)."""
    return zero_option("CCE", {o: [cce_row_under(o, k, s)] for o in CCE_ZERO_ROW})


def probes(p: SimpleNamespace) -> dict[str, tuple[tuple[Any, ...], ...]]:
    """Inputs drawn once from the seed, exact with two decimals; predictions never on a kink."""
    rng = np.random.default_rng(int(p.probe_seed))
    n, k, margin = int(p.n), int(p.classes), float(p.margin)

    def exact(values: np.ndarray) -> sp.Matrix:
        return sp.Matrix(np.round(values, 2).tolist()).applyfunc(lambda v: sp.Rational(str(v)))

    def probabilities(rows: int) -> sp.Matrix:
        """Rows of K hundredths, each at least 0.01, that sum to exactly 1."""
        result = []
        for _ in range(rows):
            cuts = np.sort(rng.choice(np.arange(1, 100), k - 1, replace=False))
            result.append([sp.Rational(int(c), 100) for c in np.diff([0, *cuts, 100])])
        return sp.Matrix(result)

    found: dict[str, list[tuple[Any, ...]]] = {
        name: [] for name in ("mse", "mae", "bce", "cce", "ce_int")
    }
    for _ in range(int(p.probes)):
        y = exact(rng.uniform(-3, 3, n))
        # gaps of both signs, never smaller than the margin: MAE's kinks are where ŷᵢ = yᵢ
        signs = rng.permutation(np.resize([1, -1], n))
        y_pred = y + exact(rng.uniform(margin + 0.01, 2, n) * signs)
        found["mse"].append((y_pred, y))
        found["mae"].append((y_pred, y))
        labels = sp.Matrix(rng.integers(0, 2, n).tolist())
        found["bce"].append((exact(rng.uniform(margin, 1 - margin, n)), labels))
        one_hot = sp.zeros(n, k)
        for i, c in enumerate(rng.integers(0, k, n)):
            one_hot[i, int(c)] = 1
        found["cce"].append((probabilities(n), one_hot))
        found["ce_int"].append((probabilities(1).T, sp.Integer(int(rng.integers(0, k)))))
    return {name: tuple(values) for name, values in found.items()}


def derive(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    chosen = probes(p)
    r.mse = Rule(lambda a, b: mse(sp.Matrix(a), sp.Matrix(b), s), chosen["mse"])
    r.mae = Rule(lambda a, b: mae(sp.Matrix(a), sp.Matrix(b), s), chosen["mae"])
    r.cce = Rule(lambda a, b: cce(sp.Matrix(a), sp.Matrix(b), s), chosen["cce"])
    r.bce = Rule(lambda a, b: bce(sp.Matrix(a), sp.Matrix(b), s), chosen["bce"])
    r.ce_int = Rule(lambda q, k: ce_int(sp.Matrix(q), k, s), chosen["ce_int"])
    r.bce_zero = bce_zero_option(s)
    r.cce_zero = cce_zero_option(int(p.classes), s)


EXERCISE = Exercise(
    name="loss_functions",
    title="Loss functions for regression and classification",
    source="seed 002",
    parameters=PARAMETERS,
    derive=derive,
    # No variant: every question is a function the grader calls on inputs of its own, or a choice
    # about the formula. No number of this exercise reaches a student, so none could be copied.
    vary={},
    questions=(
        function(
            "mse", ("y_hat", "y"), points=2, mistakes=("factor_two", "no_mean", "not_squared")
        ),
        function("mae", ("y_hat", "y"), points=2, mistakes=("no_mean", "squared")),
        function(
            "cce",
            ("y_hat", "y"),
            points=2,
            mistakes=("log10", "sign", "no_mean", "sum_all", "complement"),
        ),
        function(
            "bce", ("y_hat", "y"), points=2, mistakes=("log10", "sign", "no_mean", "complement")
        ),
        function(
            "ce_int",
            ("p", "label"),
            points=2,
            mistakes=("log10", "sign", "label_offset", "sum_all", "complement"),
        ),
        manual("why_minus", points=2),
        choice("bce_zero", BCE_ZERO, mistakes=("half_prediction", "flipped_labels", "never_zero")),
        choice("cce_zero", CCE_ZERO, mistakes=("complement", "never_zero")),
        manual("log_domain", points=2),
        manual("integer_label", points=2),
    ),
)
