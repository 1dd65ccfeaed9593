"""A neuron with three inputs and a bias, one step of backpropagation (seed 004).

Z = X·W + b, pred = σ(Z), L = (pred − target)²; ∂L/∂W = ∂L/∂pred · ∂pred/∂Z · ∂Z/∂W.
"""

from types import SimpleNamespace
from typing import Any

import sympy as sp

from autograder.spec import Exercise, Sheet, Slip, function, number, vector
from autograder.values import Rule

PARAMETERS = {
    "X": ["0.5", "0.2", "0.8"],
    "W": ["0.1", "-0.3", "0.5"],
    "b": "0.1",
    "target": "0.7",
    "lr": "0.1",
}

# Other neurons the grader hands to neuron_step: (X, W, b, target, lr).
OTHER_NEURONS = (
    (["1.0", "-2.0", "0.5"], ["0.3", "0.1", "-0.2"], "-0.4", "0.2", "0.5"),
    (["0.0", "3.0", "-1.0"], ["-0.5", "0.25", "0.75"], "0.0", "1.0", "0.05"),
)
DIGITS = 30

z, pred = sp.symbols("z pred", real=True)
SIGMA = 1 / (1 + sp.exp(-z))


def sigma(value: Any) -> Any:
    return SIGMA.subs(z, value)


def neuron(X: sp.Matrix, W: sp.Matrix, b: Any, target: Any, lr: Any, s: Slip, r: Sheet) -> None:
    """One forward and backward pass, written on the sheet result by result."""
    loss = s.scale * (pred - target) ** 2
    r.Z = (X.T * W)[0] + (0 if s.on("bias_missing") else b)
    r.pred = sp.N(sigma(r.Z), DIGITS)
    r.loss = loss.subs(pred, r.pred)
    r.dL_dpred = s.sign * loss.diff(pred).subs(pred, r.pred)
    slope = SIGMA.diff(z)
    r.dpred_dZ = sp.N(slope.subs(z, r.pred if s.on("sigma_twice") else r.Z), DIGITS)
    r.dL_dZ = r.dL_dpred * r.dpred_dZ
    # ∂Z/∂W = X and ∂Z/∂b = 1, by differentiating Z = X·W + b
    w = sp.Matrix(sp.symbols(f"w0:{len(W)}"))
    bias = sp.Symbol("bias")
    weighted = (X.T * w)[0] + bias
    r.dL_dW = s.chain(r.dL_dZ, sp.Matrix([weighted.diff(wi) for wi in w]))
    r.dL_db = r.dL_dZ * weighted.diff(bias)
    r.W_new = W - lr * r.dL_dW
    r.b_new = b - lr * r.dL_db
    r.loss_new = (
        r.loss
        if s.on("old_loss")
        else sp.N(loss.subs(pred, sigma((X.T * r.W_new)[0] + r.b_new)), DIGITS)
    )


def derive(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    neuron(p.X, p.W, p.b, p.target, p.lr, s, r)

    def step(X: Any, W: Any, b: Any, target: Any, lr: Any) -> tuple[sp.Matrix, Any]:
        sheet = Sheet()
        neuron(sp.Matrix(X), sp.Matrix(W), b, target, lr, s, sheet)
        return sheet.W_new, sheet.b_new

    own = (p.X, p.W, p.b, p.target, p.lr)
    others = tuple(
        (
            sp.Matrix([sp.Rational(v) for v in X]),
            sp.Matrix([sp.Rational(v) for v in W]),
            *map(sp.Rational, rest),
        )
        for X, W, *rest in OTHER_NEURONS
    )
    r.neuron_step = Rule(step, (own, *others), parts=2)


EXERCISE = Exercise(
    name="backprop_neuron",
    title="A neuron with three inputs and a bias",
    source="seed 004",
    parameters=PARAMETERS,
    derive=derive,
    questions=(
        number("Z", mistakes=("bias_missing",)),
        number("pred", mistakes=("bias_missing",)),
        number("loss", mistakes=("factor_two",)),
        number("dL_dpred", mistakes=("factor_two", "sign")),
        number("dpred_dZ", mistakes=("sigma_twice",)),
        number("dL_dZ", mistakes=("factor_two", "sign", "sigma_twice")),
        vector("dL_dW", 3, points=2, mistakes=("chain_factor", "factor_two", "sign")),
        number("dL_db", mistakes=("factor_two", "sign")),
        vector("W_new", 3, points=2, mistakes=("sign", "chain_factor", "factor_two")),
        number("b_new", mistakes=("sign", "factor_two")),
        number("loss_new", mistakes=("old_loss", "sign")),
        function(
            "neuron_step",
            ("X", "W", "b", "target", "lr"),
            points=3,
            mistakes=("sign", "chain_factor", "factor_two"),
        ),
    ),
)
