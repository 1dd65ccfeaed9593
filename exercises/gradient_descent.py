"""Gradient descent, and PyTorch's Adam and Adagrad, on f(w) = (w − 3)²; where descent on L1 ends (seed 002).

w ← w − η f′(w) with f′ from SymPy; Adam and Adagrad follow the update rules torch.optim documents.
"""

from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import sympy as sp

from autograder.model.spec import Between, Exercise, Sheet, Slip, exact, function, manual, vector
from autograder.model.values import Gradient, Rule, SolutionSet

PARAMETERS = {
    "target": 3,
    "w0": 0,
    "eta": "0.25",
    "steps": 3,
    # torch.optim.Adam's defaults (lr is eta)
    "beta1": "0.9",
    "beta2": "0.999",
    "adam_eps": "1e-8",
    # torch.optim.Adagrad's defaults: eps, lr_decay 0 and initial_accumulator_value 0
    "adagrad_eps": "1e-10",
    # L1(w1, w2) = (a1 w1 + a2 w2 − c)², descended from `start`
    "a": [4, 7],
    "c": 20,
    "start": [0, 0],
}

SEED = SimpleNamespace(**{name: exact(value) for name, value in PARAMETERS.items()})

w = sp.Symbol("w")
w1, w2, w3 = sp.symbols("w1 w2 w3")
DIGITS = 30
# The step of the grader's own descent on the lecture's L1 (a probe of `gradient_descent`).
L1_PROBE_STEP = sp.Rational(1, 200)

# A student's own numbers: whole targets (positive, as the text writes (w − target)²) and starts,
# a learning rate in twentieths below ½ (w − target shrinks by 1 − 2η per step: to 3 decimals in
# 3 steps, and never to 0 in one jump), and the L1 of the last task. Adam's and Adagrad's
# constants stay torch's defaults.
VARY = {
    "target": Between(1, 6),
    "w0": Between(-3, 3),
    "eta": Between("0.05", "0.45", "0.05"),
    "a": Between(1, 7),
    "c": Between(5, 30),
}


def well_posed(p: SimpleNamespace) -> str | None:
    if p.w0 == p.target:
        return "descent starting at the minimum never moves"
    # the limit c·a/(a·a) would be a itself: the direction given for the point would be right
    if p.c == (p.a.T * p.a)[0]:
        return "descent on L1 would end at the point (a1, a2)"
    return None


Step = Callable[[Any], Any]


def descend(gradient: Step, start: Any, eta: Any, steps: int, s: Slip) -> list[Any]:
    """start and `steps` steps of w ← w − η ∇f(w) (w + η ∇f(w) in the sign slip)."""
    trajectory = [start]
    for _ in range(steps):
        here = trajectory[-1]
        trajectory.append(here - s.sign * s.rate(eta) * gradient(here))
    return trajectory


def adam(gradient: Step, p: SimpleNamespace, s: Slip, path: Sequence[Any] = ()) -> list[Any]:
    """torch.optim.Adam without weight decay or amsgrad, lr = η: the iterates w1 … w_steps.

    Along a given `path` (a student's first iterates) the moments gather the gradients taken there.
    """
    m = v = sp.Integer(0)
    here, iterates = p.w0, []
    for t in range(1, max(p.steps, len(path) + 1) + 1):
        g = gradient(here)
        m = p.beta1 * m + (1 - p.beta1) * g
        v = p.beta2 * v + (1 - p.beta2) * g**2
        m_hat, v_hat = (
            (m, v) if s.on("no_bias_correction") else (m / (1 - p.beta1**t), v / (1 - p.beta2**t))
        )
        # plain descent: the gradient itself is the step, as torch.optim.SGD takes it
        step = g if s.on("plain_sgd") else m_hat / (sp.sqrt(v_hat) + p.adam_eps)
        here = sp.N(here - s.sign * s.rate(p.eta) * step, DIGITS)
        iterates.append(here)
        here = path[t - 1] if t <= len(path) else here
    return iterates


