"""Grading one answer: its form, then right or wrong by the tolerance rule, then which mistake it is.

`grade_answer` is the whole of it for one question; every failure of the answer becomes a verdict.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import sympy as sp

from autograder import feedback, plain
from autograder.compare import (
    Outcome,
    close,
    compare_array,
    compare_choice,
    compare_outputs,
    in_set,
)
from autograder.deadline import OutOfTime, excluded, within
from autograder.forms import (
    FormError,
    most_entries,
    to_array,
    to_choice,
    to_expression_text,
    to_output,
    to_shape,
    to_table,
    unanswered,
)
from autograder.formulas import bounded, equivalent, parse_formula
from autograder.references import (
    Reference,
    Target,
    derive,
    freeze_variant,
    locate,
    mistake_targets,
    next_entry,
    pair_targets,
    reference,
    steps,
    target,
    thaw_variant,
)
from autograder.spec import Kind, Question, Slip, Tolerance
from autograder.values import SolutionSet, to_student

Status = Literal["correct", "partial", "wrong", "invalid", "unanswered"]

# Form problems whose own message already names what is asked (the columns, the options).
SAYS_WHAT_IS_ASKED = frozenset({"columns", "not_formula", "unknown_option", "formula_symbol"})

# A student's function gets this long for all the grader's probes together.
FUNCTION_SECONDS = 10.0
# What a function raised is named in its feedback this far (an exception's own text is the student's).
RAISED_TEXT = 120
# Judging one answer (its form, the comparisons, the mistakes it may be) gets this long, more than
# a function gets on its probes (so that a slow function is named as one); the grader's own
# derivations, done once for every later answer, are not counted.
ANSWER_SECONDS = 2 * FUNCTION_SECONDS


@dataclass(frozen=True)
class Outputs:
    """A student's function as the sandbox reports it: ("result", value) or ("raised", message) per probe."""

    results: tuple[tuple[str, Any], ...]
    # the bound in seconds the function ran past on the probes, if it did
    timeout: float | None = None


@dataclass(frozen=True)
class Verdict:
    """The grade of one answer: `score` in [0, 1], the recognised mistake, feedback in one language."""

    qid: str
    status: Status
    score: float
    mistake: str | None
    feedback: str
    error: str | None = None

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.qid,
            "status": self.status,
            "score": self.score,
            "correct": self.correct,
            "mistake": self.mistake,
            "feedback": self.feedback,
            "error": self.error,
        }


def grade_answer(
    qid: str,
    answer: Any,
    variant: Mapping[str, Any] | None = None,
    lang: str = "en",
    given: Mapping[str, Any] | None = None,
    seconds: float = ANSWER_SECONDS,
) -> Verdict:
    """Grade what a student assigned for question `qid` (e.g. "minima.argmin_L1").

    `given` holds the student's answers to earlier questions of the same assignment: a wrong answer
    that follows from them by the right rule is named as a follow-on error ("carried").
    Judging the answer is bounded: an answer that takes longer than `seconds` to judge (on the main
    thread) gets the verdict that it could not be judged in that time, and no points.
    """
    lang = feedback.check_language(lang)
    _, q = locate(qid)
    ref = reference(qid, variant)
    try:
        with within(seconds):
            return _judged(qid, q, answer, ref, variant, lang, given)
    except OutOfTime:
        text = feedback.message("verdict", "not_judged", lang, seconds=f"{seconds:g}")
        return Verdict(qid, "invalid", 0.0, None, text, "not_judged")


