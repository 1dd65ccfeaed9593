"""Per-student variants: the course secret, the reproducible draw, and for 200 drawn variants of
every assignment a well-posed exercise whose references NumPy confirms and the grader grades right.

Every mistake's answer must be graded wrong and named. Where two mistakes fit an answer alike
for a variant (an answer of few decimals fits a value it may be rounded from: 1.5 fits 1.45), the
grader names them together. The exercises' ranges and rules exclude mistakes that coincide with
the reference (such as dropping an input x = 1).
"""

from __future__ import annotations

import multiprocessing
import random
import stat
from dataclasses import replace
from functools import cache, partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp
from independent import Function, Minimiser, expected

from autograder import grade_answer
from autograder.derivation import variants
from autograder.derivation.references import (
    ASSIGNMENTS,
    Reference,
    Target,
    exercise,
    mistake_targets,
    reference,
)
from autograder.derivation.variants import (
    BadSecret,
    MissingSecret,
    NoWellPosedVariant,
    course_secret,
    draw,
    random_variant,
)
from autograder.judging.grading import Outputs
from autograder.model.spec import Between, Exercise, Kind, OneOf, Question
from autograder.model.values import SolutionSet, to_student
from autograder.samples import answer_for

SECRET = bytes(range(32))
VARYING = [name for name in ASSIGNMENTS if exercise(name).vary]
# 200 variants of each assignment, in chunks that the test workers share out
VARIANTS, CHUNKS = 200, 10


# --- ranges ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spread", "values"),
    [
        (Between(1, 4), [1, 2, 3, 4]),
        (Between(-2, 2, avoid=(0,)), [-2, -1, 1, 2]),
        (Between("0.1", "0.3", "0.1"), ["0.1", "0.2", "0.3"]),
        (Between("0.05", "0.2", "0.05"), ["0.05", "0.1", "0.15", "0.2"]),
        (Between("1.0", "2.0", "0.5", avoid=("1.5",)), ["1.0", "2.0"]),
        (Between("-0.2", "0.2", "0.1", avoid=(0,)), ["-0.2", "-0.1", "0.1", "0.2"]),
    ],
)
def test_a_range_holds_low_plus_whole_steps_written_as_in_a_spec(
    spread: Between, values: list[Any]
) -> None:
    assert spread.values() == values
    rng = random.Random(0)
    assert {spread.draw(rng) for _ in range(200)} == set(values)


@pytest.mark.parametrize(
    "arguments",
    [(2, 1), (0, 1, 0), ("0", "1", "0.3"), (1, 2, 1, (1, 2))],
)
def test_a_range_without_values_is_refused(arguments: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError, match="Between"):
        Between(*arguments)


def test_one_of_draws_a_fresh_copy_of_an_option() -> None:
    options = ([1, 0], [0, 1])
    drawn = OneOf(options).draw(random.Random(0))
    drawn.append(5)
    assert options == ([1, 0], [0, 1])
    with pytest.raises(ValueError):
        OneOf(())


def test_ranges_must_fit_the_parameters() -> None:
    ex = exercise("minima")
    with pytest.raises(ValueError, match="no parameter nope"):
        replace(ex, vary={"nope": Between(1, 2)})
    with pytest.raises(ValueError, match="one range per entry"):
        replace(ex, vary={"a": [Between(1, 2)]})
    with pytest.raises(ValueError, match="one range per entry"):
        replace(ex, vary={"c": [Between(1, 2)]})


# --- the course secret ----------------------------------------------------------------------


def test_the_secret_is_created_once_private_and_read_back(tmp_path: Path) -> None:
    with pytest.raises(MissingSecret, match="create=True"):
        course_secret(tmp_path)
    secret = course_secret(tmp_path, create=True)
    path = tmp_path / ".autograder" / "secret"
    assert len(secret) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert course_secret(tmp_path) == course_secret(tmp_path, create=True) == secret
    assert course_secret(tmp_path / "other", create=True) != secret


def test_processes_creating_the_secret_at_once_agree_on_one(tmp_path: Path) -> None:
    with multiprocessing.get_context("fork").Pool(4) as pool:
        found = pool.map(partial(course_secret, create=True), [tmp_path] * 8)
    assert len(set(found)) == 1
    assert [p.name for p in (tmp_path / ".autograder").iterdir()] == ["secret"]


