"""backprop_chain and backprop_neuron: SymPy against NumPy, finite differences and the seeds' printed runs."""

from __future__ import annotations

import numpy as np
import pytest

from autograder import grade_answer, reference
from autograder.references import mistake_targets
from autograder.spec import Slip

X_IN, W0, T, LR = 1.5, 0.8, 0.5, 0.1


def sigmoid(v: float) -> float:
    return 1 / (1 + np.exp(-v))


def chain_loop(
    with_x: bool = True, rounding: int | None = None, n: int = 10
) -> tuple[list[float], list[float]]:
    """Plain Python: w after each update and C before it; rounding as seed 003's loop does."""

    def rnd(v: float) -> float:
        return v if rounding is None else round(v, rounding)

    w, weights, costs = W0, [], []
    for _ in range(n):
        a = rnd(sigmoid(X_IN * w))
        costs.append(rnd((a - T) ** 2))
        dc_da, da_di = rnd(2 * (a - T)), rnd(a * (1 - a))
        w = rnd(w - LR * dc_da * da_di * (X_IN if with_x else 1.0))
        weights.append(w)
    return weights, costs


# seed 003 prints these: its NumPy loop (no factor x, rounded to 3 decimals) and its PyTorch run
SEED_NUMPY_W = [0.790, 0.780, 0.770, 0.761, 0.752, 0.743, 0.734, 0.725, 0.716, 0.707]
SEED_NUMPY_C = [0.072, 0.071, 0.069, 0.068, 0.067, 0.065, 0.064, 0.062, 0.062, 0.060]
SEED_TORCH_W = [0.786, 0.771, 0.757, 0.743, 0.729, 0.715, 0.701, 0.687, 0.673, 0.660]
SEED_TORCH_C = [0.072, 0.070, 0.068, 0.066, 0.064, 0.062, 0.060, 0.058, 0.056, 0.054]


def test_chain_factors_against_finite_differences() -> None:
    a = sigmoid(X_IN * W0)
    factors = reference("backprop_chain.factors").value
    np.testing.assert_allclose(factors, [2 * (a - T), a * (1 - a), X_IN], rtol=1e-12)

    def cost(w: float) -> float:
        return (sigmoid(X_IN * w) - T) ** 2

    h = 1e-6
    slope = (cost(W0 + h) - cost(W0 - h)) / (2 * h)
    assert float(reference("backprop_chain.dC_dw").value) == pytest.approx(slope, rel=1e-7)


def test_weights_and_costs_against_a_loop_and_the_seeds_pytorch_run() -> None:
    weights, costs = chain_loop()
    np.testing.assert_allclose(reference("backprop_chain.weights").value, weights, rtol=1e-12)
    np.testing.assert_allclose(reference("backprop_chain.costs").value, costs, rtol=1e-12)
    np.testing.assert_allclose(np.round(weights, 3), SEED_TORCH_W, atol=1e-12)
    np.testing.assert_allclose(np.round(costs, 3), SEED_TORCH_C, atol=1e-12)


def test_the_seeds_numpy_loop_is_the_chain_factor_mistake_rounded() -> None:
    """Seed 003's NumPy loop drops the factor x: 0.790 … 0.707, where the right rule gives 0.786 … 0.660."""
    found = [t for m, t in mistake_targets("backprop_chain.weights") if m == "chain_factor"]
    rounded = [t.value for t in found if np.allclose(t.value, np.round(t.value, 3))]
    np.testing.assert_allclose(rounded[0], SEED_NUMPY_W, atol=1e-12)
    np.testing.assert_allclose(rounded[0], chain_loop(with_x=False, rounding=3)[0], atol=1e-12)
    costs = [t.value for m, t in mistake_targets("backprop_chain.costs") if m == "chain_factor"]
    # C is printed rounded (NumPy rounds half to even: 0.0625 → 0.062), never computed from
    assert any(np.all(np.abs(c - SEED_NUMPY_C) <= 0.0005 + 1e-12) for c in costs)
    assert grade_answer("backprop_chain.costs", SEED_NUMPY_C).mistake == "chain_factor"
    verdict = grade_answer("backprop_chain.weights", SEED_NUMPY_W, lang="de")
    assert verdict.mistake == "chain_factor" and "Kettenregel" in verdict.feedback


