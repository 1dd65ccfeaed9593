"""One sigmoid neuron trained by hand with the chain rule, ten updates (seed 003).

i = x·w, a = σ(i), C = (a − t)²; dC/dw = dC/da · da/di · di/dw, and w ← w − lr · dC/dw.
"""

from types import SimpleNamespace
from typing import Any

import sympy as sp

from autograder.spec import Exercise, Sheet, Slip, function, number, vector
from autograder.values import Rule

PARAMETERS = {"x": "1.5", "w0": "0.8", "t": "0.5", "lr": "0.1", "updates": 10}

# Other neurons the grader hands to train: (x, w, t, lr, n).
OTHER_RUNS = (
    ("2.0", "-0.5", "0.9", "0.5", 4),
    ("-1.0", "1.2", "0.1", "0.3", 6),
    ("0.5", "0.0", "0.5", "1.0", 3),
)
DIGITS = 30

a, i, w, x = sp.symbols("a i w x", real=True)
SIGMA = 1 / (1 + sp.exp(-i))
# σ′ = σ(1 − σ): the slope by hand, from the activation a already written down
assert sp.simplify(SIGMA.diff(i) - SIGMA * (1 - SIGMA)) == 0


def factors(at: Any, x_value: Any, t: Any, s: Slip) -> tuple[Any, Any, Any, Any]:
    """a and the three chain-rule factors dC/da, da/di, di/dw at the weight `at`, as written by hand."""
    cost = s.scale * (a - t) ** 2
    activation = s.rnd(sp.N(SIGMA.subs(i, x_value * at), DIGITS))
    dC_da = s.rnd(s.sign * cost.diff(a).subs(a, activation))
    da_di = s.rnd(activation * (1 - activation))
    di_dw = (x * w).diff(w).subs(x, x_value)
    return activation, dC_da, da_di, di_dw


def train(
    x_value: Any, start: Any, t: Any, lr: Any, n: Any, s: Slip
) -> tuple[list[Any], list[Any]]:
    """The weights w0 … w(n+1) and the costs before each update (one more than asked, for the slips)."""
    weights, costs = [start], []
    for _ in range(int(n) + 1):
        activation, dC_da, da_di, di_dw = factors(weights[-1], x_value, t, s)
        costs.append((activation - t) ** 2)  # written down, but nothing is computed from it
        weights.append(s.rnd(weights[-1] - lr * s.chain(dC_da * da_di, di_dw)))
    return weights, costs


def derive(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    _, dC_da, da_di, di_dw = factors(p.w0, p.x, p.t, s)
    r.factors = sp.Matrix([dC_da, da_di, di_dw])
    r.dC_dw = s.chain(dC_da * da_di, di_dw)
    weights, costs = train(p.x, p.w0, p.t, p.lr, p.updates, s)
    r.weights = s.window(weights, 1, p.updates)
    r.costs = s.window(costs, 0, p.updates)

    def rule(x_value: Any, start: Any, t: Any, lr: Any, n: Any) -> sp.Matrix:
        return sp.Matrix(s.window(train(x_value, start, t, lr, n, s)[0], 1, int(n)))

    others = tuple((*(sp.Rational(v) for v in run[:4]), sp.Integer(run[4])) for run in OTHER_RUNS)
    r.train = Rule(rule, ((p.x, p.w0, p.t, p.lr, sp.Integer(p.updates)), *others), lambdify=False)


EXERCISE = Exercise(
    name="backprop_chain",
    title="One sigmoid neuron, the chain rule by hand",
    source="seed 003",
    parameters=PARAMETERS,
    derive=derive,
    questions=(
        vector("factors", 3, points=2, mistakes=("factor_two", "sign")),
        number("dC_dw", mistakes=("chain_factor", "factor_two", "sign")),
        vector(
            "weights",
            10,
            points=3,
            rounding=3,
            mistakes=("chain_factor", "sign", "factor_two", "shifted"),
        ),
        vector("costs", 10, points=2, rounding=3, mistakes=("loss_after_update", "chain_factor")),
        function(
            "train",
            ("x", "w", "t", "lr", "n"),
            points=3,
            mistakes=("chain_factor", "sign", "shifted"),
        ),
    ),
)