def _judged(
    qid: str,
    q: Question,
    answer: Any,
    ref: Reference,
    variant: Mapping[str, Any] | None,
    lang: str,
    given: Mapping[str, Any] | None,
) -> Verdict:
    try:
        canonical = canonical_answer(q, answer, ref)
    except FormError as problem:
        return form_verdict(qid, problem, lang, ref.probes)
    form_problem: FormError | None = None
    try:
        outcome = judge(q, canonical, ref.target)
    except FormError as problem:
        outcome, form_problem = Outcome(False), problem
    if outcome.correct:
        return Verdict(qid, "correct", 1.0, None, feedback.message("verdict", "correct", lang))
    if _an_alternative(q, canonical, ref):
        return Verdict(qid, "correct", 1.0, None, feedback.message("verdict", "alternative", lang))
    named = _recognise(qid, q, canonical, variant, given, lang)
    if named is not None:
        return named
    if form_problem is not None:
        return form_verdict(qid, form_problem, lang, ref.probes)
    if q.kind is Kind.CHOICE and canonical not in q.options:
        shown = ", ".join(q.options) if len(q.options) <= 8 else ", ".join([*q.options][:8]) + ", …"
        unknown = FormError("unknown_option", {"answer": canonical, "options": shown})
        return form_verdict(qid, unknown, lang)
    if q.kind is Kind.FUNCTION and _any_not_finite(canonical):
        return form_verdict(qid, FormError("not_finite"), lang)
    partly = _carried_forward(qid, q, canonical, ref, variant, lang)
    if partly is not None:
        return partly
    text = " ".join(
        t for t in (feedback.message("verdict", "wrong", lang), _where(q, ref, outcome, lang)) if t
    )
    return Verdict(qid, "wrong", 0.0, None, text)


def is_right(qid: str, answer: Any, variant: Mapping[str, Any] | None = None) -> bool:
    """Whether `answer` is right for a variant, without looking for the mistake it may be: how the
    grader asks whether a wrong answer is right for a classmate's numbers."""
    _, q = locate(qid)
    with excluded():
        ref = reference(qid, variant)
    try:
        canonical = canonical_answer(q, answer, ref)
        return judge(q, canonical, ref.target).correct or _an_alternative(q, canonical, ref)
    except FormError:
        return False


def _an_alternative(q: Question, canonical: Any, ref: Reference) -> bool:
    by_hand = _by_hand(q)
    return any(_matches(by_hand, canonical, t, lenient=False) for t in ref.alternatives)


def _by_hand(q: Question) -> Question:
    """The question as a calculation by hand answers it: to `rounding` decimals, half a unit either way."""
    if q.rounding is None:
        return q
    half_unit = 0.5 * 10.0**-q.rounding * (1 + 1e-9)
    return replace(q, tolerance=Tolerance(q.tolerance.rtol, max(q.tolerance.atol, half_unit)))


def canonical_answer(q: Question, answer: Any, ref: Reference) -> Any:
    """The answer in its kind's canonical form (a FormError when it cannot have one)."""
    if q.kind in (Kind.NUMBER, Kind.VECTOR, Kind.MATRIX, Kind.POINT_IN_SET):
        return to_array(answer, limit=most_entries(q.shape))
    if q.kind is Kind.TABLE:
        return to_table(answer, q.columns, most_entries(q.shape))
    if q.kind is Kind.EXPRESSION:
        return parse_formula(to_expression_text(answer), q.variables)
    if q.kind is Kind.CHOICE:
        return _option(q, to_choice(answer))
    if q.kind is Kind.FUNCTION:
        if unanswered(answer):
            raise FormError("unanswered")
        if isinstance(answer, Outputs):
            returned = reported_outputs(answer)
        elif not callable(answer):
            raise FormError("not_callable")
        else:
            returned = call_on_probes(answer, ref.probes)
        # one result per probe: what a run did not report (it was cut short) has none
        missing = [FormError("raised", {"error": "no result"})] * (len(ref.value) - len(returned))
        results = [*returned[: len(ref.value)], *missing]
        return [_as_compared(r, expected) for r, expected in zip(results, ref.value, strict=True)]
    raise AssertionError(f"unknown kind {q.kind}")


def call_on_probes(function: Any, probes: Sequence[tuple[Any, ...]]) -> list[Any]:
    """The student's function on each probe, in a forked child bounded in time: per probe what it
    returned, as plain data (the sandbox's encoding), or the FormError it raised."""
    outputs = bounded(_call_all, (function, probes), FUNCTION_SECONDS)
    if outputs is None:
        raise FormError("timeout", {"seconds": FUNCTION_SECONDS})
    return [
        FormError(**output) if isinstance(output, dict) else plain.decode(output[0])
        for output in outputs
    ]


