"""softmax_ce: the SymPy references and mistakes against NumPy, and against the slides of seed 001.

The slides print p and ∂L/∂W rounded; example 2 misrounds p₃ and computes its matrix from that.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograder.derivation.references import (
    derive,
    exercise,
    mistake_targets,
    pair_targets,
    reference,
)
from autograder.judging.grading import named_pairs
from autograder.model.spec import Slip
from autograder.model.values import to_student

VOCABULARY = {12856: "Frankreich", 5312: "Deutschland", 9021: "Spanien"}
LOGITS = np.array([3.2, 1.7, 1.2])
Z1, Y1, X1 = np.array([2.0, 1.0, 0.1]), np.array([1.0, 0.0, 0.0]), np.array([1.5, 0.5])
Z2, Y2 = np.array([3.52, 2.37, 1.185, 0.07]), np.array([1.0, 0.0, 0.0, 0.0])
X2 = np.array([1.2, 0.8, 0.5])

# seed 001, as its slides print them
SLIDE_P1 = [0.6590, 0.2424, 0.0986]
SLIDE_DZ1 = [-0.3410, 0.2424, 0.0986]
SLIDE_DW1 = [[-0.5115, -0.1705], [0.3636, 0.1212], [0.1479, 0.0493]]
SLIDE_P2 = [0.692, 0.219, 0.066, 0.022]
SLIDE_DW2 = [
    [-0.3696, -0.2464, -0.1540],
    [0.2628, 0.1752, 0.1095],
    [0.0792, 0.0528, 0.0330],
    [0.0264, 0.0176, 0.0110],
]


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - np.max(z))
    return e / e.sum()


def naive_softmax(z: np.ndarray) -> np.ndarray:
    """The seed's softmax, e^z / Σ e^z without the shift, with float64's overflow and 0/0."""
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(z)
        return e / e.sum()


P1, P2 = softmax(Z1), softmax(Z2)


def value(qid: str) -> np.ndarray:
    return np.asarray(reference(f"softmax_ce.{qid}").value, dtype=float)


@pytest.mark.parametrize(
    ("qid", "expected"),
    [
        ("p1", P1),
        ("loss1", -np.log(P1[0])),
        ("dz1", P1 - Y1),
        ("dW1", np.outer(P1 - Y1, X1)),
        ("p2", P2),
        ("loss2", -np.log(P2[0])),
        ("dW2", np.outer(P2 - Y2, X2)),
        ("loss_after", -np.log(0.85)),
    ],
)
def test_references_against_numpy(qid: str, expected: np.ndarray) -> None:
    np.testing.assert_allclose(value(qid), expected, rtol=1e-12)


def test_the_gradient_of_the_loss_by_finite_differences() -> None:
    def loss(z: np.ndarray) -> float:
        return float(-np.log(softmax(z)[0]))

    h = 1e-6
    slope = [(loss(Z1 + h * e) - loss(Z1 - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(value("dz1"), slope, rtol=1e-7)


def test_the_decoder_predicts_the_most_likely_token() -> None:
    ids = list(VOCABULARY)
    assert reference("softmax_ce.predicted_token").value == str(ids[np.argmax(softmax(LOGITS))])
    assert reference("softmax_ce.predicted_token").value == "12856"
    assert exercise("softmax_ce").question("predicted_token").options == {
        str(k): v for k, v in VOCABULARY.items()
    }


# --- the slides of seed 001 ---


def test_example_1_agrees_with_the_slide_but_for_one_entry_of_dW1() -> None:
    np.testing.assert_allclose(value("p1"), SLIDE_P1, rtol=0, atol=5e-5)
    np.testing.assert_allclose(value("dz1"), SLIDE_DZ1, rtol=0, atol=5e-5)
    off = np.abs(value("dW1") - SLIDE_DW1) > 5e-5
    # the slide multiplies the printed p₃ = 0.0986 by 1.5; the exact 0.147849 prints as 0.1478
    assert [tuple(i) for i in np.argwhere(off)] == [(2, 0)]
    assert SLIDE_DW1[2][0] == pytest.approx(1.5 * SLIDE_P1[2], abs=1e-12)
    assert round(float(value("dW1")[2, 0]), 4) == 0.1478
    # off by a unit in the 4th decimal only: within the question's tolerance
    np.testing.assert_allclose(SLIDE_DW1, value("dW1"), rtol=1e-3, atol=1e-6)


def test_the_slides_p2_misrounds_p3() -> None:
    off = np.abs(value("p2") - SLIDE_P2) > 5e-4
    assert list(np.flatnonzero(off)) == [2]
    assert SLIDE_P2[2] == 0.066
    assert round(float(value("p2")[2]), 3) == 0.067
    assert np.round(P2, 3).tolist() == [0.692, 0.219, 0.067, 0.022]


def test_the_slides_dW2_follows_from_its_rounded_p_not_from_the_exact_one() -> None:
    off = np.abs(value("dW2") - SLIDE_DW2) > 5e-5
    assert off.any()
    assert off[2].all()  # the row of the misrounded p₃
    np.testing.assert_allclose(np.outer(np.subtract(SLIDE_P2, Y2), X2), SLIDE_DW2, atol=1e-12)
    follows = derive(exercise("softmax_ce"), None, Slip(), given={"p2": SLIDE_P2})
    np.testing.assert_allclose(
        np.array(follows["dW2"].tolist(), dtype=float), SLIDE_DW2, rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(float(follows["loss2"]), -np.log(SLIDE_P2[0]), rtol=1e-12)


# --- the function questions, probe by probe ---


@pytest.mark.parametrize("qid", ["softmax", "stable_softmax"])
def test_softmax_functions_on_every_probe_against_numpy(qid: str) -> None:
    ref = reference(f"softmax_ce.{qid}")
    assert len(ref.probes) == len(ref.value) >= 4
    assert len({len(to_student(z)) for (z,) in ref.probes}) >= 3
    for (z,), expected in zip(ref.probes, ref.value, strict=True):
        np.testing.assert_allclose(expected, softmax(to_student(z)), rtol=1e-12, atol=1e-300)
        assert float(np.sum(expected)) == pytest.approx(1.0, rel=1e-12)


def test_stable_softmax_probes_overflow_and_underflow_a_naive_softmax() -> None:
    probes = [to_student(z) for (z,) in reference("softmax_ce.stable_softmax").probes]
    shown = [z.tolist() for z in probes]
    assert [1000.0, 999.0] in shown and [-1000.0, -1001.0] in shown
    with np.errstate(over="ignore", under="ignore"):
        assert any(np.isinf(np.exp(z)).any() for z in probes)
        assert any((np.exp(z) == 0).all() for z in probes)
    assert all(np.isfinite(naive_softmax(z)).all() for z in probes if np.abs(z).max() < 700)


def targets_of(qid: str, mistake: str) -> list[np.ndarray]:
    (found,) = [t.value for m, t in mistake_targets(f"softmax_ce.{qid}") if m == mistake]
    return list(found) if isinstance(found, list) else [found]


def test_not_stable_is_the_naive_softmax_as_float64_computes_it() -> None:
    ref = reference("softmax_ce.stable_softmax")
    found = targets_of("stable_softmax", "not_stable")
    for (z,), mistaken in zip(ref.probes, found, strict=True):
        # NaN where NumPy gives NaN (assert_allclose treats NaN as equal to NaN)
        np.testing.assert_allclose(mistaken, naive_softmax(to_student(z)), rtol=1e-12, atol=0)
    assert any(np.isnan(m).any() for m in found)


def linear(z: np.ndarray) -> np.ndarray:
    return z / z.sum()


def base10(z: np.ndarray) -> np.ndarray:
    """10^z / Σ 10^z, shifted by max z as a stable softmax is (the same value)."""
    e = 10.0 ** (z - np.max(z))
    return e / e.sum()


def shifted_exp(z: np.ndarray) -> np.ndarray:
    """A stable softmax not normalised: e^(z − max z)."""
    return np.exp(z - np.max(z))


def shifted_linear(z: np.ndarray) -> np.ndarray:
    """A stable softmax normalised linearly: (z − max z) / Σ (z − max z), NaN where every logit
    is the largest (0/0)."""
    shifted = z - np.max(z)
    with np.errstate(invalid="ignore"):
        return shifted / shifted.sum()


FUNCTION_MISTAKES = [
    ("softmax", "not_normalised", np.exp),
    ("softmax", "linear_normalised", linear),
    ("softmax", "base10", base10),
    ("stable_softmax", "not_normalised", shifted_exp),
    ("stable_softmax", "linear_normalised", shifted_linear),
    ("stable_softmax", "base10", base10),
]


@pytest.mark.parametrize(("qid", "mistake", "rule"), FUNCTION_MISTAKES)
def test_mistaken_softmax_functions_on_every_probe(qid: str, mistake: str, rule: Any) -> None:
    ref = reference(f"softmax_ce.{qid}")
    found = targets_of(qid, mistake)
    for (z,), mistaken in zip(ref.probes, found, strict=True):
        # NaN where NumPy gives NaN (assert_allclose treats NaN as equal to NaN)
        np.testing.assert_allclose(mistaken, rule(to_student(z)), rtol=1e-12, atol=1e-300)


def test_the_stable_softmax_normalised_linearly_is_nan_on_equal_logits() -> None:
    probes = [to_student(z).tolist() for (z,) in reference("softmax_ce.stable_softmax").probes]
    found = targets_of("stable_softmax", "linear_normalised")
    assert np.isnan(found[probes.index([-2.0, -2.0])]).all()
    assert sum(np.isnan(m).any() for m in found) == 1


def naive_pair(rule: Any) -> Any:
    """A softmax slip without the shift, as float64 computes it (overflow, 800/0 and all)."""

    def mistaken(z: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            return rule(z)

    return mistaken


# the stable softmax without its shift and with a softmax slip: e^1000 and 800/0 are inf
FUNCTION_PAIRS = [
    ("stable_softmax", "not_stable+not_normalised", naive_pair(np.exp)),
    ("stable_softmax", "not_stable+linear_normalised", naive_pair(linear)),
    ("stable_softmax", "not_normalised+linear_normalised", lambda z: z - np.max(z)),
]


@pytest.mark.parametrize(("qid", "pair", "rule"), FUNCTION_PAIRS)
def test_pairs_of_mistaken_softmax_functions_on_every_probe(qid: str, pair: str, rule: Any) -> None:
    ref = reference(f"softmax_ce.{qid}")
    (found,) = [t.value for m, t in pair_targets(f"softmax_ce.{qid}") if m == pair]
    for (z,), mistaken in zip(ref.probes, found, strict=True):
        # the same inf where NumPy overflows (assert_allclose compares infinities by sign)
        np.testing.assert_allclose(mistaken, rule(to_student(z)), rtol=1e-12, atol=1e-300)
    assert any(np.isinf(m).any() for m in found) == pair.startswith("not_stable")


def test_the_base10_stable_softmax_stays_finite_on_the_extreme_logits() -> None:
    found = targets_of("stable_softmax", "base10")
    assert all(np.isfinite(m).all() for m in found)
    probes = [to_student(z).tolist() for (z,) in reference("softmax_ce.stable_softmax").probes]
    np.testing.assert_allclose(found[probes.index([1000.0, 999.0])], [10 / 11, 1 / 11])


# --- the mistakes, recomputed by NumPy ---

L1, L2 = linear(Z1), linear(Z2)
B1, B2 = base10(Z1), base10(Z2)

MISTAKES = [
    ("p1", "not_normalised", np.exp(Z1)),
    ("p1", "linear_normalised", L1),
    ("p1", "base10", B1),
    ("loss1", "log10", -np.log10(P1[0])),
    ("loss1", "sign", np.log(P1[0])),
    ("loss1", "sum_all", -np.log(P1).sum()),
    ("loss1", "complement", -np.log(1 - P1[0])),
    ("loss1", "not_normalised", -Z1[0]),
    ("loss1", "linear_normalised", -np.log(L1[0])),
    ("loss1", "base10", -np.log(B1[0])),
    ("dz1", "sign", Y1 - P1),
    ("dz1", "y_forgotten", P1),
    ("dz1", "not_normalised", np.exp(Z1) - Y1),
    ("dz1", "linear_normalised", L1 - Y1),
    ("dz1", "base10", B1 - Y1),
    ("dW1", "transposed", np.outer(X1, P1 - Y1)),
    ("dW1", "sign", np.outer(Y1 - P1, X1)),
    ("dW1", "y_forgotten", np.outer(P1, X1)),
    ("dW1", "not_normalised", np.outer(np.exp(Z1) - Y1, X1)),
    ("dW1", "linear_normalised", np.outer(L1 - Y1, X1)),
    ("dW1", "base10", np.outer(B1 - Y1, X1)),
    ("p2", "not_normalised", np.exp(Z2)),
    ("p2", "linear_normalised", L2),
    ("p2", "base10", B2),
    ("loss2", "log10", -np.log10(P2[0])),
    ("loss2", "sign", np.log(P2[0])),
    ("loss2", "sum_all", -np.log(P2).sum()),
    ("loss2", "complement", -np.log(1 - P2[0])),
    ("loss2", "not_normalised", -Z2[0]),
    ("loss2", "linear_normalised", -np.log(L2[0])),
    ("loss2", "base10", -np.log(B2[0])),
    ("dW2", "rounded", np.outer(np.round(P2, 3) - Y2, X2)),
    ("dW2", "transposed", np.outer(X2, P2 - Y2)),
    ("dW2", "sign", np.outer(Y2 - P2, X2)),
    ("dW2", "y_forgotten", np.outer(P2, X2)),
    ("dW2", "not_normalised", np.outer(np.exp(Z2) - Y2, X2)),
    ("dW2", "linear_normalised", np.outer(L2 - Y2, X2)),
    ("dW2", "base10", np.outer(B2 - Y2, X2)),
    ("loss_after", "log10", -np.log10(0.85)),
    ("loss_after", "sign", np.log(0.85)),
    ("loss_after", "complement", -np.log(0.15)),
]


@pytest.mark.parametrize(("qid", "mistake", "expected"), MISTAKES)
def test_mistakes_against_numpy(qid: str, mistake: str, expected: np.ndarray) -> None:
    (found,) = targets_of(qid, mistake)
    np.testing.assert_allclose(found, expected, rtol=1e-12)


def test_mistakes_of_the_predicted_token() -> None:
    found = dict(mistake_targets("softmax_ce.predicted_token"))
    ids = [str(k) for k in VOCABULARY]
    assert found["argmin"].value == ids[np.argmin(softmax(LOGITS))] == "9021"
    assert found["index_not_id"].value == str(np.argmax(LOGITS)) == "0"
    assert (
        found["index_not_id"].value
        not in exercise("softmax_ce").question("predicted_token").options
    )


def test_every_listed_mistake_is_recomputed_in_these_tests() -> None:
    listed = {(q.name, m) for q in exercise("softmax_ce").questions for m in q.mistakes}
    covered = {(qid, m) for qid, m, _ in MISTAKES + FUNCTION_MISTAKES} | {
        ("stable_softmax", "not_stable"),
        ("predicted_token", "argmin"),
        ("predicted_token", "index_not_id"),
    }
    assert listed == covered


# two mistakes at once: (question, the pair's id, its answer)
PAIRS = [
    ("loss1", "sign+complement", np.log(1 - P1[0])),
    ("loss1", "log10+sum_all", -np.log10(P1).sum()),
    ("loss2", "sum_all+linear_normalised", -np.log(L2).sum()),
    ("loss2", "complement+base10", -np.log(1 - B2[0])),
    ("dz1", "sign+y_forgotten", -P1),
    ("dW1", "transposed+not_normalised", np.outer(X1, np.exp(Z1) - Y1)),
    ("loss1", "sign+not_normalised", Z1[0]),
    ("loss2", "sum_all+not_normalised", -Z2.sum()),
    ("dW2", "sign+not_normalised", np.outer(Y2 - np.exp(Z2), X2)),
    ("dW2", "rounded+transposed", np.outer(X2, np.round(P2, 3) - Y2)),
    ("dW2", "rounded+base10", np.outer(np.round(B2, 3) - Y2, X2)),
    ("loss_after", "log10+complement", -np.log10(0.15)),
]


@pytest.mark.parametrize(("qid", "pair", "expected"), PAIRS)
def test_pairs_of_mistakes_against_numpy(qid: str, pair: str, expected: np.ndarray) -> None:
    found = [t.value for m, t in pair_targets(f"softmax_ce.{qid}") if m == pair]
    assert any(
        np.shape(f) == np.shape(expected) and np.allclose(f, expected, rtol=1e-12) for f in found
    ), (qid, pair, found)


@pytest.mark.parametrize("qid", ["loss1", "loss2"])
def test_the_complement_of_e_to_the_z_has_no_logarithm_and_is_not_named(qid: str) -> None:
    # 1 − e^z_k < 0 for the positive logits: float64's log gives NaN, which no answer reaches
    (found,) = [
        t.value for m, t in pair_targets(f"softmax_ce.{qid}") if m == "complement+not_normalised"
    ]
    z_k = (Z1 if qid == "loss1" else Z2)[0]
    with np.errstate(invalid="ignore"):
        assert np.isnan(found) and np.isnan(-np.log(1 - np.exp(z_k)))
    assert "complement+not_normalised" not in dict(named_pairs(f"softmax_ce.{qid}"))


def test_e_to_the_z_rounded_is_not_named_in_dW2() -> None:
    # e^z₂ rounded to 3 decimals is within the tolerance of e^z₂: the single mistake explains it
    (found,) = [t.value for m, t in pair_targets("softmax_ce.dW2") if m == "rounded+not_normalised"]
    np.testing.assert_allclose(found, np.outer(np.round(np.exp(Z2), 3) - Y2, X2), rtol=1e-12)
    np.testing.assert_allclose(found, np.outer(np.exp(Z2) - Y2, X2), rtol=1e-3, atol=1e-6)
    assert "rounded+not_normalised" not in dict(named_pairs("softmax_ce.dW2"))
