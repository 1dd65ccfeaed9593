"""Reference answers and the answers of each known mistake, derived by SymPy from an exercise's spec.

A derivation runs once per (assignment, variant, slip) and is cached; `reference(qid)` reads it.
The catalogue's and the exact derivation's names are re-exported here: the derivation's interface.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import combinations, product
from typing import Any

import numpy as np
import sympy as sp

from autograder.derivation.derived import NO_SLIP as NO_SLIP
from autograder.derivation.derived import Target as Target
from autograder.derivation.derived import Variant as Variant
from autograder.derivation.derived import derive as derive
from autograder.derivation.derived import freeze_variant as freeze_variant
from autograder.derivation.derived import next_entry as next_entry
from autograder.derivation.derived import steps as steps
from autograder.derivation.derived import target as target
from autograder.derivation.derived import thaw_variant as thaw_variant
from autograder.derivation.lambdified import compiled
from autograder.model.catalogue import ASSIGNMENTS as ASSIGNMENTS
from autograder.model.catalogue import GradedByTeacher as GradedByTeacher
from autograder.model.catalogue import UnknownAssignment as UnknownAssignment
from autograder.model.catalogue import UnknownQuestion as UnknownQuestion
from autograder.model.catalogue import autograded
from autograder.model.catalogue import exercise as exercise
from autograder.model.catalogue import exercises as exercises
from autograder.model.catalogue import locate as locate
from autograder.model.catalogue import question_ids as question_ids
from autograder.model.spec import MISTAKE_FORMS, Exercise, Question, Slip
from autograder.model.values import Rule, SolutionSet, numeric

# The slip whose derivation every mistake of that name comes from; "rounded" rounds to 3 decimals.
ROUNDING_DIGITS = 3


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


@dataclass(frozen=True)
class Seed:
    """Everything derived for one question of the seed's numbers: its reference and the answers it
    is also right in, what each known mistake gives, and each two mistakes made at once (with the
    slip of each). What the store keeps (`autograder.derivation.store`)."""

    reference: Target
    alternatives: tuple[Target, ...]
    mistakes: tuple[tuple[str, Slip, Target], ...]
    pairs: tuple[tuple[str, Slip, Target], ...]


# Where the seed's derivations may be read instead of derived: set by `store.use`; called once per
# assignment with its name, it returns the seeds of its questions by id, or None to derive them.
SeedSource = Callable[[str], Mapping[str, Seed] | None]
_source: list[SeedSource] = []
_seeds: dict[str, Seed] = {}
_looked_up: set[str] = set()
# the grading run's threads ask at once: one reads (or derives), the others wait for it
_reading = threading.RLock()


def read_seeds_from(source: SeedSource | None) -> SeedSource | None:
    """Read the seed's derivations from `source` from now on (None: derive them, as by default);
    returns the source read from until now."""
    with _reading:
        before = _source[0] if _source else None
        _source[:] = [] if source is None else [source]
        _looked_up.clear()
        _seeds.clear()
    return before


def _seed(qid: str) -> Seed | None:
    assignment = qid.partition(".")[0]
    with _reading:
        if _source and assignment not in _looked_up:
            _looked_up.add(assignment)  # marked first: the source may derive, and come back here
            found = _source[0](assignment)
            if found is not None:
                _seeds.update(found)
        return _seeds.get(qid)


def seed(qid: str) -> Seed:
    """One question's seed derivations, derived now (or found where they were read)."""
    stored = _seed(qid)
    if stored is not None:
        return stored
    ref = reference(qid)
    _, q = locate(qid)
    mistakes = tuple(
        (m, slip, t) for (m, t), (_, slip) in zip(mistake_targets(qid), slips(q), strict=True)
    )
    return Seed(ref.target, ref.alternatives, mistakes, tuple(_pairs(qid, None)))


def reference(qid: str, variant: Variant = None) -> Reference:
    """The reference for question `qid` (e.g. "minima.argmin_L1") of a variant (default: the seed's);
    a question the teacher grades has none (GradedByTeacher)."""
    if not variant:
        stored = _seed(qid)
        if stored is not None:
            _, q = locate(qid)
            return Reference(qid, q, stored.reference, stored.alternatives)
    return _reference_cached(qid, freeze_variant(variant) if variant else None)


# a class of a few hundred students with their own variants, every question of an assignment
@lru_cache(maxsize=65536)
def _reference_cached(qid: str, frozen_variant: Any) -> Reference:
    variant = thaw_variant(frozen_variant)
    ex, q = autograded(qid)
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
    if not given and not variant:
        stored = _seed(qid)
        if stored is not None:
            return [(mistake, t) for mistake, _, t in stored.mistakes]
    if not given:
        return list(_mistake_targets_cached(qid, freeze_variant(variant) if variant else None))
    return _mistake_targets(qid, variant, given)


@lru_cache(maxsize=4096)
def _mistake_targets_cached(qid: str, frozen_variant: Any) -> tuple[tuple[str, Target], ...]:
    return tuple(_mistake_targets(qid, thaw_variant(frozen_variant), None))


def pair_targets(qid: str, variant: Variant = None) -> list[tuple[str, Target]]:
    """The answer of every two mistakes made at once, where it is neither the reference nor what
    one of the mistakes alone gives (the one mistake is then the simpler explanation)."""
    if not variant:
        stored = _seed(qid)
        if stored is not None:
            return [(pair, t) for pair, _, t in stored.pairs]
    return [(pair, t) for pair, _, t in _pairs(qid, variant)]


def _pairs(qid: str, variant: Variant) -> tuple[tuple[str, Slip, Target], ...]:
    return _pairs_cached(qid, freeze_variant(variant) if variant else None)


@lru_cache(maxsize=4096)
def _pairs_cached(qid: str, frozen_variant: Any) -> tuple[tuple[str, Slip, Target], ...]:
    variant = thaw_variant(frozen_variant)
    ex, q = locate(qid)
    ref = reference(qid, variant)
    ref_rule = _rule(ref.target)
    explained = [ref.target, *ref.alternatives, *(t for _, t in mistake_targets(qid, variant))]
    found: list[tuple[str, Slip, Target]] = []
    for pair, slip in pair_slips(q):
        # exact per variant: a formula compiled for every pair would cost more than it saves
        t = _derived(ex, q, variant, slip, ref_rule, by_formula=False)
        if not any(coincide(t, other) for other in explained):
            found.append((pair, slip, t))
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
