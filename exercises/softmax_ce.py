"""Decoder prediction, softmax and cross-entropy, and the gradient for W_out (seed 001).

p = softmax(z), L = −Σ yᵢ ln pᵢ, ∂L/∂z = p − y, ∂L/∂W_out = (p − y) xᵀ.
"""

from types import SimpleNamespace

import numpy as np
import sympy as sp

from autograder.spec import Exercise, Sheet, Slip, choice, function, matrix, number, vector
from autograder.values import Rule

PARAMETERS = {
    "vocabulary": {12856: "Frankreich", 5312: "Deutschland", 9021: "Spanien"},
    "logits": ["3.2", "1.7", "1.2"],
    # example 1
    "z1": ["2.0", "1.0", "0.1"],
    "y1": [1, 0, 0],
    "x1": ["1.5", "0.5"],
    # example 2
    "z2": ["3.52", "2.37", "1.185", "0.07"],
    "y2": [1, 0, 0, 0],
    "x2": ["1.2", "0.8", "0.5"],
    # the probability of the right token once the model has learned more
    "p_after": "0.85",
}

# Logits the grader hands to the students' softmax functions; the last ones overflow a naive e^z.
MODERATE = (["1", "2", "3"], ["0.5", "-1.2", "3.3", "0"], ["2.0", "1.0", "0.1"], ["-1", "-1"])
EXTREME = (["1000", "999"], ["-1000", "-1001"], ["710", "0", "-710"])
FLOAT_MAX = sp.Float(np.finfo(np.float64).max)
FLOAT_TINY = sp.Float(np.finfo(np.float64).smallest_subnormal)


def softmax(z: sp.Matrix, s: Slip) -> sp.Matrix:
    """e^(z − max z) / Σ e^(z − max z): the same numbers as e^z / Σ e^z, and lambdified it cannot overflow."""
    shifted = z - sp.ones(*z.shape) * sp.Max(*z)
    e = shifted.applyfunc(sp.exp)
    if s.on("not_normalised"):
        return z.applyfunc(sp.exp)
    return e / sum(e)


def naive_softmax(z: sp.Matrix, s: Slip) -> sp.Matrix:
    """e^z / Σ e^z as float64 computes it: an overflowing e^zᵢ is inf, so inf/inf = NaN there and
    0 elsewhere; when every e^zᵢ underflows, 0/0 = NaN everywhere."""
    overflow = [sp.exp(v) > FLOAT_MAX for v in z]
    if any(overflow):
        return sp.Matrix([sp.nan if o else 0 for o in overflow])
    if sum(z.applyfunc(sp.exp)) < FLOAT_TINY:
        return sp.Matrix([sp.nan] * len(z))
    return softmax(z, s)


def cross_entropy(p: sp.Matrix, y: sp.Matrix, s: Slip) -> sp.Expr:
    return -s.sign * sum(yi * s.log(pi) for yi, pi in zip(y, p, strict=True) if yi != 0)


def derive(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    def column(values: list[str]) -> tuple[sp.Matrix]:
        return (sp.Matrix([sp.Rational(v) for v in values]),)

    r.softmax = Rule(lambda z: softmax(sp.Matrix(z), s), tuple(column(z) for z in MODERATE))
    stable = naive_softmax if s.on("not_stable") else softmax
    r.stable_softmax = Rule(
        lambda z: stable(sp.Matrix(z), s), tuple(column(z) for z in MODERATE + EXTREME)
    )

    probabilities = list(softmax(p.logits, Slip()))
    ranked = sorted(range(len(probabilities)), key=lambda i: probabilities[i])
    ids = [str(token) for token in p.vocabulary]
    if s.on("index_not_id"):
        r.predicted_token = str(ranked[-1])
    else:
        r.predicted_token = ids[ranked[0] if s.on("argmin") else ranked[-1]]

    r.p1 = softmax(p.z1, s)
    r.loss1 = cross_entropy(r.p1, p.y1, s)
    r.dz1 = s.sign * (r.p1 - p.y1)
    r.dW1 = s.outer(r.dz1, p.x1)

    r.p2 = s.rnd(softmax(p.z2, s))
    r.loss2 = cross_entropy(r.p2, p.y2, s)
    r.dW2 = s.outer(s.sign * (r.p2 - p.y2), p.x2)

    r.loss_after = -s.sign * s.log(p.p_after)


def options(vocabulary: dict[int, str]) -> dict[str, str]:
    return {str(token): word for token, word in vocabulary.items()}


EXERCISE = Exercise(
    name="softmax_ce",
    title="Softmax, cross-entropy and the gradient for W_out",
    source="seed 001",
    parameters=PARAMETERS,
    derive=derive,
    questions=(
        function("softmax", ("z",), points=2, mistakes=("not_normalised",)),
        function("stable_softmax", ("z",), points=2, mistakes=("not_stable",)),
        choice(
            "predicted_token",
            options(PARAMETERS["vocabulary"]),  # type: ignore[arg-type]
            mistakes=("index_not_id", "argmin"),
        ),
        vector("p1", 3, mistakes=("not_normalised",)),
        number("loss1", mistakes=("log10", "sign")),
        vector("dz1", 3, mistakes=("sign",)),
        matrix("dW1", 3, 2, points=2, mistakes=("transposed", "sign")),
        vector("p2", 4, mistakes=("not_normalised",)),
        number("loss2", mistakes=("log10", "sign")),
        matrix("dW2", 4, 3, points=2, mistakes=("rounded", "transposed", "sign")),
        number("loss_after", mistakes=("log10", "sign")),
    ),
)
