"""A neuron with three inputs and a bias: one forward pass, backpropagation and one update (seed 004).

Z = X·W + b, pred = σ(Z), L = (pred − target)²; ∂L/∂W = ∂L/∂pred · ∂pred/∂Z · ∂Z/∂W.
"""

from types import SimpleNamespace
from typing import Any

import sympy as sp

from autograder.spec import (
    MISTAKE_FORMS,
    Between,
    Exercise,
    Sheet,
    Slip,
    Tolerance,
    function,
    number,
    vector,
)
from autograder.values import Rule

PARAMETERS = {
    "X": ["0.5", "0.2", "0.8"],
    "W": ["0.1", "-0.3", "0.5"],
    "b": "0.1",
    "target": "0.7",
    "lr": "0.1",
}

# Further neurons (X, W, b, target, lr) on which the grader calls neuron_step: one whose
# prediction lies above its target, one with an input 0 and a target 1, one with a large step.
OTHER_NEURONS = (
    (("1.0", "-2.0", "0.5"), ("0.3", "0.1", "-0.2"), "-0.4", "0.1", "0.5"),
    (("0", "3.0", "-1.0"), ("-0.5", "0.25", "0.75"), "0.2", "1", "0.05"),
    (("2.0", "1.0", "-1.5"), ("0.4", "-0.6", "0.2"), "0.3", "0", "1"),
)
DIGITS = 30

Z, PRED = sp.symbols("Z pred", real=True)
SIGMOID = 1 / (1 + sp.exp(-Z))


def backpropagate(
    X: sp.Matrix, W: sp.Matrix, b: Any, target: Any, lr: Any, s: Slip, r: Sheet
) -> None:
    """Forward pass, the chain rule factor by factor, and one step of gradient descent."""
    w = sp.Matrix(sp.symbols(f"w1:{len(X) + 1}"))
    bias = sp.Symbol("b")
    weighted_sum = (X.T * w)[0] + bias
    loss = s.scale * (PRED - target) ** 2

    def forward(weights: sp.Matrix, bias_value: Any) -> Any:
        at = dict(zip(w, weights, strict=True))
        at[bias] = 0 if s.on("bias_missing") else bias_value
        return weighted_sum.subs(at)

    def activation(at: Any) -> Any:
        return sp.N(SIGMOID.subs(Z, at), DIGITS)

    r.Z = forward(W, b)
    r.pred = activation(r.Z)
    r.loss = loss.subs(PRED, r.pred)

    r.dL_dpred = s.sign * loss.diff(PRED).subs(PRED, r.pred)
    slope_at = r.pred if s.on("sigma_twice") else r.Z
    r.dpred_dZ = sp.N(SIGMOID.diff(Z).subs(Z, slope_at), DIGITS)
    r.dL_dZ = r.dL_dpred * r.dpred_dZ
    dZ_dW = sp.Matrix([weighted_sum.diff(wi) for wi in w])
    r.dL_dW = s.chain(r.dL_dZ, dZ_dW)
    r.dL_db = r.dL_dZ * weighted_sum.diff(bias)

    r.W_new = W - lr * r.dL_dW
    r.b_new = b - lr * r.dL_db
    updated = loss.subs(PRED, activation(forward(r.W_new, r.b_new)))
    r.loss_new = r.loss if s.on("old_loss") else updated


def neuron(X: Any, W: Any, b: Any, target: Any, lr: Any) -> tuple[Any, ...]:
    """A neuron as written in a spec (decimal strings) in exact SymPy numbers."""
    return (
        sp.Matrix([sp.Rational(v) for v in X]),
        sp.Matrix([sp.Rational(v) for v in W]),
        *(sp.Rational(v) for v in (b, target, lr)),
    )


def derive(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    backpropagate(p.X, p.W, p.b, p.target, p.lr, s, r)

    def step(X: Any, W: Any, b: Any, target: Any, lr: Any) -> tuple[sp.Matrix, Any]:
        sheet = Sheet()
        backpropagate(sp.Matrix(X), sp.Matrix(W), b, target, lr, s, sheet)
        return sheet.W_new, sheet.b_new

    own = (p.X, p.W, p.b, p.target, p.lr)
    r.neuron_step = Rule(step, (own, *(neuron(*n) for n in OTHER_NEURONS)), parts=2)


# A student's own numbers, in tenths: inputs below 1 (with an input 1 the lost factor xᵢ changes
# nothing), weights of either sign, a bias that is not 0, a target the sigmoid can reach.
VARY = {
    "X": Between("0.1", "0.9", "0.1"),
    "W": Between("-0.5", "0.5", "0.1"),
    "b": Between("-0.5", "0.5", "0.1", avoid=(0,)),
    "target": Between("0.1", "0.9", "0.1"),
    "lr": Between("0.1", "0.5", "0.1"),
}
# Relative gaps the grader must see (its tolerance is 1e-3): the loss before and after the
# update, and σ′ at Z against σ′ at the prediction.
VISIBLE = sp.Rational(1, 100)
# How many tolerances a slip must move W_new or b_new somewhere (the lecture's: 9 and more).
APART = 3


def well_posed(p: SimpleNamespace) -> str | None:
    right = Sheet()
    backpropagate(p.X, p.W, p.b, p.target, p.lr, Slip(), right)
    if not right.loss_new < (1 - VISIBLE) * right.loss:
        return "the update does not lower the loss clearly"
    slope = SIGMOID.diff(Z)
    if abs(slope.subs(Z, right.pred) - right.dpred_dZ) < VISIBLE * right.dpred_dZ:
        return "σ′ at the prediction is too close to σ′ at Z"
    # a small gradient makes a small step: its slips could land within the tolerance
    for name in ("W_new", "b_new"):
        q = EXERCISE.question(name)
        for mistake in q.mistakes:
            for form in range(MISTAKE_FORMS.get(mistake, 1)):
                wrong = Sheet()
                backpropagate(p.X, p.W, p.b, p.target, p.lr, Slip(mistake, form), wrong)
                if not apart(getattr(wrong, name), getattr(right, name), q.tolerance):
                    return f"{name} with the {mistake} slip is within the tolerance"
    return None


def apart(wrong: Any, right: Any, tolerance: Tolerance) -> bool:
    pairs = zip(wrong, right, strict=True) if isinstance(right, sp.MatrixBase) else [(wrong, right)]
    return any(abs(w - r) > APART * (tolerance.atol + tolerance.rtol * abs(r)) for w, r in pairs)


EXERCISE = Exercise(
    name="backprop_neuron",
    title="A neuron with three inputs and a bias",
    source="seed 004",
    parameters=PARAMETERS,
    derive=derive,
    vary=VARY,
    well_posed=well_posed,
    questions=(
        number("Z", mistakes=("bias_missing",)),
        number("pred", mistakes=("bias_missing",)),
        number("loss", mistakes=("factor_two",)),
        number("dL_dpred", mistakes=("factor_two", "sign")),
        number("dpred_dZ", mistakes=("sigma_twice",)),
        number("dL_dZ", mistakes=("factor_two", "sign")),
        vector("dL_dW", 3, points=2, mistakes=("chain_factor", "factor_two", "sign")),
        number("dL_db", mistakes=("factor_two", "sign")),
        vector("W_new", 3, points=2, mistakes=("sign", "chain_factor", "factor_two")),
        number("b_new", mistakes=("sign", "factor_two")),
        number("loss_new", mistakes=("old_loss", "sign")),
        function(
            "neuron_step",
            ("X", "W", "b", "target", "lr"),
            points=2,
            mistakes=("sign", "chain_factor", "factor_two"),
        ),
    ),
)
