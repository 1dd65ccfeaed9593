"""References of many variants at once: an exercise's derivation run once on symbols, lambdified.

The parameters an exercise varies become SymPy symbols; each question's result is then a formula
in them, turned into a NumPy function and evaluated per variant (or for many variants in one call).
A derivation that does not run on symbols (it compares numbers, rounds by hand, solves on values)
leaves its questions to the exact derivation per variant: `compiled` says which questions it holds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

import numpy as np
import sympy as sp

from autograder.derivation.derived import derive, target
from autograder.model.catalogue import exercise
from autograder.model.spec import Exercise, Kind, Question, Sheet, Slip, exact
from autograder.model.values import Gradient, Rule, Table

# A formula that checks against the exact derivation of the seed's numbers to this relative
# error is kept; float64 evaluation of a few dozen operations stays far below it.
AGREEMENT = 1e-9

# Whatever a derivation may raise when it meets a symbol where it expects a number.
NOT_SYMBOLIC = (TypeError, ValueError, AttributeError, NotImplementedError, ZeroDivisionError)


@dataclass(frozen=True)
class Layout:
    """Where each varying parameter sits among the flat symbols: name → (first index, shape)."""

    symbols: tuple[sp.Symbol, ...]
    slots: Mapping[str, tuple[int, tuple[int, ...]]]

    def written(self, ex: Exercise, variant: Mapping[str, Any]) -> list[float]:
        """The varying parameters of a variant as floats, straight from how it is written (decimal
        strings, ints, lists; the seed's where it is silent): no exact SymPy numbers on the way."""
        values: list[float] = []
        for name in self.slots:
            value = variant.get(name, ex.parameters[name])
            values.extend(float(v) for v in (value if isinstance(value, list | tuple) else [value]))
        return values

    def exact_values(self, params: SimpleNamespace) -> dict[sp.Symbol, Any]:
        entries: list[Any] = []
        for name in self.slots:
            value = getattr(params, name)
            entries.extend(list(value) if isinstance(value, sp.MatrixBase) else [value])
        return dict(zip(self.symbols, entries, strict=True))


@dataclass(frozen=True)
class Formula:
    """One question's result as NumPy functions of the flat parameters.

    Numbers, vectors, matrices and tables: `entries`, evaluated and shaped. Functions: the outputs
    on each of the grader's probes (the same for every variant), and the symbolic rule in `exact`.
    """

    question: Question
    shape: tuple[int, ...] = ()
    entries: Callable[..., Any] | None = None
    probes: tuple[tuple[Any, ...], ...] = ()
    outputs: tuple[tuple[tuple[int, ...], Callable[..., Any]], ...] = ()
    exact: Any = None

    def value(self, flat: Sequence[float]) -> Any:
        """The comparable value for one variant, as `references.target` makes it."""
        if self.entries is not None:
            return np.asarray(_evaluate(self.entries, flat), dtype=float).reshape(self.shape)
        return [
            np.asarray(_evaluate(f, flat), dtype=float).reshape(shape) for shape, f in self.outputs
        ]

    def rule_for(self, values: Mapping[sp.Symbol, Any]) -> Rule:
        """A function question's rule for one variant: the symbolic rule with its numbers put in."""
        rule: Rule = self.exact
        return Rule(
            lambda *args: _substitute(rule.rule(*args), values),
            rule.probes,
            rule.parts,
            rule.lambdify,
        )

    def many(self, flat: np.ndarray) -> np.ndarray:
        """Numbers, vectors, matrices, tables for many variants at once: one row per variant."""
        assert self.entries is not None
        count = flat.shape[0]
        columns = [
            np.broadcast_to(np.asarray(c, dtype=float), (count,))
            for c in _evaluate(self.entries, list(flat.T))
        ]
        return np.stack(columns, axis=-1).reshape(count, *self.shape)


@dataclass(frozen=True)
class Compiled:
    """The questions of one exercise (with one slip) that evaluate by formula, and their layout."""

    layout: Layout
    formulas: Mapping[str, Formula]


def symbolic_parameters(ex: Exercise) -> tuple[Layout, SimpleNamespace]:
    """The exercise's parameters with every varying one replaced by symbols (lists by vectors)."""
    names: list[sp.Symbol] = []
    slots: dict[str, tuple[int, tuple[int, ...]]] = {}
    params = ex.params()
    for name in ex.vary:
        value = exact(ex.parameters[name])
        if isinstance(value, sp.MatrixBase):
            entries = [sp.Symbol(f"_{name}_{k}") for k in range(len(value))]
            slots[name] = (len(names), (len(value),))
            names.extend(entries)
            setattr(params, name, sp.Matrix(entries))
        elif isinstance(value, sp.Number):
            slots[name] = (len(names), ())
            names.append(sp.Symbol(f"_{name}"))
            setattr(params, name, names[-1])
    return Layout(tuple(names), slots), params


@lru_cache(maxsize=256)
def compiled(name: str, slip: Slip) -> Compiled | None:
    """The exercise `name` derived once on symbols with `slip`; None if it does not run on them."""
    ex = exercise(name)
    if not ex.vary or not ex.lambdify:
        return None
    layout, params = symbolic_parameters(ex)
    sheet = Sheet()
    # what the derivation wrote before it met a number-only step may still hold; the check
    # against the seed's exact results below drops anything that step would have changed
    with contextlib.suppress(*NOT_SYMBOLIC):
        ex.derive(params, slip, sheet)
    flat = layout.written(ex, {})
    seed = derive(ex, None, slip)
    formulas = {}
    for q in ex.autograded:
        formula = _formula(q, sheet.values().get(q.name), layout)
        if formula is not None and _agrees(formula, flat, q, seed[q.name]):
            formulas[q.name] = formula
    return Compiled(layout, formulas)


def _formula(q: Question, result: Any, layout: Layout) -> Formula | None:
    symbols = layout.symbols
    try:
        if q.kind in (Kind.NUMBER, Kind.VECTOR, Kind.MATRIX, Kind.TABLE):
            matrix = result.rows if isinstance(result, Table) else result
            if isinstance(matrix, sp.MatrixBase):
                entries, shape = list(matrix), tuple(q.shape or matrix.shape)
            elif isinstance(matrix, list):
                entries, shape = list(matrix), (len(matrix),)
            elif isinstance(matrix, sp.Expr):
                entries, shape = [matrix], ()
            else:
                return None
            return Formula(q, shape, entries=_lambdify(symbols, entries))
        # A function whose probes hold a parameter (a hinge placed by the variant's numbers) is
        # left to the exact derivation: its rule on symbolic probes grows too large to be worth it.
        if (
            q.kind is Kind.FUNCTION
            and isinstance(result, Rule)
            and result.lambdify
            and not _mentions(result.probes, set(symbols))
        ):
            outputs = []
            for args in result.probes:
                out = result.rule(*args)
                matrix = out if isinstance(out, sp.MatrixBase) else sp.Matrix([out])
                shape = np.shape(_numeric_shape(out))
                outputs.append((shape, _lambdify(symbols, list(matrix))))
            return Formula(q, probes=result.probes, outputs=tuple(outputs), exact=result)
    except NOT_SYMBOLIC:
        return None
    return None


def _mentions(probes: tuple[tuple[Any, ...], ...], symbols: set[sp.Symbol]) -> bool:
    return any(_free(a) & symbols for args in probes for a in args)


def _free(arg: Any) -> set[sp.Basic]:
    if isinstance(arg, Gradient):
        return set(sp.sympify(arg.loss).free_symbols)
    if isinstance(arg, sp.Basic | sp.MatrixBase):
        return set(arg.free_symbols)
    if isinstance(arg, list | tuple):
        return set().union(*(_free(a) for a in arg))
    return set()


def _numeric_shape(out: Any) -> Any:
    if isinstance(out, sp.MatrixBase):
        return (
            np.empty(out.shape).reshape(-1)
            if 1 in out.shape and out.shape != (1, 1)
            else (np.empty(out.shape))
        )
    return np.empty(())


def _lambdify(symbols: Sequence[sp.Symbol], entries: Sequence[Any]) -> Callable[..., Any]:
    """One function returning every entry: shared subexpressions (cse) are computed once. Entries
    free of the parameters (the kink of |w − e^(−w)|, say) are evaluated exactly, once."""
    free = set(symbols)
    if not any(sp.sympify(e).free_symbols & free for e in entries):
        constant = tuple(float(sp.N(e, 30)) for e in entries)
        return lambda *flat: constant
    return sp.lambdify(symbols, tuple(entries), modules="numpy", cse=True)


def _evaluate(function: Callable[..., Any], flat: Sequence[Any]) -> Any:
    with np.errstate(all="ignore"):
        return function(*flat)


def _substitute(value: Any, values: Mapping[sp.Symbol, Any]) -> Any:
    """An exact result of the symbolic derivation, with one variant's numbers put in."""
    if isinstance(value, sp.Basic | sp.MatrixBase):
        return value.xreplace(dict(values))
    if isinstance(value, list | tuple):
        return type(value)(_substitute(v, values) for v in value)
    return value


def _agrees(formula: Formula, flat: Sequence[float], q: Question, seed: Any) -> bool:
    """Does the formula give the exact derivation's result on the seed's numbers? A derivation that
    took a branch on a symbol (say `if a != 0`) where the numbers take another is caught here."""
    try:
        fast = formula.value(flat)
        slow = target(q, seed).value
    except (*NOT_SYMBOLIC, NameError):
        # NameError: a function NumPy lacks (LambertW, say) in a formula that needs the parameters
        return False
    pairs = list(zip(fast, slow, strict=True)) if formula.outputs else [(fast, slow)]
    return all(
        np.shape(a) == np.shape(b)
        and np.allclose(a, b, rtol=AGREEMENT, atol=AGREEMENT, equal_nan=True)
        for a, b in pairs
    )


def holds(name: str, question: str) -> bool:
    """Whether a formula gives this question's reference for every variant (cheaply)."""
    plan = compiled(name, Slip())
    return plan is not None and question in plan.formulas


def many(name: str, variants: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """The references of many variants at once, for the questions a formula holds: question name →
    an array with one row per variant (numbers, vectors, matrices, tables)."""
    ex = exercise(name)
    plan = compiled(name, Slip())
    if plan is None or not variants:
        return {}
    flat = np.array([plan.layout.written(ex, v) for v in variants], dtype=float)
    return {
        q: formula.many(flat) for q, formula in plan.formulas.items() if formula.entries is not None
    }