def _call_all(function: Any, probes: Sequence[tuple[Any, ...]]) -> list[Any]:
    # what the function prints is not the grader's output
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return [_call_one(function, args) for args in probes]


def _call_one(function: Any, args: tuple[Any, ...]) -> Any:
    """[encoded result], or the keyword arguments of the FormError it led to."""
    try:
        return [plain.encode(function(*[to_student(a) for a in args]))]
    except Exception as error:
        return {"key": "raised", "details": {"error": f"{type(error).__name__}: {str(error)[:80]}"}}


def reported_outputs(answer: Outputs) -> list[Any]:
    if answer.timeout is not None:
        raise FormError("timeout", {"seconds": answer.timeout})
    return [
        value if how == "result" else FormError("raised", {"error": str(value)[:RAISED_TEXT]})
        for how, value in answer.results
    ]


def _as_compared(result: Any, expected: Any) -> Any:
    """One probe's result in the structure of the expected one, or the FormError that says why not."""
    if isinstance(result, FormError):
        return result
    parts = expected if isinstance(expected, tuple) else (expected,)
    limit = most_entries((sum(int(np.size(p)) for p in parts),))
    try:
        return to_output(result, len(parts) if isinstance(expected, tuple) else 1, limit)
    except FormError as problem:
        return problem


def _option(q: Question, key: str) -> str:
    """The option a choice names, by its key or by its label (read as the answer was)."""
    if key in q.options:
        return key
    by_label = {to_choice(label): k for k, label in q.options.items()}
    return by_label.get(key, key)


def judge(q: Question, canonical: Any, t: Target, lenient: bool = False) -> Outcome:
    """Compare a canonical answer with one target (the reference, an alternative or a mistake)."""
    if isinstance(t.value, SolutionSet):
        return in_set(canonical, t.value, q.tolerance)
    if q.kind is Kind.FUNCTION:
        return compare_outputs(canonical, t.value, q.tolerance, lenient)
    if q.kind is Kind.EXPRESSION:
        return Outcome(equivalent(canonical, t.value, q.variables, q.tolerance))
    if q.kind is Kind.CHOICE:
        return compare_choice(canonical, t.value)
    return compare_array(canonical, t.value, q.tolerance, lenient)


def _matches(q: Question, canonical: Any, t: Target, lenient: bool) -> bool:
    try:
        return judge(q, canonical, t, lenient).correct
    except FormError:
        return False


def _recognise(
    qid: str,
    q: Question,
    canonical: Any,
    variant: Mapping[str, Any] | None,
    given: Mapping[str, Any] | None,
    lang: str,
) -> Verdict | None:
    """The mistake a wrong answer is: one slip, else a right step from the student's own earlier
    answer, else two slips at once. Where several fit, they are named together, never one guessed.

    Each is tried within the tolerance first, then at the precision the answer is printed with
    (0.15 for 0.1547): an answer that one explanation fits exactly is not named after another
    that it fits only once rounded.
    """
    assignment = qid.partition(".")[0]
    earlier = {k: v for k, v in (given or {}).items() if k != q.name}
    follows = _following(qid, q, variant, earlier) if earlier else None
    with excluded():
        singles = mistake_targets(qid, variant)
    for lenient in (False, True):
        named = _fitting(q, canonical, singles, lenient)
        if named:
            return _named(qid, assignment, named, lang)
        if follows is not None and _matches(q, canonical, follows, lenient):
            source = ", ".join(sorted(earlier))
            text = feedback.mistake_text(assignment, "carried", lang, source=source)
            return Verdict(qid, "wrong", 0.0, "carried", text)
        with excluded():
            pairs = named_pairs(qid, variant)
        named = _fitting(q, canonical, pairs, lenient)
        if named:
            return _named(qid, assignment, named, lang)
    return None


def _following(
    qid: str, q: Question, variant: Mapping[str, Any] | None, earlier: Mapping[str, Any]
) -> Target | None:
    """The answer that follows by the right rule from the student's own earlier answers."""
    ex, _ = locate(qid)
    try:
        return target(q, derive(ex, variant, given=earlier)[q.name])
    except Exception:
        # the earlier answers are the student's: any that cannot be used explain nothing
        return None


