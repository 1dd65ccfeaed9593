"""Decoder prediction, softmax and cross-entropy, and the gradient for W_out (seed 001).

p = softmax(z), L = −Σ yᵢ ln pᵢ, ∂L/∂z = p − y, ∂L/∂W_out = (p − y) xᵀ.
"""

from types import SimpleNamespace
from typing import Any

import numpy as np
import sympy as sp

from autograder.derivation.references import ROUNDING_DIGITS
from autograder.model.spec import (
    Between,
    Exercise,
    Kind,
    OneOf,
    Sheet,
    Slip,
    Tolerance,
    choice,
    function,
    matrix,
    number,
    vector,
)
from autograder.model.values import Rule

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


def powers(z: sp.Matrix, s: Slip) -> sp.Matrix:
    """e^zᵢ of each logit; 10^zᵢ in the base10 slip, zᵢ itself where it is normalised linearly."""
    if s.on("linear_normalised"):
        return z
    base = 10 if s.on("base10") else sp.E
    return z.applyfunc(lambda v: base**v)


def normalised(e: sp.Matrix, s: Slip) -> sp.Matrix:
    """e / Σ e entry by entry, as in float64 where Σ e is 0: 0/0 is NaN, v/0 is ±inf (SymPy's
    Matrix / 0 gives 0, its v/0 the complex infinity); e itself in the not_normalised slip."""
    if s.on("not_normalised"):
        return e
    total = sum(e)

    def share(v: sp.Expr) -> sp.Expr:
        # z/Σz of the logits [800, 0, −800], which sum to 0
        if total == 0 and v != 0:
            return sp.sign(v) * sp.oo
        return v / total

    return e.applyfunc(share)


def softmax(z: sp.Matrix, s: Slip, stable: bool = False) -> sp.Matrix:
    """e^z / Σ e^z as the lecture writes it; a stable softmax writes e^(z − max z) / Σ e^(z − max z),
    the same value, whose lambdified rule cannot overflow. A slip acts on the formula as written."""
    shifted = z - sp.Max(*z) * sp.ones(*z.shape) if stable else z
    return normalised(powers(shifted, s), s)


def float64_naive_softmax(z: sp.Matrix, s: Slip) -> sp.Matrix:
    """softmax(z, s) without the shift, as float64 computes it: a power past the largest double is
    inf and inf/inf is NaN (finite/inf is 0); where every power rounds to 0, 0/0 is NaN."""

    def in_float64(power: sp.Expr) -> sp.Expr:
        if abs(power) > LARGEST_DOUBLE:
            return sp.sign(power) * sp.oo
        return sp.Integer(0) if abs(power) < ROUNDS_TO_ZERO else power

    return normalised(powers(z, s).applyfunc(in_float64), s)


def ln(x: sp.Expr, s: Slip) -> sp.Expr:
    """ln x (log₁₀ x in the log10 slip) as float64 takes it where two slips leave its domain
    (ln(1 − e^z) with e^z > 1): NaN, never a complex number."""
    return sp.nan if x.is_negative else s.log(x)


def cross_entropy(p: sp.Matrix, y: sp.Matrix, s: Slip) -> sp.Expr:
    """−Σ yᵢ ln pᵢ; a term with yᵢ = 0 is 0 (also where pᵢ = 0). The sum_all slip sums ln pᵢ over
    every class, the complement slip takes ln(1 − pᵢ)."""
    weights = [1] * len(y) if s.on("sum_all") else list(y)
    picked = [1 - pi if s.on("complement") else pi for pi in p]
    return -s.sign * sum(wi * ln(pi, s) for wi, pi in zip(weights, picked, strict=True) if wi != 0)


def logit_gradient(p: sp.Matrix, y: sp.Matrix, s: Slip) -> sp.Matrix:
    """∂L/∂z = p − y (y − p in the sign slip, p where y is forgotten)."""
    return s.sign * (p if s.on("y_forgotten") else p - y)


def logits(values: tuple[str, ...]) -> tuple[sp.Matrix]:
    return (sp.Matrix([sp.Rational(v) for v in values]),)


