"""Every comparison as a table: (kind, student answer, target, expected outcome), plus the tolerance rule's properties."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

from autograder.judging.compare import (
    close,
    compare_array,
    compare_choice,
    compare_outputs,
    consistent,
    in_set,
    printed_half_unit,
)
from autograder.judging.forms import FormError, to_array, to_choice, to_table
from autograder.judging.formulas import equivalent, parse_formula
from autograder.model.spec import Tolerance
from autograder.model.values import SolutionSet
from autograder.sandbox import plain

TOL = Tolerance()
w1, w2, w3 = sp.symbols("w1 w2 w3")
LINE = SolutionSet((w1, w2), sp.Eq(4 * w1 + 7 * w2 - 20, 0), sp.Matrix([5, 0]))
HALF_SPACE = SolutionSet((w1, w2, w3), sp.Le(2 * w1 + 3 * w2 - 4 * w3, 0), sp.Matrix([0, 0, 0]))


def outcome(answer: Any, target: np.ndarray, tol: Tolerance = TOL) -> str:
    """'right', 'wrong', or the key of the form problem."""
    try:
        return (
            "right"
            if compare_array(to_array(answer), np.asarray(target, float), tol).correct
            else "wrong"
        )
    except FormError as problem:
        return problem.key


def numpy_matrix(rows: list[list[float]]) -> Any:
    """np.matrix, as some students still write it (NumPy warns that it is on its way out)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return np.matrix(rows)