def adagrad(gradient: Step, p: SimpleNamespace, s: Slip, path: Sequence[Any] = ()) -> list[Any]:
    """torch.optim.Adagrad (lr_decay 0, initial accumulator 0), lr = η: the iterates w1 … w_steps.

    Along a given `path` (a student's first iterates) the accumulator gathers the gradients there.
    """
    squares = sp.Integer(0)
    here, iterates = p.w0, []
    for t in range(1, max(p.steps, len(path) + 1) + 1):
        g = gradient(here)
        squares = g**2 if s.on("no_accumulation") else squares + g**2
        scale = squares + p.adagrad_eps if s.on("no_sqrt") else sp.sqrt(squares) + p.adagrad_eps
        step = g if s.on("plain_sgd") else g / scale
        here = sp.N(here - s.sign * s.rate(p.eta) * step, DIGITS)
        iterates.append(here)
        here = path[t - 1] if t <= len(path) else here
    return iterates


def derive(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    f = s.scale * (w - p.target) ** 2
    # the loss's value taken for its slope: the update w − η f(w)
    df = f if s.on("loss_as_gradient") else f.diff(w)

    def slope(at: Any) -> Any:
        return df.subs(w, at)

    # one step more than asked: the shifted and after-the-update windows reach one further
    trajectory = descend(slope, p.w0, p.eta, p.steps + 1, s)
    r.iterates = s.window(trajectory, 1, p.steps)
    losses = [f.subs(w, at) for at in trajectory]
    if s.on("printout_pairing"):
        # seed 002's printout shows beside w_k (k ≥ 1) the loss computed before the k-th update,
        # f(w_{k−1}); read off it line by line, f(w0) comes twice and f(w_steps) is missing
        losses = losses[:1] + losses
    r.losses = s.window(losses, 0, p.steps + 1)
    r.gradient_descent = Rule(lambda *args: descent_rule(s, *args), probes())
    r.gd_L1_limit = l1_limit(p, s)
    r.adam_iterates = adam(slope, p, s)
    r.adagrad_iterates = adagrad(slope, p, s)
    r.step("iterates", lambda previous: descend(slope, previous[-1], p.eta, 1, s)[-1])
    r.step("adam_iterates", lambda previous: adam(slope, p, s, previous)[len(previous)])
    r.step("adagrad_iterates", lambda previous: adagrad(slope, p, s, previous)[len(previous)])


def descent_rule(s: Slip, grad: Gradient, start: Any, eta: Any, n: Any) -> sp.Matrix:
    """What gradient_descent(grad, w0, eta, n) returns: the n + 1 iterates w0 … wn as rows."""
    symbols, gradient = grad.symbols(), grad.gradient()
    point = sp.Matrix(start) if isinstance(start, list | sp.MatrixBase) else sp.Matrix([start])

    def at(here: sp.Matrix) -> sp.Matrix:
        return gradient.subs(dict(zip(symbols, here, strict=True)))

    trajectory = descend(at, point, eta, int(n), s)
    # shifted: n entries, the window one earlier (last step missing) or one later (w0 left out)
    if s.on("shifted"):
        trajectory = trajectory[:-1] if s.form_of("shifted") == 0 else trajectory[1:]
    return sp.Matrix([list(here) for here in trajectory])


def probes() -> tuple[tuple[Any, ...], ...]:
    """The lecture's f, L1 with a small stable step, a coupled quadratic in 3-D, a quartic.

    The same for every variant (the seed's numbers): a student's function is checked on the
    grader's examples, and the seed's are the lecture's.

    A scalar start is a float, as the lecture's tensor([0.0]): an int would make a student's
    in-place update of np.asarray(w0) fail for a reason that has nothing to do with descent.
    """
    p = SEED
    l1 = ((p.a.T * sp.Matrix([w1, w2]))[0] - p.c) ** 2
    bowl = w1**2 + 3 * w2**2 + w3**2 - w1 * w3
    return (
        (Gradient(sp.sstr((w - p.target) ** 2), ("w",)), sp.Float(p.w0, DIGITS), p.eta, p.steps),
        (Gradient(sp.sstr(l1), ("w1", "w2")), list(p.start), L1_PROBE_STEP, sp.Integer(5)),
        (
            Gradient(sp.sstr(bowl), ("w1", "w2", "w3")),
            [1, -1, 2],
            sp.Rational(1, 10),
            sp.Integer(4),
        ),
        (Gradient("(w + 1)**4/4", ("w",)), sp.Float(2, DIGITS), sp.Rational(1, 10), sp.Integer(2)),
    )


def l1_limit(p: SimpleNamespace, s: Slip) -> Any:
    """Where descent on L1 from `start` ends with a small stable step.

    ∇L1 = 2(a·w − c)·a always points along a, so every iterate lies on the line start + t·a;
    descent stops where the gradient vanishes on that line.
    """
    ws = sp.Matrix([w1, w2])
    residual = (p.a.T * ws)[0] - p.c
    if s.on("gradient_as_minimiser"):  # the direction every step takes, given as the point
        return p.a
    if s.on("other_minimiser"):  # the whole line of minimisers a·w = c
        on_axis = w2 if p.a[0] != 0 else w1
        member = ws.subs(sp.solve([residual, on_axis], [w1, w2], dict=True)[0])
        return SolutionSet((w1, w2), sp.Eq(residual, 0), member)
    gradient = sp.Matrix([(residual**2).diff(v) for v in ws])
    t = sp.Symbol("t")
    line = p.start + t * p.a
    (stop,) = sp.solve(list(gradient.subs(dict(zip(ws, line, strict=True)))), t, dict=True)
    return line.subs(stop)


EXERCISE = Exercise(
    name="gradient_descent",
    title="Gradient descent and optimisers",
    source="seed 002",
    parameters=PARAMETERS,
    derive=derive,
    vary=VARY,
    well_posed=well_posed,
    questions=(
        # the lecture's questions on the method, before the steps are computed
        manual("steepest_direction", points=2),
        manual("why_it_stops", points=2),
        manual("numerical_pitfalls", points=3),
        # doubled_step gives the iterates of factor_two's form 2 (f′ = 4(w − target)): both named.
        # No `rounded`: with η in twentieths and whole w0 and target, w1 … w3 have 3 decimals at most
        vector(
            "iterates",
            3,
            points=2,
            mistakes=(
                "sign",
                "factor_two",
                "shifted",
                "no_learning_rate",
                "doubled_step",
                "loss_as_gradient",
            ),
        ),
        vector(
            "losses",
            4,
            points=2,
            mistakes=(
                "loss_after_update",
                "printout_pairing",
                "sign",
                "factor_two",
                "no_learning_rate",
                "doubled_step",
                "loss_as_gradient",
            ),
        ),
        function(
            "gradient_descent",
            ("grad", "w0", "eta", "n"),
            points=2,
            mistakes=("sign", "shifted", "no_learning_rate", "doubled_step"),
        ),
        # no sign: ascent on L1 has no limit; the step's size (factor_two, η) does not move it
        vector("gd_L1_limit", 2, points=2, mistakes=("other_minimiser", "gradient_as_minimiser")),
        # Adam's and Adagrad's steps do not change when the gradient is scaled (but for ε): no
        # factor_two. Keras' defaults (Adam's ε 1e-7; Adagrad's accumulator from 0.1, ε 1e-7) and
        # intermediates rounded to 3 decimals stay within the tolerance for most variants: not listed
        vector(
            "adam_iterates",
            3,
            points=2,
            mistakes=("sign", "no_bias_correction", "plain_sgd", "no_learning_rate"),
        ),
        vector(
            "adagrad_iterates",
            3,
            points=2,
            mistakes=("sign", "no_accumulation", "plain_sgd", "no_sqrt", "no_learning_rate"),
        ),
    ),
)
