"""Formulas a student writes: parsed without evaluating code, compared for equivalence in bounded time.

Equivalence is judged at random points (the tolerance rule) and, where the points cannot decide,
by simplifying the difference in a forked child that is killed when its time is up.
"""

from __future__ import annotations

import io
import multiprocessing
import re
import tokenize
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication_application,
    parse_expr,
    standard_transformations,
)

from autograder.forms import FormError
from autograder.spec import Tolerance

MAX_LENGTH = 400
FUNCTIONS = {
    "exp": sp.exp,
    "log": sp.log,
    "ln": sp.log,
    "sqrt": sp.sqrt,
    "abs": sp.Abs,
    "Abs": sp.Abs,
    "max": sp.Max,
    "Max": sp.Max,
    "min": sp.Min,
    "Min": sp.Min,
    "sin": sp.sin,
    "cos": sp.cos,
    "tanh": sp.tanh,
    "pi": sp.pi,
    "E": sp.E,
    "e": sp.E,
}
_TRANSFORMS = (*standard_transformations, implicit_multiplication_application, convert_xor)
_ALLOWED = re.compile(r"^[\sA-Za-z0-9_.+\-*/^(),]*$")


def parse_formula(text: str, variables: tuple[str, ...]) -> sp.Expr:
    """A formula in the question's variables, or a FormError; no attribute, import or call of Python."""
    if len(text) > MAX_LENGTH:
        raise FormError("formula_too_long", {"limit": MAX_LENGTH})
    if not text.strip() or not _ALLOWED.match(text):
        raise FormError("formula_syntax", {"text": text[:60]})
    names = _names(text)
    allowed = set(variables) | set(FUNCTIONS)
    unknown = sorted(n for n in names if n not in allowed)
    if unknown:
        raise FormError("formula_symbol", {"names": ", ".join(unknown)})
    local = {v: sp.Symbol(v) for v in variables} | FUNCTIONS
    try:
        expr = parse_expr(
            text,
            local_dict=local,
            global_dict={"__builtins__": {}, **_SYMPY_NAMES},
            transformations=_TRANSFORMS,
            evaluate=False,
        )
    except Exception:
        raise FormError("formula_syntax", {"text": text[:60]}) from None
    if not isinstance(expr, sp.Expr):
        raise FormError("formula_syntax", {"text": text[:60]})
    return expr


# parse_expr's own output refers to these; nothing else of SymPy or Python is reachable.
_SYMPY_NAMES = {
    name: getattr(sp, name)
    for name in ("Integer", "Rational", "Float", "Symbol", "Add", "Mul", "Pow")
}


def _names(text: str) -> list[str]:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        raise FormError("formula_syntax", {"text": text[:60]}) from None
    names = []
    for tok in tokens:
        if tok.type == tokenize.NAME:
            if "__" in tok.string:
                raise FormError("formula_syntax", {"text": text[:60]})
            names.append(tok.string)
    return names


def sample_points(
    variables: tuple[str, ...], count: int = 12, seed: int = 20261123
) -> list[dict[str, sp.Float]]:
    rng = np.random.default_rng(seed)
    return [
        {
            v: sp.Float(float(x), 30)
            for v, x in zip(variables, rng.uniform(-3, 3, len(variables)), strict=True)
        }
        for _ in range(count)
    ]


def agree_at_points(
    expr: sp.Expr, target: sp.Expr, variables: tuple[str, ...], tol: Tolerance
) -> bool | None:
    """Equal by the tolerance rule at random points where the target is defined and real.

    False as soon as one such point differs; None where the points cannot decide (the formula is
    undefined at some of them, or the target at all of them).
    """
    checked, undefined = 0, False
    for want, got in zip(
        values_at_points(target, variables), values_at_points(expr, variables), strict=True
    ):
        if want is None:
            continue
        if got is None:
            undefined = True
        elif abs(got - want) > tol.atol + tol.rtol * abs(want):
            return False
        else:
            checked += 1
    return None if undefined or not checked else True


@lru_cache(maxsize=4096)
def values_at_points(expr: sp.Expr, variables: tuple[str, ...]) -> tuple[float | None, ...]:
    """A formula's values at the sample points (None where undefined or not real).

    The points are fixed, so these belong to the formula: a reference or mistake is evaluated
    once per run, and a formula that many students write alike once for all of them.
    """
    return tuple(_evaluate(expr, point) for point in sample_points(variables))


def _evaluate(expr: sp.Expr, point: dict[str, sp.Float]) -> float | None:
    """The value at a point given by variable names (whatever assumptions the symbols carry)."""
    values = {s: point[s.name] for s in expr.free_symbols if s.name in point}
    try:
        value = complex(expr.evalf(30, subs=values))
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return None
    if value.imag != 0 or not np.isfinite(value.real):
        return None
    return value.real


def equivalent(
    expr: sp.Expr, target: sp.Expr, variables: tuple[str, ...], tol: Tolerance, seconds: float = 5.0
) -> bool:
    """Equivalent formulas: agreeing at random points, or, where the points cannot decide,
    simplifying to the same in bounded time (a forked child: costly, so only then)."""
    decided = agree_at_points(expr, target, variables, tol)
    if decided is not None:
        return decided
    return bool(bounded(_simplifies_to_zero, (_plain(expr) - _plain(target),), seconds))


def _plain(expr: sp.Expr) -> sp.Expr:
    """The same formula over plain symbols, so that w1 (real) and w1 (no assumptions) cancel."""
    return expr.xreplace({s: sp.Symbol(s.name) for s in expr.free_symbols})


def _simplifies_to_zero(difference: sp.Expr) -> bool:
    return sp.simplify(difference) == 0


def bounded(function: Any, args: tuple[Any, ...], seconds: float) -> Any:
    """Run `function(*args)` in a forked child; None when it does not finish in time."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe(duplex=False)

    def run() -> None:
        try:
            child.send(function(*args))
        except Exception:
            child.send(None)

    process = context.Process(target=run, daemon=True)
    process.start()
    child.close()
    result = parent.recv() if parent.poll(seconds) else None
    process.kill()
    process.join()
    return result
