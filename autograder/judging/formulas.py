"""Formulas a student writes: parsed without evaluating code, compared for equivalence in bounded time.

Equivalence is judged at random points (the tolerance rule) and, where the points cannot decide,
by simplifying the difference in a forked child that is killed when its time is up.
"""

from __future__ import annotations

import io
import math
import multiprocessing
import re
import resource
import signal
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

from autograder.judging.forms import FormError, formula_size
from autograder.model.spec import Tolerance

MAX_LENGTH = 400
# A formula for these questions has a few dozen parts; far more is refused before any work on it.
MAX_PARTS = 200
MAX_NESTING = 24
# What the child of `bounded` may allocate beyond what it shares with the grader when forked.
BOUNDED_MEMORY = 1024**3
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
    parts, depth = formula_size(expr, MAX_PARTS)
    if parts > MAX_PARTS or depth > MAX_NESTING:
        raise FormError("formula_too_complex", {"nodes": MAX_PARTS, "depth": MAX_NESTING})
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
    """The value at a point given by variable names (whatever assumptions the symbols carry).

    The formula is first worked out in double precision, part by part: where a part is no finite
    double (exp(exp(exp(9))), 9**9**9), the value is undefined there, and SymPy never starts on
    numbers whose size alone would take it minutes. The value itself comes from SymPy, to 30 digits.
    """
    values = {s: point[s.name] for s in expr.free_symbols if s.name in point}
    try:
        _in_doubles(expr, {s: float(v) for s, v in values.items()})
    except _NoDouble:
        return None
    try:
        value = complex(expr.evalf(30, subs=values))
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return None
    if value.imag != 0 or not np.isfinite(value.real):
        return None
    return value.real


class _NoDouble(ArithmeticError):
    """A part of a formula that has no finite value in double precision at a point."""


_IN_DOUBLES: dict[Any, Any] = {
    sp.exp: math.exp,
    sp.log: math.log,
    sp.sin: math.sin,
    sp.cos: math.cos,
    sp.tanh: math.tanh,
    sp.Abs: abs,
    sp.Max: max,
    sp.Min: min,
}


def _in_doubles(expr: sp.Basic, values: dict[sp.Basic, float]) -> float | None:
    """The formula's value in double precision; _NoDouble where a part overflows or leaves the real
    numbers, None where the formula holds what this does not compute (a reference's Piecewise)."""
    if expr in values:
        return values[expr]
    if expr.is_Number or expr.is_NumberSymbol:
        x = _double(expr)
    else:
        args = [_in_doubles(a, values) for a in expr.args]
        if any(a is None for a in args):
            return None
        try:
            combined = _combined(expr, [a for a in args if a is not None])
        except (OverflowError, ValueError, ZeroDivisionError):
            raise _NoDouble() from None
        if combined is None:
            return None
        x = combined
    if not math.isfinite(x):
        raise _NoDouble()
    return x


def _double(number: sp.Basic) -> float:
    try:
        return float(number)
    except (OverflowError, TypeError):  # an integer beyond doubles, or zoo
        raise _NoDouble() from None


def _combined(expr: sp.Basic, args: list[float]) -> float | None:
    if expr.is_Add:
        return math.fsum(args)
    if expr.is_Mul:
        return math.prod(args)
    if expr.is_Pow:
        return math.pow(args[0], args[1])
    function = _IN_DOUBLES.get(expr.func)
    return None if function is None else float(function(*args))


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
    """Run `function(*args)` in a forked child bounded in time and memory; None when it does not
    finish in time, runs out of memory or ends without a result."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    ceiling = _address_space() + BOUNDED_MEMORY

    def run() -> None:
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        soft = ceiling if hard == resource.RLIM_INFINITY else min(ceiling, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        try:
            child.send(function(*args))
        except Exception:  # the child's failure, MemoryError included, is no result
            child.send(None)

    process = context.Process(target=run, daemon=True)
    # the alarm of an answer's time bound is held while the child starts: raised in between, it
    # would leave a child that nobody ends
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    try:
        process.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
    child.close()
    try:
        return parent.recv() if parent.poll(seconds) else None
    except EOFError:  # the child ended without sending (killed by the kernel, say)
        return None
    finally:
        process.kill()
        process.join()
        parent.close()


def _address_space() -> int:
    """The bytes of address space this process has now (the child starts with as much)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[0])
    return pages * resource.getpagesize()
