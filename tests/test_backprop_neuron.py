"""backprop_neuron: the SymPy references and mistakes against NumPy, finite differences and seed 004.

Seed 004 prints every quantity of its one update to 8 decimals; each one is checked here.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pytest

from autograder.derivation.references import exercise, mistake_targets, pair_targets, reference
from autograder.model.values import to_student
from exercises.backprop_neuron import APART

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


def half_up(v: Any, digits: int = 3) -> Any:
    """Rounded as by hand: half away from zero, on the decimal the float prints as."""
    if np.ndim(v):
        return np.array([half_up(x, digits) for x in v])
    quantum = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(float(v))).quantize(quantum, rounding=ROUND_HALF_UP))


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
    slope_at: str = "Z",
    old_loss: bool = False,
    squared: bool = True,
    activation: bool = True,
    rate: str = "lr",
    loss_as_step: bool = False,
    rounding: int | None = None,
) -> dict[str, Any]:
    """One forward and backward pass in plain NumPy, with a student's slip where asked.

    The slips: σ′ taken at the prediction or left out (`slope_at` "pred" or ""), L = pred − target
    (not `squared`), pred = Z (no `activation`: a linear neuron, slope 1), a step of 1 or 2·lr
    times the gradient (`rate` "one" or "double"), the loss taken for every gradient, and every
    result rounded to `rounding` decimals.
    """

    def rnd(v: Any) -> Any:
        return v if rounding is None else half_up(v, rounding)

    def forward(weights: np.ndarray, bias: float) -> float:
        return rnd(float(x @ weights + (bias if with_bias else 0.0)))

    def predict(z: float) -> float:
        return rnd(sigmoid(z)) if activation else z

    def loss(pred: float) -> float:
        return rnd(factor * ((pred - target) ** 2 if squared else pred - target))

    z = forward(w, b)
    pred = predict(z)
    dl_dpred = rnd(sign * factor * (2 * (pred - target) if squared else 1.0))
    s = sigmoid(pred) if slope_at == "pred" else sigmoid(z)
    dpred_dz = rnd(s * (1 - s)) if activation else 1.0
    dl_dz = rnd(dl_dpred * (dpred_dz if slope_at else 1.0))
    dl_dw = rnd(dl_dz * (x if with_x else np.ones_like(x)))
    dl_db = rnd(dl_dz)
    step = {"lr": lr, "one": 1.0, "double": 2 * lr}[rate]
    by_w, by_b = (loss(pred) * np.ones_like(x), loss(pred)) if loss_as_step else (dl_dw, dl_db)
    w_new, b_new = rnd(w - step * by_w), rnd(b - step * by_b)
    return {
        "Z": z,
        "pred": pred,
        "loss": loss(pred),
        "dL_dpred": dl_dpred,
        "dpred_dZ": dpred_dz,
        "dL_dZ": dl_dz,
        "dL_dW": dl_dw,
        "dL_db": dl_db,
        "W_new": w_new,
        "b_new": b_new,
        "loss_new": loss(pred) if old_loss else loss(predict(forward(w_new, b_new))),
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

# each mistake as NumPy makes it: the options of each of its forms
SLIPS: dict[str, list[dict[str, Any]]] = {
    "sign": [{"sign": -1.0}],
    "factor_two": [{"factor": 2.0}, {"factor": 0.5}],
    "chain_factor": [{"with_x": False}],
    "bias_missing": [{"with_bias": False}],
    "sigma_twice": [{"slope_at": "pred"}],
    "no_activation_slope": [{"slope_at": ""}],
    "old_loss": [{"old_loss": True}],
    "not_squared": [{"squared": False}],
    "no_activation": [{"activation": False}],
    "no_learning_rate": [{"rate": "one"}],
    "doubled_step": [{"rate": "double"}],
    "loss_as_gradient": [{"loss_as_step": True}],
    "rounded": [{"rounding": 3}],
}
# the mistakes of a gradient from ∂L/∂Z on, and of an update (after the sign and the lost xᵢ)
GRADIENT = ("factor_two", "sign", "no_activation_slope", "sigma_twice", "not_squared")
UPDATE = (
    "factor_two",
    "no_learning_rate",
    "no_activation_slope",
    "not_squared",
    "doubled_step",
    "loss_as_gradient",
)
CARRIED = ("bias_missing", "no_activation")
# every (question, mistake) the spec lists, but neuron_step's (in STEP_MISTAKES)
MISTAKES = [
    ("Z", "bias_missing"),
    *(("pred", m) for m in CARRIED),
    *(("loss", m) for m in ("factor_two", "not_squared", *CARRIED)),
    *(("dL_dpred", m) for m in ("factor_two", "sign", "not_squared", *CARRIED)),
    ("dpred_dZ", "sigma_twice"),
    ("dpred_dZ", "bias_missing"),
    *(("dL_dZ", m) for m in (*GRADIENT, *CARRIED)),
    *(("dL_dW", m) for m in ("chain_factor", *GRADIENT, "rounded", *CARRIED)),
    *(("dL_db", m) for m in (*GRADIENT, *CARRIED)),
    *(("W_new", m) for m in ("sign", "chain_factor", *UPDATE, *CARRIED)),
    *(("b_new", m) for m in ("sign", *UPDATE, *CARRIED)),
    *(("loss_new", m) for m in ("old_loss", "sign", "chain_factor", *UPDATE, *CARRIED)),
]
STEP_MISTAKES = ("sign", "chain_factor", "sigma_twice", *UPDATE, *CARRIED)


@pytest.mark.parametrize(("name", "mistake"), MISTAKES)
def test_mistakes_against_numpy(name: str, mistake: str) -> None:
    found = [t.value for m, t in mistake_targets(f"backprop_neuron.{name}") if m == mistake]
    expected = [neuron_numpy(X, W, B, TARGET, LR, **slip)[name] for slip in SLIPS[mistake]]
    assert len(found) == len(expected)
    for f, e in zip(found, expected, strict=True):
        np.testing.assert_allclose(f, e, rtol=1e-12, atol=1e-15)


def test_every_listed_mistake_is_recomputed_in_these_tests() -> None:
    listed = {(q.name, m) for q in exercise("backprop_neuron").questions for m in q.mistakes}
    assert listed == set(MISTAKES) | {("neuron_step", m) for m in STEP_MISTAKES}


def test_the_sign_mistake_steps_up_the_gradient() -> None:
    found = dict(mistake_targets("backprop_neuron.W_new"))
    np.testing.assert_allclose(found["sign"].value, W + LR * RIGHT["dL_dW"], rtol=1e-12)
    assert float(dict(mistake_targets("backprop_neuron.Z"))["bias_missing"].value) == (
        pytest.approx(0.39)
    )


def test_the_rounded_gradient_is_the_lectures_by_hand() -> None:
    """pred 0.620, ∂L/∂pred −0.160, σ′ 0.236, ∂L/∂Z −0.038, and ∂L/∂Z · xⱼ to 3 decimals."""
    (rounded,) = [t.value for m, t in mistake_targets("backprop_neuron.dL_dW") if m == "rounded"]
    np.testing.assert_allclose(rounded, [-0.019, -0.008, -0.030], atol=1e-15)


@pytest.mark.parametrize("mistake", STEP_MISTAKES)
def test_neuron_step_mistakes_on_every_probe(mistake: str) -> None:
    found = [t.value for m, t in mistake_targets("backprop_neuron.neuron_step") if m == mistake]
    assert len(found) == len(SLIPS[mistake])
    for outputs, slip in zip(found, SLIPS[mistake], strict=True):
        for (x, w, b, target, lr), (w_new, b_new) in zip(probe_arguments(), outputs, strict=True):
            expected = neuron_numpy(x, w, b, target, lr, **slip)
            np.testing.assert_allclose(w_new, expected["W_new"], rtol=1e-12)
            np.testing.assert_allclose(b_new, expected["b_new"], rtol=1e-12)


def test_the_mistakes_of_neuron_step_show_on_the_graders_own_neurons() -> None:
    """The grader's own neurons are the same in every variant: a mistake apart from the reference
    on one of them by several tolerances is told apart whatever a student's numbers are."""
    ref = reference("backprop_neuron.neuron_step")
    for mistake, t in mistake_targets(ref.qid):
        moved = [
            np.max(np.abs(np.asarray(got) - want) / (1e-6 + 1e-3 * np.abs(want)))
            for outputs, right in zip(t.value[1:], ref.value[1:], strict=True)
            for got, want in zip(outputs, right, strict=True)
        ]
        assert max(moved) > APART, mistake


