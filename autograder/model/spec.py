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

from autograder.model.names import name_problem
from autograder.model.ranges import Between as Between
from autograder.model.ranges import OneOf as OneOf
from autograder.model.ranges import Range as Range


class Kind(StrEnum):
    NUMBER = "number"
    VECTOR = "vector"
    MATRIX = "matrix"
    TABLE = "table"
    FUNCTION = "function"
    POINT_IN_SET = "point-in-set"
    EXPRESSION = "expression"
    CHOICE = "choice"
    # a written answer the teacher grades in nbgrader's formgrader: no reference, no mistakes
    MANUAL = "manual"


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

    def __post_init__(self) -> None:
        problem = name_problem(self.name)
        if problem:
            raise ValueError(f"a question may not be named {self.name!r}: {problem}")

    @property
    def graded_by_teacher(self) -> bool:
        return self.kind is Kind.MANUAL


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


def manual(name: str, points: float = 1.0) -> Question:
    """A question answered in words, in a markdown cell: its model answer and rubric are texts of
    the exercise, seen by the teacher only, who gives the points in nbgrader's formgrader."""
    return Question(name, Kind.MANUAL, points=points)


# How many forms each mistake takes; a derivation asks `slip.form_of(mistake)` which one it makes.
MISTAKE_FORMS: dict[str, int] = {"factor_two": 2, "shifted": 2}


@dataclass(frozen=True)
class Slip:
    """The mistake (or none, or two at once) that a derivation makes, so that mistakes are derived,
    not typed.

    A spec writes its derivation once, calling these helpers where a student could slip;
    with no mistake they are the identity of the right calculation. `also` is a second mistake
    made in the same derivation (with its form): how two slips at once are derived.
    """

    mistake: str | None = None
    form: int = 0
    rounding: int | None = None
    also: tuple[str, int] | None = None

    @property
    def mistakes(self) -> tuple[str, ...]:
        first = () if self.mistake is None else (self.mistake,)
        return first + ((self.also[0],) if self.also else ())

    @property
    def exact(self) -> bool:
        """No mistake and no rounding: the right calculation, to the last digit."""
        return self.mistake is None and self.rounding is None

    def on(self, mistake: str) -> bool:
        return mistake in self.mistakes

    def form_of(self, mistake: str) -> int:
        """Which form of `mistake` this slip makes (factor 2 or ½, shifted earlier or later)."""
        if self.also and self.also[0] == mistake:
            return self.also[1]
        return self.form if self.mistake == mistake else 0

    def with_(self, other: Slip) -> Slip:
        """Both slips at once (their mistakes in a fixed order, so that a pair is one slip)."""
        made = sorted({(m, f) for s in (self, other) for m, f in s._made()})
        if len(made) > 2 or len({m for m, _ in made}) < len(made):
            raise ValueError(f"a slip makes at most two different mistakes, not {made}")
        rounding = self.rounding if self.rounding is not None else other.rounding
        if not made:
            return Slip(rounding=rounding)
        first, second = made[0], (made[1] if len(made) > 1 else None)
        return Slip(first[0], first[1], rounding, second)

    def _made(self) -> list[tuple[str, int]]:
        made = [] if self.mistake is None else [(self.mistake, self.form)]
        return made + ([self.also] if self.also else [])

    @property
    def sign(self) -> int:
        """−1 where the student steps up the gradient or writes y − p for p − y."""
        return -1 if self.on("sign") else 1

    @property
    def scale(self) -> sp.Rational:
        """The factor 2 or ½ too many in a squared loss (the seeds mix ½(…)² and (…)²)."""
        if self.on("factor_two"):
            return (sp.Integer(2), sp.Rational(1, 2))[self.form_of("factor_two")]
        return sp.Integer(1)

    def square(self, x: Any) -> Any:
        """x², the square of a squared loss; x itself where the student forgot the square."""
        return x if self.on("not_squared") else x**2

    def rate(self, eta: Any) -> Any:
        """The learning rate as the update uses it: 1 where it is forgotten (the step is the
        gradient), twice as much in the doubled-step slip."""
        if self.on("no_learning_rate"):
            return sp.Integer(1)
        return 2 * eta if self.on("doubled_step") else eta

    def chain(self, outer: Any, inner: Any) -> Any:
        """outer · inner by the chain rule; the inner derivative is lost in the chain-factor slip."""
        if not self.on("chain_factor"):
            return outer * inner
        return outer * sp.ones(*inner.shape) if isinstance(inner, sp.MatrixBase) else outer

    def log(self, x: Any) -> Any:
        return sp.log(x, 10) if self.on("log10") else sp.log(x)

    def outer(self, column: sp.Matrix, row: sp.Matrix) -> sp.Matrix:
        """column · rowᵀ, or its transpose in the transposed-gradient slip."""
        product = sp.Matrix(column) * sp.Matrix(row).T
        return product.T if self.on("transposed") else product

    def swap(self, pair: sp.Matrix) -> sp.Matrix:
        """A gradient of two components, or with them swapped in the swapped slip."""
        return sp.Matrix([pair[1], pair[0]]) if self.on("swapped") else pair

    def rnd(self, x: Any) -> Any:
        """A value written down by hand: rounded to `rounding` decimals when this slip rounds."""
        if self.rounding is None:
            return x
        if isinstance(x, sp.MatrixBase):
            return x.applyfunc(self.rnd)
        return round_half_up(sp.sympify(x), self.rounding)

    def window(self, trajectory: Sequence[Any], start: int, length: int) -> list[Any]:
        """`length` entries of a trajectory from `start`, shifted by one in the shifted slips."""
        if self.on("shifted"):
            start += (-1, 1)[self.form_of("shifted")]
        elif self.on("loss_after_update"):
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
    # what a student's variant may draw: a range per parameter, or per entry of a list parameter;
    # the parameters not named here keep the seed's value in every variant
    vary: Mapping[str, Range | Sequence[Range]] = field(default_factory=dict)
    # None where a variant's exact parameters make a fair exercise, else why not (it is redrawn)
    well_posed: Callable[[SimpleNamespace], str | None] | None = None
    # False where the derivation run on symbols grows too large to lambdify (long nonlinear
    # iterations): each variant is then derived exactly
    lambdify: bool = True

    def __post_init__(self) -> None:
        unknown = set(self.vary) - set(self.parameters)
        if unknown:
            raise ValueError(f"{self.name}: vary names no parameter {', '.join(sorted(unknown))}")
        for name, spread in self.vary.items():
            seed_value = self.parameters[name]
            if isinstance(spread, Between | OneOf):
                continue
            if not (isinstance(seed_value, list) and len(spread) == len(seed_value)):
                raise ValueError(f"{self.name}.{name}: one range per entry of the list parameter")

    @property
    def autograded(self) -> tuple[Question, ...]:
        """The questions the grader marks: every one but those the teacher grades."""
        return tuple(q for q in self.questions if not q.graded_by_teacher)

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