def derive(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    r.softmax = Rule(lambda z: softmax(sp.Matrix(z), s), tuple(map(logits, MODERATE)))

    def stable(z: sp.Matrix) -> sp.Matrix:
        z = sp.Matrix(z)
        return float64_naive_softmax(z, s) if s.on("not_stable") else softmax(z, s, stable=True)

    r.stable_softmax = Rule(stable, tuple(map(logits, MODERATE + EXTREME)))

    r.p1 = s.rnd(softmax(p.z1, s))
    r.loss1 = cross_entropy(r.p1, p.y1, s)
    r.dz1 = logit_gradient(r.p1, p.y1, s)
    r.dW1 = s.outer(r.dz1, p.x1)

    r.p2 = s.rnd(softmax(p.z2, s))
    r.loss2 = cross_entropy(r.p2, p.y2, s)
    r.dW2 = s.outer(logit_gradient(r.p2, p.y2, s), p.x2)

    r.loss_after = cross_entropy(sp.Matrix([p.p_after]), sp.Matrix([1]), s)

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
# in tenths, and a later probability of the right token in twentieths. The examples' logits are
# positive, as the lecture's: z/Σz (the linear-normalisation slip) is then a probability vector
# too, defined and with a logarithm for the loss.
VARY = {
    "logits": Between("0.5", "4.0", "0.1"),
    "z1": Between("0.1", "3.0", "0.1"),
    "y1": OneOf(([1, 0, 0], [0, 1, 0], [0, 0, 1])),
    "x1": Between("0.1", "2.0", "0.1"),
    "z2": Between("0.01", "4.0", "0.01"),
    "y2": OneOf(([1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1])),
    "x2": Between("0.1", "2.0", "0.1"),
    "p_after": Between("0.55", "0.95", "0.05"),
}
# How far (in tolerances) a mistake's answer must be from the right one somewhere, for the grader
# to name it (the lecture's numbers: ∂L/∂W_out from p₂ rounded to 3 decimals is 1.4 tolerances off).
SHOWS = sp.Rational(6, 5)
# The mistakes whose answers some numbers bring within the tolerance: another rule may give the
# right class about the same probability (z/Σz, 10^z/Σ10^z), 1 − p is p near ½, and rounding p to
# 3 decimals may happen to move it little. The others stay apart whatever the variant: e^z is
# Σ e^z > 3 times the softmax (and its loss −z_k is ln Σ e^z > 1 below the right one), y − p is
# 2|p − y| and p is 1 (in the right class) away from p − y, ln is 2.3 times log₁₀, −ln p_k is at
# least 0.05 (so ln p_k is off), the sum over all classes at least 2 ln 2 larger, and a
# transposed matrix has another shape.
CLOSE_CALLS = tuple(
    Slip(mistake, rounding=ROUNDING_DIGITS if mistake == "rounded" else None)
    for mistake in ("linear_normalised", "base10", "complement", "rounded")
)


def well_posed(p: SimpleNamespace) -> str | None:
    if len(set(p.logits)) < len(p.logits):
        return "two logits are equal: the predicted token (or the least likely) is a tie"
    # the derivation on 30-digit numbers: as exact as e^z to the third decimal that a rounding
    # looks at, and fast where exact powers of e would pile up unevaluated
    numbers = SimpleNamespace(
        **{
            k: v.evalf(30) if isinstance(v, sp.Basic | sp.MatrixBase) else v
            for k, v in vars(p).items()
        }
    )
    right = Sheet()
    derive(numbers, Slip(), right)
    for slip in CLOSE_CALLS:
        mistaken = Sheet()
        derive(numbers, slip, mistaken)
        # a function question's probes are the same for every variant: the seed's tests hold them
        for q in EXERCISE.questions:
            if q.kind is Kind.FUNCTION or slip.mistake not in q.mistakes:
                continue
            if not apart(getattr(mistaken, q.name), getattr(right, q.name), q.tolerance):
                return f"the {slip.mistake} mistake gives {q.name} within the tolerance"
    for z, y in ((p.z1, p.y1), (p.z2, p.y2)):
        if p.p_after <= softmax(z, Slip()).dot(y).evalf(30):
            return "the right token's later probability is no higher than in the examples"
    return None


def apart(mistaken: Any, right: Any, tolerance: Tolerance) -> bool:
    """Somewhere SHOWS tolerances off the right answer (a number, vector or matrix)."""
    got, want = (sp.Matrix(v if isinstance(v, sp.MatrixBase) else [v]) for v in (mistaken, right))
    return got.shape != want.shape or any(
        abs(g - w) > SHOWS * (tolerance.atol + tolerance.rtol * abs(w))
        for g, w in zip(got, want, strict=True)
    )


# The softmax written wrong, and everything that follows from p. The grader names a pair of them
# with another mistake only where its answer can be told from a single mistake's and reached at
# all: e^z rounded to 3 decimals is e^z within the tolerance, ln(1 − e^z) is NaN. Without the
# shift (not_stable), e^z and z/Σz overflow on the extreme logits (e^1000, 800/0 for
# [800, 0, −800]): a student's function gives the same inf, and that pair is named.
# p₁ rounded is not named in example 1: the lecture rounds it to 4 decimals, which the tolerance
# accepts, and to 3 decimals it stays within the tolerance in about a quarter of the variants.
SOFTMAX_SLIPS = ("not_normalised", "linear_normalised", "base10")

EXERCISE = Exercise(
    name="softmax_ce",
    title="Softmax, cross-entropy and the gradient for W_out",
    source="seed 001",
    parameters=PARAMETERS,
    derive=derive,
    vary=VARY,
    well_posed=well_posed,
    questions=(
        function("softmax", ("z",), points=2, mistakes=SOFTMAX_SLIPS),
        function("stable_softmax", ("z",), points=2, mistakes=("not_stable", *SOFTMAX_SLIPS)),
        choice(
            "predicted_token",
            {str(token): word for token, word in VOCABULARY.items()},
            mistakes=("argmin", "index_not_id"),
        ),
        vector("p1", 3, points=2, mistakes=SOFTMAX_SLIPS),
        number("loss1", mistakes=("log10", "sign", "sum_all", "complement", *SOFTMAX_SLIPS)),
        vector("dz1", 3, points=2, mistakes=("sign", "y_forgotten", *SOFTMAX_SLIPS)),
        matrix(
            "dW1", 3, 2, points=2, mistakes=("transposed", "sign", "y_forgotten", *SOFTMAX_SLIPS)
        ),
        vector("p2", 4, points=2, mistakes=SOFTMAX_SLIPS),
        number("loss2", mistakes=("log10", "sign", "sum_all", "complement", *SOFTMAX_SLIPS)),
        matrix(
            "dW2",
            4,
            3,
            points=2,
            mistakes=("rounded", "transposed", "sign", "y_forgotten", *SOFTMAX_SLIPS),
        ),
        number("loss_after", mistakes=("log10", "sign", "complement")),
    ),
)
