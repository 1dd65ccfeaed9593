"""The derivation machinery: slips, the worksheet, exact parameters, lambdified rules, the key."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

from autograder import question_ids, reference
from autograder.derivation.references import ASSIGNMENTS, locate, mistake_targets
from autograder.judging.compare import close
from autograder.model.spec import Kind, Sheet, Slip, Tolerance, exact, round_half_up
from autograder.model.values import Gradient, Rule, SolutionSet, to_student
from autograder.reports.key import answer_key

IDS = question_ids()


@pytest.mark.parametrize(
    ("value", "digits", "rounded"),
    [
        ("0.0005", 3, "0.001"),
        ("-0.0005", 3, "-0.001"),
        ("0.00049", 3, "0"),
        ("0.7685", 3, "0.769"),
        ("2.5", 0, "3"),
    ],
)
def test_rounding_by_hand_is_half_away_from_zero(value: str, digits: int, rounded: str) -> None:
    assert round_half_up(sp.Rational(value), digits) == sp.Rational(rounded)


def test_slip_helpers_are_the_identity_without_a_mistake() -> None:
    s = Slip()
    x = sp.Matrix([1, 2])
    assert (s.sign, s.scale, s.chain(3, x), s.log(sp.E), s.rnd(sp.Rational(1, 3))) == (
        1,
        1,
        3 * x,
        1,
        sp.Rational(1, 3),
    )
    assert s.window(list(range(10)), 1, 3) == [1, 2, 3]
    assert s.outer(sp.Matrix([1, 2, 3]), sp.Matrix([4, 5])).shape == (3, 2)


@pytest.mark.parametrize(
    ("slip", "check"),
    [
        (Slip("sign"), lambda s: s.sign == -1),
        (Slip("factor_two", 0), lambda s: s.scale == 2),
        (Slip("factor_two", 1), lambda s: s.scale == sp.Rational(1, 2)),
        (Slip("chain_factor"), lambda s: s.chain(3, sp.Matrix([1, 2])) == sp.Matrix([3, 3])),
        (Slip("log10"), lambda s: s.log(100) == sp.log(100, 10)),
        (
            Slip("transposed"),
            lambda s: s.outer(sp.Matrix([1, 2, 3]), sp.Matrix([4, 5])).shape == (2, 3),
        ),
        (Slip("shifted", 0), lambda s: s.window(list(range(10)), 1, 3) == [0, 1, 2]),
        (Slip("shifted", 1), lambda s: s.window(list(range(10)), 1, 3) == [2, 3, 4]),
        (Slip("loss_after_update"), lambda s: s.window(list(range(10)), 0, 3) == [1, 2, 3]),
        (Slip("rounded", rounding=3), lambda s: s.rnd(sp.Rational(2, 3)) == sp.Rational(667, 1000)),
    ],
)
def test_each_slip_changes_its_one_step(slip: Slip, check: object) -> None:
    assert check(slip)  # type: ignore[operator]


def test_a_given_result_flows_into_what_follows() -> None:
    r = Sheet({"p": sp.Integer(5)})
    r.p = sp.Integer(2)
    r.q = r.p + 1
    assert (r.p, r.q) == (5, 6)
    with pytest.raises(AttributeError, match="no result named 'z'"):
        _ = r.z


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("0.25", sp.Rational(1, 4)),
        (0.1, sp.Rational(1, 10)),
        (3, sp.Integer(3)),
        ("1e-8", sp.Rational(1, 10**8)),
    ],
)
def test_parameters_are_exact(written: object, value: sp.Rational) -> None:
    assert exact(written) == value


def test_a_list_parameter_is_a_column_vector() -> None:
    assert exact([1, "0.5"]) == sp.Matrix([1, sp.Rational(1, 2)])


ROOT_OF = Gradient("(w - 3)**2", ("w",))


@pytest.mark.parametrize(
    ("probes", "received", "note"),
    [
        (
            ((sp.Integer(0), sp.Integer(3)), (sp.Rational(1, 2), sp.Integer(4))),
            ((0.0, 3), (0.5, 4)),
            "a real argument whole in one probe is a float there; a count stays an int",
        ),
        (
            ((sp.Rational(0),), (sp.Matrix([1, 2]),)),
            ((0.0,), (np.array([1.0, 2.0]),)),
            "sp.Rational(0) is SymPy's Integer zero: a float where another probe gives a vector",
        ),
        (((0, "0.5"),), ((0, "0.5"),), "a Python int whole in every probe stays an int"),
        (((sp.Integer(2),), (sp.Integer(5),)), ((2,), (5,)), "a label whole in every probe"),
        (
            ((ROOT_OF, sp.Integer(0), True), (ROOT_OF, sp.Rational(1, 4), False)),
            ((ROOT_OF, 0.0, True), (ROOT_OF, 0.25, False)),
            "a gradient and a flag are handed on as they are",
        ),
    ],
)
def test_a_probe_argument_reaches_the_student_as_a_real_or_an_int(
    probes: tuple[tuple[object, ...], ...], received: tuple[tuple[object, ...], ...], note: str
) -> None:
    rule = Rule(lambda *args: sp.Integer(0), probes)
    got = tuple(tuple(to_student(a) for a in args) for args in rule.probes)
    for got_args, want_args in zip(got, received, strict=True):
        for g, want in zip(got_args, want_args, strict=True):
            assert type(g) is type(want), note
            assert np.array_equal(g, want) if isinstance(want, np.ndarray) else g == want, note


def test_an_unknown_parameter_in_a_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="no parameter named nope"):
        reference("attention_step.z_hat", {"nope": 1})


@pytest.mark.parametrize("qid", IDS)
def test_every_mistake_differs_from_the_reference(qid: str) -> None:
    _, q = locate(qid)
    ref = reference(qid)
    for mistake, target in mistake_targets(qid):
        if isinstance(target.value, SolutionSet):
            assert (
                not isinstance(ref.value, SolutionSet)
                or target.value.condition != ref.value.condition
            )
        elif q.kind in (Kind.EXPRESSION, Kind.CHOICE):
            assert target.value != ref.value, (qid, mistake)
        elif q.kind is Kind.FUNCTION:
            same = [_same(got, want) for got, want in zip(target.value, ref.value, strict=True)]
            assert not all(same), (qid, mistake)
        else:
            assert not _same(target.value, ref.value), (qid, mistake)


def _same(a: object, b: object) -> bool:
    parts_a = a if isinstance(a, tuple) else (a,)
    parts_b = b if isinstance(b, tuple) else (b,)
    for x, y in zip(parts_a, parts_b, strict=True):
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if x.shape != y.shape or not np.all(close(x, y, Tolerance())):
            return False
    return True


FUNCTIONS = [qid for qid in IDS if locate(qid)[1].kind is Kind.FUNCTION]


@pytest.mark.parametrize("qid", FUNCTIONS)
def test_the_lambdified_reference_agrees_with_the_exact_rule(qid: str) -> None:
    ref = reference(qid)
    function = ref.function()
    for args, expected in zip(ref.probes, ref.value, strict=True):
        got = function(*[to_student(a) for a in args])
        assert _same(got, expected), (qid, args)


def test_the_key_is_json_for_every_assignment() -> None:
    for assignment in ASSIGNMENTS:
        key = answer_key(assignment)
        assert json.loads(json.dumps(key)) == key
        assert all(entry["id"].startswith(assignment + ".") for entry in key)
