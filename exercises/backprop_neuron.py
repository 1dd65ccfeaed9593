"""A neuron with three inputs and a bias: one forward pass, backpropagation and one update (seed 004).

Z = X·W + b, pred = σ(Z), L = (pred − target)²; ∂L/∂W = ∂L/∂pred · ∂pred/∂Z · ∂Z/∂W.
"""

from functools import cache
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
    function,
    number,
    vector,
)
from autograder.model.values import Rule

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


def numeric(value: Any) -> Any:
    """A number to DIGITS digits; a formula in the varying parameters (the grader derives one
    on symbols, to evaluate it for many students) stays a formula: evalf of it is slow and exact."""
    return sp.N(value, DIGITS) if value.is_number else value


def backpropagate(
    X: sp.Matrix, W: sp.Matrix, b: Any, target: Any, lr: Any, s: Slip, r: Sheet
) -> None:
    """Forward pass, the chain rule factor by factor, and one step of gradient descent."""
    w = sp.Matrix(sp.symbols(f"w1:{len(X) + 1}"))
    bias = sp.Symbol("b")
    weighted_sum = (X.T * w)[0] + bias
    loss = s.scale * s.square(PRED - target)

    def forward(weights: sp.Matrix, bias_value: Any) -> Any:
        at = dict(zip(w, weights, strict=True))
        at[bias] = 0 if s.on("bias_missing") else bias_value
        return s.rnd(weighted_sum.subs(at))

    def activation(at: Any) -> Any:
        # the weighted sum taken as the prediction: a linear neuron
        return at if s.on("no_activation") else s.rnd(numeric(SIGMOID.subs(Z, at)))

    r.Z = forward(W, b)
    r.pred = activation(r.Z)
    r.loss = s.rnd(loss.subs(PRED, r.pred))

    r.dL_dpred = s.rnd(s.sign * loss.diff(PRED).subs(PRED, r.pred))
    if s.on("no_activation"):
        r.dpred_dZ = sp.Integer(1)  # the linear neuron's slope
    else:
        # σ applied twice: σ′ taken at the prediction instead of at Z
        slope_at = r.pred if s.on("sigma_twice") else r.Z
        r.dpred_dZ = s.rnd(numeric(SIGMOID.diff(Z).subs(Z, slope_at)))
    r.dL_dZ = s.rnd(r.dL_dpred * (1 if s.on("no_activation_slope") else r.dpred_dZ))
    dZ_dW = sp.Matrix([weighted_sum.diff(wi) for wi in w])
    r.dL_dW = s.rnd(s.chain(r.dL_dZ, dZ_dW))
    r.dL_db = s.rnd(r.dL_dZ * weighted_sum.diff(bias))

    # the loss stepped on as if it were the gradient: the same step for every weight and the bias
    if s.on("loss_as_gradient"):
        step_W, step_b = r.loss * sp.ones(len(X), 1), r.loss
    else:
        step_W, step_b = r.dL_dW, r.dL_db
    r.W_new = s.rnd(W - s.rate(lr) * step_W)
    r.b_new = s.rnd(b - s.rate(lr) * step_b)
    updated = s.rnd(loss.subs(PRED, activation(forward(r.W_new, r.b_new))))
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
# How far the update must lower the loss, relatively, for the exercise's question "has it become
# smaller?" to have a clear answer.
VISIBLE = sp.Rational(1, 100)
# How many tolerances a slip must move some entry of an answer (the lecture's: 6 and more).
APART = 3
# The rounded slip rounds every intermediate result to this many decimals, as the grader derives it.
ROUNDED = 3


def well_posed(p: SimpleNamespace) -> str | None:
    right = Sheet()
    backpropagate(p.X, p.W, p.b, p.target, p.lr, Slip(), right)
    if not right.loss_new < (1 - VISIBLE) * right.loss:
        return "the update does not lower the loss clearly"
    # a small gradient makes a small step, whose slips can land within the tolerance; σ′ is
    # symmetric, so σ′ at Z without the bias, or at the prediction, can be σ′ at Z
    for slip, questions in checked_slips().items():
        wrong = Sheet()
        backpropagate(p.X, p.W, p.b, p.target, p.lr, slip, wrong)
        for q in questions:
            if not apart(getattr(wrong, q.name), getattr(right, q.name), q.tolerance):
                return f"{q.name} with the {slip.mistake} slip is within the tolerance"
    return None


