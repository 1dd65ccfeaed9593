"""backprop_chain: SymPy's chain rule against finite differences, its training runs against plain
loops (exact, and rounded as seed 003 rounds), the seed's two printed runs, and every mistake.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pytest

from autograder.derivation.references import (
    derive,
    exercise,
    mistake_targets,
    pair_targets,
    reference,
    slips,
)
from autograder.model.spec import Slip
from exercises.backprop_chain import APART

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


# a student's slips as the plain loop makes them (keywords of `factors_at` and `run`)
Options = dict[str, Any]


def factors_at(
    x: float,
    w: float,
    t: float,
    *,
    rounding: int | None = None,
    sign: float = 1.0,
    factor: float = 1.0,
    squared: bool = True,
    activation: bool = True,
    slope_at: str = "i",
) -> tuple[float, float, float, float]:
    """C, dC/da, da/di and di/dw at the weight w, as written down in one row of the loop.

    With `rounding`, a, dC/da and da/di are rounded (i = x·w and C are not). The slips: C = a − t
    (not `squared`), a = i (no `activation`: a linear neuron, da/di = 1), σ′ at a (`slope_at`
    "a"), and the factor 2 or ½ and the sign of the sign error.
    """

    def rnd(v: float) -> float:
        return v if rounding is None else half_up(v, rounding)

    i = x * w
    a = rnd(sigmoid(i)) if activation else i
    cost = factor * ((a - t) ** 2 if squared else a - t)
    dc_da = rnd(sign * factor * (2 * (a - t) if squared else 1.0))
    at = a if slope_at == "a" else i
    da_di = rnd(sigmoid(at) * (1 - sigmoid(at))) if activation else 1.0
    return cost, dc_da, da_di, x


def slope(
    dc_da: float, da_di: float, di_dw: float, *, with_x: bool = True, slope_at: str = "i"
) -> float:
    """dC/dw by the chain rule; without x, or without σ′ (`slope_at` ""), where the slip drops it."""
    return dc_da * (da_di if slope_at else 1.0) * (di_dw if with_x else 1.0)


def run(
    x: float = X,
    w: float = W0,
    t: float = T,
    lr: float = LR,
    n: int = UPDATES,
    *,
    rounding: int | None = None,
    with_x: bool = True,
    rate: str = "lr",
    cost_as_slope: bool = False,
    **row: Any,
) -> tuple[list[float], list[float]]:
    """w0 … w(n+1) and C before each of n + 1 updates, in plain Python.

    With `rounding`, the new weight is rounded too. The update's slips: a step of 1 or 2·lr times
    the slope (`rate` "one" or "double"), or the cost (rounded as written) taken for the slope.
    """
    step = {"lr": lr, "one": 1.0, "double": 2 * lr}[rate]
    weights, costs = [w], []
    for _ in range(n + 1):
        cost, dc_da, da_di, di_dw = factors_at(x, weights[-1], t, rounding=rounding, **row)
        costs.append(cost)
        if cost_as_slope:
            dc_dw = cost if rounding is None else half_up(cost, rounding)
        else:
            dc_dw = slope(dc_da, da_di, di_dw, with_x=with_x, slope_at=row.get("slope_at", "i"))
        new = weights[-1] - step * dc_dw
        weights.append(new if rounding is None else half_up(new, rounding))
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


def train_loop(x: float, w: float, t: float, lr: float, n: int, **options: Any) -> list[float]:
    """What train(x, w, t, lr, n) returns, by the plain loop with the options' slips."""
    window = options.pop("window", 0)
    weights, _ = run(x, w, t, lr, n, **options)
    return weights[1 + window : 1 + window + n]


def test_train_on_every_probe_against_the_plain_loop() -> None:
    ref = reference("backprop_chain.train")
    for (x, w, t, lr, n), output in zip(ref.probes, ref.value, strict=True):
        expected = train_loop(float(x), float(w), float(t), float(lr), int(n))
        np.testing.assert_allclose(output, expected, rtol=1e-12)


def test_the_mistakes_of_train_show_on_the_graders_own_runs() -> None:
    """The grader's own runs are the same in every variant: a mistake apart from the reference on
    one of them by several tolerances is told apart whatever a student's numbers are."""
    ref = reference("backprop_chain.train")
    for mistake, t in mistake_targets(ref.qid):
        moved = [
            np.max(np.abs(got - want) / (1e-6 + 1e-3 * np.abs(want)))
            for got, want in zip(t.value[1:], ref.value[1:], strict=True)
        ]
        assert max(moved) > APART, mistake


# --- every mistake, recomputed by the plain loop ---------------------------------------------

