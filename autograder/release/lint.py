"""An exercise checked before it goes out: its texts in every language, mistakes that differ from
the reference, a worked solution that passes its hidden tests, fair variants, the independent check."""

from __future__ import annotations

import contextlib
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import yaml

from autograder.derivation.references import coincide, mistake_targets, reference
from autograder.derivation.variants import NoWellPosedVariant, random_variant
from autograder.judging import feedback
from autograder.judging.grading import Outputs, grade_answer
from autograder.model.catalogue import exercise, spec_module, texts_file
from autograder.model.errors import UserError
from autograder.model.spec import Exercise, Kind
from autograder.model.values import SolutionSet, to_student
from autograder.release.notebooks import MANUAL_PARTS, instructor_notebook

# drawn variants checked beside the seed's numbers: enough to meet a rule that fails, still seconds
VARIANTS = 3


@dataclass
class Findings:
    """What lint found in one exercise: problems (it must not go out so) and notes."""

    assignment: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # what was checked, one line each: what an "ok" stands for
    checked: list[str] = field(default_factory=list)


def lint(assignment: str) -> Findings:
    found = Findings(assignment)
    try:
        ex = exercise(assignment)
        texts = feedback.exercise_texts(assignment)
    except (UserError, yaml.YAMLError) as problem:
        found.problems.append(str(problem))
        return found
    except Exception as problem:  # the teacher's spec does not make an exercise: not a traceback
        found.problems.append(f"the spec does not load: {type(problem).__name__}: {problem}")
        return found
    found.problems += missing_texts(ex, texts)
    variants: list[dict[str, Any] | None] = [None]
    try:
        variants += [random_variant(assignment, random.Random(k)) for k in range(VARIANTS)]
    except NoWellPosedVariant as problem:
        found.problems.append(f"no well-posed variant: {problem}")
    if ex.well_posed is not None and (why := ex.well_posed(ex.params())) is not None:
        found.problems.append(f"the seed's numbers are not well posed: {why}")
    independent = getattr(spec_module(assignment), "independent", None)
    if independent is None:
        found.notes.append("no independent check: an `independent(p)` in the spec compares it")
    distinct = [v for k, v in enumerate(variants) if v not in variants[:k]]
    graded = ex.autograded
    listed = sum(len(q.mistakes) for q in graded)
    found.checked += [
        f"texts of {len(ex.questions)} question(s) in {', '.join(feedback.LANGUAGES)}",
        f"{listed} listed mistake(s) on {sum(bool(q.mistakes) for q in graded)} question(s), "
        "each differing from the reference",
        "the worked solution passes its hidden tests",
        f"the seed's numbers and {len(distinct) - 1} drawn variant(s)"
        + (", each well posed" if ex.well_posed is not None else ""),
    ]
    if independent is not None:
        found.checked.append("the references agree with the spec's independent(p)")
    for numbers in distinct:
        where = f"the variant {numbers}" if numbers else "the seed's numbers"
        try:
            found.problems += [f"{p} ({where})" for p in slips_that_are_right(ex, numbers)]
            if numbers is None:  # the worked solution is the seed's; variants reuse its code
                found.problems += [f"{p} ({where})" for p in failed_tests(ex, numbers, texts)]
            if independent is not None:
                found.problems += [
                    f"{p} ({where})" for p in disagreements(ex, numbers, independent)
                ]
        except Exception as problem:  # a derivation that fails: the exercise's fault, said so
            found.problems.append(f"{where}: {type(problem).__name__}: {problem}{_hint(problem)}")
    return found


def _hint(problem: Exception) -> str:
    """What to write instead, for a derivation's failure that SymPy's message does not explain."""
    said = str(problem)
    if isinstance(problem, TypeError) and "Matrix" in said and "operand" in said:
        return (
            " (SymPy adds no number to a matrix: start a sum or a velocity that may be a vector as"
            " 0 * w, the zero of w's shape, or sp.zeros(n, 1))"
        )
    return ""


