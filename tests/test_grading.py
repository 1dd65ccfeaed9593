"""Grading every question of the catalogue: the reference is right, each mistake is wrong and named."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder import grade_answer, question_ids, reference
from autograder.derivation.derived import _derive_cached
from autograder.derivation.references import (
    GradedByTeacher,
    _reference_cached,
    exercises,
    locate,
    mistake_targets,
)
from autograder.judging import feedback, grading
from autograder.judging.grading import named_pairs
from autograder.model.errors import UserError
from autograder.model.spec import Kind
from autograder.samples import answer_for

# The contract with notebooks and other tools: every id of the catalogue, in its order; those in
# brackets are answered in words and graded by the teacher, not by the grader.
CATALOGUE = """
loss_functions: mse mae cce bce ce_int [why_minus] bce_zero cce_zero [log_domain] [integer_label]
minima: grad_f_at_11 grad_f dL1 dL1_dw1 argmin_L1 dL2 argmin_L2 dL3 argmin_L3 sigmoid_grad_max
  sigmoid_grad_argmax
gradient_descent: [steepest_direction] [why_it_stops] [numerical_pitfalls] iterates losses
  gradient_descent gd_L1_limit adam_iterates adagrad_iterates
attention_step: z_hat loss grad w_new table slide_error
softmax_ce: softmax stable_softmax predicted_token p1 loss1 dz1 dW1 p2 loss2 dW2 loss_after
backprop_chain: factors dC_dw weights costs train chain_rule_name [exploding_gradients]
backprop_neuron: Z pred loss dL_dpred dpred_dZ dL_dZ dL_dW dL_db W_new b_new loss_new neuron_step
"""


def catalogue_ids() -> list[tuple[str, bool]]:
    """(id, graded by the teacher) of every question, in the catalogue's order."""
    ids, assignment = [], ""
    for token in CATALOGUE.split():
        if token.endswith(":"):
            assignment = token[:-1]
        else:
            ids.append((f"{assignment}.{token.strip('[]')}", token.startswith("[")))
    return ids


IDS = question_ids()
MANUAL = [qid for qid, by_teacher in catalogue_ids() if by_teacher]


def test_the_catalogue_has_its_questions_in_order() -> None:
    # the lecture's exercises keep their ids; a course's own, found after them, are theirs to name
    lecture = [
        ex for ex in exercises() if ex.name in {qid.partition(".")[0] for qid, _ in catalogue_ids()}
    ]
    every = [f"{ex.name}.{q.name}" for ex in lecture for q in ex.questions]
    assert [qid for qid, _ in catalogue_ids()] == every
    graded = [f"{ex.name}.{q.name}" for ex in lecture for q in ex.autograded]
    assert [qid for qid, by_teacher in catalogue_ids() if not by_teacher] == graded
    assert graded == IDS[: len(graded)]
    assert (len(graded), len(MANUAL)) == (59, 7)


@pytest.mark.parametrize("qid", MANUAL)
def test_a_question_the_teacher_grades_has_no_reference_and_no_verdict(qid: str) -> None:
    assert locate(qid)[1].kind is Kind.MANUAL
    for attempt in (lambda: reference(qid), lambda: grade_answer(qid, "because", lang="de")):
        with pytest.raises(GradedByTeacher, match="graded by the teacher") as raised:
            attempt()
        assert isinstance(raised.value, UserError)


@pytest.mark.parametrize("qid", IDS)
def test_the_reference_is_graded_correct(qid: str) -> None:
    ref = reference(qid)
    verdict = grade_answer(qid, answer_for(ref.question, ref.target))
    assert verdict.correct, verdict.feedback
    assert verdict.score == 1.0 and verdict.mistake is None


def named(verdict: Any) -> set[str]:
    """The mistakes a verdict names: one id, "a|b" for answers that fit either."""
    return set((verdict.mistake or "").split("|")) - {""}


@pytest.mark.parametrize("qid", IDS)
def test_every_mistake_is_graded_wrong_and_named(qid: str) -> None:
    _, q = locate(qid)
    found = mistake_targets(qid)
    assert q.mistakes, f"{qid} recognises no mistake"
    assert {m for m, _ in found} == set(q.mistakes)
    for mistake, target in found:
        verdict = grade_answer(qid, answer_for(q, target))
        assert verdict.status == "wrong", f"{qid}: the {mistake} answer is graded {verdict.status}"
        assert mistake in named(verdict), f"{qid}: the {mistake} answer is named {verdict.mistake}"
        assert verdict.score == 0.0


