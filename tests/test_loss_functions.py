"""loss_functions: SymPy's values on the grader's probes against NumPy, and students' functions graded."""

from __future__ import annotations

import numpy as np
import pytest

from autograder import grade_answer, reference
from autograder.references import mistake_targets
from autograder.values import to_student


def mse(y_hat: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((y_hat - y) ** 2))


def mae(y_hat: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.abs(y_hat - y)))


def cce(y_hat: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(np.sum(y * np.log(y_hat), axis=1)))


def bce(y_hat: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)))


def ce_int(p: np.ndarray, label: int) -> float:
    return float(-np.log(p[label]))


NUMPY = {"mse": mse, "mae": mae, "cce": cce, "bce": bce, "ce_int": ce_int}


@pytest.mark.parametrize("name", NUMPY)
def test_every_probe_against_numpy(name: str) -> None:
    ref = reference(f"loss_functions.{name}")
    assert len(ref.probes) >= 4
    for args, expected in zip(ref.probes, ref.value, strict=True):
        assert float(expected) == pytest.approx(
            NUMPY[name](*[to_student(a) for a in args]), rel=1e-12
        )


@pytest.mark.parametrize("name", NUMPY)
def test_a_numpy_solution_is_right(name: str) -> None:
    assert grade_answer(f"loss_functions.{name}", NUMPY[name]).correct


def test_mae_probes_avoid_the_kinks_on_both_sides() -> None:
    gaps = np.concatenate(
        [to_student(a) - to_student(b) for a, b in reference("loss_functions.mae").probes]
    )
    assert (gaps > 0).any() and (gaps < 0).any()
    assert np.abs(gaps).min() >= 0.05


def test_probabilities_are_probabilities() -> None:
    for y_hat, y in reference("loss_functions.cce").probes:
        rows = to_student(y_hat)
        np.testing.assert_allclose(rows.sum(axis=1), 1.0)
        assert (to_student(y).sum(axis=1) == 1).all()
    for y_hat, _ in reference("loss_functions.bce").probes:
        assert ((to_student(y_hat) > 0) & (to_student(y_hat) < 1)).all()


@pytest.mark.parametrize(
    ("name", "student", "mistake"),
    [
        ("mse", lambda a, b: float(np.sum((a - b) ** 2)), "no_mean"),
        ("mse", lambda a, b: 0.5 * float(np.mean((a - b) ** 2)), "factor_two"),
        ("mae", lambda a, b: float(np.mean((a - b) ** 2)), "squared"),
        ("cce", lambda a, b: float(-np.mean(np.sum(b * np.log10(a), axis=1))), "log10"),
        ("bce", lambda a, b: float(np.mean(b * np.log(a) + (1 - b) * np.log(1 - a))), "sign"),
        ("ce_int", lambda p, k: float(-np.log(p[k - 1])), "label_offset"),
    ],
)
def test_typical_student_mistakes_are_named(name: str, student: object, mistake: str) -> None:
    assert grade_answer(f"loss_functions.{name}", student).mistake == mistake


def test_mistaken_values_against_numpy() -> None:
    ref = reference("loss_functions.mse")
    no_mean = dict(mistake_targets("loss_functions.mse"))["no_mean"].value
    for (a, b), wrong in zip(ref.probes, no_mean, strict=True):
        assert float(wrong) == pytest.approx(
            np.sum((to_student(a) - to_student(b)) ** 2), rel=1e-12
        )


def test_bce_is_zero_exactly_when_predictions_equal_the_labels() -> None:
    assert reference("loss_functions.bce_zero").value == "a"
    labels = np.array([0.0, 1.0, 1.0, 0.0])
    near = np.clip(labels, 1e-12, 1 - 1e-12)
    assert bce(near, labels) == pytest.approx(0, abs=1e-9)
    assert bce(np.full(4, 0.5), labels) == pytest.approx(np.log(2))
    assert bce(np.clip(1 - labels, 1e-12, 1 - 1e-12), labels) > 20
    assert grade_answer("loss_functions.bce_zero", "A").correct
    assert grade_answer("loss_functions.bce_zero", "b").mistake == "half_prediction"
    assert grade_answer("loss_functions.bce_zero", "d").mistake == "never_zero"