def test_the_rounded_trajectory_matches_a_rounded_loop() -> None:
    (alternative,) = reference("backprop_chain.weights").alternatives
    np.testing.assert_allclose(alternative.value, chain_loop(rounding=3)[0], atol=1e-12)
    assert Slip(rounding=3).rnd(0.7685) == pytest.approx(0.769)


def test_train_on_every_probe_against_the_loop() -> None:
    ref = reference("backprop_chain.train")
    for (x, w, t, lr, n), expected in zip(ref.probes, ref.value, strict=True):
        w_now, out = float(w), []
        for _ in range(int(n)):
            a = sigmoid(float(x) * w_now)
            w_now -= float(lr) * 2 * (a - float(t)) * a * (1 - a) * float(x)
            out.append(w_now)
        np.testing.assert_allclose(expected, out, rtol=1e-12)


# seed 004 prints every quantity of its one update
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


@pytest.mark.parametrize(("name", "printed"), SEED_004.items())
def test_neuron_against_the_seeds_printed_output(name: str, printed: object) -> None:
    np.testing.assert_allclose(reference(f"backprop_neuron.{name}").value, printed, atol=5e-9)


def neuron_numpy(
    x: np.ndarray, w: np.ndarray, b: float, target: float, lr: float
) -> dict[str, object]:
    z = float(x @ w + b)
    pred = sigmoid(z)
    d_pred = 2 * (pred - target)
    d_z = d_pred * pred * (1 - pred)
    w_new, b_new = w - lr * d_z * x, b - lr * d_z
    return {"Z": z, "pred": pred, "dL_dW": d_z * x, "W_new": w_new, "b_new": b_new,
            "loss_new": (sigmoid(float(x @ w_new + b_new)) - target) ** 2}  # fmt: skip


def test_neuron_against_numpy_and_finite_differences() -> None:
    x, w = np.array([0.5, 0.2, 0.8]), np.array([0.1, -0.3, 0.5])
    expected = neuron_numpy(x, w, 0.1, 0.7, 0.1)
    for name, value in expected.items():
        np.testing.assert_allclose(reference(f"backprop_neuron.{name}").value, value, rtol=1e-12)

    def loss(weights: np.ndarray) -> float:
        return (sigmoid(float(x @ weights + 0.1)) - 0.7) ** 2

    h = 1e-6
    numeric = [(loss(w + h * e) - loss(w - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(reference("backprop_neuron.dL_dW").value, numeric, rtol=1e-6)


def test_neuron_step_on_every_probe_against_numpy() -> None:
    ref = reference("backprop_neuron.neuron_step")
    for args, (w_new, b_new) in zip(ref.probes, ref.value, strict=True):
        x, w, b, target, lr = (
            np.array(a, dtype=float).reshape(-1) if np.ndim(a) else float(a) for a in args
        )
        expected = neuron_numpy(x, w, b, target, lr)  # type: ignore[arg-type]
        np.testing.assert_allclose(w_new, expected["W_new"], rtol=1e-12)
        np.testing.assert_allclose(b_new, expected["b_new"], rtol=1e-12)


def test_neuron_mistakes_against_numpy() -> None:
    x, w = np.array([0.5, 0.2, 0.8]), np.array([0.1, -0.3, 0.5])
    found = dict(mistake_targets("backprop_neuron.W_new"))
    d_z = float(reference("backprop_neuron.dL_dZ").value)
    np.testing.assert_allclose(found["sign"].value, w + 0.1 * d_z * x, rtol=1e-12)
    np.testing.assert_allclose(found["chain_factor"].value, w - 0.1 * d_z, rtol=1e-12)
    assert float(dict(mistake_targets("backprop_neuron.Z"))["bias_missing"].value) == pytest.approx(
        0.39
    )