@pytest.mark.parametrize("qid", IDS)
def test_every_two_mistakes_at_once_are_graded_wrong_and_named_both(qid: str) -> None:
    _, q = locate(qid)
    for pair, target in named_pairs(qid):
        verdict = grade_answer(qid, answer_for(q, target), lang="de")
        assert verdict.status == "wrong", f"{qid}: the {pair} answer is graded {verdict.status}"
        assert pair in named(verdict), f"{qid}: the {pair} answer is named {verdict.mistake}"
        assert set(pair.split("+")) <= set(q.mistakes)
        # both mistakes are explained, after the sentence that says there are two
        assert feedback.message("mistake_sets", "both", "de") in verdict.feedback
        for mistake in pair.split("+"):
            assert feedback.mistake_text(qid.partition(".")[0], mistake, "de") in verdict.feedback


@pytest.mark.parametrize("qid", IDS)
def test_mistake_texts_exist_in_every_language(qid: str) -> None:
    assignment = qid.partition(".")[0]
    _, q = locate(qid)
    for mistake in q.mistakes:
        texts = {
            lang: feedback.mistake_text(assignment, mistake, lang) for lang in feedback.LANGUAGES
        }
        assert all(texts.values()) and len(set(texts.values())) == 3, (qid, mistake)


@pytest.mark.parametrize("qid", IDS)
def test_no_answer_is_unanswered_and_text_is_invalid(qid: str) -> None:
    verdict = grade_answer(qid, None)
    assert (verdict.status, verdict.score, verdict.error) == ("unanswered", 0.0, "unanswered")
    junk = grade_answer(qid, "%%%")
    assert junk.status == "invalid" and junk.score == 0.0 and junk.error


FUNCTIONS = [qid for qid in IDS if locate(qid)[1].kind is Kind.FUNCTION]


def _raises(*args: Any) -> Any:
    raise ZeroDivisionError("on purpose")


def _wrong_shape(*args: Any) -> Any:
    return np.zeros((7, 7))


def _nan(*args: Any) -> Any:
    return np.full((7, 7), np.nan)


@pytest.mark.parametrize("qid", FUNCTIONS)
@pytest.mark.parametrize(
    ("student", "error"), [(_raises, "raised"), (_wrong_shape, "shape"), (42, "not_callable")]
)
def test_broken_functions_are_invalid_not_crashes(qid: str, student: Any, error: str) -> None:
    verdict = grade_answer(qid, student, lang="de")
    assert verdict.status == "invalid"
    if error != "shape":  # a tuple-valued function reports the missing parts instead
        assert verdict.error == error
    assert verdict.feedback.startswith("Die Antwort hat nicht die verlangte Form.")


@pytest.mark.slow
def test_a_function_that_never_returns_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grading, "FUNCTION_SECONDS", 1.0)

    def forever(y_hat: Any, y: Any) -> float:
        while True:
            pass

    start = time.monotonic()
    verdict = grade_answer("loss_functions.mse", forever)
    assert (verdict.status, verdict.error) == ("invalid", "timeout")
    assert time.monotonic() - start < 30


@given(st.floats(min_value=-1e3, max_value=1e3))
@settings(max_examples=40, deadline=None)
def test_any_point_of_the_line_of_minimisers_of_L1_is_right(w2: float) -> None:
    w1 = (20 - 7 * w2) / 4
    assert grade_answer("minima.argmin_L1", [w1, w2]).correct


@pytest.mark.parametrize("point", [[0, 0], [5, 1], [1, 2], [20, 0]])
def test_points_off_the_line_are_wrong(point: list[float]) -> None:
    verdict = grade_answer("minima.argmin_L1", point)
    assert verdict.status == "wrong"


@given(st.floats(-100, 100), st.floats(-100, 100), st.floats(0, 100))
@settings(max_examples=40, deadline=None)
def test_any_point_of_the_half_space_of_L2_is_right(w1: float, w2: float, margin: float) -> None:
    w3 = (2 * w1 + 3 * w2 + margin) / 4  # 2w1 + 3w2 − 4w3 = −margin ≤ 0
    assert grade_answer("minima.argmin_L2", [w1, w2, w3]).correct


@pytest.mark.parametrize("point", [[1, 1, 0], [0, 0, -1], [10, 0, 4]])
def test_points_outside_the_half_space_are_wrong(point: list[float]) -> None:
    assert not grade_answer("minima.argmin_L2", point).correct


