"""One sigmoid neuron trained by hand with the chain rule, ten updates (seed 003).

i = x·w, a = σ(i), C = (a − t)²; dC/dw = dC/da · da/di · di/dw, and w ← w − lr · dC/dw.
"""

from itertools import pairwise
from types import SimpleNamespace
from typing import Any

import sympy as sp

from autograder.spec import Between, Exercise, Sheet, Slip, function, number, vector
from autograder.values import Rule

PARAMETERS = {"x": "1.5", "w0": "0.8", "t": "0.5", "lr": "0.1", "updates": 10}

# The other neurons the grader trains with the student's `train`: (x, w, t, lr, n). None has
# x = ±1 (where the lost factor x changes nothing or only the sign) or starts at a = t (no step).
OTHER_RUNS = (
    ("2.0", "-0.5", "0.9", "0.5", 4),
    ("-1.2", "1.0", "0.2", "0.3", 6),
    ("0.6", "0.3", "0.95", "2.0", 5),
)
DIGITS = 30

a, i, w, x = sp.symbols("a i w x", real=True)
INNER = x * w
ACTIVATION = 1 / (1 + sp.exp(-i))
# derived once: ten updates of every slip and probe would otherwise differentiate anew each time
DA_DI = ACTIVATION.diff(i)
DI_DW = INNER.diff(w)


def chain_factors(x_value: Any, at: Any, t: Any, s: Slip) -> tuple[Any, Any, Any, Any]:
    """The cost and the three chain-rule factors dC/da, da/di, di/dw at the weight `at`.

    By hand (and in the seed's loop) a, dC/da and da/di are written down rounded; i = x·w is not,
    and da/di is σ′ at i, not σ(1 − σ) of the rounded a.
    """
    cost = s.scale * (a - t) ** 2
    i_here = INNER.xreplace({x: x_value, w: at})
    activation = s.rnd(sp.N(ACTIVATION.xreplace({i: i_here}), DIGITS))
    dC_da = s.rnd(s.sign * cost.diff(a).xreplace({a: activation}))
    da_di = s.rnd(sp.N(DA_DI.xreplace({i: i_here}), DIGITS))
    di_dw = DI_DW.xreplace({x: x_value})
    return cost.xreplace({a: activation}), dC_da, da_di, di_dw


def train(
    x_value: Any, start: Any, t: Any, lr: Any, n: Any, s: Slip
) -> tuple[list[Any], list[Any]]:
    """The weights w0 … w(n+1) and the cost before each update: one more than asked, for the slips.

    The cost is the last thing written in a row and nothing is computed from it, so it stays
    unrounded: the by-hand tolerance covers its last digit, whichever way it was rounded.
    """
    weights, costs = [start], []
    for _ in range(int(n) + 1):
        cost, dC_da, da_di, di_dw = chain_factors(x_value, weights[-1], t, s)
        costs.append(cost)
        weights.append(s.rnd(weights[-1] - lr * s.chain(dC_da * da_di, di_dw)))
    return weights, costs


def derive(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    _, dC_da, da_di, di_dw = chain_factors(p.x, p.w0, p.t, s)
    r.factors = sp.Matrix([dC_da, da_di, di_dw])
    r.dC_dw = s.chain(r.factors[0] * r.factors[1], r.factors[2])
    weights, costs = train(p.x, p.w0, p.t, p.lr, p.updates, s)
    r.weights = s.window(weights, 1, p.updates)
    r.costs = s.window(costs, 0, p.updates)
    r.step("weights", lambda previous: train(p.x, previous[-1], p.t, p.lr, 0, s)[0][1])

    def rule(x_value: Any, start: Any, t: Any, lr: Any, n: Any) -> sp.Matrix:
        return sp.Matrix(s.window(train(x_value, start, t, lr, n, s)[0], 1, int(n)))

    others = tuple((*(sp.Rational(v) for v in run[:4]), sp.Integer(run[4])) for run in OTHER_RUNS)
    lecture = (p.x, p.w0, p.t, p.lr, sp.Integer(p.updates))
    # ten sigmoid steps nest too deep to lambdify: the rule is evaluated on the numbers
    r.train = Rule(rule, (lecture, *others), lambdify=False)


# A student's own numbers, in tenths: an input away from 1 (where the lost factor x changes
# nothing), a start weight, a target the sigmoid can reach, a learning rate.
VARY = {
    "x": Between("0.6", "2.5", "0.1", avoid=("0.9", "1.0", "1.1", "1.9", "2.0", "2.1")),
    "w0": Between("-1.0", "1.0", "0.1"),
    "t": Between("0.1", "0.9", "0.1"),
    "lr": Between("0.1", "0.5", "0.1"),
}
# By hand every value is rounded to 3 decimals, so a mistake must move a weight or a cost by
# several half units of the third decimal for the grader to tell it from rounding (the lecture's
# first update lowers the cost by 0.0021).
VISIBLE = sp.Rational(2, 1000)


def well_posed(p: SimpleNamespace) -> str | None:
    weights, costs = train(p.x, p.w0, p.t, p.lr, p.updates, Slip())
    if any(later >= earlier for earlier, later in pairwise(costs)):
        return "the cost does not fall at every update"
    if costs[0] - costs[1] < VISIBLE:
        return "the first update changes the cost too little to tell before from after"
    lost_x, _ = train(p.x, p.w0, p.t, p.lr, p.updates, Slip("chain_factor"))
    if abs(lost_x[p.updates] - weights[p.updates]) < VISIBLE:
        return "the weights without the factor x stay too close to the right ones"
    return None


EXERCISE = Exercise(
    name="backprop_chain",
    title="One sigmoid neuron, the chain rule by hand",
    source="seed 003",
    parameters=PARAMETERS,
    derive=derive,
    vary=VARY,
    well_posed=well_posed,
    # eleven nested sigmoid steps on symbols: far larger than deriving each variant exactly
    lambdify=False,
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
        # rounding=3: a cost printed to 3 decimals (0.054) misses the exact one by more than rtol
        vector("costs", 10, points=3, rounding=3, mistakes=("loss_after_update", "chain_factor")),
        function(
            "train",
            ("x", "w", "t", "lr", "n"),
            points=2,
            mistakes=("chain_factor", "sign", "shifted"),
        ),
    ),
)