# each mistake as the plain loop makes it: the options of each of its forms
SLIPS: dict[str, list[Options]] = {
    "chain_factor": [{"with_x": False}],
    "sign": [{"sign": -1.0}],
    "factor_two": [{"factor": 2.0}, {"factor": 0.5}],
    # w0 … w9 (w0 taken in) and w2 … w11 (one update too many)
    "shifted": [{"window": -1}, {"window": 1}],
    "loss_after_update": [{"window": 1}],
    "rounded": [{"rounding": 3}],
    "no_learning_rate": [{"rate": "one"}],
    "doubled_step": [{"rate": "double"}],
    "no_activation_slope": [{"slope_at": ""}],
    "sigma_twice": [{"slope_at": "a"}],
    "loss_as_gradient": [{"cost_as_slope": True}],
    "not_squared": [{"squared": False}],
    "no_activation": [{"activation": False}],
}
FACTOR_OPTIONS = ("rounding", "sign", "factor", "squared", "activation", "slope_at")


def answers(window: int = 0, **options: Any) -> dict[str, Any]:
    """The answers to factors, dC_dw, weights and costs by the plain loop, with the options' slips."""
    weights, costs = run(**options)
    at_w0 = {k: v for k, v in options.items() if k in FACTOR_OPTIONS}
    _, dc_da, da_di, di_dw = factors_at(X, W0, T, **at_w0)
    dropped = {k: v for k, v in options.items() if k in ("with_x", "slope_at")}
    return {
        "factors": [dc_da, da_di, di_dw],
        "dC_dw": slope(dc_da, da_di, di_dw, **dropped),
        "weights": weights[1 + window : 1 + window + UPDATES],
        "costs": costs[window : window + UPDATES],
    }


# every (question, mistake) the spec lists, but train's (in TRAIN_MISTAKES)
MISTAKES = [
    ("factors", "factor_two"),
    ("factors", "sign"),
    ("factors", "sigma_twice"),
    ("factors", "not_squared"),
    ("factors", "no_activation"),
    ("dC_dw", "chain_factor"),
    ("dC_dw", "factor_two"),
    ("dC_dw", "sign"),
    ("dC_dw", "no_activation_slope"),
    ("dC_dw", "sigma_twice"),
    ("dC_dw", "not_squared"),
    ("dC_dw", "no_activation"),
    *(
        (name, mistake)
        for name in ("weights", "costs")
        for mistake in (
            "chain_factor",
            "sign",
            "factor_two",
            "no_learning_rate",
            "no_activation_slope",
            "not_squared",
            "doubled_step",
            "loss_as_gradient",
            "no_activation",
        )
    ),
    ("weights", "shifted"),
    ("weights", "sigma_twice"),
    ("costs", "loss_after_update"),
]


def targets_by_slip(name: str, mistake: str) -> list[tuple[Slip, Any]]:
    """The targets of one mistake with the slip each comes from, as the framework pairs them."""
    q = exercise("backprop_chain").question(name)
    pairs = zip(slips(q), mistake_targets(f"backprop_chain.{name}"), strict=True)
    return [(slip, t.value) for (m, slip), (_, t) in pairs if m == mistake]


@pytest.mark.parametrize(("name", "mistake"), MISTAKES)
def test_each_mistake_against_the_plain_loop(name: str, mistake: str) -> None:
    found = targets_by_slip(name, mistake)
    # weights and costs: each form also rounded by hand, as the question takes the rounded run
    per_form = 2 if name in ("weights", "costs") else 1
    assert len(found) == per_form * len(SLIPS[mistake])
    for slip, value in found:
        options = {**SLIPS[mistake][slip.form], "rounding": slip.rounding}
        expected = answers(**options)[name]
        np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-15, err_msg=str(slip))


TRAIN_MISTAKES = [
    "chain_factor",
    "sign",
    "factor_two",
    "shifted",
    "rounded",
    "no_learning_rate",
    "no_activation_slope",
    "sigma_twice",
    "not_squared",
    "doubled_step",
    "loss_as_gradient",
    "no_activation",
]


@pytest.mark.parametrize("mistake", TRAIN_MISTAKES)
def test_each_mistake_of_train_on_every_probe_against_the_plain_loop(mistake: str) -> None:
    ref = reference("backprop_chain.train")
    found = [t.value for m, t in mistake_targets(ref.qid) if m == mistake]
    assert len(found) == len(SLIPS[mistake])
    for outputs, options in zip(found, SLIPS[mistake], strict=True):
        for (x, w, t, lr, n), output in zip(ref.probes, outputs, strict=True):
            expected = train_loop(float(x), float(w), float(t), float(lr), int(n), **options)
            np.testing.assert_allclose(output, expected, rtol=1e-12, atol=1e-15)