@pytest.mark.parametrize(
    ("qid", "answer", "mistake"),
    [
        ("gradient_descent.iterates", [-1.5, -3.75, -7.125], "sign"),
        ("attention_step.w_new", [1.35, 1.7, 1.35, 1.0], "sign"),
        ("attention_step.grad", [3.5, 3.5, 3.5, 3.5], "chain_factor"),
        ("attention_step.grad", [7, 14, 7, 0], "factor_two"),
        ("attention_step.loss", 12.25, "factor_two"),
        (
            "backprop_chain.weights",
            [0.790, 0.780, 0.770, 0.761, 0.752, 0.743, 0.734, 0.725, 0.716, 0.707],
            "chain_factor",
        ),
    ],
)
def test_the_typical_mistakes_are_named(qid: str, answer: Any, mistake: str) -> None:
    assert grade_answer(qid, answer).mistake == mistake


def test_rounding_is_named_where_full_precision_is_asked() -> None:
    ref = reference("softmax_ce.dW2")
    rounded = [t for m, t in mistake_targets("softmax_ce.dW2") if m == "rounded"]
    assert rounded and not np.allclose(rounded[0].value, ref.value, rtol=1e-3)
    assert grade_answer("softmax_ce.dW2", rounded[0].value).mistake == "rounded"


def test_the_rounded_trajectory_is_right_where_the_question_says_so() -> None:
    ref = reference("backprop_chain.weights")
    assert ref.alternatives
    rounded = ref.alternatives[0].value
    assert not np.allclose(rounded, ref.value, rtol=1e-3, atol=1e-6) or np.allclose(
        rounded, np.round(rounded, 3)
    )
    verdict = grade_answer("backprop_chain.weights", rounded)
    assert verdict.correct
    # the seed's PyTorch run, printed to 3 decimals, is right as well
    torch_printed = [0.786, 0.771, 0.757, 0.743, 0.729, 0.715, 0.701, 0.687, 0.673, 0.660]
    assert grade_answer("backprop_chain.weights", torch_printed).correct


def test_a_wrong_value_that_follows_from_an_earlier_wrong_one_is_a_follow_on_error() -> None:
    slide_p2 = [0.692, 0.219, 0.066, 0.022]
    slide_dW2 = [
        [-0.3696, -0.2464, -0.1540],
        [0.2628, 0.1752, 0.1095],
        [0.0792, 0.0528, 0.0330],
        [0.0264, 0.0176, 0.0110],
    ]
    p2 = grade_answer("softmax_ce.p2", slide_p2)
    assert p2.status == "wrong" and "entry 3 " in p2.feedback  # p₃ is misrounded: 0.066, not 0.067
    alone = grade_answer("softmax_ce.dW2", slide_dW2)
    assert alone.status == "wrong"
    follow = grade_answer("softmax_ce.dW2", slide_dW2, given={"p2": slide_p2}, lang="de")
    assert follow.mistake == "carried"
    assert "p2" in follow.feedback and "Folgefehler" in follow.feedback


@pytest.mark.parametrize("lang", feedback.LANGUAGES)
def test_feedback_in_each_language(lang: str) -> None:
    verdict = grade_answer("attention_step.loss", 12.25, lang=lang)
    assert verdict.feedback == feedback.mistake_text("attention_step", "factor_two", lang)


def test_an_unknown_language_or_question_is_a_clear_error() -> None:
    with pytest.raises(feedback.UnknownLanguage, match="de, en, ru"):
        grade_answer("attention_step.loss", 1.0, lang="fr")
    with pytest.raises(KeyError, match=r"minima\.argmin_L1"):
        grade_answer("minima.nope", 1.0)


def test_references_are_derived_once_and_then_cached() -> None:
    reference("backprop_neuron.loss_new")
    derivations, references = _derive_cached.cache_info(), _reference_cached.cache_info()
    for _ in range(5):
        reference("backprop_neuron.loss_new")
    assert _derive_cached.cache_info().misses == derivations.misses
    assert _reference_cached.cache_info().misses == references.misses
    assert _reference_cached.cache_info().hits >= references.hits + 5


def test_a_torch_tensor_that_requires_grad_is_an_answer() -> None:
    torch = pytest.importorskip("torch")
    answer = torch.tensor([3.5, 7.0, 3.5, 0.0], requires_grad=True)
    assert grade_answer("attention_step.grad", answer * 1.0).correct


def test_a_variant_is_just_other_parameters() -> None:
    default = reference("attention_step.z_hat").value
    other = reference("attention_step.z_hat", {"x": [1, 1, 1, 1], "slide": None}).value
    assert (float(default), float(other)) == (4.0, 4.0)
    moved = {"z": "1.5", "slide": None}  # the lecture's slide belongs to the default numbers only
    np.testing.assert_allclose(
        reference("attention_step.grad", moved).value, (4.0 - 1.5) * np.array([1, 2, 1, 0])
    )
    assert reference("attention_step.slide_error", moved).value == "5,w22"
    assert grade_answer("attention_step.z_hat", 4.0, variant=moved).correct


