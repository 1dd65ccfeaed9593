"""Gradients and minimisers (seed 002): f(x, y) = x² + y³ + xy, L1 = (4w1 + 7w2 − 20)²,
L2 = max(0, 2w1 + 3w2 − 4w3)², L3 = |w − e^(−w)| and the steepest slope of the sigmoid.
"""

from functools import lru_cache
from types import SimpleNamespace
from typing import Any

import sympy as sp

from autograder.model.spec import (
    Between,
    Exercise,
    Sheet,
    Slip,
    expression,
    function,
    number,
    point_in_set,
    vector,
)
from autograder.model.values import Rule, SolutionSet

PARAMETERS = {
    "point": [1, 1],
    # L1 = (a1 w1 + a2 w2 − c)²
    "a": [4, 7],
    "c": 20,
    # L2 = max(0, b1 w1 + b2 w2 + b3 w3)²
    "b": [2, 3, -4],
    # how far off a kink or hinge the grader's probes lie
    "margins": ["0.05", "0.3", "1.5"],
}

# A student's own numbers: a point off the origin, where the cross term xy adds to both partial
# derivatives; a1 ≥ 3, so that dropping the inner factor a1 (2u instead of 2a1·u) is neither the
# reference (a1 = 1) nor the factor-½ slip (a1 = 2); b3 < 0 < b1, b2 as in the lecture, so that
# the gradient without the inner factor, 2·max(0, u)·(1, 1, 1), is no multiple of the true one.
# `well_posed` rules out the few draws left where a mistake gives the right answer.
VARY = {
    "point": Between(-3, 3),
    "a": Between(3, 9),
    "c": Between(5, 30),
    "b": [Between(1, 5), Between(1, 5), Between(-5, -1)],
}


def well_posed(p: SimpleNamespace) -> str | None:
    x0, y0 = p.point
    if not any(p.point):
        return "at the origin ∇f = 0: no mistake on it (cross term, sign, order) would show"
    if 2 * x0 + y0 == 3 * y0**2 + x0:  # (2, 1) in the range: ∇f = (5, 5)
        return "both partial derivatives of f are equal there: swapping them changes nothing"
    if p.a[0] == p.a[1]:
        return (
            "with a1 = a2 both partial derivatives of L1 are equal: swapping them changes nothing"
        )
    if p.a.dot(p.a) == p.c:
        return "a1² + a2² = c puts the coefficient vector a on the line of minimisers of L1"
    return None


x, y = sp.symbols("x y", real=True)
w, w1, w2, w3 = sp.symbols("w w1 w2 w3", real=True)
u = sp.Symbol("u", real=True)