# (answer, target, expected, note)
NUMERIC_CASES = [
    (4, 4.0, "right", "int for float"),
    (4.0004, 4.0, "right", "inside rtol"),
    (4.0041, 4.0, "wrong", "just outside rtol"),
    (np.float32(0.62010643), 0.62010643, "right", "float32 scalar"),
    (np.int64(3), 3.0, "right", "numpy int"),
    (np.array(2.5), 2.5, "right", "0-d array"),
    ([0.49], 0.49, "right", "one-element list for a number"),
    (np.array([[0.49]]), 0.49, "right", "(1, 1) array for a number, as X @ W + b gives"),
    (5e-7, 0.0, "right", "atol around zero"),
    (2e-6, 0.0, "wrong", "outside atol around zero"),
    (-4.0, 4.0, "wrong", "sign"),
    (np.nan, 4.0, "not_finite", "NaN"),
    (np.inf, 4.0, "not_finite", "inf"),
    (-np.inf, 4.0, "not_finite", "-inf"),
    (None, 4.0, "unanswered", "None"),
    (..., 4.0, "unanswered", "Ellipsis"),
    ("4", 4.0, "right", "a numeral as text"),
    (b"4", 4.0, "right", "a numeral as bytes"),
    ("0.25", 0.25, "right", "a decimal as text"),
    ("0,25", 0.25, "right", "the German decimal comma"),
    ("1/4", 0.25, "right", "a fraction as text"),
    (" -1 / 4 ", -0.25, "right", "a fraction with spaces and a sign"),
    ("2.5e-1", 0.25, "right", "an exponent as text"),
    ("−0.5", -0.5, "right", "the typeset minus sign"),
    ("+.5", 0.5, "right", "a leading point and plus"),
    ("0,26", 0.25, "wrong", "a wrong numeral as text"),
    ("nan", 0.25, "not_finite", "NaN as text"),
    ("1/0", 0.25, "not_finite", "a division by zero as text"),
    ("1e999", 0.25, "not_finite", "an overflowing numeral"),
    ("abc", 0.25, "text", "text that is no numeral"),
    ("1.000,5", 1000.5, "text", "a thousands separator is not read"),
    ("0.25, 0.5", 0.25, "text", "two numerals in one text"),
    ("1" * 200, 1.0, "text", "a numeral longer than anyone types"),
    ("__import__('os')", 1.0, "text", "code is never evaluated"),
    (Fraction(1, 4), 0.25, "right", "Fraction"),
    (Decimal("0.25"), 0.25, "right", "Decimal"),
    ([Decimal("0.25"), Fraction(1, 2)], [0.25, 0.5], "right", "a list of Decimal and Fraction"),
    (sp.Rational(1, 4), 0.25, "right", "SymPy Rational"),
    (sp.Float(0.25), 0.25, "right", "SymPy Float"),
    (sp.sqrt(2), 2**0.5, "right", "SymPy irrational number"),
    (sp.oo, 0.25, "not_finite", "SymPy infinity"),
    (np.longdouble(0.25), 0.25, "right", "long double"),
    (np.uint16(3), 3.0, "right", "unsigned int"),
    (np.array([0.25]), 0.25, "right", "one-element array for a number"),
    (numpy_matrix([[3.5, 7]]), [3.5, 7], "right", "np.matrix row"),
    (numpy_matrix([[3.5], [7]]), [3.5, 7], "right", "np.matrix column"),
    (sp.Matrix([3.5, 7]), [3.5, 7], "right", "SymPy Matrix"),
    ([np.float64(3.5), np.float32(7)], [3.5, 7], "right", "list of NumPy scalars"),
    ([np.array(3.5), np.array([7.0])], [3.5, 7], "right", "list of 0-d and 1-element arrays"),
    (["3.5", "7"], [3.5, 7], "right", "list of numerals"),
    ([[1, 2], (3, 4)], [[1, 2], [3, 4]], "right", "nested list and tuple"),
    (True, 1.0, "boolean", "bool"),
    (np.bool_(True), 1.0, "boolean", "numpy bool"),
    (3 + 0j, 3.0, "right", "complex with zero imaginary part"),
    (3 + 1j, 3.0, "complex", "complex"),
    ({"a": 1}, 1.0, "not_numbers", "dict"),
    (object(), 1.0, "not_numbers", "object"),
    ([3.5, 7, 3.5, 0], [3.5, 7, 3.5, 0], "right", "list"),
    ((3.5, 7, 3.5, 0), [3.5, 7, 3.5, 0], "right", "tuple"),
    (np.array([[3.5], [7], [3.5], [0]]), [3.5, 7, 3.5, 0], "right", "column vector"),
    (np.array([[3.5, 7, 3.5, 0]]), [3.5, 7, 3.5, 0], "right", "row vector"),
    (np.array([3.5, 7, 3.5, 0], dtype=np.float16), [3.5, 7, 3.5, 0], "right", "float16"),
    (np.array([3, 7, 3, 0], dtype=np.int8), [3, 7, 3, 0], "right", "int8"),
    (
        np.array([3.5, 7, 3.5, 0], dtype=object),
        [3.5, 7, 3.5, 0],
        "right",
        "dtype object of numbers",
    ),
    (np.array(["a", "b"], dtype=object), [1, 2], "text", "dtype object of strings"),
    (np.array(["1", "2"]), [1, 2], "right", "unicode dtype of numerals"),
    (np.array(["1", "x"]), [1, 2], "text", "unicode dtype with text"),
    ([sp.Rational(7, 2), sp.Integer(7)], [3.5, 7], "right", "SymPy numbers"),
    ([sp.Symbol("x"), 1], [3.5, 7], "not_numbers", "SymPy symbol"),
    (pd.Series([3.5, 7.0]), [3.5, 7], "right", "pandas Series"),
    ([3.5, 7, 3.5], [3.5, 7, 3.5, 0], "shape", "one entry short"),
    ([], [3.5, 7], "shape", "empty list"),
    (np.array([]), [3.5, 7], "shape", "empty array"),
    ([[1, 2], [3]], [1, 2, 3], "ragged", "ragged list"),
    ([3.5, np.nan], [3.5, 7], "not_finite_at", "NaN inside a vector"),
    ([3.5, True], [3.5, 1.0], "right", "bool inside a numeric list becomes 1.0 as NumPy does"),
    (np.zeros(10**6), [1.0, 2.0], "too_large", "huge array"),
    (list(range(200_000)), [1.0, 2.0], "too_large", "huge list"),
    (np.ones((3, 2)), np.ones((3, 2)), "right", "matrix"),
    (np.ones((2, 3)), np.ones((3, 2)), "shape", "transposed matrix shape"),
    (np.ones((3, 2, 1)), np.ones((3, 2)), "right", "trailing singleton axis"),
]