def named_pairs(qid: str, variant: Mapping[str, Any] | None = None) -> list[tuple[str, Target]]:
    """The pairs of mistakes the grader can name: those whose answer lies outside the tolerance of
    the reference, of what else is right and of every single mistake's answer (which explains it
    more simply), and that a student's answer could reach at all (no inf, no NaN in a value)."""
    return list(_named_pairs(qid, freeze_variant(variant) if variant else None))


@lru_cache(maxsize=4096)
def _named_pairs(qid: str, frozen_variant: Any) -> tuple[tuple[str, Target], ...]:
    variant = thaw_variant(frozen_variant)
    _, q = locate(qid)
    ref = reference(qid, variant)
    simpler = [ref.target, *ref.alternatives, *(t for _, t in mistake_targets(qid, variant))]
    return tuple(
        (pair, t)
        for pair, t in pair_targets(qid, variant)
        if _reachable(q, t) and not any(_within(q, t, other) for other in simpler)
    )


def _reachable(q: Question, t: Target) -> bool:
    if q.kind in (Kind.NUMBER, Kind.VECTOR, Kind.MATRIX, Kind.TABLE):
        return bool(np.isfinite(np.asarray(t.value, dtype=float)).all())
    return True


def _within(q: Question, t: Target, other: Target) -> bool:
    """Whether the answer `t` leads to would be taken for `other`'s within the tolerance."""
    if isinstance(t.value, SolutionSet | frozenset):
        return False
    if q.kind is Kind.POINT_IN_SET and isinstance(other.value, SolutionSet):
        return _matches(q, np.asarray(t.value, dtype=float), other, lenient=False)
    canonical = t.value
    if q.kind is Kind.FUNCTION:
        canonical = [FormError("not_finite") if _not_finite(v) else v for v in t.value]
    return _matches(q, canonical, other, lenient=False)


def _not_finite(output: Any) -> bool:
    parts = output if isinstance(output, tuple) else (output,)
    return any(not np.isfinite(np.asarray(p, dtype=float)).all() for p in parts)


def _fitting(
    q: Question, canonical: Any, targets: Sequence[tuple[str, Target]], lenient: bool
) -> list[str]:
    """The mistakes (in the spec's order, each once) whose answer the canonical answer fits."""
    found: list[str] = []
    for mistake, t in targets:
        if mistake not in found and _matches(q, canonical, t, lenient):
            found.append(mistake)
    return found


def _named(qid: str, assignment: str, mistakes: list[str], lang: str) -> Verdict:
    """One mistake by its id; two at once as "a+b"; mistakes that fit alike as "a|b"."""
    mistake = "|".join(mistakes)
    return Verdict(qid, "wrong", 0.0, mistake, feedback.mistake_text(assignment, mistake, lang))