@pytest.mark.parametrize("content", ["not hex", "abcd", "00" * 33, ""])
def test_a_garbled_secret_is_a_clear_error(tmp_path: Path, content: str) -> None:
    (tmp_path / ".autograder").mkdir()
    (tmp_path / ".autograder" / "secret").write_text(content)
    with pytest.raises(BadSecret, match="restore it"):
        course_secret(tmp_path, create=True)


# --- the draw -------------------------------------------------------------------------------


def test_a_student_always_gets_the_same_variant() -> None:
    for assignment in ASSIGNMENTS:
        assert draw(assignment, "s017", SECRET) == draw(assignment, "s017", bytes(SECRET))


@pytest.mark.parametrize("assignment", VARYING)
def test_students_and_secrets_mostly_give_other_variants(assignment: str) -> None:
    students = [f"student{i}" for i in range(30)]
    ours = [draw(assignment, s, SECRET) for s in students]
    theirs = [draw(assignment, s, b"another course" + SECRET[14:]) for s in students]
    assert len({repr(v) for v in ours}) >= 28
    assert sum(a != b for a, b in zip(ours, theirs, strict=True)) >= 28
    # the assignment is part of what is hashed: the same student, another assignment, other draws
    assert draw(assignment, "s1", SECRET) != random_variant(assignment, random.Random(0))


def test_an_exercise_without_ranges_keeps_the_seeds_numbers() -> None:
    assert random_variant("loss_functions", random.Random(1)) == {}
    assert draw("loss_functions", "anyone", SECRET) == {}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_seeds_numbers_are_well_posed(assignment: str) -> None:
    ex = exercise(assignment)
    assert ex.well_posed is None or ex.well_posed(ex.params()) is None


@pytest.mark.parametrize("assignment", VARYING)
def test_a_variant_with_the_seeds_numbers_has_the_seeds_references(assignment: str) -> None:
    ex = exercise(assignment)
    # the lecture's slide is the one parameter a variant does not write as the seed does
    seeds = {name: ex.parameters[name] for name in ex.vary if name != "slide"}
    for q in ex.autograded:
        qid = f"{assignment}.{q.name}"
        assert same_target(reference(qid, seeds).target, reference(qid).target), qid


def same_target(a: Target, b: Target) -> bool:
    """Equal targets: numbers to the last few bits (a variant's may come from a lambdified formula
    in float64, the seed's from the exact derivation), anything else by its structure."""
    if all(isinstance(v, list | tuple | np.ndarray) for v in (a.value, b.value)):
        return close(a.value, b.value)
    return fingerprint(a) == fingerprint(b)


def close(x: Any, y: Any) -> bool:
    if isinstance(x, list | tuple) and isinstance(y, list | tuple):
        return len(x) == len(y) and all(close(u, v) for u, v in zip(x, y, strict=True))
    return np.shape(x) == np.shape(y) and bool(
        np.allclose(x, y, rtol=1e-12, atol=1e-15, equal_nan=True)
    )


@pytest.mark.parametrize("assignment", VARYING)
def test_a_variant_is_written_as_the_parameters_are(assignment: str) -> None:
    ex = exercise(assignment)
    for variant in (drawn(assignment, i) for i in range(20)):
        assert set(variant) == set(ex.vary)
        for name, value in variant.items():
            assert written_alike(value, ex.parameters[name], ex.vary[name]), (name, value)


def written_alike(value: Any, seed_value: Any, spread: Any) -> bool:
    """Decimal strings, ints or lists of them, as long as the seed's list; None only where a
    range says so (the slide a variant gets made for it)."""
    if value is None:
        return isinstance(spread, OneOf) and None in spread.options
    if isinstance(seed_value, list):
        return isinstance(value, list) and len(value) == len(seed_value)
    if isinstance(value, str):
        return sp.Rational(value).q in (1, 2, 4, 5, 10, 20, 25, 50, 100)
    return isinstance(value, int)


def test_a_rule_that_never_holds_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    strict: Exercise = replace(exercise("minima"), well_posed=lambda p: "never fine")
    # the draw looks the exercise up by name: give it the same one with a rule that never holds
    monkeypatch.setattr(variants, "exercise", lambda name: strict)
    with pytest.raises(NoWellPosedVariant, match=r"minima: .* never fine"):
        random_variant("minima", random.Random(0))


# --- 200 variants of every assignment ---------------------------------------------------------