def missing_texts(ex: Exercise, texts: dict[str, Any]) -> list[str]:
    """Every text a notebook or a feedback needs, in every language (none falls back in silence)."""
    wanted: list[tuple[str, Any]] = [("title", texts.get("title")), ("intro", texts.get("intro"))]
    for q in ex.questions:
        wanted.append((f"tasks.{q.name}", texts.get("tasks", {}).get(q.name)))
        if q.graded_by_teacher:
            wanted += [(f"{p}.{q.name}", texts.get(p, {}).get(q.name)) for p in MANUAL_PARTS]
        for mistake in q.mistakes:
            own = texts.get("mistakes", {}).get(mistake)
            wanted.append(
                (f"mistakes.{mistake}", own or feedback.messages()["mistakes"].get(mistake))
            )
            named = texts.get("mistake_names", {}).get(mistake)
            wanted.append(
                (
                    f"mistake_names.{mistake}",
                    named or feedback.messages()["mistake_names"].get(mistake),
                )
            )
    missing = []
    for key, text in dict(wanted).items():
        langs = [
            lang for lang in feedback.LANGUAGES if not (isinstance(text, dict) and text.get(lang))
        ]
        if langs:
            missing.append(f"{key}: no text in {', '.join(langs)}")
    if "setup" not in texts:
        missing.append("setup: no code of the given numbers")
    for q in ex.autograded:
        if q.name not in texts.get("solutions", {}):
            missing.append(f"solutions.{q.name}: no worked solution")
    return [f"{texts_file(ex.name).name}: {m}" for m in missing]


def slips_that_are_right(ex: Exercise, variant: dict[str, Any] | None) -> list[str]:
    """Each listed mistake whose answer the grader would take for right, and on which question."""
    right = []
    for q in ex.autograded:
        qid = f"{ex.name}.{q.name}"
        ref = reference(qid, variant)
        for mistake, t in mistake_targets(qid, variant):
            if isinstance(t.value, SolutionSet):
                same = grade_answer(qid, to_student(t.value.member), variant).correct
            elif q.kind is Kind.FUNCTION:
                same = grade_answer(
                    qid, Outputs(tuple(("result", v) for v in t.value)), variant
                ).correct
            else:
                same = coincide(t, ref.target)
            if same:
                right.append(f"{qid}: the mistake {mistake!r} gives the right answer")
    return right


def failed_tests(ex: Exercise, variant: dict[str, Any] | None, texts: dict[str, Any]) -> list[str]:
    """The worked solution run cell after cell with the instructor notebook's hidden tests: the
    teacher's own code, run here as nbgrader would in a kernel, without the kernel's start."""
    if "setup" not in texts or any(q.name not in texts.get("solutions", {}) for q in ex.autograded):
        return []  # said among the missing texts
    namespace: dict[str, Any] = {"__name__": "__main__"}
    failed = []
    for cell in instructor_notebook(ex.name, "en", variant).cells:
        if cell.cell_type != "code":
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # the checks' lines are for students
                exec(compile(cell.source, f"<{cell.id}>", "exec"), namespace)
        except Exception as problem:
            failed.append(
                f"cell {cell.id} of the worked solution fails: {type(problem).__name__}: {problem}"
            )
    return failed


def disagreements(
    ex: Exercise, variant: dict[str, Any] | None, independent: Callable[..., Any]
) -> list[str]:
    """The spec's independent answers, graded: each must be right."""
    answers = independent(_floats(ex, variant))
    wrong = []
    for q in ex.autograded:
        qid = f"{ex.name}.{q.name}"
        if q.name not in answers:
            wrong.append(f"{qid}: the independent check gives no answer")
        elif not (verdict := grade_answer(qid, answers[q.name], variant)).correct:
            wrong.append(
                f"{qid}: the reference and the independent check differ: {verdict.feedback}"
            )
    return wrong


def _floats(ex: Exercise, variant: dict[str, Any] | None) -> SimpleNamespace:
    """The parameters as floats and float arrays, as a NumPy programmer holds them."""

    def number(value: Any) -> Any:
        if isinstance(value, list):
            return np.array([number(v) for v in value], dtype=float)
        try:
            return float(value)
        except (TypeError, ValueError):
            return value

    written = {**ex.parameters, **(variant or {})}
    return SimpleNamespace(**{k: number(v) for k, v in written.items()})