def _mse_sum(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sum((a - b) ** 2))


def _mse_half(a: np.ndarray, b: np.ndarray) -> float:
    return 0.5 * float(np.mean((a - b) ** 2))


def _mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a - b)))


def _mae_squared(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a - b) ** 2))


def _cce_log10(a: np.ndarray, b: np.ndarray) -> float:
    return float(-np.mean(np.sum(b * np.log10(a), axis=1)))


def _bce_no_minus(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(b * np.log(a) + (1 - b) * np.log(1 - a)))


def _ce_int_from_one(p: np.ndarray, k: int) -> float:
    return float(-np.log(p[k - 1]))


def _dL2_without_max(w1: float, w2: float, w3: float) -> np.ndarray:
    return 2 * (2 * w1 + 3 * w2 - 4 * w3) * np.array([2.0, 3.0, -4.0])


def _dL3_without_abs(w: float) -> float:
    return 1 + float(np.exp(-w))


def _dL3(w: float) -> float:
    return float(np.sign(w - np.exp(-w)) * (1 + np.exp(-w)))


# What students write, and what the grader must say: (question, answer, status, mistake)
STUDENTS = [
    ("loss_functions.mae", _mae, "correct", None),
    ("loss_functions.mse", _mse_sum, "wrong", "no_mean"),
    ("loss_functions.mse", _mse_half, "wrong", "factor_two"),
    ("loss_functions.mae", _mae_squared, "wrong", "squared"),
    ("loss_functions.cce", _cce_log10, "wrong", "log10"),
    ("loss_functions.bce", _bce_no_minus, "wrong", "sign"),
    ("loss_functions.ce_int", _ce_int_from_one, "wrong", "label_offset"),
    ("loss_functions.bce_zero", " A ", "correct", None),
    ("loss_functions.bce_zero", "b", "wrong", "half_prediction"),
    ("loss_functions.bce_zero", "e", "invalid", None),
    ("minima.dL2", _dL2_without_max, "wrong", "kink_ignored"),
    ("minima.dL3", _dL3, "correct", None),
    ("minima.dL3", _dL3_without_abs, "wrong", "kink_ignored"),
    ("minima.dL1_dw1", "8*(4*w1 + 7*w2 - 20)", "correct", None),
    ("minima.dL1_dw1", "8 (4 w1 + 7 w2 - 20)", "correct", None),
    ("minima.dL1_dw1", "2*(4*w1 + 7*w2 - 20)", "wrong", "chain_factor"),
    ("minima.dL1_dw1", "4*(4*w1 + 7*w2 - 20)", "wrong", "factor_two"),
    ("minima.dL1_dw1", "8*(4*w1 + 7*w2 - 20", "invalid", None),
    ("minima.dL1_dw1", "import os", "invalid", None),
    ("minima.argmin_L1", [6.75, 1], "wrong", "moved_term"),
    ("minima.argmin_L3", 0.5671, "correct", None),
    ("minima.argmin_L3", 0.57, "wrong", None),
    ("minima.argmin_L3", 0, "wrong", "value_for_point"),
    ("minima.sigmoid_grad_max", 0.25, "correct", None),
    ("minima.sigmoid_grad_max", 0.5, "wrong", "sigmoid_value"),
    ("backprop_neuron.Z", np.array([[0.49]]), "correct", None),
    (
        "backprop_neuron.W_new",
        np.array([[0.10188209], [-0.29924716], [0.50301134]]),
        "correct",
        None,
    ),
    ("backprop_neuron.W_new", [0.10188209, -0.29924716], "invalid", None),
]


@pytest.mark.parametrize(("qid", "answer", "status", "mistake"), STUDENTS)
def test_what_students_write(qid: str, answer: Any, status: str, mistake: str | None) -> None:
    verdict = grade_answer(qid, answer)
    assert (verdict.status, verdict.mistake) == (status, mistake), verdict.feedback


@pytest.mark.parametrize(
    "earlier", [{"p2": "junk"}, {"p2": [1, 2]}, {"p2": [[1, 2], [3]]}, {"nope": 1.0}]
)
def test_unusable_earlier_answers_explain_nothing_and_crash_nothing(
    earlier: dict[str, Any],
) -> None:
    verdict = grade_answer("softmax_ce.dW2", np.zeros((4, 3)), given=earlier)
    assert verdict.status == "wrong" and verdict.mistake is None
