"""backprop_chain: SymPy's chain rule against finite differences, its training runs against plain
loops (exact, and rounded as seed 003 rounds), the seed's two printed runs, and every mistake.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pytest

from autograder.references import derive, exercise, mistake_targets, reference, slips
from autograder.spec import Slip

X, W0, T, LR, UPDATES = 1.5, 0.8, 0.5, 0.1, 10
H = 1e-6
TOL = {"rtol": 1e-3, "atol": 1e-6}

# seed 003 prints two runs: its NumPy loop (factor x dropped, every value rounded to 3 decimals
# by np.round) and its PyTorch run (right, printed to 3 decimals)
SEED_NUMPY_W = [0.790, 0.780, 0.770, 0.761, 0.752, 0.743, 0.734, 0.725, 0.716, 0.707]
SEED_NUMPY_C = [0.072, 0.071, 0.069, 0.068, 0.067, 0.065, 0.064, 0.062, 0.062, 0.060]
SEED_TORCH_W = [0.786, 0.771, 0.757, 0.743, 0.729, 0.715, 0.701, 0.687, 0.673, 0.660]
SEED_TORCH_C = [0.072, 0.070, 0.068, 0.066, 0.064, 0.062, 0.060, 0.058, 0.056, 0.054]


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def half_up(v: float, digits: int = 3) -> float:
    """Rounded as by hand: half away from zero, on the decimal the float prints as."""
    quantum = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(float(v))).quantize(quantum, rounding=ROUND_HALF_UP))


def run(
    x: float = X,
    w: float = W0,
    t: float = T,
    lr: float = LR,
    n: int = UPDATES,
    sign: float = 1.0,
    factor: float = 1.0,
    with_x: bool = True,
    rounding: int | None = None,
) -> tuple[list[float], list[float]]:
    """w0 … w(n+1) and C before each of n + 1 updates, in plain Python.

    With `rounding`, a, dC/da, da/di and w are written down rounded (i = x·w and C are not).
    """

    def rnd(v: float) -> float:
        return v if rounding is None else half_up(v, rounding)

    weights, costs = [w], []
    for _ in range(n + 1):
        i = x * weights[-1]
        a = rnd(sigmoid(i))
        costs.append(factor * (a - t) ** 2)
        dc_da = rnd(sign * factor * 2 * (a - t))
        da_di = rnd(sigmoid(i) * (1 - sigmoid(i)))
        weights.append(rnd(weights[-1] - lr * dc_da * da_di * (x if with_x else 1.0)))
    return weights, costs


def same(got: Any, want: Any) -> bool:
    if isinstance(want, list):  # a function: its outputs on every probe
        return all(same(g, w) for g, w in zip(got, want, strict=True))
    return np.shape(got) == np.shape(want) and np.allclose(got, want, **TOL)


# --- the three factors and dC/dw -------------------------------------------------------------


def test_factors_against_finite_differences() -> None:
    i0 = X * W0
    a0 = sigmoid(i0)
    dC_da = (((a0 + H) - T) ** 2 - ((a0 - H) - T) ** 2) / (2 * H)
    da_di = (sigmoid(i0 + H) - sigmoid(i0 - H)) / (2 * H)
    di_dw = (X * (W0 + H) - X * (W0 - H)) / (2 * H)
    np.testing.assert_allclose(
        reference("backprop_chain.factors").value, [dC_da, da_di, di_dw], rtol=1e-8
    )


def test_dC_dw_against_finite_differences_and_the_product_of_factors() -> None:
    def cost(w: float) -> float:
        return (sigmoid(X * w) - T) ** 2

    slope = (cost(W0 + H) - cost(W0 - H)) / (2 * H)
    dC_dw = float(reference("backprop_chain.dC_dw").value)
    assert dC_dw == pytest.approx(slope, rel=1e-8)
    assert dC_dw == pytest.approx(float(np.prod(reference("backprop_chain.factors").value)))


def test_dC_dw_is_read_back_from_the_factors_on_the_sheet() -> None:
    """A student's own factors flow into dC/dw: how a follow-on error is recognised."""
    sheet = derive(exercise("backprop_chain"), given={"factors": [0.5, 0.2, 1.5]})
    assert float(sheet["dC_dw"]) == pytest.approx(0.15)


def factors_at_w0(sign: float = 1.0, factor: float = 1.0) -> list[float]:
    a0 = sigmoid(X * W0)
    return [sign * factor * 2 * (a0 - T), a0 * (1 - a0), X]


