"""Whatever a student's value or function returns, every question gives a verdict: right, wrong,
partial, invalid or unanswered with a message; never an exception of the grader.

Property tests over arbitrary nested Python and NumPy values, given directly, as the sandbox
reports them (encoded and decoded as plain data), and returned by a student's function. They run
derandomized: the same cases on every run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder import grade_answer, question_ids
from autograder.derivation.references import locate, reference
from autograder.judging.grading import Outputs
from autograder.model.spec import Kind
from autograder.sandbox import plain

IDS = question_ids()
STATUSES = {"correct", "partial", "wrong", "invalid", "unanswered"}
SETTINGS = settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

numeric_dtypes = st.sampled_from(
    [np.float64, np.float32, np.float16, np.int64, np.int8, np.uint8, np.bool_, np.complex128]
)
arrays = hnp.arrays(numeric_dtypes, hnp.array_shapes(max_dims=3, max_side=5))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.complex_numbers(allow_nan=True, allow_infinity=True),
    st.fractions(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["0,25", "1/4", "2.5e-1", "−3", "1/0", "nan", "1e999", "[1, 2]", "w1 + 1"]),
    st.just(Ellipsis),
    arrays.map(lambda a: a.reshape(-1)[0] if a.size else a),
)
values = st.recursive(
    st.one_of(scalars, arrays),
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=3), inner, max_size=3),
    ),
    max_leaves=24,
)


def _verdict_of(qid: str, answer: Any) -> None:
    verdict = grade_answer(qid, answer)
    assert verdict.status in STATUSES
    assert 0.0 <= verdict.score <= 1.0
    assert isinstance(verdict.feedback, str) and verdict.feedback


@pytest.mark.parametrize("qid", IDS)
@SETTINGS
@given(value=values)
def test_any_value_gets_a_verdict(qid: str, value: Any) -> None:
    _verdict_of(qid, value)


@pytest.mark.parametrize("qid", IDS)
@SETTINGS
@given(value=values)
def test_any_value_as_the_sandbox_reports_it_gets_a_verdict(qid: str, value: Any) -> None:
    _verdict_of(qid, plain.decode(plain.encode(value)))


FUNCTIONS = [qid for qid in IDS if locate(qid)[1].kind is Kind.FUNCTION]


@pytest.mark.parametrize("qid", FUNCTIONS)
@SETTINGS
@given(data=st.data())
def test_any_results_of_a_function_as_the_sandbox_reports_them_get_a_verdict(
    qid: str, data: st.DataObject
) -> None:
    probes = len(reference(qid).probes)
    results = data.draw(st.lists(values, min_size=0, max_size=probes + 1))
    reported = tuple(("result", plain.decode(plain.encode(v))) for v in results)
    _verdict_of(qid, Outputs(reported))


@pytest.mark.parametrize("qid", FUNCTIONS)
@settings(SETTINGS, max_examples=6)
@given(value=values)
def test_a_function_returning_anything_gets_a_verdict(qid: str, value: Any) -> None:
    _verdict_of(qid, lambda *args: value)


def wrong_forms(want: Any) -> list[tuple[str, Any]]:
    """Results of the wrong number or shape for a function whose right result is `want` (one
    array, or a tuple of parts): one number, a part too few or too many, each part reshaped."""
    parts = want if isinstance(want, tuple) else (want,)
    zeros = [np.zeros(np.shape(p)) for p in parts]
    forms: list[tuple[str, Any]] = [("None", None), ("a tuple too long", (*zeros, 0.0))]
    if len(parts) > 1:
        forms += [("one number", 0.5), ("a part too few", tuple(zeros[:-1]))]
    for i, part in enumerate(zeros):
        for how, reshaped in (
            ("one axis more", part[..., None]),
            ("one entry more", np.append(part, 1.0)),
        ):
            if np.shape(reshaped) != np.shape(part):
                changed = [*zeros[:i], reshaped, *zeros[i + 1 :]]
                forms.append((f"part {i}: {how}", tuple(changed) if len(parts) > 1 else reshaped))
    return forms


@pytest.mark.parametrize("qid", FUNCTIONS)
def test_a_function_returning_the_wrong_number_or_shape_of_results_gets_a_verdict(qid: str) -> None:
    """Every function question, each wrong arity and shape of what it returns: a verdict that says
    so (one number where a pair is asked for: "returns 1"), never a fault of the grader."""
    want = reference(qid).value[0]
    for how, result in wrong_forms(want):
        verdict = grade_answer(qid, lambda *args, result=result: result)
        assert (verdict.status, verdict.score) in {("wrong", 0.0), ("invalid", 0.0)}, (how, verdict)
        assert verdict.feedback, how
        if isinstance(want, tuple) and how == "one number":
            assert f"should return {len(want)} results; it returns 1" in verdict.feedback, verdict
