"""loss_functions: SymPy's values on the grader's probes against NumPy and PyTorch, the probes' shape,
and every mistake recomputed by hand; the zeros of the BCE and the CCE against limits taken numerically.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy as sp

from autograder.derivation.references import (
    derive,
    exercise,
    mistake_targets,
    pair_targets,
    reference,
)
from autograder.model.spec import Slip
from autograder.model.values import to_student

Loss = Callable[..., float]


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


NUMPY: dict[str, Loss] = {"mse": mse, "mae": mae, "cce": cce, "bce": bce, "ce_int": ce_int}


def student_args(args: tuple[Any, ...]) -> list[Any]:
    return [to_student(a) for a in args]


def mistakes(qid: str) -> dict[str, list[Any]]:
    """The target of each mistake, one entry per form (factor_two has two)."""
    found: dict[str, list[Any]] = {}
    for mistake, target in mistake_targets(qid):
        found.setdefault(mistake, []).append(target.value)
    return found


@pytest.mark.parametrize("name", NUMPY)
def test_every_probe_against_numpy(name: str) -> None:
    ref = reference(f"loss_functions.{name}")
    assert 4 <= len(ref.probes) <= 6
    for args, expected in zip(ref.probes, ref.value, strict=True):
        assert float(expected) == pytest.approx(NUMPY[name](*student_args(args)), rel=1e-12)


def test_every_probe_against_pytorch() -> None:
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional

    def tensor(a: Any) -> Any:
        return torch.tensor(to_student(a), dtype=torch.float64)

    checks = {
        "mse": lambda a, b: functional.mse_loss(tensor(a), tensor(b)),
        "mae": lambda a, b: functional.l1_loss(tensor(a), tensor(b)),
        "bce": lambda a, b: functional.binary_cross_entropy(tensor(a), tensor(b)),
        # nll_loss on log-probabilities with class indices: PyTorch's integer labels, from 0
        "cce": lambda a, b: functional.nll_loss(tensor(a).log(), tensor(b).argmax(dim=1)),
        "ce_int": lambda p, k: functional.nll_loss(
            tensor(p).log()[None, :], torch.tensor([int(k)])
        ),
    }
    for name, torch_loss in checks.items():
        ref = reference(f"loss_functions.{name}")
        for args, expected in zip(ref.probes, ref.value, strict=True):
            assert float(expected) == pytest.approx(float(torch_loss(*args)), rel=1e-12)


def _sum_sq(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sum((a - b) ** 2))


Log = Callable[[np.ndarray], np.ndarray]


def _cce_with(
    log: Log = np.log, sign: float = 1, n: bool = True, every: bool = False, flip: bool = False
) -> Loss:
    """The CCE as a slip writes it: ln of every class (every) or of 1 − ŷ (flip) taken."""

    def loss(y_hat: np.ndarray, y: np.ndarray) -> float:
        weights = np.ones_like(y) if every else y
        rows = np.sum(weights * log(1 - y_hat if flip else y_hat), axis=1)
        return float(-sign * (np.mean(rows) if n else np.sum(rows)))

    return loss


def _bce_with(log: Log = np.log, sign: float = 1, n: bool = True, flip: bool = False) -> Loss:
    """The BCE as a slip writes it: flip takes ln(1 − ŷ) in the term of label 1 as well."""

    def loss(y_hat: np.ndarray, y: np.ndarray) -> float:
        terms = y * log(1 - y_hat if flip else y_hat) + (1 - y) * log(1 - y_hat)
        return float(-sign * (np.mean(terms) if n else np.sum(terms)))

    return loss


def _ce_int_with(log: Log = np.log, sign: float = 1, offset: int = 0, **how: bool) -> Loss:
    """ce_int as the CCE of one row whose one-hot label is k − offset (NumPy indexing: −1 is last)."""

    def loss(p: np.ndarray, k: int) -> float:
        one_hot = np.zeros((1, len(p)))
        one_hot[0, k - offset] = 1
        return _cce_with(log, sign, True, **how)(p[None, :], one_hot)

    return loss


# (function, mistake, the mistaken loss in NumPy for each form of the mistake)
MISTAKES: list[tuple[str, str, list[Loss]]] = [
    ("mse", "factor_two", [lambda a, b: 2 * mse(a, b), lambda a, b: 0.5 * mse(a, b)]),
    ("mse", "no_mean", [_sum_sq]),
    # the square forgotten: the mean of the signed differences
    ("mse", "not_squared", [lambda a, b: float(np.mean(a - b))]),
    ("mae", "no_mean", [lambda a, b: float(np.sum(np.abs(a - b)))]),
    ("mae", "squared", [mse]),
    ("cce", "log10", [_cce_with(np.log10)]),
    ("cce", "sign", [_cce_with(sign=-1)]),
    ("cce", "no_mean", [_cce_with(n=False)]),
    ("cce", "sum_all", [_cce_with(every=True)]),
    ("cce", "complement", [_cce_with(flip=True)]),
    ("bce", "log10", [_bce_with(np.log10)]),
    ("bce", "sign", [_bce_with(sign=-1)]),
    ("bce", "no_mean", [_bce_with(n=False)]),
    # ln(1 − ŷ) for either label: −mean ln(1 − ŷ)
    ("bce", "complement", [lambda a, b: float(-np.mean(np.log(1 - a)))]),
    ("ce_int", "log10", [lambda p, k: float(-np.log10(p[k]))]),
    ("ce_int", "sign", [lambda p, k: float(np.log(p[k]))]),
    # the label read as 1-based: class 0 becomes p[−1], as NumPy indexes it
    ("ce_int", "label_offset", [lambda p, k: float(-np.log(p[k - 1]))]),
    ("ce_int", "sum_all", [lambda p, k: float(-np.sum(np.log(p)))]),
    ("ce_int", "complement", [lambda p, k: float(-np.log(1 - p[k]))]),
]


@pytest.mark.parametrize(("name", "mistake", "forms"), MISTAKES)
def test_each_mistake_against_numpy_and_apart_from_the_reference(
    name: str, mistake: str, forms: list[Loss]
) -> None:
    qid = f"loss_functions.{name}"
    ref = reference(qid)
    targets = mistakes(qid)[mistake]
    assert len(targets) == len(forms)
    for target, form in zip(targets, forms, strict=True):
        computed = [form(*student_args(args)) for args in ref.probes]
        np.testing.assert_allclose(np.asarray(target, dtype=float), computed, rtol=1e-12)
        assert not np.allclose(computed, np.asarray(ref.value, dtype=float), rtol=1e-3, atol=1e-6)


# (function, two mistakes at once, each form of the pair in NumPy)
PAIRS: list[tuple[str, str, list[Loss]]] = [
    (
        "mse",
        "factor_two+not_squared",
        [lambda a, b: 2 * float(np.mean(a - b)), lambda a, b: 0.5 * float(np.mean(a - b))],
    ),
    ("cce", "sign+sum_all", [_cce_with(sign=-1, every=True)]),
    ("cce", "sum_all+complement", [_cce_with(every=True, flip=True)]),
    ("bce", "no_mean+complement", [_bce_with(n=False, flip=True)]),
    ("ce_int", "label_offset+complement", [_ce_int_with(offset=1, flip=True)]),
    ("ce_int", "log10+sum_all", [_ce_int_with(np.log10, every=True)]),
]


@pytest.mark.parametrize(("name", "pair", "forms"), PAIRS)
def test_two_mistakes_at_once_against_numpy(name: str, pair: str, forms: list[Loss]) -> None:
    qid = f"loss_functions.{name}"
    found = [t.value for p, t in pair_targets(qid) if p == pair]
    assert len(found) == len(forms)
    for target, form in zip(found, forms, strict=True):
        computed = [form(*student_args(args)) for args in reference(qid).probes]
        np.testing.assert_allclose(np.asarray(target, dtype=float), computed, rtol=1e-12)


def test_the_complement_in_the_bce_is_not_the_flipped_labels() -> None:
    # ŷ and 1 − ŷ swapped in both terms would be the labels flipped; the complement slip is not
    qid = "loss_functions.bce"
    (target,) = mistakes(qid)["complement"]
    flipped = [bce(y_hat, 1 - y) for y_hat, y in map(student_args, reference(qid).probes)]
    assert not np.allclose(np.asarray(target, dtype=float), flipped, rtol=1e-3)


def test_every_listed_mistake_is_recomputed_above() -> None:
    listed = (
        {(q.name, m) for q in exercise("loss_functions").questions for m in q.mistakes}
        - {("bce_zero", m) for m in ("half_prediction", "flipped_labels", "never_zero")}
        - {("cce_zero", m) for m in ("complement", "never_zero")}
    )
    assert listed == {(name, mistake) for name, mistake, _ in MISTAKES}


def test_mae_probes_lie_on_both_sides_of_every_kink_and_never_on_it() -> None:
    for a, b in reference("loss_functions.mae").probes:
        gaps = to_student(a) - to_student(b)
        assert (gaps > 0).any() and (gaps < 0).any()
        assert np.abs(gaps).min() >= 0.05


@pytest.mark.parametrize("probe_seed", [2, 7, 2025])
def test_probes_are_exact_hundredths_and_proper_probabilities(probe_seed: int) -> None:
    variant = {"probe_seed": probe_seed}
    sheet = derive(exercise("loss_functions"), variant)

    def hundredths(m: sp.Matrix) -> bool:
        return all(sp.Rational(v) * 100 == int(sp.Rational(v) * 100) for v in m)

    for name in ("mse", "mae", "bce"):
        for y_hat, y in sheet[name].probes:
            assert hundredths(y_hat)
            assert hundredths(y)
    for y_hat, y in sheet["bce"].probes:
        assert all(sp.Rational(5, 100) <= v <= sp.Rational(95, 100) for v in y_hat)
        assert set(y) <= {0, 1}
    for y_hat, y in sheet["cce"].probes:
        assert hundredths(y_hat)
        assert all(sum(y_hat.row(i)) == 1 and min(y_hat.row(i)) > 0 for i in range(y_hat.rows))
        assert all(sorted(y.row(i)) == [0, 0, 0, 1] for i in range(y.rows))
    for p, label in sheet["ce_int"].probes:
        assert sum(p) == 1
        assert isinstance(label, sp.Integer) and 0 <= label < len(p)


def test_probes_are_reproducible_and_the_same_under_every_slip() -> None:
    ref = reference("loss_functions.cce").probes
    again = derive(exercise("loss_functions"), slip=Slip("no_mean"))["cce"].probes
    assert again == ref
    other = derive(exercise("loss_functions"), {"probe_seed": 3})["cce"].probes
    assert other != ref


def bce_terms_near(prediction: np.ndarray, labels: np.ndarray, eps: float) -> np.ndarray:
    """Each BCE term with the prediction kept eps inside (0, 1): the limit taken numerically."""
    q = np.clip(prediction, eps, 1 - eps)
    return -(labels * np.log(q) + (1 - labels) * np.log(1 - q))


LABELS = np.array([0.0, 1.0])
OPTIONS = {"a": LABELS, "b": np.full(2, 0.5), "c": 1 - LABELS}


def test_the_bce_is_zero_only_when_every_prediction_equals_its_label() -> None:
    assert reference("loss_functions.bce_zero").value == "a"
    zero = {
        key
        for key, prediction in OPTIONS.items()
        if np.abs(bce_terms_near(prediction, LABELS, 1e-15)).max() < 1e-12
    }
    assert zero == {"a"}
    assert bce_terms_near(OPTIONS["b"], LABELS, 0) == pytest.approx([np.log(2)] * 2)
    assert bce_terms_near(OPTIONS["c"], LABELS, 1e-15).min() > 30


def test_each_bce_zero_mistake_leads_to_its_option() -> None:
    found = {m: t.value for m, t in mistake_targets("loss_functions.bce_zero")}
    assert found == {"half_prediction": "b", "flipped_labels": "c", "never_zero": "d"}
    # the slips recomputed: the two logarithms taken to cancel, ln ŷ − ln(1 − ŷ), vanish at 0.5 only
    q = OPTIONS["b"]
    assert np.log(q) - np.log(1 - q) == pytest.approx([0, 0])
    # labels swapped: the terms vanish (in the limit) for ŷ = 1 − y
    assert bce_terms_near(OPTIONS["c"], 1 - LABELS, 1e-15).max() < 1e-12
    # 0 · ln 0 plugged in as it stands is undefined: no option gives 0 for both labels
    with np.errstate(divide="ignore", invalid="ignore"):
        plugged = {
            k: -(LABELS * np.log(q) + (1 - LABELS) * np.log(1 - q)) for k, q in OPTIONS.items()
        }
    assert not any(np.all(terms == 0) for terms in plugged.values())


def cce_rows_near(eps: float, k: int = 4) -> dict[str, np.ndarray]:
    """The probabilities of each cce_zero option for a row whose right class is the first, kept
    eps inside (0, 1) where the option puts a 0 or a 1: the limit taken numerically."""
    return {
        "a": np.array([1 - (k - 1) * eps, *[eps] * (k - 1)]),
        "b": np.full(k, 1 / k),
        "c": np.array([eps, *[(1 - eps) / (k - 1)] * (k - 1)]),
    }


ONE_HOT = np.array([1.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize(
    ("slip", "terms", "option"),
    [
        # −Σ yₖ ln pₖ: only the right class's −ln p₀ is left, 0 where p₀ = 1
        (Slip(), lambda p: -ONE_HOT * np.log(p), "a"),
        # ln(1 − p) where ln p belongs: 0 where the right class gets nothing
        (Slip("complement"), lambda p: -ONE_HOT * np.log(1 - p), "c"),
    ],
)
def test_the_cce_zero_is_where_every_term_vanishes_in_the_limit(
    slip: Slip, terms: Callable[[np.ndarray], np.ndarray], option: str
) -> None:
    zero = {key for key, row in cce_rows_near(1e-15).items() if np.abs(terms(row)).max() < 1e-12}
    assert zero == {option}
    derived = derive(exercise("loss_functions"), slip=slip)["cce_zero"]
    assert derived == option


def test_each_cce_zero_mistake_leads_to_its_option() -> None:
    assert reference("loss_functions.cce_zero").value == "a"
    found = {m: t.value for m, t in mistake_targets("loss_functions.cce_zero")}
    assert found == {"complement": "c", "never_zero": "d"}
    # 0 · ln 0 plugged in as it stands is undefined: no option gives 0 in every term
    with np.errstate(divide="ignore", invalid="ignore"):
        plugged = {k: -ONE_HOT * np.log(row) for k, row in cce_rows_near(0.0).items()}
    assert not any(np.all(terms == 0) for terms in plugged.values())
    assert pair_targets("loss_functions.cce_zero") == []