@pytest.mark.parametrize(
    ("name", "mistake", "expected"),
    [
        ("factors", "factor_two", [factors_at_w0(factor=2), factors_at_w0(factor=0.5)]),
        ("factors", "sign", [factors_at_w0(sign=-1)]),
        ("dC_dw", "chain_factor", [np.prod(factors_at_w0()[:2])]),
        ("dC_dw", "factor_two", [np.prod(factors_at_w0(factor=f)) for f in (2, 0.5)]),
        ("dC_dw", "sign", [-np.prod(factors_at_w0())]),
    ],
)
def test_mistaken_factors_against_plain_python(
    name: str, mistake: str, expected: list[Any]
) -> None:
    found = [t.value for m, t in mistake_targets(f"backprop_chain.{name}") if m == mistake]
    assert len(found) == len(expected)
    for value, want in zip(found, expected, strict=True):
        np.testing.assert_allclose(value, want, rtol=1e-12)


# --- ten updates: weights and costs ----------------------------------------------------------


def test_weights_and_costs_against_a_plain_loop() -> None:
    weights, costs = run()
    np.testing.assert_allclose(reference("backprop_chain.weights").value, weights[1:-1], rtol=1e-13)
    np.testing.assert_allclose(reference("backprop_chain.costs").value, costs[:-1], rtol=1e-13)


def test_weights_and_costs_agree_with_the_seeds_pytorch_run_at_3_decimals() -> None:
    weights = reference("backprop_chain.weights").value
    costs = reference("backprop_chain.costs").value
    np.testing.assert_array_equal([half_up(v) for v in weights], SEED_TORCH_W)
    np.testing.assert_array_equal([half_up(v) for v in costs], SEED_TORCH_C)


def test_weights_and_costs_against_the_seeds_pytorch_loop_when_torch_is_installed() -> None:
    torch = pytest.importorskip("torch")
    x, t = torch.tensor([X], dtype=torch.float64), torch.tensor([T], dtype=torch.float64)
    w = torch.tensor([W0], dtype=torch.float64, requires_grad=True)
    weights, costs = [], []
    for _ in range(UPDATES):
        cost = (torch.sigmoid(x * w) - t) ** 2
        cost.backward()
        with torch.no_grad():
            w -= LR * w.grad
        w.grad.zero_()
        weights.append(w.item())
        costs.append(cost.item())
    np.testing.assert_allclose(reference("backprop_chain.weights").value, weights, rtol=1e-12)
    np.testing.assert_allclose(reference("backprop_chain.costs").value, costs, rtol=1e-12)


def test_the_rounded_trajectory_is_the_seeds_rounding_with_the_factor_x() -> None:
    (weights,) = reference("backprop_chain.weights").alternatives
    (costs,) = reference("backprop_chain.costs").alternatives
    loop_weights, loop_costs = run(rounding=3)
    np.testing.assert_allclose(weights.value, loop_weights[1:-1], atol=1e-15)
    np.testing.assert_allclose(costs.value, loop_costs[:-1], rtol=1e-12)
    # rounded every step, it drifts a unit from the exact run printed to 3 decimals
    assert np.abs(weights.value - SEED_TORCH_W).max() == pytest.approx(0.001)


def mistake_target(name: str, slip: Slip) -> Any:
    """The target of one slip, as the framework pairs a question's slips with its targets."""
    q = exercise("backprop_chain").question(name)
    pairs = zip(slips(q), mistake_targets(f"backprop_chain.{name}"), strict=True)
    (value,) = [t.value for (_, s), (_, t) in pairs if s == slip]
    return value


def seeds_numpy_loop() -> tuple[list[float], list[float]]:
    """Seed 003's NumPy loop, rewritten: no factor x, np.round (half to even) on every value."""
    w, weights, costs = W0, [], []
    for _ in range(UPDATES):
        i = X * w
        a = np.round(sigmoid(i), 3)
        costs.append(float(np.round((a - T) ** 2, 3)))
        dc_da = np.round(2 * (a - T), 3)
        da_di = np.round(sigmoid(i) * (1 - sigmoid(i)), 3)
        w = float(np.round(w - LR * dc_da * da_di, 3))
        weights.append(w)
    return weights, costs


def test_the_seeds_numpy_loop_is_the_chain_factor_slip_rounded_to_3_decimals() -> None:
    weights = mistake_target("weights", Slip("chain_factor", 0, 3))
    np.testing.assert_array_equal(weights, SEED_NUMPY_W)
    np.testing.assert_array_equal(weights, seeds_numpy_loop()[0])
    np.testing.assert_allclose(weights, run(with_x=False, rounding=3)[0][1:-1], atol=1e-15)


