"""Values a derivation writes for the kinds that are more than numbers: sets, rules, tables, oracles.

Each is plain data plus SymPy, so that a reference can be shown, serialised and compared.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from autograder.sandbox.oracles import Gradient as Gradient


@dataclass(frozen=True)
class SolutionSet:
    """Every point that satisfies `condition` (a relational or a conjunction of them) is right."""

    variables: tuple[sp.Symbol, ...]
    condition: sp.Basic
    member: sp.Matrix

    def constraints(self) -> list[sp.Rel]:
        parts = self.condition.args if isinstance(self.condition, sp.And) else (self.condition,)
        return list(parts)

    def describe(self) -> str:
        return sp.sstr(self.condition)


@dataclass(frozen=True)
class Table:
    """Rows of a table with named columns; the values are SymPy numbers."""

    columns: tuple[str, ...]
    rows: sp.Matrix

    def numeric(self) -> np.ndarray:
        return np.array(self.rows.evalf(30).tolist(), dtype=float)


@dataclass(frozen=True)
class Rule:
    """A function question's reference: `rule` maps the probe arguments (SymPy values) to the result.

    `probes` are the arguments the grader chooses; the student's function is called on the same
    arguments, converted to what a NumPy programmer expects (floats, ints, float arrays).
    """

    rule: Callable[..., Any]
    probes: tuple[tuple[Any, ...], ...]
    # the result as a sequence of parts, for rules returning a tuple such as (W_new, b_new)
    parts: int = 1
    # False where the rule on symbols would grow too large to lambdify (long nonlinear iterations)
    lambdify: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "probes", real_arguments_as_floats(self.probes))

    def numeric(self) -> Callable[..., Any]:
        """The rule as a NumPy function: lambdified once per shape of the arguments.

        Integer arguments (counts, labels) and gradients stay concrete; where the rule cannot run
        on symbols (it compares numbers, say), it is evaluated exactly on the given numbers.
        """
        compiled: dict[Any, Callable[..., Any] | None] = {}

        def call(*args: Any) -> Any:
            signature = tuple(_signature(a) for a in args)
            if signature not in compiled:
                compiled[signature] = self._lambdify(args) if self.lambdify else None
            function = compiled[signature]
            if function is None:
                return numeric(self.rule(*[_exact(a) for a in args]))
            values = [np.asarray(a, dtype=float).reshape(-1) for a in args if _is_symbolic(a)]
            flat = [v for array in values for v in array]
            result = function(*flat)
            return (
                tuple(np.asarray(r, dtype=float) for r in result)
                if self.parts > 1
                else np.asarray(result, dtype=float)
            )

        return call

    def _lambdify(self, args: tuple[Any, ...]) -> Callable[..., Any] | None:
        symbols: list[sp.Symbol] = []
        symbolic_args = []
        for i, a in enumerate(args):
            if not _is_symbolic(a):
                symbolic_args.append(_exact(a))
                continue
            shape = np.shape(a)
            names = sp.symbols(f"a{i}_0:{max(int(np.prod(shape)), 1)}", real=True)
            symbols.extend(names)
            symbolic_args.append(
                sp.Matrix(np.array(names).reshape(shape).tolist()) if shape else names[0]
            )
        try:
            result = self.rule(*symbolic_args)
            parts = result if self.parts > 1 else (result,)
            shaped = [_symbolic_shape(part) for part in parts]
            functions = [sp.lambdify(symbols, part, "numpy") for part in shaped]
        except (TypeError, ValueError, AttributeError, NotImplementedError):
            return None
        if self.parts > 1:
            return lambda *xs: tuple(f(*xs) for f in functions)
        return functions[0]


def real_arguments_as_floats(probes: Sequence[tuple[Any, ...]]) -> tuple[tuple[Any, ...], ...]:
    """The probes with every argument that is a real number in one probe a real number in all.

    A student's function gets an int only for an argument that is whole in every probe (a count,
    a label). Where some probe gives a fraction or a vector, a whole value of that argument in
    another probe (0 written as 0, or `sp.Rational(0)`, which SymPy makes an Integer) becomes a
    float, as a NumPy programmer would pass it: `w0 = 0` would break `w += …` on `np.asarray(w0)`.
    """
    width = max((len(args) for args in probes), default=0)
    real = [any(i < len(args) and _real(args[i]) for args in probes) for i in range(width)]
    return tuple(
        tuple(sp.Float(a, 30) if real[i] and _whole(a) else a for i, a in enumerate(args))
        for args in probes
    )


def _whole(arg: Any) -> bool:
    return isinstance(arg, int | np.integer | sp.Integer) and not isinstance(arg, bool | np.bool_)


def _real(arg: Any) -> bool:
    """A number that is no whole one, or a vector: the argument it stands for takes real numbers."""
    if isinstance(arg, sp.MatrixBase | np.ndarray | list | tuple | float | np.floating):
        return True
    return isinstance(arg, sp.Expr) and bool(arg.is_number) and not _whole(arg)


def _signature(arg: Any) -> Any:
    if _is_symbolic(arg):
        return ("array", np.shape(arg))
    return ("value", arg if isinstance(arg, int | str) else id(arg))


def _is_symbolic(arg: Any) -> bool:
    """Real numbers and float arrays become symbols; ints, strings and gradients stay as they are."""
    if isinstance(arg, bool | int | np.integer | str | Gradient):
        return False
    return isinstance(arg, float | np.floating | np.ndarray | list | tuple)


def _exact(arg: Any) -> Any:
    if isinstance(arg, bool | str | Gradient):
        return arg
    if isinstance(arg, int | np.integer):
        return sp.Integer(int(arg))
    array = np.asarray(arg, dtype=float)
    if array.ndim == 0:
        return sp.Rational(repr(float(array)))
    return sp.Matrix(
        [[sp.Rational(repr(float(v))) for v in row] for row in np.atleast_2d(array.T).T]
    )


def _symbolic_shape(result: Any) -> Any:
    if isinstance(result, sp.MatrixBase):
        return list(result) if 1 in result.shape else result.tolist()
    return result


def to_student(arg: Any) -> Any:
    """A probe argument as a student's function receives it: ints stay ints, the rest floats/arrays."""
    if isinstance(arg, Gradient):
        return arg
    if isinstance(arg, bool | str):
        return arg
    if isinstance(arg, int | sp.Integer):
        return int(arg)
    if isinstance(arg, sp.MatrixBase):
        return numeric(arg)
    if isinstance(arg, Sequence):
        return np.array([float(sp.N(v, 30)) for v in arg], dtype=float)
    return float(sp.N(arg, 30))


