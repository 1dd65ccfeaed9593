"""The exact derivation of one exercise's worksheet, per variant, slip and given earlier answers,
cached; the trajectories' rules; what an answer is compared with (a Target)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from autograder.model.catalogue import exercise
from autograder.model.spec import Exercise, Kind, Question, Sheet, Slip
from autograder.model.values import Rule, SolutionSet, Table, numeric, same_but_for_ones

Variant = Mapping[str, Any] | None


def freeze_variant(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, freeze_variant(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(freeze_variant(v) for v in value)
    return value


def thaw_variant(frozen: Any) -> dict[str, Any] | None:
    return None if frozen is None else {k: v for k, v in frozen}


NO_SLIP = Slip()


def derive(
    ex: Exercise, variant: Variant = None, slip: Slip = NO_SLIP, given: Variant = None
) -> dict[str, Any]:
    """Every result of an exercise's worksheet for one variant, with one slip (or none).

    With `given` (a student's earlier answers), the results that follow from those values. These
    are cached by the values too: the students of a class who made the same earlier mistake share
    one derivation.
    """
    frozen_given = freeze_variant({k: _numbers(v) for k, v in given.items()}) if given else None
    return _derive_cached(ex.name, freeze_variant(variant) if variant else None, slip, frozen_given)


@lru_cache(maxsize=1024)
def _derive_cached(name: str, frozen_variant: Any, slip: Slip, frozen_given: Any) -> dict[str, Any]:
    return _derive(exercise(name), thaw_variant(frozen_variant), slip, thaw_variant(frozen_given))


def _numbers(value: Any) -> Any:
    """A given value as it enters the derivation: floats, nested as its array is."""
    return np.asarray(value, dtype=float).tolist()


def steps(assignment: str, variant: Variant = None, slip: Slip = NO_SLIP) -> dict[str, Any]:
    """The rules by which the trajectories of an assignment go from one entry to the next."""
    return _steps_cached(assignment, freeze_variant(variant) if variant else None, slip)


@lru_cache(maxsize=256)
def _steps_cached(name: str, frozen_variant: Any, slip: Slip) -> dict[str, Any]:
    ex = exercise(name)
    sheet = Sheet()
    ex.derive(ex.params(thaw_variant(frozen_variant)), slip, sheet)
    return sheet.steps()


def next_entry(rule: Any, previous: np.ndarray) -> np.ndarray | None:
    """The entry after `previous` (numbers, or rows) by a trajectory's rule from `steps`, as floats;
    None where those numbers break the rule (a division by zero, say).

    Cached by the rule and the numbers: students whose trajectories start alike share the work.
    """
    return _next_entry(rule, freeze_variant(np.asarray(previous, dtype=float).tolist()))


@lru_cache(maxsize=8192)
def _next_entry(rule: Any, previous: tuple[Any, ...]) -> np.ndarray | None:
    def exact(x: float) -> sp.Expr:
        return sp.Float(float(x), 17)

    entries = [exact(x) if np.ndim(x) == 0 else [exact(v) for v in x] for x in previous]
    try:
        found = np.asarray(numeric(rule(entries)), dtype=float)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, ArithmeticError):
        return None
    found.setflags(write=False)  # shared by every caller with the same numbers
    return found


def _derive(ex: Exercise, variant: Variant, slip: Slip, given: Variant) -> dict[str, Any]:
    sheet = Sheet({k: _as_sympy(v) for k, v in (given or {}).items()})
    ex.derive(ex.params(variant), slip, sheet)
    missing = [q.name for q in ex.autograded if q.name not in sheet]
    if missing:
        raise RuntimeError(f"{ex.name}: the derivation leaves {', '.join(missing)} unanswered")
    return sheet.values()


def _as_sympy(value: Any) -> Any:
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return sp.Float(float(array), 17)
    return (
        sp.Matrix(array.tolist())
        if array.ndim == 2
        else sp.Matrix([sp.Float(v, 17) for v in array])
    )


@dataclass(frozen=True)
class Target:
    """What an answer is compared with: the numeric target of one derivation of one question."""

    value: Any  # ndarray | list of expected outputs | SolutionSet | sp.Expr | str | frozenset
    exact: Any  # the SymPy result it came from


def target(q: Question, result: Any, reference_rule: Rule | None = None) -> Target:
    """The comparable form of a derived result; a mistake's rule is evaluated on the reference's probes."""
    if isinstance(result, SolutionSet):
        return Target(result, result)
    if q.kind is Kind.FUNCTION:
        rule: Rule = result
        probes = reference_rule.probes if reference_rule else rule.probes
        return Target([numeric(rule.rule(*args)) for args in probes], rule)
    if q.kind is Kind.TABLE and isinstance(result, Table):
        return Target(result.numeric(), result)
    if q.kind in (Kind.POINT_IN_SET, Kind.EXPRESSION, Kind.CHOICE):
        if q.kind is Kind.EXPRESSION:
            return Target(sp.sympify(result), result)
        return Target(result, result)
    value = numeric(result)
    if q.shape is not None and same_but_for_ones(value.shape, q.shape):
        value = value.reshape(q.shape)
    return Target(value, result)
