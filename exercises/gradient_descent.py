"""Gradient descent, and PyTorch's Adam and Adagrad, on f(w) = (w − 3)²; where descent on L1 ends (seed 002).

w ← w − η f′(w); Adam and Adagrad follow the update rules that torch.optim documents.
"""

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import sympy as sp

from autograder.spec import Exercise, Sheet, Slip, function, vector
from autograder.values import Gradient, Rule, SolutionSet

PARAMETERS = {
    "target": 3,
    "w0": 0,
    "eta": "0.25",
    "steps": 3,
    "beta1": "0.9",
    "beta2": "0.999",
    "adam_eps": "1e-8",
    "adagrad_eps": "1e-10",
    # L1(w1, w2) = (a1 w1 + a2 w2 − c)², descended from `start`
    "a": [4, 7],
    "c": 20,
    "start": [0, 0],
}

w = sp.Symbol("w")
w1, w2 = sp.symbols("w1 w2")
DIGITS = 30


def descend(gradient: Callable[[Any], Any], start: Any, eta: Any, steps: int, s: Slip) -> list[Any]:
    """start, then `steps` steps of w ← w − η ∇f(w) (or + in the sign slip)."""
    trajectory = [start]
    for _ in range(steps):
        here = trajectory[-1]
        trajectory.append(here - s.sign * eta * gradient(here))
    return trajectory


def adam(gradient: Callable[[Any], Any], start: Any, p: SimpleNamespace, s: Slip) -> list[Any]:
    """Adam as torch.optim.Adam (no weight decay, no amsgrad): the iterates w1 … w_steps."""
    m = v = sp.Integer(0)
    here, trajectory = start, []
    for t in range(1, p.steps + 1):
        g = gradient(here)
        m = p.beta1 * m + (1 - p.beta1) * g
        v = p.beta2 * v + (1 - p.beta2) * g**2
        m_hat, v_hat = (
            (m, v) if s.on("no_bias_correction") else (m / (1 - p.beta1**t), v / (1 - p.beta2**t))
        )
        here = sp.N(here - s.sign * p.eta * m_hat / (sp.sqrt(v_hat) + p.adam_eps), DIGITS)
        trajectory.append(here)
    return trajectory


def adagrad(gradient: Callable[[Any], Any], start: Any, p: SimpleNamespace, s: Slip) -> list[Any]:
    """Adagrad as torch.optim.Adagrad (lr_decay 0, initial accumulator 0): the iterates w1 … w_steps."""
    total = sp.Integer(0)
    here, trajectory = start, []
    for _ in range(p.steps):
        g = gradient(here)
        total = g**2 if s.on("no_accumulation") else total + g**2
        here = sp.N(here - s.sign * p.eta * g / (sp.sqrt(total) + p.adagrad_eps), DIGITS)
        trajectory.append(here)
    return trajectory


def derive(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    f = (w - p.target) ** 2
    df = s.scale * f.diff(w)

    def slope(at: Any) -> Any:
        return df.subs(w, at)

    trajectory = descend(slope, p.w0, p.eta, p.steps + 1, s)
    r.iterates = s.window(trajectory, 1, p.steps)
    r.losses = s.window([f.subs(w, at) for at in trajectory], 0, p.steps + 1)
    r.gradient_descent = Rule(lambda *args: descend_rule(s, *args), probes(p))
    r.gd_L1_limit = l1_limit(p, s)
    r.adam_iterates = adam(slope, p.w0, p, s)
    r.adagrad_iterates = adagrad(slope, p.w0, p, s)


def descend_rule(s: Slip, grad: Gradient, start: Any, eta: Any, n: Any) -> sp.Matrix:
    """The n + 1 iterates w0 … wn that gradient_descent(grad, w0, eta, n) returns."""
    symbols, gradient = grad.symbols(), grad.gradient()
    point = sp.Matrix(start) if isinstance(start, list | sp.MatrixBase) else sp.Matrix([start])

    def at(here: sp.Matrix) -> sp.Matrix:
        return gradient.subs(dict(zip(symbols, here, strict=True)))

    trajectory = descend(at, point, eta, int(n), s)
    if s.on("shifted"):  # w0 left out, or the last step missing: n entries instead of n + 1
        trajectory = trajectory[1:] if s.form == 0 else trajectory[:-1]
    return sp.Matrix([list(here) for here in trajectory])


def probes(p: SimpleNamespace) -> tuple[tuple[Any, ...], ...]:
    """The lecture's example, L1 in two dimensions, a quadratic in three, a quartic."""
    return (
        (Gradient(f"(w - {p.target})**2", ("w",)), p.w0, p.eta, p.steps),
        (Gradient("(4*w1 + 7*w2 - 20)**2", ("w1", "w2")), [0, 0], sp.Rational(1, 200), 5),
        (
            Gradient("w1**2 + 3*w2**2 + w3**2 - w1*w3", ("w1", "w2", "w3")),
            [1, -1, 2],
            sp.Rational(1, 10),
            4,
        ),
        (Gradient("(w + 1)**4 / 4", ("w",)), 2, sp.Rational(1, 10), 2),
    )


def l1_limit(p: SimpleNamespace, s: Slip) -> Any:
    """Where gradient descent on L1 from `start` ends: every step is along ∇L1 ∥ a, so on start + t·a."""
    ws = sp.Matrix([w1, w2])
    inner = (p.a.T * ws)[0] - p.c
    if s.on("other_minimiser"):
        return SolutionSet(
            (w1, w2), sp.Eq(inner, 0), sp.Matrix([*sp.solve(inner.subs(w2, 0), w1), 0])
        )
    gradient = sp.Matrix([(inner**2).diff(v) for v in ws])
    direction = gradient.subs(dict(zip(ws, p.start, strict=True)))
    if direction == sp.zeros(2, 1):
        return p.start
    t = sp.Symbol("t")
    line = p.start + t * direction
    (t_end,) = sp.solve(inner.subs(dict(zip(ws, line, strict=True))), t)
    return line.subs(t, t_end)


EXERCISE = Exercise(
    name="gradient_descent",
    title="Gradient descent and optimisers",
    source="seed 002",
    parameters=PARAMETERS,
    derive=derive,
    questions=(
        vector("iterates", 3, points=2, mistakes=("sign", "factor_two", "shifted")),
        vector("losses", 4, points=2, mistakes=("loss_after_update", "sign")),
        function(
            "gradient_descent", ("grad", "w0", "eta", "n"), points=3, mistakes=("sign", "shifted")
        ),
        vector("gd_L1_limit", 2, points=2, mistakes=("other_minimiser",)),
        vector("adam_iterates", 3, points=2, mistakes=("sign", "no_bias_correction")),
        vector("adagrad_iterates", 3, points=2, mistakes=("sign", "no_accumulation")),
    ),
)