def derive(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    gradient_of_f(p, s, r)
    l1(p, s, r)
    l2(p, s, r)
    l3(p, s, r)
    sigmoid_slope(s, r)


def gradient_of_f(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    f = x**2 + y**3 + x * y
    if s.on("cross_term"):  # xy treated as if it did not depend on x and y
        f = f - x * y
    grad = s.sign * s.swap(sp.Matrix([f.diff(x), f.diff(y)]))
    r.grad_f_at_11 = grad.subs({x: p.point[0], y: p.point[1]})
    points = [(1, 1), (0, 0), (-1.5, 2), (0.5, -0.25), (2, -3)]
    r.grad_f = Rule(
        lambda a, b: grad.xreplace({x: a, y: b}),
        tuple((sp.Rational(str(a)), sp.Rational(str(b))) for a, b in points),
    )


def chain_through(outer: sp.Expr, inner: sp.Expr, variables: list[sp.Symbol], s: Slip) -> sp.Matrix:
    """∇ outer(inner(w)) = outer′(inner) · ∇inner, the inner derivative lost in the chain-factor slip."""
    d_outer = outer.diff(u).subs(u, inner)
    return s.chain(d_outer, sp.Matrix([inner.diff(v) for v in variables]))


def l1(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    ws = [w1, w2]
    inner = p.a[0] * w1 + p.a[1] * w2 - p.c
    grad = s.sign * s.swap(chain_through(s.scale * s.square(u), inner, ws, s))
    points = [(1, 1), (0, 0), (2.5, 1.5), (-1, 2), (3, -0.5)]
    r.dL1 = Rule(
        lambda a, b: grad.xreplace({w1: a, w2: b}),
        tuple((sp.Rational(str(a)), sp.Rational(str(b))) for a, b in points),
    )
    r.dL1_dw1 = grad[0]
    r.argmin_L1 = minimisers_of_l1(p, s, inner, ws)


def minimisers_of_l1(
    p: SimpleNamespace, s: Slip, inner: sp.Expr, ws: list[sp.Symbol]
) -> SolutionSet:
    """L1 ≥ 0, and L1 = 0 where its inner value is 0: a whole line of minimisers."""
    if s.on("gradient_as_minimiser"):  # the direction of ∇inner, its coefficients a, as a point
        return the_point(ws, sp.Matrix([inner.diff(v) for v in ws]))
    if s.on("moved_term"):  # a2·w2 brought to the other side without its sign: a1·w1 = c + a2·w2
        inner = p.a[0] * w1 - p.a[1] * w2 - p.c
    (on_line,) = sp.solve(inner, w1)
    member = sp.Matrix([on_line.subs(w2, 1), 1])
    return SolutionSet((w1, w2), affine_condition(sp.Eq, w1 - on_line), member)


def the_point(ws: list[sp.Symbol], at: sp.Matrix) -> SolutionSet:
    """The one point `at` as a set: w = at, each coordinate within the tolerance."""
    return SolutionSet(tuple(ws), sp.And(*(sp.Eq(v, a) for v, a in zip(ws, at, strict=True))), at)


def affine_condition(relation: type, expr: sp.Expr) -> Any:
    """expr = 0 (or ≤ 0) with whole coefficients: 4*w1 + 7*w2 - 20, not w1 - 5 + 7*w2/4."""
    numerator, denominator = sp.fraction(sp.together(expr))
    return relation(sp.expand(numerator * sp.sign(denominator)), 0)


def l2(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    ws = [w1, w2, w3]
    score = (p.b.T * sp.Matrix(ws))[0]
    # max(0, u) is flat (and L2 = 0) for u ≤ its kink; the hinge in w is where score = kink
    flat = sp.solveset(sp.Eq(sp.Max(0, u), 0), u, sp.S.Reals)
    hinge = score - flat.sup
    outer = s.square(u if s.on("kink_ignored") else sp.Max(0, u))
    grad = s.sign * chain_through(s.scale * outer, score, ws, s)
    r.dL2 = Rule(
        lambda a, b, c: grad.xreplace({w1: a, w2: b, w3: c}), hinge_probes(hinge, ws, p.margins)
    )
    # one minimiser: from the origin, on the hinge, a step against the gradient of the inner value;
    # the sign slip steps along it, and takes the half-space beyond the hinge, where L2 rises
    inner = s.sign * score
    member = -sp.Matrix([inner.diff(v) for v in ws])
    r.argmin_L2 = SolutionSet((w1, w2, w3), affine_condition(sp.Le, inner - flat.sup), member)


def hinge_probes(
    hinge: sp.Expr, ws: list[sp.Symbol], margins: list[Any]
) -> tuple[tuple[Any, ...], ...]:
    """Points on both sides of the hinge {hinge = 0}: from a few base points, along the normal."""
    normal = sp.Matrix([hinge.diff(v) for v in ws])
    probes = []
    for base in ([0, 0, 0], [1, -2, 1], [sp.Rational(1, 2), 1, 2]):
        at = sp.Matrix(base)
        height = hinge.subs(dict(zip(ws, at, strict=True)))
        for margin in margins:
            for side in (1, -1):
                # along the normal until hinge(w) = ±margin (hinge is affine, so one step does)
                t = (side * margin - height) / normal.dot(normal)
                probes.append(tuple(at + t * normal))
    return tuple(probes)


@lru_cache(maxsize=64)
def roots(expr: sp.Expr, variable: sp.Symbol) -> tuple[sp.Expr, ...]:
    """sp.solve once per equation: every slip asks again for the same kink or extremum."""
    return tuple(sp.solve(expr, variable))


def l3(p: SimpleNamespace, s: Slip, r: Sheet) -> None:
    inner_value = w - sp.exp(-w)
    # d/dw e^(−w) = e^(−w) · d(−w)/dw: the slip loses that inner factor −1
    inner_slope = 1 - s.chain(sp.exp(-w), sp.diff(-w, w))
    outer_slope = sp.Integer(1) if s.on("kink_ignored") else sp.sign(inner_value)
    slope = s.sign * outer_slope * inner_slope
    (kink,) = roots(inner_value, w)
    # two decimals off the kink on either side; the kink itself is irrational
    sides = sorted(
        {
            sp.Rational(round(float(kink + side * m) * 100), 100)
            for m in p.margins
            for side in (1, -1)
        }
    )
    r.dL3 = Rule(lambda at: slope.xreplace({w: at}), tuple((at,) for at in sides))
    loss = sp.Abs(inner_value)
    # L3 at the kink, where w = e^(−w): SymPy does not simplify |W(1) − e^(−W(1))| to 0 by itself
    value_at_kink = loss.subs(inner_value, 0)
    r.argmin_L3 = value_at_kink if s.on("value_for_point") else kink


def sigmoid_slope(s: Slip, r: Sheet) -> None:
    sigma = 1 / (1 + sp.exp(-x))
    slope = sigma.diff(x)
    (steepest,) = roots(slope.diff(x), x)
    value = sp.simplify(slope.subs(x, steepest))
    if s.on("point_for_value"):
        r.sigmoid_grad_max = steepest
    elif s.on("sigmoid_value"):
        r.sigmoid_grad_max = sigma.subs(x, steepest)
    else:
        r.sigmoid_grad_max = value
    r.sigmoid_grad_argmax = value if s.on("value_for_point") else steepest


EXERCISE = Exercise(
    name="minima",
    title="Gradients and minimisers",
    source="seed 002",
    parameters=PARAMETERS,
    derive=derive,
    vary=VARY,
    well_posed=well_posed,
    questions=(
        vector("grad_f_at_11", 2, mistakes=("cross_term", "sign", "swapped")),
        function("grad_f", ("x", "y"), points=2, mistakes=("cross_term", "sign", "swapped")),
        function(
            "dL1",
            ("w1", "w2"),
            points=2,
            mistakes=("chain_factor", "factor_two", "sign", "not_squared", "swapped"),
        ),
        expression(
            "dL1_dw1",
            ("w1", "w2"),
            points=2,
            mistakes=("chain_factor", "factor_two", "sign", "not_squared"),
        ),
        point_in_set("argmin_L1", 2, points=2, mistakes=("moved_term", "gradient_as_minimiser")),
        function(
            "dL2",
            ("w1", "w2", "w3"),
            points=2,
            mistakes=("kink_ignored", "chain_factor", "factor_two", "sign", "not_squared"),
        ),
        # not gradient_as_minimiser: b is the member of the sign slip's half-space, the same answer
        point_in_set("argmin_L2", 3, points=2, mistakes=("sign",)),
        function("dL3", ("w",), points=2, mistakes=("chain_factor", "kink_ignored", "sign")),
        number("argmin_L3", mistakes=("value_for_point",)),
        number("sigmoid_grad_max", mistakes=("point_for_value", "sigmoid_value")),
        number("sigmoid_grad_argmax", mistakes=("value_for_point",)),
    ),
)
