"""backprop_neuron: the SymPy references and mistakes against NumPy, finite differences and seed 004.

Seed 004 prints every quantity of its one update to 8 decimals; each one is checked here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograder.references import exercise, mistake_targets, reference
from autograder.values import to_student

X = np.array([0.5, 0.2, 0.8])
W = np.array([0.1, -0.3, 0.5])
B, TARGET, LR = 0.1, 0.7, 0.1

# seed 004's printed output (NumPy prints 8 decimals)
SEED_004 = {
    "Z": 0.49,
    "pred": 0.62010643,
    "loss": 0.00638298,
    "dL_dpred": -0.15978714,
    "dpred_dZ": 0.23557444,
    "dL_dZ": -0.03764177,
    "dL_dW": [-0.01882088, -0.00752835, -0.03011341],
    "dL_db": -0.03764177,
    "W_new": [0.10188209, -0.29924716, 0.50301134],
    "b_new": 0.10376418,
    "loss_new": 0.00611268,
}
SEED_PRED_AFTER = 0.62181635


def sigmoid(v: Any) -> Any:
    return 1 / (1 + np.exp(-v))


def neuron_numpy(
    x: np.ndarray,
    w: np.ndarray,
    b: float,
    target: float,
    lr: float,
    *,
    sign: float = 1.0,
    factor: float = 1.0,
    with_x: bool = True,
    with_bias: bool = True,
    slope_at_pred: bool = False,
    old_loss: bool = False,
) -> dict[str, Any]:
    """One forward and backward pass in plain NumPy, with a student's slip where asked."""

    def forward(weights: np.ndarray, bias: float) -> float:
        return float(x @ weights + (bias if with_bias else 0.0))

    def loss(pred: float) -> float:
        return factor * (pred - target) ** 2

    z = forward(w, b)
    pred = sigmoid(z)
    dl_dpred = sign * 2 * factor * (pred - target)
    s = sigmoid(pred) if slope_at_pred else pred
    dpred_dz = s * (1 - s)
    dl_dz = dl_dpred * dpred_dz
    dl_dw = dl_dz * (x if with_x else np.ones_like(x))
    w_new, b_new = w - lr * dl_dw, b - lr * dl_dz
    return {
        "Z": z,
        "pred": pred,
        "loss": loss(pred),
        "dL_dpred": dl_dpred,
        "dpred_dZ": dpred_dz,
        "dL_dZ": dl_dz,
        "dL_dW": dl_dw,
        "dL_db": dl_dz,
        "W_new": w_new,
        "b_new": b_new,
        "loss_new": loss(pred) if old_loss else loss(sigmoid(forward(w_new, b_new))),
    }


RIGHT = neuron_numpy(X, W, B, TARGET, LR)


def value(name: str) -> np.ndarray:
    return np.asarray(reference(f"backprop_neuron.{name}").value, dtype=float)


@pytest.mark.parametrize(("name", "printed"), SEED_004.items())
def test_against_the_seeds_printed_output(name: str, printed: Any) -> None:
    np.testing.assert_allclose(value(name), printed, rtol=0, atol=5e-9)


@pytest.mark.parametrize("name", SEED_004)
def test_against_numpy(name: str) -> None:
    np.testing.assert_allclose(value(name), RIGHT[name], rtol=1e-12, atol=1e-15)


def test_the_prediction_after_the_update_is_the_seeds() -> None:
    after = sigmoid(float(X @ value("W_new") + float(value("b_new"))))
    assert after == pytest.approx(SEED_PRED_AFTER, abs=5e-9)
    assert float(value("loss_new")) < float(value("loss"))


def central(f: Any, at: float, h: float = 1e-6) -> float:
    return float((f(at + h) - f(at - h)) / (2 * h))


def test_each_chain_factor_by_finite_differences() -> None:
    z, pred = RIGHT["Z"], RIGHT["pred"]
    assert float(value("dL_dpred")) == pytest.approx(
        central(lambda p: (p - TARGET) ** 2, pred), rel=1e-8
    )
    assert float(value("dpred_dZ")) == pytest.approx(central(sigmoid, z), rel=1e-8)
    assert float(value("dL_dZ")) == pytest.approx(
        central(lambda v: (sigmoid(v) - TARGET) ** 2, z), rel=1e-7
    )


