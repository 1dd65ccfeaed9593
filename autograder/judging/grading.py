"""Grading one answer: its form, then right or wrong by the tolerance rule, then which mistake it is.

`grade_answer` is the whole of it for one question; every failure of the answer becomes a verdict.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from autograder.derivation.references import (
    Reference,
    locate,
    reference,
)
from autograder.judging import feedback
from autograder.judging.compare import (
    Outcome,
)
from autograder.judging.deadline import OutOfTime, excluded, within
from autograder.judging.forms import (
    FormError,
    most_entries,
    to_array,
    to_choice,
    to_expression_text,
    to_output,
    to_table,
    unanswered,
)
from autograder.judging.formulas import bounded, parse_formula
from autograder.judging.matching import by_hand, judge, matches
from autograder.judging.mistakes import named_pairs as named_pairs
from autograder.judging.mistakes import recognise
from autograder.judging.partial import carried_forward
from autograder.judging.verdict import Outputs as Outputs
from autograder.judging.verdict import Status as Status
from autograder.judging.verdict import Verdict as Verdict
from autograder.model.spec import Kind, Question
from autograder.model.values import to_student
from autograder.sandbox import plain

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
# A wrong answer's next step names this many of the mistakes its question is known for.
USUAL_NAMED = 4


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
    named = recognise(qid, q, canonical, variant, given, lang)
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
    partly = carried_forward(qid, q, canonical, ref, variant, lang)
    if partly is not None:
        return partly
    said = (feedback.message("verdict", "wrong", lang), _where(q, ref, outcome, lang))
    text = " ".join(t for t in (*said, next_step(qid, q, lang)) if t)
    return Verdict(qid, "wrong", 0.0, None, text)


def next_step(qid: str, q: Question, lang: str) -> str:
    """What to do about a wrong answer that is no typical mistake: a step by the question's kind,
    and the mistakes the question is known for, by their names (never their values)."""
    step = feedback.message("next_step", q.kind.value, lang)
    if not q.mistakes:
        return step
    assignment = qid.partition(".")[0]
    named = dict.fromkeys(feedback.mistake_name(assignment, m, lang) for m in q.mistakes)
    names = "; ".join(list(named)[:USUAL_NAMED])
    return f"{step} {feedback.message('next_step', 'usual', lang, names=names)}"


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
    loose = by_hand(q)
    return any(matches(loose, canonical, t, lenient=False) for t in ref.alternatives)


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


def form_verdict(
    qid: str, problem: FormError, lang: str, probes: Sequence[tuple[Any, ...]] = ()
) -> Verdict:
    """An answer without the asked form: what is wrong with it, where, and what is asked."""
    status: Status = "unanswered" if problem.key == "unanswered" else "invalid"
    details = dict(problem.details)
    if isinstance(details.get("where"), tuple):
        details["where"] = feedback.position(details["where"], lang)
    sentences = [
        feedback.message("verdict", status, lang),
        feedback.message("form", problem.key, lang, **details),
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
    if q.kind is Kind.FUNCTION:
        args = ref.probes[outcome.where[0]]
        return feedback.message("where", "probe", lang, args=_show_args(args))
    if not outcome.where:
        return ""
    where = feedback.position(outcome.where, lang, q.columns)
    return feedback.message("where", "entry", lang, where=where)


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
