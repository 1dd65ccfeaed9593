"""One sigmoid neuron trained by hand with the chain rule, ten updates (seed 003).

i = x·w, a = σ(i), C = (a − t)²; dC/dw = dC/da · da/di · di/dw, and w ← w − lr · dC/dw.
"""

from functools import cache, lru_cache
from itertools import pairwise
from types import SimpleNamespace
from typing import Any

import sympy as sp

from autograder.model.spec import (
    MISTAKE_FORMS,
    Between,
    Exercise,
    Kind,
    Question,
    Sheet,
    Slip,
    Tolerance,
    choice,
    function,
    manual,
    number,
    vector,
)
from autograder.model.values import Rule

PARAMETERS = {"x": "1.5", "w0": "0.8", "t": "0.5", "lr": "0.1", "updates": 10}

# The other neurons the grader trains with the student's `train`: (x, w, t, lr, n). None has
# x = ±1 (where the lost factor x changes nothing or only the sign) or starts at a = t (no step).
OTHER_RUNS = (
    ("2.0", "-0.5", "0.9", "0.5", 4),
    ("-1.2", "1.0", "0.2", "0.3", 6),
    ("0.6", "0.3", "0.95", "2.0", 5),
)
DIGITS = 30
# By hand (in the lecture, and in seed 003's loop) every value is written down to 3 decimals.
BY_HAND = 3

a, i, w, x = sp.symbols("a i w x", real=True)
INNER = x * w
ACTIVATION = 1 / (1 + sp.exp(-i))
# derived once: ten updates of every slip and probe would otherwise differentiate anew each time
DA_DI = ACTIVATION.diff(i)
DI_DW = INNER.diff(w)

# How is a nested function f(g(x)) differentiated? The options, and the derivative each rule gives
# for f and g: the rule whose formula is the derivative of f(g(x)) is the answer.
RULE_NAMES = {"a": "product rule", "b": "chain rule", "c": "quotient rule", "d": "sum rule"}
f, g, u = sp.Function("f"), sp.Function("g"), sp.Symbol("u")
RULES = {
    "a": f(x).diff(x) * g(x) + f(x) * g(x).diff(x),
    "b": f(u).diff(u).subs(u, g(x)) * g(x).diff(x),
    "c": (f(x).diff(x) * g(x) - f(x) * g(x).diff(x)) / g(x) ** 2,
    "d": f(x).diff(x) + g(x).diff(x),
}


@cache
def rule_for_nesting(as_product: bool) -> str:
    """The option whose rule gives the derivative of f(g(x)); of f(x)·g(x) in the product-rule slip."""
    nested = (f(x) * g(x) if as_product else f(g(x))).diff(x)
    # the difference vanishes once its derivatives are carried out and it is multiplied out
    # (as sure as simplify here, and some 20 times faster)
    (found,) = (key for key, rule in RULES.items() if sp.expand((rule - nested).doit()) == 0)
    return found


@lru_cache(maxsize=1024)
def cost_of(t: Any, s: Slip) -> tuple[Any, Any]:
    """C as a function of a, and dC/da: derived once per slip, not at each update of each run."""
    cost = s.scale * s.square(a - t)
    return cost, s.sign * cost.diff(a)


def chain_factors(x_value: Any, at: Any, t: Any, s: Slip) -> tuple[Any, Any, Any, Any]:
    """The cost and the three chain-rule factors dC/da, da/di, di/dw at the weight `at`.

    By hand (and in the seed's loop) a, dC/da and da/di are written down rounded; i = x·w is not,
    and da/di is σ′ at i, not σ(1 − σ) of the rounded a.
    """
    cost, slope = cost_of(t, s)
    i_here = INNER.xreplace({x: x_value, w: at})
    if s.on("no_activation"):
        # i taken as the output: a linear neuron, whose a = i needs no rounding and has slope 1
        activation, da_di = i_here, sp.Integer(1)
    else:
        activation = s.rnd(sp.N(ACTIVATION.xreplace({i: i_here}), DIGITS))
        # σ applied twice: σ′ taken at the output a instead of at i
        slope_at = activation if s.on("sigma_twice") else i_here
        da_di = s.rnd(sp.N(DA_DI.xreplace({i: slope_at}), DIGITS))
    dC_da = s.rnd(slope.xreplace({a: activation}))
    di_dw = DI_DW.xreplace({x: x_value})
    return cost.xreplace({a: activation}), dC_da, da_di, di_dw