def numeric(value: Any) -> Any:
    """A SymPy result as float64 NumPy data (a tuple stays a tuple of parts)."""
    if isinstance(value, tuple):
        return tuple(numeric(v) for v in value)
    if isinstance(value, sp.MatrixBase):
        array = np.array(value.evalf(30).tolist(), dtype=float)
        return array.reshape(-1) if 1 in value.shape and value.shape != (1, 1) else array
    if isinstance(value, list):
        return np.array([float(sp.N(v, 30)) for v in value], dtype=float)
    return np.array(float(sp.N(value, 30)))


@dataclass(frozen=True)
class Published:
    """Numbers as a slide or worksheet prints them: decimal strings, so their precision is known."""

    rows: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, rows: Sequence[Sequence[Any]]) -> Published:
        return cls(tuple(tuple(str(v) for v in row) for row in rows))

    def value(self, i: int, j: int) -> sp.Rational:
        return sp.Rational(self.rows[i][j])

    def half_unit(self, i: int, j: int) -> sp.Rational:
        """Half a unit in the last printed place: how far the printed value may be from the truth."""
        return half_unit(self.rows[i][j])


def half_unit(printed: str) -> sp.Rational:
    text = printed.strip().lower()
    mantissa, _, exponent = text.partition("e")
    decimals = len(mantissa.partition(".")[2])
    return sp.Rational(1, 2) * sp.Integer(10) ** (int(exponent or 0) - decimals)


def same_but_for_ones(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """The same shape once axes of length 1 are dropped: (3, 1) and (3,), (1, 1) and ()."""
    return tuple(n for n in a if n != 1) == tuple(n for n in b if n != 1)