@cache
def drawn(assignment: str, i: int) -> dict[str, Any]:
    """Variant i of the test's 200: drawn apart from the others, so a chunk draws only its own."""
    return random_variant(assignment, random.Random(f"variant {i} of {assignment}"))


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(CHUNKS))
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_drawn_variants_are_well_posed_confirmed_by_numpy_and_graded_right(
    assignment: str, chunk: int
) -> None:
    ex = exercise(assignment)
    for variant in (drawn(assignment, i) for i in range(chunk, VARIANTS, CHUNKS)):
        assert ex.well_posed is None or ex.well_posed(ex.params(variant)) is None, variant
        numpy = expected(assignment, variant)
        for q in ex.autograded:
            qid = f"{assignment}.{q.name}"
            ref = reference(qid, variant)
            if numpy is not None:  # an exercise without an independent check is graded only
                agrees_with_numpy(q, ref, numpy[q.name], variant)
            graded_right(qid, q, ref, variant)


def agrees_with_numpy(q: Question, ref: Reference, want: Any, variant: dict[str, Any]) -> None:
    where = f"{ref.qid} for {variant}"
    if isinstance(want, Minimiser):
        assert want.loss(ref.member) == pytest.approx(0, abs=1e-9), where
    elif q.kind is Kind.EXPRESSION:
        # every variable of the question, also one the formula does not use (2*w1 - 6 in w1, w2)
        by_name = {s.name: s for s in ref.value.free_symbols}
        symbols = [by_name.get(v, sp.Symbol(v)) for v in q.variables]
        formula = sp.lambdify(symbols, ref.value)
        for point in ((1.0, 1.0), (0.5, -2.0), (3.0, 0.25)):
            assert formula(*point) == pytest.approx(want.call(*point), rel=1e-6), where
    elif isinstance(want, Function):
        for args, value in zip(ref.probes, ref.value, strict=True):
            got = want.call(*[to_student(a) for a in args])
            for g, v in zip(parts(got), parts(value), strict=True):
                np.testing.assert_allclose(v, g, rtol=1e-6, atol=1e-8, err_msg=where)
    elif q.kind is Kind.CHOICE:
        assert ref.value == want, where
    else:
        np.testing.assert_allclose(ref.value, want, rtol=1e-6, atol=1e-7, err_msg=where)


def parts(value: Any) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else (value,)


# Grading is a pure function of the reference and the mistakes' answers: a question whose
# targets are those of a variant graded before (one whose numbers it does not use) is not graded
# again in the same test process.
GRADED: set[str] = set()


def graded_right(qid: str, q: Question, ref: Reference, variant: dict[str, Any]) -> None:
    mistakes = mistake_targets(qid, variant)
    key = fingerprint((qid, ref.probes, ref.target, ref.alternatives, mistakes))
    if key in GRADED:
        return
    verdict = grade_answer(qid, answer_for(q, ref.target), variant)
    assert (verdict.correct, verdict.score) == (True, 1.0), (qid, variant, verdict.feedback)
    for mistake, t in mistakes:
        answer = reported(q, t)
        verdict = grade_answer(qid, answer, variant)
        where = (qid, mistake, variant, verdict.feedback)
        assert (verdict.status, verdict.score) == ("wrong", 0.0), where
        # the grader names every mistake the answer fits alike, this one among them
        assert mistake in (verdict.mistake or "").split("|"), where
    GRADED.add(key)


def reported(q: Question, t: Target) -> Any:
    """A mistake's answer as a student hands it in; for a function, as the sandbox reports the
    outputs of a student's function on the probes (no function to compile and fork for)."""
    if q.kind is Kind.FUNCTION:
        return Outputs(tuple(("result", value) for value in t.value))
    return answer_for(q, t)


def fingerprint(value: Any) -> str:
    """Equal for equal targets (float arrays bit for bit, SymPy values by their structure)."""
    if isinstance(value, Target):
        return fingerprint(value.value)
    if isinstance(value, np.ndarray):
        return f"array{value.shape}{value.tobytes().hex()}"
    if isinstance(value, SolutionSet):
        return sp.srepr(value.condition) + fingerprint(value.member)
    if isinstance(value, list | tuple):
        return "(" + ",".join(fingerprint(v) for v in value) + ")"
    if isinstance(value, sp.Basic):
        return sp.srepr(value)
    return repr(value)