def chain_product(dC_da: Any, da_di: Any, di_dw: Any, s: Slip) -> Any:
    """dC/dw = dC/da · da/di · di/dw, without σ′ where the activation's slope is left out."""
    return s.chain(dC_da * (1 if s.on("no_activation_slope") else da_di), di_dw)


def train(
    x_value: Any, start: Any, t: Any, lr: Any, n: Any, s: Slip
) -> tuple[list[Any], list[Any]]:
    """See `_train`; lists of its results, for the caller to slice."""
    weights, costs = _train(x_value, start, t, lr, int(n), s)
    return list(weights), list(costs)


# Every variant's derivation trains the grader's other neurons too, with every slip: the same runs.
@lru_cache(maxsize=65536)
def _train(
    x_value: Any, start: Any, t: Any, lr: Any, n: int, s: Slip
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The weights w0 … w(n+1) and the cost before each update: one more than asked, for the slips.

    The cost is the last thing written in a row and nothing is computed from it (but where it is
    taken for the slope), so it stays unrounded: the by-hand tolerance covers its last digit,
    whichever way it was rounded.
    """
    weights, costs = [start], []
    for _ in range(int(n) + 1):
        cost, dC_da, da_di, di_dw = chain_factors(x_value, weights[-1], t, s)
        costs.append(cost)
        # the cost stepped on as if it were the slope: as written down, rounded by hand
        slope = s.rnd(cost) if s.on("loss_as_gradient") else chain_product(dC_da, da_di, di_dw, s)
        weights.append(s.rnd(weights[-1] - s.rate(lr) * slope))
    return tuple(weights), tuple(costs)


def derive(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    _, dC_da, da_di, di_dw = chain_factors(p.x, p.w0, p.t, s)
    r.factors = sp.Matrix([dC_da, da_di, di_dw])
    r.dC_dw = chain_product(*r.factors, s)
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
    r.chain_rule_name = rule_for_nesting(s.on("product_rule"))


# A student's own numbers, in tenths: an input away from 1 (where the lost factor x changes
# nothing), a start weight, a target the sigmoid can reach, a learning rate.
VARY = {
    "x": Between("0.6", "2.5", "0.1", avoid=("0.9", "1.0", "1.1", "1.9", "2.0", "2.1")),
    "w0": Between("-1.0", "1.0", "0.1"),
    "t": Between("0.1", "0.9", "0.1"),
    "lr": Between("0.1", "0.5", "0.1"),
}
# How many tolerances a slip must move some entry of an answer, away from the reference and, where
# the question takes the calculation by hand as right too, from that one (the lecture's: 3.7 and more, its costs taken a step late).
APART = 3


def well_posed(p: SimpleNamespace) -> str | None:
    _, costs = train(p.x, p.w0, p.t, p.lr, p.updates, Slip())
    if any(later >= earlier for earlier, later in pairwise(costs)):
        return "the cost does not fall at every update"
    # a slip that changes the steps a little can vanish in the rounding by hand: σ′ at a next to
    # σ′ at i, dC/da = 1 next to 2(a − t) ≈ 1, the cost stepped on where it is near its slope
    right, by_hand = worksheet(p, Slip()), worksheet(p, Slip(rounding=BY_HAND))
    for slip, questions in checked_slips().items():
        wrong = worksheet(p, slip)
        for q in questions:
            accepted = [(right[q.name], q.tolerance)]
            if q.rounding is not None:
                accepted.append((by_hand[q.name], by_hand_tolerance(q)))
            if not all(apart(wrong[q.name], value, tol) for value, tol in accepted):
                rounded = " rounded by hand" if slip.rounding else ""
                return f"{q.name} with the {slip.mistake} slip{rounded} is too close to a right one"
    return None


def worksheet(p: SimpleNamespace, s: Slip) -> dict[str, Any]:
    sheet = Sheet()
    derive(p, s, sheet)
    return sheet.values()


@cache
def checked_slips() -> dict[Slip, list[Question]]:
    """Every slip the grader derives for a question answered by numbers, with those questions.

    A function's other probes are the same in every variant: its slips are checked once, by a test.
    """
    found: dict[Slip, list[Question]] = {}
    for q in EXERCISE.questions:
        if q.kind in (Kind.FUNCTION, Kind.CHOICE):
            continue
        roundings = (None,) if q.rounding is None else (None, q.rounding)
        for mistake in q.mistakes:
            for form in range(MISTAKE_FORMS.get(mistake, 1)):
                for rounding in roundings:
                    found.setdefault(Slip(mistake, form, rounding), []).append(q)
    return found


def by_hand_tolerance(q: Question) -> Tolerance:
    """As the grader takes an answer rounded by hand: within half a unit of its last decimal too."""
    half_unit = 0.5 * 10.0 ** -(q.rounding or 0)
    return Tolerance(q.tolerance.rtol, max(q.tolerance.atol, half_unit))


def apart(wrong: Any, right: Any, tolerance: Tolerance) -> bool:
    pairs = zip(entries(wrong), entries(right), strict=True)
    return any(abs(w - r) > APART * (tolerance.atol + tolerance.rtol * abs(r)) for w, r in pairs)


def entries(value: Any) -> list[Any]:
    return list(value) if isinstance(value, sp.MatrixBase | list) else [value]


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
        # Not rounded on factors and dC_dw: the factors written to 3 decimals stay within the
        # tolerance in a third of the variants (dC_dw: two fifths), and would be graded right.
        vector(
            "factors",
            3,
            points=2,
            mistakes=("factor_two", "sign", "sigma_twice", "not_squared", "no_activation"),
        ),
        number(
            "dC_dw",
            mistakes=(
                "chain_factor",
                "factor_two",
                "sign",
                "no_activation_slope",
                "sigma_twice",
                "not_squared",
                "no_activation",
            ),
        ),
        vector(
            "weights",
            10,
            points=3,
            rounding=BY_HAND,
            mistakes=(
                "chain_factor",
                "sign",
                "factor_two",
                "shifted",
                "no_learning_rate",
                "no_activation_slope",
                "sigma_twice",
                "not_squared",
                # the same weights as factor_two's 2: told apart by the costs
                "doubled_step",
                "loss_as_gradient",
                "no_activation",
            ),
        ),
        # rounding: a cost printed to 3 decimals (0.054) misses the exact one by more than rtol.
        # Not sigma_twice: σ′ at a moves the weights so little that the costs stay within the
        # rounding by hand for a tenth of the variants.
        vector(
            "costs",
            10,
            points=3,
            rounding=BY_HAND,
            mistakes=(
                "loss_after_update",
                "chain_factor",
                "sign",
                "factor_two",
                "no_learning_rate",
                "no_activation_slope",
                "not_squared",
                "doubled_step",
                "loss_as_gradient",
                "no_activation",
            ),
        ),
        # only the calculation at full precision counts here: seed 003's loop, which rounds
        # every value to 3 decimals, is the rounded mistake
        function(
            "train",
            ("x", "w", "t", "lr", "n"),
            points=2,
            mistakes=(
                "chain_factor",
                "sign",
                "factor_two",
                "shifted",
                "rounded",
                "no_learning_rate",
                "no_activation_slope",
                "sigma_twice",
                "not_squared",
                "doubled_step",
                "loss_as_gradient",
                "no_activation",
            ),
        ),
        # the lecture's questions on a deep network's product of factors
        choice("chain_rule_name", RULE_NAMES, mistakes=("product_rule",)),
        manual("exploding_gradients", points=2),
    ),
)