@pytest.mark.parametrize(
    ("answer", "target", "expected", "note"), NUMERIC_CASES, ids=[c[3] for c in NUMERIC_CASES]
)
def test_numeric_answers(answer: Any, target: Any, expected: str, note: str) -> None:
    assert outcome(answer, target) == expected


@pytest.mark.parametrize(
    ("reference", "rtol", "atol"),
    [
        (4.0, 1e-3, 1e-6),
        (-0.15472, 1e-3, 1e-6),
        (1e-9, 1e-3, 1e-6),
        (123456.0, 1e-4, 0.0),
        (0.0, 0.0, 1e-3),
    ],
)
def test_tolerance_boundary_is_inclusive(reference: float, rtol: float, atol: float) -> None:
    tol = Tolerance(rtol, atol)
    bound = atol + rtol * abs(reference)
    target = np.array(reference)
    inside = np.nextafter(reference + bound, reference)
    outside = reference + bound * 1.01 + 1e-300
    assert close(np.array(inside), target, tol)
    assert not close(np.array(outside), target, tol)
    assert close(np.array(reference - bound * 0.999), target, tol)


finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)
tolerances = st.builds(
    Tolerance, st.floats(min_value=0, max_value=0.1), st.floats(min_value=0, max_value=1e-3)
)


@given(finite, tolerances)
def test_a_reference_is_always_close_to_itself(r: float, tol: Tolerance) -> None:
    assert close(np.array(r), np.array(r), tol)


@given(finite, st.floats(min_value=-0.999, max_value=0.999), tolerances)
def test_anything_within_the_bound_is_close(r: float, fraction: float, tol: Tolerance) -> None:
    bound = tol.atol + tol.rtol * abs(r)
    assume((1 - abs(fraction)) * bound > 8 * np.spacing(abs(r)))  # beyond float rounding
    a = r + fraction * bound
    assert close(np.array(a), np.array(r), tol)


@given(finite, st.floats(min_value=1.01, max_value=1e6), tolerances)
def test_anything_beyond_the_bound_is_not_close(r: float, factor: float, tol: Tolerance) -> None:
    bound = tol.atol + tol.rtol * abs(r)
    a = r + factor * bound + 1e-9 * max(1.0, abs(r))
    assert not close(np.array(a), np.array(r), tol)


@given(finite, st.sampled_from([np.nan, np.inf, -np.inf]), tolerances)
def test_nan_and_inf_are_never_close(r: float, bad: float, tol: Tolerance) -> None:
    assert not close(np.array(bad), np.array(r), tol)


@given(st.lists(finite, min_size=1, max_size=20), tolerances, st.data())
def test_one_bad_element_makes_a_vector_wrong_and_is_reported(
    values: list[float], tol: Tolerance, data: st.DataObject
) -> None:
    target = np.array(values)
    i = data.draw(st.integers(0, len(values) - 1))
    answer = target.copy()
    answer[i] += 2 * (tol.atol + tol.rtol * abs(target[i])) + 1.0
    result = compare_array(answer, target, tol)
    assert not result.correct and result.where == (i,)


@given(finite.filter(lambda v: abs(v) > 1e-3), st.floats(min_value=1e-3, max_value=1e3), tolerances)
def test_relative_tolerance_scales(r: float, scale: float, tol: Tolerance) -> None:
    relative = Tolerance(tol.rtol, 0.0)
    a = r * (1 + 0.5 * tol.rtol)
    assert bool(close(np.array(a), np.array(r), relative)) == bool(
        close(np.array(a * scale), np.array(r * scale), relative)
    )


