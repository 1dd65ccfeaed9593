"""The exercise spec model: questions, answer kinds, tolerances, and the slips a derivation can make.

An exercise module in `exercises/` builds one `Exercise` from these pieces; nothing here computes answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

import sympy as sp


class Kind(StrEnum):
    NUMBER = "number"
    VECTOR = "vector"
    MATRIX = "matrix"
    TABLE = "table"
    FUNCTION = "function"
    POINT_IN_SET = "point-in-set"
    EXPRESSION = "expression"
    CHOICE = "choice"


@dataclass(frozen=True)
class Tolerance:
    """|answer − reference| ≤ atol + rtol·|reference|, element by element."""

    rtol: float = 1e-3
    atol: float = 1e-6


@dataclass(frozen=True)
class Question:
    """One question of an assignment; `name` is also the name the student assigns or defines."""

    name: str
    kind: Kind
    points: float = 1.0
    shape: tuple[int, ...] | None = None
    tolerance: Tolerance = Tolerance()
    mistakes: tuple[str, ...] = ()
    # function: the argument names the student's function takes
    args: tuple[str, ...] = ()
    # table: the column ids, in order
    columns: tuple[str, ...] = ()
    # expression: the symbols the formula may use
    variables: tuple[str, ...] = ()
    # choice: option key -> label shown to students
    options: Mapping[str, str] = field(default_factory=dict)
    # also right: the trajectory that rounds every intermediate result to this many decimals
    rounding: int | None = None


def number(name: str, **kw: Any) -> Question:
    return Question(name, Kind.NUMBER, shape=(), **kw)


def vector(name: str, n: int, **kw: Any) -> Question:
    return Question(name, Kind.VECTOR, shape=(n,), **kw)


def matrix(name: str, rows: int, cols: int, **kw: Any) -> Question:
    return Question(name, Kind.MATRIX, shape=(rows, cols), **kw)


def table(name: str, columns: Sequence[str], rows: int, **kw: Any) -> Question:
    return Question(name, Kind.TABLE, shape=(rows, len(columns)), columns=tuple(columns), **kw)


def function(name: str, args: Sequence[str], **kw: Any) -> Question:
    return Question(name, Kind.FUNCTION, args=tuple(args), **kw)


def point_in_set(name: str, n: int, **kw: Any) -> Question:
    return Question(name, Kind.POINT_IN_SET, shape=(n,), **kw)


def expression(name: str, variables: Sequence[str], **kw: Any) -> Question:
    return Question(name, Kind.EXPRESSION, variables=tuple(variables), **kw)


def choice(name: str, options: Mapping[str, str], **kw: Any) -> Question:
    return Question(name, Kind.CHOICE, options=dict(options), **kw)


# How many forms each mistake takes; a derivation asks `slip.form` which one it is making.
MISTAKE_FORMS: dict[str, int] = {"factor_two": 2, "shifted": 2}


@dataclass(frozen=True)
class Slip:
    """The one mistake (or none) that a derivation makes, so that mistakes are derived, not typed.

    A spec writes its derivation once, calling these helpers where a student could slip;
    with no mistake they are the identity of the right calculation.
    """

    mistake: str | None = None
    form: int = 0
    rounding: int | None = None

    def on(self, mistake: str) -> bool:
        return self.mistake == mistake

    @property
    def sign(self) -> int:
        """−1 where the student steps up the gradient or writes y − p for p − y."""
        return -1 if self.mistake == "sign" else 1

    @property
    def scale(self) -> sp.Rational:
        """The factor 2 or ½ too many in a squared loss (the seeds mix ½(…)² and (…)²)."""
        if self.mistake == "factor_two":
            return (sp.Integer(2), sp.Rational(1, 2))[self.form]
        return sp.Integer(1)

    def chain(self, outer: Any, inner: Any) -> Any:
        """outer · inner by the chain rule; the inner derivative is lost in the chain-factor slip."""
        if self.mistake != "chain_factor":
            return outer * inner
        return outer * sp.ones(*inner.shape) if isinstance(inner, sp.MatrixBase) else outer

    def log(self, x: Any) -> Any:
        return sp.log(x, 10) if self.mistake == "log10" else sp.log(x)

    def outer(self, column: sp.Matrix, row: sp.Matrix) -> sp.Matrix:
        """column · rowᵀ, or its transpose in the transposed-gradient slip."""
        product = sp.Matrix(column) * sp.Matrix(row).T
        return product.T if self.mistake == "transposed" else product

    def rnd(self, x: Any) -> Any:
        """A value written down by hand: rounded to `rounding` decimals when this slip rounds."""
        if self.rounding is None:
            return x
        if isinstance(x, sp.MatrixBase):
            return x.applyfunc(self.rnd)
        return round_half_up(sp.sympify(x), self.rounding)

    def window(self, trajectory: Sequence[Any], start: int, length: int) -> list[Any]:
        """`length` entries of a trajectory from `start`, shifted by one in the shifted slips."""
        if self.mistake == "shifted":
            start += (-1, 1)[self.form]
        elif self.mistake == "loss_after_update":
            start += 1
        return list(trajectory[start : start + length])


def round_half_up(x: sp.Expr, digits: int) -> sp.Rational:
    """Round as by hand: half away from zero, on the exact value (not its binary float)."""
    scaled = sp.Abs(x) * sp.Integer(10) ** digits
    whole = sp.floor(scaled + sp.Rational(1, 2))
    return sp.Rational(sp.sign(x) * whole, 10**digits)


class Sheet:
    """The worksheet a derivation fills in: one named result per line, in order.

    A result named in `given` keeps the given value, so everything after it follows from it:
    how a later result is judged when it was computed by the right rule from a wrong earlier one.
    """

    def __init__(self, given: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(self, "_given", dict(given or {}))
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_steps", {})

    def step(self, name: str, follow: Callable[[list[Any]], Any]) -> None:
        """How each entry of the trajectory `name` follows from the entries before it.

        `follow(previous)` gets entries 0 … k−1 (numbers, or rows as lists) and returns entry k by
        the rule of this derivation: the grader credits a later entry that a student computed
        rightly from a wrong earlier one (error carried forward).
        """
        self._steps[name] = follow

    def steps(self) -> dict[str, Callable[[list[Any]], Any]]:
        return dict(self._steps)

    def __setattr__(self, name: str, value: Any) -> None:
        self._values[name] = self._given.get(name, value)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no result named {name!r} on this sheet yet") from None

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def values(self) -> dict[str, Any]:
        return dict(self._values)


Derivation = Callable[[SimpleNamespace, Slip, Sheet], None]


@dataclass(frozen=True)
class Exercise:
    """An assignment: its parameters (the seed's numbers by default), derivation and questions."""

    name: str
    title: str
    parameters: Mapping[str, Any]
    derive: Derivation
    questions: tuple[Question, ...]
    source: str = ""
    # the parameters that change between variants, with the values each may take
    vary: Mapping[str, Any] = field(default_factory=dict)
    # False where the derivation run on symbols grows too large to lambdify (long nonlinear
    # iterations): each variant is then derived exactly
    lambdify: bool = True

    def question(self, name: str) -> Question:
        for q in self.questions:
            if q.name == name:
                return q
        raise KeyError(name)

    def params(self, variant: Mapping[str, Any] | None = None) -> SimpleNamespace:
        """The parameters of a variant as exact SymPy values (defaults where the variant is silent)."""
        unknown = set(variant or {}) - set(self.parameters)
        if unknown:
            raise ValueError(f"{self.name}: no parameter named {', '.join(sorted(unknown))}")
        merged = {**self.parameters, **(variant or {})}
        return SimpleNamespace(**{k: exact(v) for k, v in merged.items()})


def exact(value: Any) -> Any:
    """Turn a parameter as written in a spec (int, decimal string, list) into exact SymPy numbers."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | sp.Basic):
        return sp.sympify(value)
    if isinstance(value, float):
        return sp.Rational(repr(value))
    if isinstance(value, str):
        try:
            return sp.Rational(value)
        except (TypeError, ValueError):
            return value
    if isinstance(value, Mapping):
        return {k: exact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [exact(v) for v in value]
        if items and all(isinstance(v, sp.Basic) for v in items):
            return sp.Matrix(items)
        return items
    return value