@cache
def checked_slips() -> dict[Slip, list[Question]]:
    """Every slip the grader derives for a question answered by numbers, with those questions.

    neuron_step's other neurons are the same in every variant: its slips are checked once, by a test.
    """
    found: dict[Slip, list[Question]] = {}
    for q in EXERCISE.questions:
        if q.kind is Kind.FUNCTION:
            continue
        for mistake in q.mistakes:
            rounding = ROUNDED if mistake == "rounded" else None
            for form in range(MISTAKE_FORMS.get(mistake, 1)):
                found.setdefault(Slip(mistake, form, rounding), []).append(q)
    return found


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
        number("pred", mistakes=("bias_missing", "no_activation")),
        number("loss", mistakes=("factor_two", "not_squared", "bias_missing", "no_activation")),
        number(
            "dL_dpred",
            mistakes=("factor_two", "sign", "not_squared", "bias_missing", "no_activation"),
        ),
        # not no_activation: the task names σ′(Z), whatever the prediction was taken to be
        number("dpred_dZ", mistakes=("sigma_twice", "bias_missing")),
        number(
            "dL_dZ",
            mistakes=(
                "factor_two",
                "sign",
                "no_activation_slope",
                "sigma_twice",
                "not_squared",
                "bias_missing",
                "no_activation",
            ),
        ),
        # rounded only here: the other results, rounded to 3 decimals, stay within a few
        # tolerances of the exact ones for a third to nine tenths of the variants
        vector(
            "dL_dW",
            3,
            points=2,
            mistakes=(
                "chain_factor",
                "factor_two",
                "sign",
                "no_activation_slope",
                "sigma_twice",
                "rounded",
                "not_squared",
                "bias_missing",
                "no_activation",
            ),
        ),
        number(
            "dL_db",
            mistakes=(
                "factor_two",
                "sign",
                "no_activation_slope",
                "sigma_twice",
                "not_squared",
                "bias_missing",
                "no_activation",
            ),
        ),
        # From here on not sigma_twice: σ′ at the prediction changes the small step by a few per
        # cent, which leaves the lecture's W_new within the tolerance, and its b_new and loss_new
        # closer than APART tolerances. doubled_step makes the step of factor_two's 2: the new
        # loss tells them apart.
        vector(
            "W_new",
            3,
            points=2,
            mistakes=(
                "sign",
                "chain_factor",
                "factor_two",
                "no_learning_rate",
                "no_activation_slope",
                "not_squared",
                "doubled_step",
                "loss_as_gradient",
                "bias_missing",
                "no_activation",
            ),
        ),
        number(
            "b_new",
            mistakes=(
                "sign",
                "factor_two",
                "no_learning_rate",
                "no_activation_slope",
                "not_squared",
                "doubled_step",
                "loss_as_gradient",
                "bias_missing",
                "no_activation",
            ),
        ),
        number(
            "loss_new",
            mistakes=(
                "old_loss",
                "sign",
                "chain_factor",
                "factor_two",
                "no_learning_rate",
                "no_activation_slope",
                "not_squared",
                "doubled_step",
                "loss_as_gradient",
                "bias_missing",
                "no_activation",
            ),
        ),
        # its other neurons take larger steps, on which σ′ at the prediction shows
        function(
            "neuron_step",
            ("X", "W", "b", "target", "lr"),
            points=2,
            mistakes=(
                "sign",
                "chain_factor",
                "factor_two",
                "no_learning_rate",
                "no_activation_slope",
                "sigma_twice",
                "not_squared",
                "doubled_step",
                "loss_as_gradient",
                "bias_missing",
                "no_activation",
            ),
        ),
    ),
)