def test_the_seeds_numpy_costs_are_the_chain_factor_slip_where_the_roundings_agree() -> None:
    costs = mistake_target("costs", Slip("chain_factor", 0, 3))
    np.testing.assert_allclose(costs, run(with_x=False, rounding=3)[1][:-1], rtol=1e-12)
    assert seeds_numpy_loop()[1] == SEED_NUMPY_C
    printed = [half_up(c) for c in costs]
    # C = 0.25² = 0.0625 exactly in update 8: np.round prints 0.062 (half to even), by hand 0.063
    differ = [k for k in range(UPDATES) if printed[k] != SEED_NUMPY_C[k]]
    assert differ == [7] and costs[7] == 0.0625 and printed[7] == 0.063
    # within half a unit of the printed digit everywhere
    assert np.all(np.abs(costs - np.array(SEED_NUMPY_C)) <= 0.0005 + 1e-12)


# every slip of weights and costs, recomputed by the plain loop (rounded where the slip rounds)
SLIP_LOOPS: dict[str, dict[str, Any]] = {
    "chain_factor": {"with_x": False},
    "sign": {"sign": -1.0},
    "factor_two": {},
    "shifted": {},
    "loss_after_update": {},
}


def slip_loop(name: str, slip: Slip) -> np.ndarray:
    options: dict[str, Any] = dict(SLIP_LOOPS[slip.mistake or ""])
    if slip.mistake == "factor_two":
        options["factor"] = (2.0, 0.5)[slip.form]
    weights, costs = run(rounding=slip.rounding, **options)
    start = {"weights": 1, "costs": 0}[name]
    if slip.mistake == "shifted":
        start += (-1, 1)[slip.form]
    if slip.mistake == "loss_after_update":
        start += 1
    return np.array((weights if name == "weights" else costs)[start : start + UPDATES])


@pytest.mark.parametrize("name", ["weights", "costs"])
def test_every_slip_of_the_runs_against_the_plain_loop(name: str) -> None:
    q = exercise("backprop_chain").question(name)
    pairs = list(zip(slips(q), mistake_targets(f"backprop_chain.{name}"), strict=True))
    assert {slip.rounding for (_, slip), _ in pairs} == {None, 3}
    for (_, slip), (_, t) in pairs:
        expected = slip_loop(name, slip)
        np.testing.assert_allclose(t.value, expected, rtol=1e-12, atol=1e-15, err_msg=str(slip))


@pytest.mark.parametrize("name", ["factors", "dC_dw", "weights", "costs", "train"])
def test_every_mistake_differs_from_the_reference(name: str) -> None:
    ref = reference(f"backprop_chain.{name}")
    for mistake, t in mistake_targets(ref.qid):
        assert not same(t.value, ref.value), f"{mistake} gives the reference"
        for alternative in ref.alternatives:
            assert not same(t.value, alternative.value), f"{mistake} gives the rounded run"


# --- the function train(x, w, t, lr, n) ------------------------------------------------------


def test_the_probes_of_train() -> None:
    probes = reference("backprop_chain.train").probes
    x, w, t, lr, n = probes[0]
    assert (float(x), float(w), float(t), float(lr), int(n)) == (X, W0, T, LR, UPDATES)
    assert len(probes) >= 3 and len(set(probes)) == len(probes)
    for x, w, t, _, _ in probes:
        # the lost factor x must change the step, and the first step must not be zero
        assert abs(float(x)) != 1
        assert sigmoid(float(x) * float(w)) != pytest.approx(float(t))


@pytest.mark.parametrize(
    ("mistake", "form", "loop"),
    [
        (None, 0, lambda *p: run(*p)[0][1:-1]),
        ("chain_factor", 0, lambda *p: run(*p, with_x=False)[0][1:-1]),
        ("sign", 0, lambda *p: run(*p, sign=-1.0)[0][1:-1]),
        ("shifted", 0, lambda *p: run(*p)[0][:-2]),  # w0 … w(n−1)
        ("shifted", 1, lambda *p: run(*p)[0][2:]),  # w2 … w(n+1)
    ],
)
def test_train_on_every_probe_against_the_plain_loop(
    mistake: str | None, form: int, loop: Any
) -> None:
    ref = reference("backprop_chain.train")
    found = [t.value for m, t in mistake_targets(ref.qid) if m == mistake]
    outputs = ref.value if mistake is None else found[form]
    for (x, w, t, lr, n), output in zip(ref.probes, outputs, strict=True):
        expected = loop(float(x), float(w), float(t), float(lr), int(n))
        np.testing.assert_allclose(output, expected, rtol=1e-12)
