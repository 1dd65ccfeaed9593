"""Reference answers and the answers of each known mistake, derived by SymPy from an exercise's spec.

A derivation runs once per (assignment, variant, slip) and is cached; `reference(qid)` reads it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import combinations, product
from typing import Any

import numpy as np
import sympy as sp

from autograder.forms import same_but_for_ones
from autograder.lambdified import compiled
from autograder.spec import MISTAKE_FORMS, Exercise, Kind, Question, Sheet, Slip
from autograder.values import Rule, SolutionSet, Table, numeric

ASSIGNMENTS = (
    "loss_functions",
    "minima",
    "gradient_descent",
    "attention_step",
    "softmax_ce",
    "backprop_chain",
    "backprop_neuron",
)

# The slip whose derivation every mistake of that name comes from; "rounded" rounds to 3 decimals.
ROUNDING_DIGITS = 3


class UnknownQuestion(KeyError):
    """A question id that is not in the catalogue."""

    def __str__(self) -> str:
        return f"no question {self.args[0]!r}; ids look like 'minima.argmin_L1' (see `autograder answers`)"


class UnknownAssignment(KeyError):
    def __str__(self) -> str:
        return f"no assignment {self.args[0]!r}; there are: {', '.join(ASSIGNMENTS)}"


def exercise(name: str) -> Exercise:
    if name not in ASSIGNMENTS:
        raise UnknownAssignment(name)
    found: Exercise = importlib.import_module(f"exercises.{name}").EXERCISE
    return found


def exercises() -> list[Exercise]:
    return [exercise(name) for name in ASSIGNMENTS]


def locate(qid: str) -> tuple[Exercise, Question]:
    assignment, _, name = qid.partition(".")
    try:
        ex = exercise(assignment)
        return ex, ex.question(name)
    except KeyError:
        raise UnknownQuestion(qid) from None


def question_ids() -> list[str]:
    return [f"{ex.name}.{q.name}" for ex in exercises() for q in ex.questions]


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
    missing = [q.name for q in ex.questions if q.name not in sheet]
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


@dataclass(frozen=True)
class Reference:
    """The reference answer of one question of one variant, with what else is accepted."""

    qid: str
    question: Question
    target: Target
    # also right (e.g. the trajectory rounded to 3 decimals at every step)
    alternatives: tuple[Target, ...] = ()

    @property
    def value(self) -> Any:
        return self.target.value

    @property
    def condition(self) -> sp.Basic | None:
        exact = self.target.exact
        return exact.condition if isinstance(exact, SolutionSet) else None

    @property
    def member(self) -> np.ndarray | None:
        exact = self.target.exact
        return numeric(exact.member) if isinstance(exact, SolutionSet) else None

    @property
    def probes(self) -> tuple[tuple[Any, ...], ...]:
        exact = self.target.exact
        return exact.probes if isinstance(exact, Rule) else ()

    def function(self) -> Any:
        """For a function question: the reference as a NumPy function (lambdified SymPy)."""
        rule: Rule = self.target.exact
        return rule.numeric()


def reference(qid: str, variant: Variant = None) -> Reference:
    """The reference for question `qid` (e.g. "minima.argmin_L1") of a variant (default: the seed's)."""
    return _reference_cached(qid, freeze_variant(variant) if variant else None)


# a class of a few hundred students with their own variants, every question of an assignment
@lru_cache(maxsize=65536)
def _reference_cached(qid: str, frozen_variant: Any) -> Reference:
    variant = thaw_variant(frozen_variant)
    ex, q = locate(qid)
    main = _derived(ex, q, variant, NO_SLIP)
    alternatives: tuple[Target, ...] = ()
    if q.rounding is not None:
        alternatives = (_derived(ex, q, variant, Slip(rounding=q.rounding), _rule(main)),)
    return Reference(qid, q, main, alternatives)


def _derived(
    ex: Exercise,
    q: Question,
    variant: Variant,
    slip: Slip,
    reference_rule: Rule | None = None,
    by_formula: bool = True,
) -> Target:
    """One question's target for a variant: by the lambdified formula where one holds it, else by
    the exact derivation (the seed's numbers always take the exact one: it is derived once)."""
    fast = _by_formula(ex, q, variant, slip, reference_rule) if variant and by_formula else None
    if fast is not None:
        return fast
    return target(q, derive(ex, variant, slip)[q.name], reference_rule)


def _by_formula(
    ex: Exercise, q: Question, variant: Mapping[str, Any], slip: Slip, reference_rule: Rule | None
) -> Target | None:
    if not set(variant) <= set(ex.vary):
        return None
    plan = compiled(ex.name, slip)
    formula = plan.formulas.get(q.name) if plan else None
    if plan is None or formula is None:
        return None
    value = formula.value(plan.layout.written(ex, variant))
    if formula.outputs:
        if reference_rule is not None and formula.exact.probes != reference_rule.probes:
            return None
        return Target(value, formula.rule_for(plan.layout.exact_values(ex.params(variant))))
    return Target(value, value)


def _rule(t: Target) -> Rule | None:
    return t.exact if isinstance(t.exact, Rule) else None


def slips(q: Question) -> list[tuple[str, Slip]]:
    """Every slip that stands for one of the question's mistakes (each form, rounded or not)."""
    result = []
    for mistake in q.mistakes:
        for slip in _forms(q, mistake):
            result.append((mistake, slip))
            if q.rounding is not None and slip.rounding is None:
                result.append((mistake, replace(slip, rounding=q.rounding)))
    return result


def _forms(q: Question, mistake: str) -> list[Slip]:
    rounding = ROUNDING_DIGITS if mistake == "rounded" else None
    return [Slip(mistake, form, rounding) for form in range(MISTAKE_FORMS.get(mistake, 1))]


def pair_slips(q: Question) -> list[tuple[str, Slip]]:
    """Every two of the question's mistakes made at once, each form of each (rounded or not):
    the id joins the two in the order the spec lists them, "sign+factor_two"."""
    result = []
    for first, second in combinations(q.mistakes, 2):
        for a, b in product(_forms(q, first), _forms(q, second)):
            both = a.with_(b)
            result.append((f"{first}+{second}", both))
            if q.rounding is not None and both.rounding is None:
                result.append((f"{first}+{second}", replace(both, rounding=q.rounding)))
    return result


def mistake_targets(
    qid: str, variant: Variant = None, given: Variant = None
) -> list[tuple[str, Target]]:
    """The answer each known mistake leads to, in the order the spec lists the mistakes."""
    if not given:
        return list(_mistake_targets_cached(qid, freeze_variant(variant) if variant else None))
    return _mistake_targets(qid, variant, given)


@lru_cache(maxsize=4096)
def _mistake_targets_cached(qid: str, frozen_variant: Any) -> tuple[tuple[str, Target], ...]:
    return tuple(_mistake_targets(qid, thaw_variant(frozen_variant), None))


def pair_targets(qid: str, variant: Variant = None) -> list[tuple[str, Target]]:
    """The answer of every two mistakes made at once, where it is neither the reference nor what
    one of the mistakes alone gives (the one mistake is then the simpler explanation)."""
    return list(_pair_targets_cached(qid, freeze_variant(variant) if variant else None))


@lru_cache(maxsize=4096)
def _pair_targets_cached(qid: str, frozen_variant: Any) -> tuple[tuple[str, Target], ...]:
    variant = thaw_variant(frozen_variant)
    ex, q = locate(qid)
    ref = reference(qid, variant)
    ref_rule = _rule(ref.target)
    explained = [ref.target, *ref.alternatives, *(t for _, t in mistake_targets(qid, variant))]
    found: list[tuple[str, Target]] = []
    for pair, slip in pair_slips(q):
        # exact per variant: a formula compiled for every pair would cost more than it saves
        t = _derived(ex, q, variant, slip, ref_rule, by_formula=False)
        if not any(coincide(t, other) for other in explained):
            found.append((pair, t))
    return tuple(found)


def coincide(a: Target, b: Target) -> bool:
    """The same answer, but for the last bits of floating point."""
    return _same(a.value, b.value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        except (TypeError, ValueError):
            return False
        return x.shape == y.shape and bool(np.allclose(x, y, rtol=1e-9, atol=1e-12, equal_nan=True))
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, SolutionSet) and isinstance(b, SolutionSet):
        return sp.srepr(a.condition) == sp.srepr(b.condition)
    if isinstance(a, sp.Basic) and isinstance(b, sp.Basic):
        return sp.expand(a - b) == 0
    return type(a) is type(b) and a == b


def derive_assignment(assignment: str, variant: Variant = None) -> None:
    """Every reference and mistake of an assignment derived now, and cached for what follows."""
    for q in exercise(assignment).questions:
        qid = f"{assignment}.{q.name}"
        reference(qid, variant)
        mistake_targets(qid, variant)


def _mistake_targets(qid: str, variant: Variant, given: Variant) -> list[tuple[str, Target]]:
    ex, q = locate(qid)
    ref_rule = _rule(reference(qid, variant).target)
    found = []
    for mistake, slip in slips(q):
        if given:
            found.append((mistake, target(q, derive(ex, variant, slip, given)[q.name], ref_rule)))
        else:
            found.append((mistake, _derived(ex, q, variant, slip, ref_rule)))
    return found