# (point, solution set, expected, note)
SET_CASES = [
    ([5, 0], LINE, True, "the member"),
    ([1.5, 2.0], LINE, True, "another point of the line"),
    ([-9.0, 8.0], LINE, True, "a point far along the line"),
    ([5.001, 0], LINE, True, "within tolerance of the line"),
    ([5.1, 0], LINE, False, "off the line"),
    ([0, 0], LINE, False, "the origin"),
    ([0, 0, 0], HALF_SPACE, True, "on the boundary"),
    ([-5, 1, 0], HALF_SPACE, True, "deep inside"),
    ([0, 0, 100], HALF_SPACE, True, "inside, large"),
    ([1, 1, 0], HALF_SPACE, False, "outside"),
    ([5e-7, 0, 0], HALF_SPACE, True, "outside by less than the tolerance"),
    ([5e-4, 0, 0], HALF_SPACE, False, "outside by more than the tolerance"),
]


@pytest.mark.parametrize(
    ("point", "solutions", "expected", "note"), SET_CASES, ids=[c[3] for c in SET_CASES]
)
def test_point_in_set(
    point: list[float], solutions: SolutionSet, expected: bool, note: str
) -> None:
    assert in_set(to_array(point), solutions, TOL).correct is expected


def test_point_in_set_needs_the_right_dimension() -> None:
    with pytest.raises(FormError) as problem:
        in_set(to_array([1, 2, 3]), LINE, TOL)
    assert problem.value.key == "shape"


# (student output per probe, expected per probe, expected outcome, note)
OUTPUT_CASES = [
    ([np.array(1.0), np.array(2.0)], [np.array(1.0), np.array(2.0)], "right", "all probes right"),
    (
        [np.array(1.0), np.array(2.5)],
        [np.array(1.0), np.array(2.0)],
        "wrong@1",
        "second probe wrong",
    ),
    ([np.array([1.0, 2.0])], [np.array([1.0, 2.0])], "right", "vector output"),
    ([np.array([1.0])], [np.array([1.0, 2.0])], "shape", "vector output too short"),
    ([FormError("raised", {"error": "ZeroDivisionError"})], [np.array(1.0)], "raised", "raised"),
    ([np.array(np.nan)], [np.array(1.0)], "wrong@0", "NaN output is not right"),
    (
        [(np.array([1.0, 2.0]), np.array(3.0))],
        [(np.array([1.0, 2.0]), np.array(3.0))],
        "right",
        "tuple",
    ),
    (
        [(np.array([1.0, 2.0]),)],
        [(np.array([1.0, 2.0]), np.array(3.0))],
        "parts",
        "tuple missing a part",
    ),
    # one number where a pair is asked: the pair's message, not a fault of the grader
    ([np.array(0.5)], [(np.array(1.0), np.array(3.0))], "parts", "one number for a pair"),
    ([np.float64(0.5)], [(np.array(1.0), np.array(3.0))], "parts", "a NumPy scalar for a pair"),
    # a list [a, b] read as an array is the pair it holds
    ([np.array([1.0, 3.0])], [(np.array(1.0), np.array(3.0))], "right", "a pair as an array"),
    (
        [np.array([1.0, 2.0, 3.0])],
        [(np.array(1.0), np.array(3.0))],
        "parts",
        "three where a pair is asked",
    ),
]


@pytest.mark.parametrize(
    ("outputs", "expected", "result", "note"), OUTPUT_CASES, ids=[c[3] for c in OUTPUT_CASES]
)
def test_function_outputs(outputs: list[Any], expected: list[Any], result: str, note: str) -> None:
    try:
        got = compare_outputs(outputs, expected, TOL)
    except FormError as problem:
        assert problem.key == result
        assert problem.details["probe"] == 0
        return
    assert ("right" if got.correct else f"wrong@{got.where[0]}") == result


def test_nan_matches_nan_only_when_naming_a_mistake() -> None:
    outputs, expected = [np.array([np.nan, np.nan])], [np.array([np.nan, np.nan])]
    assert not compare_outputs(outputs, expected, TOL).correct
    assert compare_outputs(outputs, expected, TOL, lenient=True).correct