def _carried_forward(
    qid: str,
    q: Question,
    canonical: Any,
    ref: Reference,
    variant: Mapping[str, Any] | None,
    lang: str,
) -> Verdict | None:
    """Partial credit for a trajectory: each entry that is right, or right from the entries before it.

    An entry that is wrong only because an earlier one was wrong, but follows from it by the right
    rule, earns its share (error carried forward); the feedback names where the first error is.
    """
    assignment = qid.partition(".")[0]
    if not isinstance(canonical, np.ndarray) or q.shape is None:
        return None
    with excluded():
        rules = [steps(assignment, variant).get(q.name)]
        if rules[0] is not None and q.rounding is not None:
            rules.append(steps(assignment, variant, Slip(rounding=q.rounding)).get(q.name))
    if rules[0] is None:
        return None
    try:
        answer = to_shape(canonical, q.shape)
    except FormError:
        return None
    by_hand = _by_hand(q).tolerance
    expected = [np.asarray(t.value, dtype=float) for t in (ref.target, *ref.alternatives)]
    credit = np.zeros(answer.shape, dtype=bool)
    carried = np.zeros(answer.shape, dtype=bool)
    for k in range(answer.shape[0]):
        for e in expected:
            credit[k] |= close(answer[k], e[k], by_hand)
        for rule in rules if k > 0 and not credit[k].all() else ():
            follows = next_entry(rule, answer[:k])
            if follows is not None:
                carried[k] |= ~credit[k] & close(
                    answer[k], follows.reshape(answer[k].shape), by_hand
                )
        credit[k] |= carried[k]
    # an entry (a number of a vector, a row of a table) counts when all of it does
    counted = credit.reshape(answer.shape[0], -1).all(axis=1)
    if not counted.any():
        return None
    first = tuple(int(i) for i in np.argwhere(~credit)[0])
    if q.kind is Kind.TABLE:
        where = feedback.message("where", "cell", lang, row=first[0], column=q.columns[first[1]])
    else:
        where = feedback.message("where", "entry", lang, where=list(first))
    key = "partial_carried" if carried.any() else "partial"
    text = feedback.message(
        "verdict", key, lang, credited=int(counted.sum()), total=counted.size, where=where
    )
    mistake = "carried_forward" if carried.any() else None
    return Verdict(qid, "partial", float(counted.mean()), mistake, text)


def form_verdict(
    qid: str, problem: FormError, lang: str, probes: Sequence[tuple[Any, ...]] = ()
) -> Verdict:
    """An answer without the asked form: what is wrong with it, where, and what is asked."""
    status: Status = "unanswered" if problem.key == "unanswered" else "invalid"
    sentences = [
        feedback.message("verdict", status, lang),
        feedback.message("form", problem.key, lang, **problem.details),
    ]
    probe = problem.details.get("probe")
    if isinstance(probe, int) and 0 <= probe < len(probes):
        sentences.append(feedback.message("where", "input", lang, args=_show_args(probes[probe])))
    if status == "invalid" and problem.key not in SAYS_WHAT_IS_ASKED:
        sentences.append(asked(locate(qid)[1], lang))
    return Verdict(qid, status, 0.0, None, " ".join(sentences), problem.key)


def asked(q: Question, lang: str) -> str:
    """What the question asks for, in one sentence: the kind, and its shape, columns or options."""
    shape = q.shape or ()
    details: dict[str, Any] = {
        "n": shape[0] if shape else "",
        "rows": shape[0] if len(shape) == 2 else "",
        "cols": shape[1] if len(shape) == 2 else "",
        "columns": ", ".join(q.columns),
        "signature": f"def {q.name}({', '.join(q.args)})",
        "variables": ", ".join(q.variables),
        "options": ", ".join(list(q.options)[:8]) + (", …" if len(q.options) > 8 else ""),
    }
    return feedback.message("asked", q.kind.value, lang, **details)


def _any_not_finite(outputs: list[Any]) -> bool:
    for out in outputs:
        parts = out if isinstance(out, tuple) else (out,)
        if any(isinstance(p, np.ndarray) and not np.isfinite(p).all() for p in parts):
            return True
    return False


def _where(q: Question, ref: Reference, outcome: Outcome, lang: str) -> str:
    if outcome.where is None:
        return feedback.message("where", "set", lang) if q.kind is Kind.POINT_IN_SET else ""
    if q.kind is Kind.TABLE:
        row, column = outcome.where
        return feedback.message("where", "cell", lang, row=row, column=q.columns[column])
    if q.kind is Kind.FUNCTION:
        args = ref.probes[outcome.where[0]]
        return feedback.message("where", "probe", lang, args=_show_args(args))
    return feedback.message("where", "entry", lang, where=list(outcome.where))


def _show_args(args: tuple[Any, ...]) -> str:
    shown = []
    for a in args:
        value = to_student(a)
        if isinstance(value, np.ndarray):
            shown.append(np.array2string(value, precision=4, separator=", "))
        elif isinstance(value, float):
            shown.append(f"{value:.6g}")
        else:
            shown.append(str(value) if not isinstance(value, sp.Basic) else sp.sstr(value))
    return "(" + ", ".join(shown) + ")"
