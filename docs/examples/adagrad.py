"""Adagrad on the 2-D loss L(w1, w2) = w1² + 10·w2², as torch.optim.Adagrad takes its steps.

Gₜ = Gₜ₋₁ + gₜ², wₜ = wₜ₋₁ − η·gₜ / (√Gₜ + ε), component by component, from G₀ = 0.
"""

from types import SimpleNamespace
from typing import Any

import sympy as sp

from autograder.model.spec import Between, Exercise, Sheet, Slip, exact, function, matrix
from autograder.model.values import Gradient, Rule

PARAMETERS = {
    "c": [1, 10],  # L = c1·w1² + c2·w2²
    "w0": [2, 1],
    "eta": "0.5",
    # far larger than torch's default 1e-10, so that it matters where it stands
    "eps": "0.5",
    "steps": 3,
}

VARY = {
    "w0": Between(-3, 3, avoid=(0,)),
    "eta": Between("0.1", "0.5", "0.1"),
}


def well_posed(p: SimpleNamespace) -> str | None:
    # a start on an axis never moves along it (Between avoids 0 already: kept as the reason)
    if any(v == 0 for v in p.w0):
        return "a coordinate that starts at 0 never moves"
    return None


w1, w2 = sp.symbols("w1 w2")


def adagrad(slope: Any, here: sp.Matrix, G: sp.Matrix, eta: Any, eps: Any, s: Slip) -> Any:
    """One step, component by component: the new position and the new accumulated squares."""
    g = slope(here)
    squares = g.applyfunc(lambda x: x**2)
    G = squares if s.on("accumulator_reset") else G + squares

    def scale(total: Any) -> Any:
        if s.on("no_sqrt"):
            return total + eps
        return sp.sqrt(total + eps) if s.on("eps_inside") else sp.sqrt(total) + eps

    step = sp.Matrix([gi / scale(Gi) for gi, Gi in zip(g, G, strict=True)])
    return here - eta * step, G


def derive(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    loss = p.c[0] * w1**2 + p.c[1] * w2**2
    gradient = sp.Matrix([loss.diff(w1), loss.diff(w2)])

    def slope(at: sp.Matrix) -> sp.Matrix:
        return gradient.subs({w1: at[0], w2: at[1]})

    here, G, iterates, squares = p.w0, sp.zeros(2, 1), [], []
    for _ in range(p.steps):
        here, G = adagrad(slope, here, G, p.eta, p.eps, s)
        iterates.append(list(here))
        squares.append(list(G))
    r.iterates = sp.Matrix(iterates)
    r.squares = sp.Matrix(squares)
    r.step("iterates", lambda previous: next_row(slope, p, previous))
    r.adagrad_step = Rule(lambda *args: adagrad_rule(s, *args), probes(p), parts=2)


def next_row(slope: Any, p: SimpleNamespace, previous: list[Any]) -> list[Any]:
    """The next iterate by the right rule from the student's own: G gathers the squared
    gradients at w0 and at each of their iterates before it."""
    path = [p.w0, *(sp.Matrix(row) for row in previous)]
    G = sp.zeros(2, 1)
    for here in path[:-1]:
        G += slope(here).applyfunc(lambda x: x**2)
    return list(adagrad(slope, path[-1], G, p.eta, p.eps, Slip())[0])


def adagrad_rule(s: Slip, grad: Gradient, here: Any, G: Any, eta: Any, eps: Any) -> Any:
    """What adagrad_step(grad, w, G, eta, eps) returns: (w_new, G_new)."""
    symbols, gradient = grad.symbols(), grad.gradient()

    def slope(at: sp.Matrix) -> sp.Matrix:
        return gradient.subs(dict(zip(symbols, at, strict=True)))

    return adagrad(slope, here, G, eta, eps, s)


def probes(p: SimpleNamespace) -> tuple[tuple[Any, ...], ...]:
    """The student's first step, a step with squares gathered already, and a coupled 2-D loss."""
    own = Gradient(sp.sstr(p.c[0] * w1**2 + p.c[1] * w2**2), ("w1", "w2"))
    coupled = Gradient("(w1 - w2)**2 + w2**2", ("w1", "w2"))
    return (
        (own, p.w0, sp.zeros(2, 1), p.eta, p.eps),
        (own, exact(["1.5", "-0.5"]), exact([16, 400]), exact("0.3"), p.eps),
        (coupled, exact([1, 2]), exact(["0.5", 4]), exact("0.2"), exact("0.1")),
    )


EXERCISE = Exercise(
    name="adagrad",
    title="Adagrad on a 2-D loss",
    source="lecture 3",
    parameters=PARAMETERS,
    derive=derive,
    vary=VARY,
    well_posed=well_posed,
    questions=(
        matrix(
            "iterates",
            3,
            2,
            points=2,
            mistakes=("no_sqrt", "eps_inside", "accumulator_reset"),
        ),
        # the squares do not depend on where ε or the root stands in the first step only
        matrix("squares", 3, 2, mistakes=("no_sqrt", "eps_inside", "accumulator_reset")),
        function(
            "adagrad_step",
            ("grad", "w", "G", "eta", "eps"),
            points=2,
            mistakes=("no_sqrt", "eps_inside", "accumulator_reset"),
        ),
    ),
)