# (answer, option key or keys, expected, note)
CHOICE_CASES = [
    ((5, "w22"), "5,w22", True, "tuple"),
    ("5, W22", "5,w22", True, "text with space and capitals"),
    ([5, "w22"], "5,w22", True, "list"),
    (np.array([5.0]), "5", True, "array of one integer value"),
    ("a", "a", True, "letter"),
    (" A ", "a", True, "letter with spaces"),
    ("b", "a", False, "wrong letter"),
    (12856, "12856", True, "integer id"),
    ("4,w22", frozenset({"4,w22", "5,z_hat"}), True, "one of a set of keys"),
]


@pytest.mark.parametrize(
    ("answer", "target", "expected", "note"), CHOICE_CASES, ids=[c[3] for c in CHOICE_CASES]
)
def test_choices(answer: Any, target: Any, expected: bool, note: str) -> None:
    assert compare_choice(to_choice(answer), target).correct is expected


@pytest.mark.parametrize(
    ("answer", "key"),
    [(None, "unanswered"), (True, "boolean"), ({"a"}, "not_option"), (1.5, "not_option")],
)
def test_choices_of_the_wrong_form(answer: Any, key: str) -> None:
    with pytest.raises(FormError) as problem:
        to_choice(answer)
    assert problem.value.key == key


COLUMNS = ("iteration", "z_hat", "error")
ROWS = [[0, 4.0, 3.5], [1, 1.9, 1.4]]


TABLES = [
    (pd.DataFrame(ROWS, columns=list(COLUMNS)), "right", "DataFrame"),
    (pd.DataFrame(ROWS, columns=["Iteration", "Z_hat", "Error"]), "right", "other capitals"),
    (pd.DataFrame(ROWS, columns=["Iteration", "z hat", "error"]), "right", "spaces"),
    (
        pd.DataFrame([[4.0, 0, 3.5], [1.9, 1, 1.4]], columns=["z_hat", "iteration", "error"]),
        "right",
        "columns reordered",
    ),
    (
        pd.DataFrame(ROWS, columns=["It", "Output", "Fehler"]),
        "right",
        "other names, same count: by position",
    ),
    (
        pd.DataFrame([[0, 4.0], [1, 1.9]], columns=["iteration", "z_hat"]),
        "columns",
        "a column missing",
    ),
    (
        {"iteration": [0, 1], "z_hat": [4.0, 1.9], "error": [3.5, 1.4]},
        "right",
        "dict of columns",
    ),
    (ROWS, "right", "list of rows"),
    (np.array(ROWS), "right", "2-D array"),
    (ROWS[:1], "shape", "a row missing"),
    (
        pd.DataFrame([[0, 4.0, 3.5], [1, 1.9, 1.5]], columns=list(COLUMNS)),
        "wrong",
        "one cell wrong",
    ),
    (None, "unanswered", "None"),
    (pd.DataFrame([[1, "x", 2]], columns=["a", "a", "b"]), "columns", "a column name twice"),
]


@pytest.mark.parametrize(("answer", "expected", "note"), TABLES)
def test_tables(answer: Any, expected: str, note: str) -> None:
    _judged_as(answer, expected)


@pytest.mark.parametrize(
    ("answer", "expected", "note"), [t for t in TABLES if isinstance(t[0], pd.DataFrame)]
)
def test_a_table_from_the_sandbox_is_judged_as_the_dataframe_it_was(
    answer: Any, expected: str, note: str
) -> None:
    """A DataFrame reaches the grader as plain data (a Table, no pandas): the same verdict."""
    sent = plain.decode(json.loads(json.dumps(plain.encode(answer))))
    assert isinstance(sent, plain.Table)
    _judged_as(sent, expected)


