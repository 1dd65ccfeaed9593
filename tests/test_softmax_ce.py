"""softmax_ce: SymPy against NumPy and the slides of seed 001, including the slide's misrounded p₃."""

from __future__ import annotations

import numpy as np
import pytest

from autograder import grade_answer, reference
from autograder.references import derive, exercise, mistake_targets
from autograder.values import to_student


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


Z1, Y1, X1 = np.array([2.0, 1.0, 0.1]), np.array([1.0, 0, 0]), np.array([1.5, 0.5])
Z2, Y2, X2 = (
    np.array([3.52, 2.37, 1.185, 0.07]),
    np.array([1.0, 0, 0, 0]),
    np.array([1.2, 0.8, 0.5]),
)
SLIDE_P2 = [0.692, 0.219, 0.066, 0.022]
SLIDE_DW2 = [
    [-0.3696, -0.2464, -0.1540],
    [0.2628, 0.1752, 0.1095],
    [0.0792, 0.0528, 0.0330],
    [0.0264, 0.0176, 0.0110],
]


def test_example_1_against_numpy_and_the_slide() -> None:
    p = softmax(Z1)
    np.testing.assert_allclose(reference("softmax_ce.p1").value, p, rtol=1e-12)
    assert float(reference("softmax_ce.loss1").value) == pytest.approx(-np.log(p[0]), rel=1e-12)
    np.testing.assert_allclose(reference("softmax_ce.dz1").value, p - Y1, rtol=1e-12)
    np.testing.assert_allclose(reference("softmax_ce.dW1").value, np.outer(p - Y1, X1), rtol=1e-12)
    # the slide: p = [0.6590, 0.2424, 0.0986], p − y = [−0.3410, 0.2424, 0.0986], loss 0.417
    np.testing.assert_allclose(
        reference("softmax_ce.p1").value, [0.6590, 0.2424, 0.0986], atol=5e-5
    )
    np.testing.assert_allclose(
        reference("softmax_ce.dz1").value, [-0.3410, 0.2424, 0.0986], atol=5e-5
    )
    assert float(reference("softmax_ce.loss1").value) == pytest.approx(0.417, abs=5e-4)


def test_the_slides_dW1_row_3_uses_the_rounded_p3() -> None:
    slide = np.array([[-0.5115, -0.1705], [0.3636, 0.1212], [0.1479, 0.0493]])
    derived = reference("softmax_ce.dW1").value
    off = np.abs(derived - slide) > 5e-5
    assert [tuple(i) for i in np.argwhere(off)] == [
        (2, 0)
    ]  # 0.0986 · 1.5 = 0.1479; 0.098566 · 1.5 = 0.1478
    assert slide[2, 0] == pytest.approx(0.0986 * 1.5)


def test_example_2_against_numpy() -> None:
    p = softmax(Z2)
    np.testing.assert_allclose(reference("softmax_ce.p2").value, p, rtol=1e-12)
    assert float(reference("softmax_ce.loss2").value) == pytest.approx(-np.log(p[0]), rel=1e-12)
    np.testing.assert_allclose(reference("softmax_ce.dW2").value, np.outer(p - Y2, X2), rtol=1e-12)


def test_the_slides_p3_is_misrounded() -> None:
    derived = reference("softmax_ce.p2").value
    off = np.abs(derived - SLIDE_P2) > 5e-4
    assert list(np.flatnonzero(off)) == [2]
    assert round(float(derived[2]), 3) == 0.067


def test_the_slides_dW2_follows_from_its_rounded_probabilities() -> None:
    derived = reference("softmax_ce.dW2").value
    assert not np.allclose(derived, SLIDE_DW2, atol=5e-5)
    np.testing.assert_allclose(np.outer(np.array(SLIDE_P2) - Y2, X2), SLIDE_DW2, atol=1e-12)
    follows = derive(exercise("softmax_ce"), given={"p2": SLIDE_P2})["dW2"]
    np.testing.assert_allclose(np.array(follows.tolist(), dtype=float), SLIDE_DW2, atol=1e-12)


def test_mistakes_against_numpy() -> None:
    p = softmax(Z2)
    found = {m: t.value for m, t in mistake_targets("softmax_ce.dW2")}
    np.testing.assert_allclose(found["transposed"], np.outer(X2, p - Y2), rtol=1e-12)
    np.testing.assert_allclose(found["sign"], np.outer(Y2 - p, X2), rtol=1e-12)
    np.testing.assert_allclose(found["rounded"], np.outer(np.round(p, 3) - Y2, X2), rtol=1e-12)
    logs = {m: t.value for m, t in mistake_targets("softmax_ce.loss2")}
    assert float(logs["log10"]) == pytest.approx(-np.log10(p[0]), rel=1e-12)


def test_the_decoder_predicts_frankreich() -> None:
    assert reference("softmax_ce.predicted_token").value == "12856"
    logits = np.array([3.2, 1.7, 1.2])
    assert int(np.argmax(softmax(logits))) == 0
    assert grade_answer("softmax_ce.predicted_token", "Frankreich").correct
    assert grade_answer("softmax_ce.predicted_token", 12856).correct
    assert grade_answer("softmax_ce.predicted_token", 0).mistake == "index_not_id"
    assert grade_answer("softmax_ce.predicted_token", "Spanien").mistake == "argmin"
    assert grade_answer("softmax_ce.predicted_token", "Deutschland").status == "wrong"
    assert grade_answer("softmax_ce.predicted_token", "Italien").status == "invalid"


def test_loss_after_learning() -> None:
    assert float(reference("softmax_ce.loss_after").value) == pytest.approx(
        -np.log(0.85), rel=1e-12
    )


@pytest.mark.parametrize("qid", ["softmax_ce.softmax", "softmax_ce.stable_softmax"])
def test_softmax_functions_on_every_probe_against_numpy(qid: str) -> None:
    ref = reference(qid)
    for (z,), expected in zip(ref.probes, ref.value, strict=True):
        np.testing.assert_allclose(expected, softmax(to_student(z)), rtol=1e-12, atol=1e-300)


def test_a_naive_softmax_is_right_for_moderate_logits_and_named_for_large_ones() -> None:
    def naive(z: np.ndarray) -> np.ndarray:
        e = np.exp(z)
        return e / e.sum()

    with np.errstate(over="ignore", invalid="ignore"):
        assert grade_answer("softmax_ce.softmax", naive).correct
        verdict = grade_answer("softmax_ce.stable_softmax", naive)
    assert verdict.mistake == "not_stable"
    assert grade_answer("softmax_ce.stable_softmax", softmax).correct
    assert any(
        np.abs(to_student(z)).max() >= 1000
        for (z,) in reference("softmax_ce.stable_softmax").probes
    )
