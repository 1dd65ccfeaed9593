"""gradient_descent: SymPy's iterates against plain-Python loops of SGD, Adam and Adagrad, and the seed's run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograder import grade_answer, reference
from autograder.references import mistake_targets
from autograder.values import to_student

ETA, STEPS = 0.25, 3


def f_prime(w: float) -> float:
    return 2 * (w - 3)


def sgd(start: float = 0.0, eta: float = ETA, steps: int = STEPS, sign: float = 1.0) -> list[float]:
    ws = [start]
    for _ in range(steps):
        ws.append(ws[-1] - sign * eta * f_prime(ws[-1]))
    return ws


def adam(
    bias_correction: bool = True, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> list[float]:
    """torch.optim.Adam's documented update, written out."""
    w, m, v, out = 0.0, 0.0, 0.0, []
    for t in range(1, STEPS + 1):
        g = f_prime(w)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t) if bias_correction else m
        v_hat = v / (1 - b2**t) if bias_correction else v
        w -= ETA * m_hat / (math.sqrt(v_hat) + eps)
        out.append(w)
    return out


def adagrad(accumulate: bool = True, eps: float = 1e-10) -> list[float]:
    """torch.optim.Adagrad's documented update (lr_decay 0, initial accumulator 0), written out."""
    w, total, out = 0.0, 0.0, []
    for _ in range(STEPS):
        g = f_prime(w)
        total = total + g * g if accumulate else g * g
        w -= ETA * g / (math.sqrt(total) + eps)
        out.append(w)
    return out


def test_iterates_and_losses_against_a_loop_and_the_seed() -> None:
    ws = sgd()
    np.testing.assert_allclose(reference("gradient_descent.iterates").value, ws[1:])
    np.testing.assert_allclose(
        reference("gradient_descent.losses").value, [(w - 3) ** 2 for w in ws]
    )
    # seed 002's PyTorch run prints x = 1.5, 2.25, 2.625 and f = 9.0000, 2.2500, 0.5625, 0.1406
    np.testing.assert_allclose(reference("gradient_descent.iterates").value, [1.5, 2.25, 2.625])
    np.testing.assert_allclose(
        reference("gradient_descent.losses").value, [9, 2.25, 0.5625, 0.1406], atol=5e-5
    )


def test_mistaken_iterates_against_loops() -> None:
    found = {m: t.value for m, t in mistake_targets("gradient_descent.iterates")}
    np.testing.assert_allclose(found["sign"], sgd(sign=-1)[1:])
    losses = {m: t.value for m, t in mistake_targets("gradient_descent.losses")}
    np.testing.assert_allclose(
        losses["loss_after_update"], [(w - 3) ** 2 for w in sgd(steps=4)[1:]]
    )


@pytest.mark.parametrize(
    ("mistake", "loop"), [(None, adam()), ("no_bias_correction", adam(bias_correction=False))]
)
def test_adam_against_the_torch_formulas(mistake: str | None, loop: list[float]) -> None:
    found = dict(mistake_targets("gradient_descent.adam_iterates"))
    value = (
        reference("gradient_descent.adam_iterates").value
        if mistake is None
        else found[mistake].value
    )
    np.testing.assert_allclose(value, loop, rtol=1e-12)


@pytest.mark.parametrize(
    ("mistake", "loop"), [(None, adagrad()), ("no_accumulation", adagrad(accumulate=False))]
)
def test_adagrad_against_the_torch_formulas(mistake: str | None, loop: list[float]) -> None:
    found = dict(mistake_targets("gradient_descent.adagrad_iterates"))
    value = (
        reference("gradient_descent.adagrad_iterates").value
        if mistake is None
        else found[mistake].value
    )
    np.testing.assert_allclose(value, loop, rtol=1e-12)


def test_optimisers_against_torch_itself_when_installed() -> None:
    torch = pytest.importorskip("torch")
    for name, optimiser in (("adam", torch.optim.Adam), ("adagrad", torch.optim.Adagrad)):
        x = torch.tensor([0.0], dtype=torch.float64, requires_grad=True)
        opt = optimiser([x], lr=ETA)
        out = []
        for _ in range(STEPS):
            opt.zero_grad()
            ((x - 3) ** 2).sum().backward()
            opt.step()
            out.append(x.item())
        np.testing.assert_allclose(
            reference(f"gradient_descent.{name}_iterates").value, out, rtol=1e-9
        )


def test_the_limit_on_L1_against_a_long_numpy_descent() -> None:
    a, c = np.array([4.0, 7.0]), 20.0
    w = np.zeros(2)
    for _ in range(5000):
        w -= 0.005 * 2 * (a @ w - c) * a
    np.testing.assert_allclose(reference("gradient_descent.gd_L1_limit").value, w, rtol=1e-9)
    np.testing.assert_allclose(w, c * a / (a @ a), rtol=1e-9)  # the projection of 0 on the line


def test_the_limit_is_one_minimiser_and_the_others_are_named() -> None:
    assert grade_answer("gradient_descent.gd_L1_limit", [80 / 65, 140 / 65]).correct
    other = grade_answer("gradient_descent.gd_L1_limit", [5, 0])
    assert other.mistake == "other_minimiser"
    assert grade_answer("gradient_descent.gd_L1_limit", [1, 1]).mistake is None


def numpy_descent(grad: object, w0: object, eta: float, n: int) -> np.ndarray:
    w = np.asarray(w0, dtype=float)
    out = [w.copy()]
    for _ in range(n):
        w = w - eta * np.asarray(grad(w))  # type: ignore[operator]
        out.append(w.copy())
    return np.array(out)


def test_the_function_reference_against_numpy_on_every_probe() -> None:
    ref = reference("gradient_descent.gradient_descent")
    for args, expected in zip(ref.probes, ref.value, strict=True):
        student_args = [to_student(a) for a in args]
        np.testing.assert_allclose(expected, numpy_descent(*student_args).squeeze(), rtol=1e-9)


def test_a_student_gradient_descent_is_graded() -> None:
    assert grade_answer("gradient_descent.gradient_descent", numpy_descent).correct

    def upwards(grad: object, w0: object, eta: float, n: int) -> np.ndarray:
        return numpy_descent(grad, w0, -eta, n)

    def without_start(grad: object, w0: object, eta: float, n: int) -> np.ndarray:
        return numpy_descent(grad, w0, eta, n)[1:]

    assert grade_answer("gradient_descent.gradient_descent", upwards).mistake == "sign"
    assert grade_answer("gradient_descent.gradient_descent", without_start).mistake == "shifted"
