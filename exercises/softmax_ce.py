"""Decoder prediction, softmax and cross-entropy, and the gradient for W_out (seed 001).

p = softmax(z), L = −Σ yᵢ ln pᵢ, ∂L/∂z = p − y, ∂L/∂W_out = (p − y) xᵀ.
"""

from types import SimpleNamespace

import numpy as np
import sympy as sp

from autograder.spec import (
    Between,
    Exercise,
    OneOf,
    Sheet,
    Slip,
    choice,
    function,
    matrix,
    number,
    round_half_up,
    vector,
)
from autograder.values import Rule

# token id -> token, in the order of the decoder's logits
VOCABULARY = {12856: "Frankreich", 5312: "Deutschland", 9021: "Spanien"}

PARAMETERS = {
    "vocabulary": VOCABULARY,
    "logits": ["3.2", "1.7", "1.2"],
    # example 1: logits, one-hot target, the input x of W_out
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

# Logits of several lengths on which any softmax written from the formula works.
MODERATE = (
    ("1", "2", "3"),
    ("0.5", "-1.2", "3.3", "0"),
    ("-2", "-2"),
    ("0.25", "1.5", "-0.75", "2", "0"),
)
# Logits where e^z leaves float64: e^1000 overflows to inf, e^-1000 underflows to 0.
EXTREME = (("1000", "999"), ("-1000", "-1001"), ("800", "0", "-800"))
LARGEST_DOUBLE = sp.Float(float(np.finfo(np.float64).max), 30)
# np.exp rounds to the nearest double, so a value below half the smallest subnormal becomes 0.
ROUNDS_TO_ZERO = sp.Float(float(np.finfo(np.float64).smallest_subnormal), 30) / 2


def softmax(z: sp.Matrix, s: Slip) -> sp.Matrix:
    """e^z / Σ e^z, written as e^(z − max z) / Σ e^(z − max z): the same value, and the rule that
    the grader lambdifies from it cannot overflow."""
    if s.on("not_normalised"):
        return z.applyfunc(sp.exp)
    e = (z - sp.Max(*z) * sp.ones(*z.shape)).applyfunc(sp.exp)
    return e / sum(e)


def float64_naive_softmax(z: sp.Matrix) -> sp.Matrix:
    """e^z / Σ e^z without the shift, as float64 computes it: where e^zᵢ passes the largest double
    it is inf and inf/inf is NaN (finite/inf is 0); where every e^zᵢ rounds to 0, 0/0 is NaN."""
    e = z.applyfunc(sp.exp)
    if sp.exp(sp.Max(*z)) > LARGEST_DOUBLE:
        return e.applyfunc(lambda v: sp.nan if v > LARGEST_DOUBLE else sp.Integer(0))
    if sp.exp(sp.Max(*z)) < ROUNDS_TO_ZERO:
        return e.applyfunc(lambda v: sp.nan)
    return e / sum(e)


def cross_entropy(p: sp.Matrix, y: sp.Matrix, s: Slip) -> sp.Expr:
    """−Σ yᵢ ln pᵢ; a term with yᵢ = 0 is 0 (also where pᵢ = 0)."""
    return -s.sign * sum(yi * s.log(pi) for yi, pi in zip(y, p, strict=True) if yi != 0)


def logits(values: tuple[str, ...]) -> tuple[sp.Matrix]:
    return (sp.Matrix([sp.Rational(v) for v in values]),)


def derive(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    r.softmax = Rule(lambda z: softmax(sp.Matrix(z), s), tuple(map(logits, MODERATE)))

    def stable(z: sp.Matrix) -> sp.Matrix:
        z = sp.Matrix(z)
        return float64_naive_softmax(z) if s.on("not_stable") else softmax(z, s)

    r.stable_softmax = Rule(stable, tuple(map(logits, MODERATE + EXTREME)))

    r.p1 = s.rnd(softmax(p.z1, s))
    r.loss1 = cross_entropy(r.p1, p.y1, s)
    r.dz1 = s.sign * (r.p1 - p.y1)
    r.dW1 = s.outer(r.dz1, p.x1)

    r.p2 = s.rnd(softmax(p.z2, s))
    r.loss2 = cross_entropy(r.p2, p.y2, s)
    r.dW2 = s.outer(s.sign * (r.p2 - p.y2), p.x2)

    r.loss_after = -s.sign * s.log(p.p_after)

    # last: choosing the likeliest token compares numbers, which a derivation on symbols cannot
    ids = [str(token) for token in p.vocabulary]
    decoder = list(softmax(p.logits, s))
    positions = range(len(decoder))
    likeliest = max(positions, key=decoder.__getitem__)
    if s.on("index_not_id"):
        r.predicted_token = str(likeliest)
    elif s.on("argmin"):
        r.predicted_token = ids[min(positions, key=decoder.__getitem__)]
    else:
        r.predicted_token = ids[likeliest]


# A student's own numbers: logits to 1 or 2 decimals, the right token anywhere, inputs of W_out
# in tenths, and a later probability of the right token in twentieths.
VARY = {
    "logits": Between("0.5", "4.0", "0.1"),
    "z1": Between("-1.0", "3.0", "0.1"),
    "y1": OneOf(([1, 0, 0], [0, 1, 0], [0, 0, 1])),
    "x1": Between("0.1", "2.0", "0.1"),
    "z2": Between("-1.0", "4.0", "0.01"),
    "y2": OneOf(([1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1])),
    "x2": Between("0.1", "2.0", "0.1"),
    "p_after": Between("0.55", "0.95", "0.05"),
}
# How far (in tolerances) ∂L/∂W_out from p₂ rounded to 3 decimals must be from the right one
# somewhere, for the grader to name the rounding (the lecture's numbers: 1.4 tolerances).
ROUNDING_SHOWS = sp.Rational(6, 5)


def well_posed(p: SimpleNamespace) -> str | None:
    if len(set(p.logits)) < len(p.logits):
        return "two logits are equal: the predicted token (or the least likely) is a tie"
    tolerance = EXERCISE.question("dW2").tolerance
    # 30 digits decide the third decimal of every p as exactly as the derivation's exp does
    probabilities = softmax(p.z2, Slip()).evalf(30)
    right = (probabilities - p.y2) * p.x2.T
    rounded = (probabilities.applyfunc(lambda v: round_half_up(v, 3)) - p.y2) * p.x2.T
    shows = [
        abs(r - w) > ROUNDING_SHOWS * (tolerance.atol + tolerance.rtol * abs(w))
        for r, w in zip(rounded, right, strict=True)
    ]
    if not any(shows):
        return "p₂ rounded to 3 decimals gives ∂L/∂W_out within the tolerance"
    for z, y in ((p.z1, p.y1), (p.z2, p.y2)):
        if p.p_after <= softmax(z, Slip()).dot(y).evalf(30):
            return "the right token's later probability is no higher than in the examples"
    return None


EXERCISE = Exercise(
    name="softmax_ce",
    title="Softmax, cross-entropy and the gradient for W_out",
    source="seed 001",
    parameters=PARAMETERS,
    derive=derive,
    vary=VARY,
    well_posed=well_posed,
    questions=(
        function("softmax", ("z",), points=2, mistakes=("not_normalised",)),
        function("stable_softmax", ("z",), points=2, mistakes=("not_stable",)),
        choice(
            "predicted_token",
            {str(token): word for token, word in VOCABULARY.items()},
            mistakes=("argmin", "index_not_id"),
        ),
        vector("p1", 3, points=2, mistakes=("not_normalised",)),
        number("loss1", mistakes=("log10", "sign")),
        vector("dz1", 3, points=2, mistakes=("sign",)),
        matrix("dW1", 3, 2, points=2, mistakes=("transposed", "sign")),
        vector("p2", 4, points=2, mistakes=("not_normalised",)),
        number("loss2", mistakes=("log10", "sign")),
        matrix("dW2", 4, 3, points=2, mistakes=("rounded", "transposed", "sign")),
        number("loss_after", mistakes=("log10", "sign")),
    ),
)
