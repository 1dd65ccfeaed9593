"""What a student's answer is, before whether it is right: the canonical form of each answer kind.

Every function here turns what a student may assign (numbers, lists, NumPy, pandas, torch, strings,
SymPy, callables) into one canonical form, or raises `FormError` saying what is wrong with the form.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from autograder.judging.numerals import read_numeral
from autograder.model.values import same_but_for_ones
from autograder.sandbox.plain import Opaque, Table

# Far more than any question asks for; bigger answers are refused before they are copied.
MAX_ELEMENTS = 100_000
# An answer may have this many times the entries asked for (a slip's extra rows, a transposed
# table), and at least FEW entries, before it is refused as too large without reading them.
SLACK = 16
FEW = 1000
# A choice names an option by a short key or label, or a few of its parts ("5, w22").
CHOICE_TEXT = 200
CHOICE_PARTS = 16
# A formula given as a SymPy expression: beyond this many parts it is not even printed.
MAX_FORMULA_PARTS = 1000


class FormError(Exception):
    """The answer has the wrong form; `key` names the message, `details` fill it in."""

    def __init__(self, key: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(key, dict(details or {}))
        self.key = key
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return f"{self.key}: {self.details}"


def unanswered(answer: Any) -> bool:
    return answer is None or answer is Ellipsis or answer is NotImplemented


def to_array(answer: Any, finite: bool = True, limit: int = MAX_ELEMENTS) -> np.ndarray:
    """Any numeric answer as a float64 array, or a FormError (not numbers, complex, NaN/inf, …).

    With `finite=False`, NaN and inf pass (a function's output is judged, not refused, for them).
    An answer of more than `limit` entries is refused before any entry is read one by one.
    """
    if unanswered(answer):
        raise FormError("unanswered")
    answer = _unwrap(answer)
    if isinstance(answer, bool | np.bool_):
        raise FormError("boolean")
    if isinstance(answer, str | bytes):
        answer = _numeral(answer)
    if isinstance(answer, Mapping) or (callable(answer) and not hasattr(answer, "__array__")):
        raise FormError("not_numbers", {"type": type(answer).__name__})
    if isinstance(answer, Sequence | np.ndarray) and _size_hint(answer) > limit:
        raise FormError("too_large", {"size": _size_hint(answer)})
    try:
        array = np.asarray(answer)
    except Exception:  # a ragged list, or an object whose __array__ lies
        array = _numbers_of_one_entry(answer)
    if array.size > limit:
        raise FormError("too_large", {"size": int(array.size)})
    if array.dtype == object or array.dtype.kind in "US":
        array = _objects_to_numbers(array)
    if array.dtype.kind == "b":
        raise FormError("boolean")
    if array.dtype.kind == "c":
        if np.any(np.imag(array) != 0):
            raise FormError("complex")
        array = np.real(array)
    if array.dtype.kind not in "iuf":
        raise FormError("not_numbers", {"type": str(array.dtype)})
    array = array.astype(np.float64)
    bad = ~np.isfinite(array)
    if finite and bad.any():
        if array.ndim == 0:
            raise FormError("not_finite")
        raise FormError("not_finite_at", {"where": tuple(int(i) for i in np.argwhere(bad)[0])})
    return array


def to_output(
    result: Any, parts: int = 1, limit: int = MAX_ELEMENTS
) -> np.ndarray | tuple[np.ndarray, ...]:
    """What a function returned on one probe, as compared: a float array (NaN allowed), or for a
    function asked to return `parts` results (W_new, b_new) a tuple of them.

    One result may come as any numeric form (a tuple or list of numbers, a NumPy scalar, a list of
    arrays of one shape); several as a tuple or list of that many such results.
    """
    if result is None:
        raise FormError("returned_none")
    if parts == 1:
        try:
            return to_array(result, finite=False, limit=limit)
        except FormError as problem:
            # `return grad, loss`: a tuple of results that do not make one array
            several = isinstance(result, tuple) and 1 < len(result) <= 8
            if problem.key == "ragged" and several:
                raise FormError("one_result", {"got": len(result)}) from None
            raise
    results = _unwrap(result)
    if isinstance(results, np.ndarray) and results.ndim > 0 and results.dtype == object:
        results = list(results)
    if not isinstance(results, tuple | list):
        raise FormError("parts", {"expected": parts, "got": 1})
    if len(results) != parts:
        raise FormError("parts", {"expected": parts, "got": len(results)})
    return tuple(to_array(part, finite=False, limit=limit) for part in results)


def most_entries(shape: tuple[int, ...] | None) -> int:
    """The most entries an answer of this asked shape may have before it is refused unread."""
    if shape is None:
        return MAX_ELEMENTS
    return min(MAX_ELEMENTS, max(FEW, SLACK * math.prod(shape)))


def to_shape(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Fit an array to the asked shape where that is unambiguous: [[0.49]] is a number, (3, 1) a vector."""
    if array.shape == shape:
        return array
    if array.size == math.prod(shape) and same_but_for_ones(array.shape, shape):
        return array.reshape(shape)
    raise FormError("shape", {"expected": _shape_text(shape), "got": _shape_text(array.shape)})


def to_table(answer: Any, columns: tuple[str, ...], limit: int = MAX_ELEMENTS) -> np.ndarray:
    """A table as a float array with the asked columns in order.

    A DataFrame or a dict is read by column name (case, spaces and underscores do not matter;
    an extra index-like column is ignored), a list of rows or a 2-D array by position.
    """
    if unanswered(answer):
        raise FormError("unanswered")
    if isinstance(answer, Table) and answer.size > limit:
        raise FormError("too_large", {"size": answer.size})
    if (type(answer).__module__ or "").startswith("pandas") and np.size(answer) > limit:
        raise FormError("too_large", {"size": int(np.size(answer))})
    named = _by_name(answer)
    if named is None:
        return to_array(answer, limit=limit)
    size = sum(max(_size_hint(values), 1) for values in named.values())
    if size > limit:
        raise FormError("too_large", {"size": size})
    found = {_column_key(name): values for name, values in named.items()}
    missing = [c for c in columns if _column_key(c) not in found]
    if missing:
        if len(found) == len(columns):  # as many columns under other names: read in order
            return _rows(named, limit)
        got = ", ".join(_short(str(n), 20) for n in list(named)[:12])
        got += ", …" if len(named) > 12 else ""
        raise FormError("columns", {"expected": ", ".join(columns), "got": got})
    return _rows({c: found[_column_key(c)] for c in columns}, limit)


def _rows(columns: Mapping[str, Any], limit: int) -> np.ndarray:
    """A table's rows from its columns, each a list of values (a single value is no column)."""
    data = []
    for name, values in columns.items():
        try:
            data.append(list(values))
        except TypeError:
            raise FormError("column_values", {"column": _short(name, 20)}) from None
    try:
        rows = list(zip(*data, strict=True))
    except ValueError:
        raise FormError("ragged") from None
    return to_array(rows, limit=limit)


def _by_name(answer: Any) -> dict[str, Any] | None:
    if isinstance(answer, Table):
        return {str(c): answer.column(c) for c in answer.columns}
    module = type(answer).__module__ or ""
    if module.startswith("pandas") and hasattr(answer, "columns"):
        return {str(c): answer[c].to_numpy() for c in answer.columns}
    if isinstance(answer, Mapping):
        return {str(k): v for k, v in answer.items()}
    return None


def _column_key(name: Any) -> str:
    return str(name).lower().replace(" ", "").replace("_", "").replace("-", "")


def to_choice(answer: Any) -> str:
    """A choice as its option key: strings, numbers and tuples of them ("5, w22" == (5, "w22"))."""
    if unanswered(answer):
        raise FormError("unanswered")
    answer = _unwrap(answer)
    if isinstance(answer, np.ndarray) and answer.size <= CHOICE_PARTS:
        answer = answer.tolist()
    if isinstance(answer, list | tuple):
        if len(answer) > CHOICE_PARTS:
            raise FormError("too_large", {"size": len(answer)})
        parts = [_choice_part(v) for v in answer]
    else:
        parts = [_choice_part(answer)]
    return ",".join(p.strip() for part in parts for p in part.split(","))


def to_expression_text(answer: Any, parts: int = MAX_FORMULA_PARTS) -> str:
    """A formula as text; a SymPy expression of more than `parts` parts is refused before it is
    printed (printing a huge one is itself the cost)."""
    if unanswered(answer):
        raise FormError("unanswered")
    if isinstance(answer, str):
        return answer
    import sympy as sp

    if isinstance(answer, sp.Basic):
        size, depth = formula_size(answer, parts)
        if size > parts:
            raise FormError("formula_too_complex", {"nodes": parts, "depth": depth})
        return sp.sstr(answer)
    raise FormError("not_formula", {"type": type(answer).__name__})


def formula_size(expr: Any, limit: int) -> tuple[int, int]:
    """The parts of a SymPy expression and their deepest nesting, counted up to `limit` parts
    (without recursion, so a deep expression costs no more than a flat one)."""
    parts, deepest = 0, 0
    stack = [(expr, 1)]
    while stack and parts <= limit:
        node, depth = stack.pop()
        parts += 1
        deepest = max(deepest, depth)
        stack.extend((a, depth + 1) for a in node.args)
    return parts, deepest


def _choice_part(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        raise FormError("boolean")
    if isinstance(value, numbers.Real) and _whole(value):
        return str(int(float(value)))
    if isinstance(value, str):
        if len(value) > CHOICE_TEXT:
            raise FormError("too_long", {"length": len(value), "limit": CHOICE_TEXT})
        return value.strip().lower()
    raise FormError("not_option", {"type": type(value).__name__})


def _whole(value: numbers.Real) -> bool:
    """A whole number an option can name (no integer beyond floats, no NaN or inf)."""
    try:
        return math.isfinite(float(value)) and float(value).is_integer()
    except (OverflowError, ValueError, TypeError):
        return False


def _unwrap(answer: Any) -> Any:
    """Tensors and pandas objects as plain NumPy (a tensor that requires grad is detached first);
    what the sandbox could only name (an object, a huge value) as the FormError it is."""
    if isinstance(answer, Opaque):
        if answer.tag == "too_large" and isinstance(answer.detail, list):
            raise FormError("too_large", {"size": math.prod(answer.detail)})
        named = answer.detail if answer.tag == "object" else answer.tag
        raise FormError("not_numbers", {"type": str(named)[:60]})
    if isinstance(answer, Table):
        return answer.to_numpy()
    module = type(answer).__module__ or ""
    if module.startswith("torch"):
        try:
            return answer.detach().cpu().numpy()
        except Exception:
            raise FormError("not_numbers", {"type": type(answer).__name__}) from None
    if module.startswith("pandas") and hasattr(answer, "to_numpy"):
        return answer.to_numpy()
    return answer


def _numbers_of_one_entry(answer: Any) -> np.ndarray:
    """[dw1, dw2] where one is a 0-d and the other a 1-element array (as X @ W gives): NumPy calls
    the list ragged, but each entry is one number. Anything else ragged stays a FormError."""
    if isinstance(answer, list | tuple) and all(_size_hint_of(item) == 1 for item in answer):
        return np.array([_one_number(item) for item in answer], dtype=np.float64)
    raise FormError("ragged")


def _size_hint_of(item: Any) -> int:
    try:
        return int(np.size(item))
    except Exception:
        return 0


def _objects_to_numbers(array: np.ndarray) -> np.ndarray:
    flat = [_one_number(item) for item in array.reshape(-1)]
    return np.array(flat, dtype=np.float64).reshape(array.shape)


def _one_number(item: Any) -> float:
    item = _unwrap(item)
    if isinstance(item, bool | np.bool_):
        raise FormError("boolean")
    if isinstance(item, str | bytes | np.str_ | np.bytes_):
        return _numeral(item)
    if isinstance(item, Decimal):
        return math.nan if item.is_nan() else float(item)  # a signalling NaN refuses float()
    if isinstance(item, numbers.Complex) and not isinstance(item, numbers.Real):
        if complex(item).imag != 0:
            raise FormError("complex")
        return complex(item).real
    if isinstance(item, numbers.Real) or getattr(item, "is_number", False) is True:
        try:
            return float(item)
        except Exception:
            raise FormError("not_numbers", {"type": type(item).__name__}) from None
    if isinstance(item, np.ndarray) and item.size == 1:
        return _one_number(item.reshape(-1)[0])
    raise FormError("not_numbers", {"type": type(item).__name__})


def _numeral(text: str | bytes) -> float:
    """A number written as text ("0.25", "1/4", "0,25"), or the FormError that says it is none."""
    decoded = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    number = read_numeral(decoded)
    if number is None:
        raise FormError("text", {"text": _short(decoded)})
    return number


def _size_hint(answer: Any) -> int:
    try:
        return int(np.size(answer)) if isinstance(answer, np.ndarray) else len(answer)
    except Exception:
        return 0


def _shape_text(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))


def _short(text: str | bytes, limit: int = 40) -> str:
    text = text.decode(errors="replace") if isinstance(text, bytes) else text
    return text if len(text) <= limit else text[: limit - 1] + "…"