def test_the_gradients_by_finite_differences() -> None:
    def loss(weights: np.ndarray, bias: float) -> float:
        return float((sigmoid(X @ weights + bias) - TARGET) ** 2)

    h = 1e-6
    by_w = [(loss(W + h * e, B) - loss(W - h * e, B)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(value("dL_dW"), by_w, rtol=1e-7)
    assert float(value("dL_db")) == pytest.approx(central(lambda b: loss(W, b), B), rel=1e-7)


def probe_arguments() -> list[tuple[np.ndarray, np.ndarray, float, float, float]]:
    found = []
    for args in reference("backprop_neuron.neuron_step").probes:
        x, w, b, target, lr = (to_student(a) for a in args)
        found.append((x, w, b, target, lr))
    return found


def test_neuron_step_on_every_probe_against_numpy() -> None:
    ref = reference("backprop_neuron.neuron_step")
    probes = probe_arguments()
    assert 3 <= len(probes) == len(ref.value)
    for (x, w, b, target, lr), (w_new, b_new) in zip(probes, ref.value, strict=True):
        expected = neuron_numpy(x, w, b, target, lr)
        np.testing.assert_allclose(w_new, expected["W_new"], rtol=1e-12)
        np.testing.assert_allclose(b_new, expected["b_new"], rtol=1e-12)


def test_neuron_step_probes_start_at_the_default_and_lie_on_both_sides_of_their_targets() -> None:
    probes = probe_arguments()
    x, w, b, target, lr = probes[0]
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(w, W)
    assert (b, target, lr) == (B, TARGET, LR)
    above = {bool(sigmoid(float(x @ w + b)) > target) for x, w, b, target, _ in probes}
    assert above == {True, False}


# --- the mistakes, recomputed by NumPy ---

SLIPS: dict[str, list[dict[str, Any]]] = {
    "sign": [{"sign": -1.0}],
    "factor_two": [{"factor": 2.0}, {"factor": 0.5}],
    "chain_factor": [{"with_x": False}],
    "bias_missing": [{"with_bias": False}],
    "sigma_twice": [{"slope_at_pred": True}],
    "old_loss": [{"old_loss": True}],
}
MISTAKES = [
    (q.name, mistake)
    for q in exercise("backprop_neuron").questions
    if q.name != "neuron_step"
    for mistake in q.mistakes
]


@pytest.mark.parametrize(("name", "mistake"), MISTAKES)
def test_mistakes_against_numpy(name: str, mistake: str) -> None:
    found = [t.value for m, t in mistake_targets(f"backprop_neuron.{name}") if m == mistake]
    expected = [neuron_numpy(X, W, B, TARGET, LR, **slip)[name] for slip in SLIPS[mistake]]
    assert len(found) == len(expected)
    for f, e in zip(found, expected, strict=True):
        np.testing.assert_allclose(f, e, rtol=1e-12, atol=1e-15)


def test_the_sign_mistake_steps_up_the_gradient() -> None:
    found = dict(mistake_targets("backprop_neuron.W_new"))
    np.testing.assert_allclose(found["sign"].value, W + LR * RIGHT["dL_dW"], rtol=1e-12)
    assert float(dict(mistake_targets("backprop_neuron.Z"))["bias_missing"].value) == (
        pytest.approx(0.39)
    )


@pytest.mark.parametrize("mistake", ["sign", "chain_factor", "factor_two"])
def test_neuron_step_mistakes_on_every_probe(mistake: str) -> None:
    found = [t.value for m, t in mistake_targets("backprop_neuron.neuron_step") if m == mistake]
    assert len(found) == len(SLIPS[mistake])
    for outputs, slip in zip(found, SLIPS[mistake], strict=True):
        for (x, w, b, target, lr), (w_new, b_new) in zip(probe_arguments(), outputs, strict=True):
            expected = neuron_numpy(x, w, b, target, lr, **slip)
            np.testing.assert_allclose(w_new, expected["W_new"], rtol=1e-12)
            np.testing.assert_allclose(b_new, expected["b_new"], rtol=1e-12)