def test_the_grader_reads_a_table_without_importing_pandas() -> None:
    script = (
        "import json, sys\n"
        "from autograder.sandbox import plain\n"
        "from autograder.judging.forms import to_table\n"
        "from autograder.judging.read_back import _shown\n"
        'data = {"table": {"columns": ["k", "w"], "rows": [[0, {"float": 1.5}], [1, 2]]}}\n'
        "table = plain.decode(data)\n"
        "print(to_table(table, ('k', 'w')).tolist(), _shown(table), 'pandas' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == [
        "[[0.0,",
        "1.5],",
        "[1.0,",
        "2.0]]",
        "[k,",
        "w]",
        "0,",
        "1.5;",
        "1,",
        "2",
        "False",
    ]


def _judged_as(answer: Any, expected: str) -> None:
    try:
        table = to_table(answer, COLUMNS)
        result = compare_array(table, np.array(ROWS, dtype=float), TOL)
    except FormError as problem:
        assert problem.key == expected
        return
    assert ("right" if result.correct else "wrong") == expected
    if not result.correct:
        assert result.where == (1, 2)


REFERENCE_FORMULA = 8 * (4 * w1 + 7 * w2 - 20)


@pytest.mark.parametrize(
    ("text", "expected", "note"),
    [
        ("8*(4*w1 + 7*w2 - 20)", "right", "as written"),
        ("32*w1 + 56*w2 - 160", "right", "expanded"),
        ("8(4w1 + 7w2 - 20)", "right", "implicit multiplication"),
        ("2^3*(4*w1 + 7*w2 - 20)", "right", "caret for power"),
        ("2*(4*w1+7*w2-20)*4", "right", "chain rule written out"),
        ("exp(log(8))*(4*w1 + 7*w2 - 20)", "right", "needs simplification"),
        ("2*(4*w1 + 7*w2 - 20)", "wrong", "chain factor lost"),
        ("8*(4*w1 + 7*w2 + 20)", "wrong", "sign of the constant"),
        ("q + 1", "formula_symbol", "unknown name"),
        ("__import__('os').system('true')", "formula_syntax", "code"),
        ("w1.__class__", "formula_syntax", "attribute"),
        ("lambda: 1", "formula_syntax", "lambda"),
        ("(", "formula_syntax", "unbalanced"),
        ("", "formula_syntax", "empty"),
        ("w1 = 3", "formula_syntax", "assignment"),
        ("w1" + " + w1" * 200, "formula_too_long", "too long"),
    ],
)
def test_formulas(text: str, expected: str, note: str) -> None:
    try:
        expr = parse_formula(text, ("w1", "w2"))
    except FormError as problem:
        assert problem.key == expected
        return
    assert (
        "right" if equivalent(expr, REFERENCE_FORMULA, ("w1", "w2"), TOL) else "wrong"
    ) == expected


def test_a_formula_that_would_take_forever_is_wrong_within_the_time_bound() -> None:
    expr = parse_formula("9**9**9 * w1", ("w1", "w2"))
    assert not equivalent(expr, REFERENCE_FORMULA, ("w1", "w2"), TOL, seconds=2)


@pytest.mark.parametrize(
    ("value", "half"),
    [(0.15, 0.005), (1.06, 0.005), (4.0, 0.5), (0.00638298, 5e-9), (1e-8, 5e-9), (-0.155, 0.0005)],
)
def test_printed_precision_of_a_float(value: float, half: float) -> None:
    assert printed_half_unit(value) == pytest.approx(half)


@pytest.mark.parametrize(
    ("answer", "target", "expected"),
    [
        (0.15, 0.15472, True),  # a slide value: right at its printed precision
        (0.54, 0.53584, True),
        (0.04, 0.03584, True),
        (0.16, 0.15472, False),
        (0.0, 0.004, False),  # one digit says too little to name anything
        (4.0, 4.3, False),
    ],
)
def test_consistent_at_printed_precision(answer: float, target: float, expected: bool) -> None:
    assert bool(consistent(np.array(answer), np.array(target), TOL)) is expected


def test_decimal_half_unit_matches_float_rule() -> None:
    assert printed_half_unit(float(Decimal("0.066"))) == pytest.approx(0.0005)
