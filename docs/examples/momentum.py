"""Gradient descent with momentum (the heavy ball) on f(w) = (w − 3)².

v ← μ·v + f′(w), then w ← w − η·v, as torch.optim.SGD(momentum=μ) takes the step.
"""

from types import SimpleNamespace
from typing import Any

import sympy as sp

from autograder.model.spec import Between, Exercise, Sheet, Slip, exact, function, vector
from autograder.model.values import Gradient, Rule

PARAMETERS = {
    "target": 3,
    "w0": 0,
    "v0": 0,
    "eta": "0.1",
    "mu": "0.9",
    "steps": 3,
}

# Each student's own numbers: a whole target and start, a learning rate and a momentum in steps
# of 0.05 and 0.1. The velocity starts at 0 and the number of steps stays 3.
VARY = {
    "target": Between(1, 6),
    "w0": Between(-3, 3),
    "eta": Between("0.05", "0.3", "0.05"),
    "mu": Between("0.5", "0.9", "0.1"),
}


def well_posed(p: SimpleNamespace) -> str | None:
    if p.w0 == p.target:
        return "starting at the minimum, the ball never moves"
    return None


w = sp.Symbol("w")


def heavy_ball(slope: Any, here: Any, v: Any, eta: Any, mu: Any, s: Slip) -> tuple[Any, Any]:
    """One step: the new position and the new velocity, with the slips a student can make."""
    kept = 0 if s.on("no_momentum") else mu  # the velocity forgotten: plain gradient descent
    if s.on("updates_swapped"):  # the position moved with the old velocity, then v updated
        moved = here - s.sign * eta * v
        return moved, kept * v + slope(moved)
    v = kept * v + slope(here)
    return here - s.sign * eta * v, v


def derive(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    f = (w - p.target) ** 2

    def slope(at: Any) -> Any:
        return f.diff(w).subs(w, at)

    here, v, iterates, velocities = p.w0, p.v0, [], []
    for _ in range(p.steps):
        here, v = heavy_ball(slope, here, v, p.eta, p.mu, s)
        iterates.append(here)
        velocities.append(v)
    r.iterates = iterates
    r.velocities = velocities
    # a later iterate that follows by the right rule from the student's own earlier ones earns
    # its share: the velocity is read back from the last two iterates, v = (w_prev − w) / η
    r.step("iterates", lambda previous: next_iterate(slope, p, previous))
    r.momentum_step = Rule(lambda *args: momentum_rule(s, *args), probes(p), parts=2)


def next_iterate(slope: Any, p: SimpleNamespace, previous: list[Any]) -> Any:
    before = [p.w0, *previous]
    v = (before[-2] - before[-1]) / p.eta
    return heavy_ball(slope, before[-1], v, p.eta, p.mu, Slip())[0]


def momentum_rule(s: Slip, grad: Gradient, here: Any, v: Any, eta: Any, mu: Any) -> tuple[Any, Any]:
    """What momentum_step(grad, w, v, eta, mu) returns: (w_new, v_new)."""
    symbols, gradient = grad.symbols(), grad.gradient()

    def slope(at: Any) -> Any:
        if isinstance(at, sp.MatrixBase):
            return gradient.subs(dict(zip(symbols, at, strict=True)))
        return gradient[0].subs(symbols[0], at)

    return heavy_ball(slope, here, v, eta, mu, s)


def probes(p: SimpleNamespace) -> tuple[tuple[Any, ...], ...]:
    """The student's own first step, a step with some speed already, and a step in 2-D."""
    own = Gradient(sp.sstr((w - p.target) ** 2), ("w",))
    shifted = Gradient("(w + 1)**2", ("w",))
    bowl = Gradient("w1**2 + 10*w2**2", ("w1", "w2"))
    return (
        (own, p.w0, p.v0, p.eta, p.mu),
        (shifted, *map(exact, ("2.5", "-1.5", "0.2", "0.5"))),
        (bowl, exact([1, -1]), exact(["0.5", 0]), exact("0.05"), exact("0.9")),
    )


EXERCISE = Exercise(
    name="momentum",
    title="Gradient descent with momentum",
    source="lecture 3",
    parameters=PARAMETERS,
    derive=derive,
    vary=VARY,
    well_posed=well_posed,
    questions=(
        vector("iterates", 3, points=2, mistakes=("sign", "no_momentum", "updates_swapped")),
        # not updates_swapped: moving first and updating v after it at the new position gives
        # the same velocities, one step late in w only
        vector("velocities", 3, mistakes=("sign", "no_momentum")),
        function(
            "momentum_step",
            ("grad", "w", "v", "eta", "mu"),
            points=2,
            mistakes=("sign", "no_momentum", "updates_swapped"),
        ),
    ),
)