def test_every_listed_mistake_is_recomputed_in_these_tests() -> None:
    listed = {(q.name, m) for q in exercise("backprop_chain").questions for m in q.mistakes}
    assert listed == set(MISTAKES) | {("train", m) for m in TRAIN_MISTAKES} | {
        ("chain_rule_name", "product_rule")
    }


# two mistakes at once, recomputed by hand: (question, pair, the options of both)
PAIRS = [
    # stepping up the whole slope: w + dC/dw
    ("weights", "sign+no_learning_rate", {"sign": -1.0, "rate": "one"}),
    ("costs", "sign+no_learning_rate", {"sign": -1.0, "rate": "one"}),
    ("dC_dw", "sign+no_activation_slope", {"sign": -1.0, "slope_at": ""}),
    ("weights", "factor_two+doubled_step", {"factor": 2.0, "rate": "double"}),
    ("factors", "sign+sigma_twice", {"sign": -1.0, "slope_at": "a"}),
    ("costs", "factor_two+not_squared", {"factor": 0.5, "squared": False}),
]


@pytest.mark.parametrize(("name", "pair", "options"), PAIRS)
def test_two_mistakes_at_once_against_the_plain_loop(
    name: str, pair: str, options: Options
) -> None:
    found = [t.value for p, t in pair_targets(f"backprop_chain.{name}") if p == pair]
    expected = answers(**options)[name]
    assert any(np.allclose(value, expected, rtol=1e-12, atol=1e-15) for value in found), found


def test_the_seeds_numpy_loop_as_train_is_the_lost_factor_with_every_value_rounded() -> None:
    pairs = dict(pair_targets("backprop_chain.train"))
    lecture = pairs["chain_factor+rounded"].value[0]
    np.testing.assert_array_equal(lecture, SEED_NUMPY_W)
    np.testing.assert_array_equal(lecture, seeds_numpy_loop()[0])


def test_a_variant_in_which_sigma_at_a_is_sigma_at_i_is_not_drawn() -> None:
    """i = 0.66 lies next to σ(0.66) = 0.6593, and σ′ is flat there: σ′ at a is σ′ at i."""
    variant = {"x": "2.2", "w0": "0.3", "t": "0.1", "lr": "0.1"}
    (_, _, right, _), (_, _, twice, _) = (
        factors_at(2.2, 0.3, 0.1, slope_at=at) for at in ("i", "a")
    )
    assert abs(twice - right) < APART * 1e-3 * right
    ex = exercise("backprop_chain")
    assert "factors with the sigma_twice slip" in (ex.well_posed(ex.params(variant)) or "")


def test_a_variant_in_which_the_rounding_swallows_a_mistake_is_not_drawn() -> None:
    """dC/da = 2(a − t) runs from 1.04 down to 1 here: without the square each step changes by
    less than the rounding of the weights to 3 decimals takes away."""
    variant = {"x": "0.7", "w0": "0.7", "t": "0.1", "lr": "0.1"}
    right, _ = run(0.7, 0.7, 0.1, 0.1, rounding=3)
    unsquared, _ = run(0.7, 0.7, 0.1, 0.1, rounding=3, squared=False)
    assert unsquared == right
    ex = exercise("backprop_chain")
    reason = ex.well_posed(ex.params(variant)) or ""
    assert "weights with the not_squared slip rounded by hand" in reason


# each option of chain_rule_name as the derivative it gives for f = sin, g = exp, in NumPy
RULES = {
    "a": lambda x: np.cos(x) * np.exp(x) + np.sin(x) * np.exp(x),
    "b": lambda x: np.cos(np.exp(x)) * np.exp(x),
    "c": lambda x: (np.cos(x) * np.exp(x) - np.sin(x) * np.exp(x)) / np.exp(x) ** 2,
    "d": lambda x: np.cos(x) + np.exp(x),
}


@pytest.mark.parametrize(
    ("mistake", "function", "option"),
    [
        (None, lambda x: np.sin(np.exp(x)), "b"),
        # the nested function differentiated as if it were the product f · g
        ("product_rule", lambda x: np.sin(x) * np.exp(x), "a"),
    ],
)
def test_the_rule_named_is_the_one_whose_derivative_finite_differences_confirm(
    mistake: str | None, function: Callable[[Any], Any], option: str
) -> None:
    points = np.array([-0.7, 0.3, 1.1])
    slope = (function(points + 1e-6) - function(points - 1e-6)) / 2e-6
    fits = {key for key, rule in RULES.items() if np.allclose(rule(points), slope, rtol=1e-6)}
    assert fits == {option}
    derived = derive(exercise("backprop_chain"), slip=Slip(mistake))["chain_rule_name"]
    assert derived == option
    if mistake is not None:
        assert dict(mistake_targets("backprop_chain.chain_rule_name"))[mistake].value == option
