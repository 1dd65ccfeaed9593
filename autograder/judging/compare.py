"""Pure comparisons of a canonical answer with a target: the tolerance rule, sets, tables, choices.

No I/O and no state: (answer, target, tolerance) → Outcome, so every rule is one table of tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from autograder.judging.forms import FormError, to_shape
from autograder.model.spec import Tolerance
from autograder.model.values import SolutionSet


@dataclass(frozen=True)
class Outcome:
    """Whether an answer meets a target and, if not, the first entry (or probe) where it does not."""

    correct: bool
    where: tuple[int, ...] | None = None


RIGHT = Outcome(True)


def close(answer: np.ndarray, target: np.ndarray, tol: Tolerance) -> np.ndarray:
    """|a − r| ≤ atol + rtol·|r| element by element; NaN and inf are never close."""
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.abs(answer - target) <= tol.atol + tol.rtol * np.abs(target)
    return ok & np.isfinite(answer)


def printed_half_unit(value: float) -> float:
    """Half a unit in the last place of the shortest decimal that prints `value` (0.15 → 0.005)."""
    text = repr(float(value))
    mantissa, _, exponent = text.partition("e")
    decimals = len(mantissa.partition(".")[2]) if "." in mantissa else 0
    if mantissa.endswith(".0"):
        decimals = 0
    return 0.5 * 10.0 ** (int(exponent or 0) - decimals)


def _meaningful(value: float) -> bool:
    """Printed with two decimals or two significant digits: precise enough to say what it rounds."""
    text = repr(abs(float(value))).partition("e")[0].removesuffix(".0")
    whole, _, decimals = text.partition(".")
    digits = (whole + decimals).lstrip("0")
    return len(decimals) >= 2 or len(digits) >= 2


def consistent(answer: np.ndarray, target: np.ndarray, tol: Tolerance) -> np.ndarray:
    """Close by the tolerance rule, or equal to the target at the precision the answer is printed.

    Used to name mistakes (a copied slide value 0.15 is the rounded 0.1547), never to accept.
    """
    ok = close(answer, target, tol)
    flat_a, flat_t, flat_ok = answer.reshape(-1), target.reshape(-1), ok.reshape(-1).copy()
    for i in np.flatnonzero(~flat_ok):
        a, t = float(flat_a[i]), float(flat_t[i])
        if np.isfinite(a) and np.isfinite(t) and _meaningful(a):
            flat_ok[i] = abs(a - t) <= printed_half_unit(a) * (1 + 1e-9)
    return flat_ok.reshape(ok.shape)


def compare_array(
    answer: np.ndarray, target: np.ndarray, tol: Tolerance, lenient: bool = False
) -> Outcome:
    """Shape first (a FormError if it cannot be fitted), then the tolerance rule."""
    fitted = to_shape(answer, target.shape)
    if lenient:
        # naming a mistake, a NaN or an overflow where the mistake gives the same is what it gives
        same_not_finite = (np.isnan(fitted) & np.isnan(target)) | (
            np.isinf(fitted) & (fitted == target)
        )
        ok = consistent(fitted, target, tol) | same_not_finite
    else:
        ok = close(fitted, target, tol)
    if ok.all():
        return RIGHT
    return Outcome(False, tuple(int(i) for i in np.argwhere(~ok)[0]))


def nearest_member(point: np.ndarray, solutions: SolutionSet) -> np.ndarray:
    """The point of an affine solution set (equalities, half-spaces) nearest to `point`."""
    active = []
    values = dict(zip(solutions.variables, point, strict=True))
    for relation in solutions.constraints():
        g = relation.lhs - relation.rhs
        if isinstance(relation, sp.Eq) or not bool(relation.subs(values)):
            active.append(g)
    if not active:
        return point
    a = np.array([[float(g.diff(v)) for v in solutions.variables] for g in active])
    c = np.array([float(g.subs(dict.fromkeys(solutions.variables, 0))) for g in active])
    return point - np.linalg.pinv(a) @ (a @ point + c)


def in_set(answer: np.ndarray, solutions: SolutionSet, tol: Tolerance) -> Outcome:
    """Right when some member lies within the tolerance box around the answer.

    For an affine constraint g(w) = n·w + c (= 0 or ≤ 0) the box [a − t, a + t] reaches values of g
    within Σ|nᵢ|tᵢ of g(a), so the test is exact for one constraint and per constraint for several.
    """
    point = to_shape(answer, (len(solutions.variables),))
    slack = tol.atol + tol.rtol * np.abs(point)
    values = dict(zip(solutions.variables, point, strict=True))
    for relation in solutions.constraints():
        g = relation.lhs - relation.rhs
        normal = np.array([float(g.diff(v)) for v in solutions.variables])
        value = float(g.subs(values))
        reach = float(np.abs(normal) @ slack) * (1 + 1e-12)
        ok = abs(value) <= reach if isinstance(relation, sp.Eq) else value - reach <= 0
        if not ok:
            return Outcome(False)
    return RIGHT


def compare_outputs(
    outputs: Sequence[Any], expected: Sequence[Any], tol: Tolerance, lenient: bool = False
) -> Outcome:
    """A function's outputs on the grader's probes against the expected outputs, probe by probe.

    An output is an array, a tuple of arrays (a function returning several results), or the
    FormError it raised; the first form problem is raised, the first wrong probe is reported.
    """
    first_wrong: int | None = None
    for i, (got, want) in enumerate(zip(outputs, expected, strict=True)):
        if isinstance(got, FormError):
            raise FormError(got.key, {**got.details, "probe": i})
        parts_want = want if isinstance(want, tuple) else (want,)
        parts_got = _parts(got) if isinstance(want, tuple) else (got,)
        if len(parts_got) != len(parts_want):
            raise FormError(
                "parts", {"expected": len(parts_want), "got": len(parts_got), "probe": i}
            )
        for g, w in zip(parts_got, parts_want, strict=True):
            try:
                outcome = compare_array(g, w, tol, lenient)
            except FormError as error:
                raise FormError(error.key, {**error.details, "probe": i}) from None
            if not outcome.correct and first_wrong is None:
                first_wrong = i
    return RIGHT if first_wrong is None else Outcome(False, (first_wrong,))


def _parts(got: Any) -> tuple[Any, ...]:
    """The results of a function expected to return several: a tuple as it is, an array along its
    first axis (a list `[dw, db]` reads as one), anything else (one number) as a single result."""
    if isinstance(got, tuple):
        return got
    if getattr(got, "ndim", 0) >= 1:
        return tuple(got)
    return (got,)


def compare_choice(key: str, target: str | frozenset[str]) -> Outcome:
    hit = key in target if isinstance(target, frozenset) else key == target
    return RIGHT if hit else Outcome(False)