# two mistakes at once, recomputed by NumPy: (question, pair, the options of both)
PAIRS = [
    # stepping up the whole gradient: W + ∂L/∂W
    ("W_new", "sign+no_learning_rate", {"sign": -1.0, "rate": "one"}),
    ("b_new", "sign+no_learning_rate", {"sign": -1.0, "rate": "one"}),
    ("dL_dW", "chain_factor+no_activation_slope", {"with_x": False, "slope_at": ""}),
    ("dL_dW", "sign+rounded", {"sign": -1.0, "rounding": 3}),
    ("loss_new", "sign+bias_missing", {"sign": -1.0, "with_bias": False}),
    ("loss", "factor_two+not_squared", {"factor": 0.5, "squared": False}),
]


@pytest.mark.parametrize(("name", "pair", "options"), PAIRS)
def test_two_mistakes_at_once_against_numpy(name: str, pair: str, options: dict[str, Any]) -> None:
    found = [t.value for p, t in pair_targets(f"backprop_neuron.{name}") if p == pair]
    expected = neuron_numpy(X, W, B, TARGET, LR, **options)[name]
    assert any(np.allclose(f, expected, rtol=1e-12, atol=1e-15) for f in found), found


@pytest.mark.parametrize(
    ("variant", "name", "mistake"),
    [
        # X·W = −b/2: Z = 0.1 without the bias is −0.1, and σ′ is even
        (
            {"X": ["0.5", "0.5", "0.5"], "W": ["-0.2", "0.0", "0.0"], "b": "0.2", "lr": "0.5"},
            "dpred_dZ",
            "bias_missing",
        ),
        # Z = 0.66 next to σ(0.66) = 0.6593: the linear neuron predicts almost the same
        (
            {"X": ["0.8", "0.4", "0.1"], "W": ["0.5", "0.4", "0.0"], "target": "0.9", "lr": "0.5"},
            "pred",
            "no_activation",
        ),
    ],
)
def test_a_variant_in_which_a_mistake_vanishes_is_not_drawn(
    variant: dict[str, Any], name: str, mistake: str
) -> None:
    ex = exercise("backprop_neuron")
    numbers = {"X": X, "W": W, "b": B, "target": TARGET, "lr": LR}
    numbers |= {k: np.array(v, dtype=float) for k, v in variant.items()}
    args = (numbers["X"], numbers["W"], float(numbers["b"]), float(numbers["target"]))
    right = neuron_numpy(*args, float(numbers["lr"]))[name]
    (slip,) = SLIPS[mistake]
    wrong = neuron_numpy(*args, float(numbers["lr"]), **slip)[name]
    assert abs(wrong - right) <= APART * (1e-6 + 1e-3 * abs(right))
    reason = ex.well_posed(ex.params(variant)) or ""
    assert f"{name} with the {mistake} slip" in reason
