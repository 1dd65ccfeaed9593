"""Plain data across the process boundary: values as JSON with tags for arrays, tables and formulas.

Both sides load this one module: the sandbox (by file path, without the package) encodes a student's
values, and the grader decodes them; nothing here can run code when decoding.
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

# More elements than any answer needs: beyond this a value is reported by its shape only.
MAX_ELEMENTS = 100_000
MAX_TEXT = 10_000
MAX_DEPTH = 6


def encode(value: Any, depth: int = 0) -> Any:
    """A JSON-able description of a value; objects that lie about themselves become what they are.

    Subclasses of the plain types are read through the base type's own slots, so an overridden
    `__float__` or `__eq__` changes nothing; other objects are named by their type only.
    """
    if depth > MAX_DEPTH:
        return {"object": "nested too deeply"}
    if value is None or isinstance(value, bool | np.bool_):
        return bool(value) if value is not None else None
    tensor = _from_torch(value)
    if tensor is not None:
        return encode(tensor, depth + 1)
    if isinstance(value, np.ndarray | np.generic):
        return _array(value, depth)
    if isinstance(value, int):
        number = int.__index__(value)
        return number if abs(number) < 2**63 else float(number)
    if isinstance(value, float):
        return _float(float.__float__(value))
    if isinstance(value, complex):
        return {
            "complex": [
                _float(complex.__complex__(value).real),
                _float(complex.__complex__(value).imag),
            ]
        }
    if isinstance(value, str):
        return str.__str__(value)[:MAX_TEXT]
    exact = _exact_number(value)
    if exact is not None:
        return exact
    frame = _frame(value, depth)
    if frame is not None:
        return frame
    if type(value) in (list, tuple):
        if len(value) > MAX_ELEMENTS:
            return {"too_large": [len(value)]}
        items = [encode(v, depth + 1) for v in value]
        return {"tuple": items} if type(value) is tuple else items
    if type(value) is dict:
        return {"dict": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    formula = _formula(value, depth)
    if formula is not None:
        return formula
    if isinstance(value, Iterator):
        # a generator or map object of numbers: read once, as the list it yields
        items = list(itertools.islice(value, MAX_ELEMENTS + 1))
        if len(items) > MAX_ELEMENTS:
            return {"too_large": [len(items)]}
        return [encode(v, depth + 1) for v in items]
    if callable(value) and not isinstance(value, type):
        return {"function": str(getattr(value, "__name__", "function"))[:100]}
    return {"object": type(value).__name__[:100]}


def _float(x: float) -> Any:
    if math.isnan(x):
        return {"float": "nan"}
    if math.isinf(x):
        return {"float": "inf" if x > 0 else "-inf"}
    return x


def _exact_number(value: Any) -> Any:
    """A Fraction or a Decimal as its float, read through the base type (not a subclass's methods)."""
    fractions, decimal = sys.modules.get("fractions"), sys.modules.get("decimal")
    if fractions is not None and isinstance(value, fractions.Fraction):
        return _float(fractions.Fraction.__float__(value))
    if decimal is not None and isinstance(value, decimal.Decimal):
        if decimal.Decimal.is_nan(value):  # a signalling NaN refuses float()
            return _float(math.nan)
        return _float(decimal.Decimal.__float__(value))
    return None


def _from_torch(value: Any) -> Any:
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(value, torch.Tensor):
        return None
    return value.detach().cpu().numpy()


def _array(value: Any, depth: int) -> Any:
    array = np.asarray(value)
    if array.size > MAX_ELEMENTS:
        return {"too_large": list(array.shape)}
    if array.dtype.kind in "biuf":
        flat = [_float(float(x)) for x in array.astype(float).reshape(-1)]
        return {"array": flat, "shape": list(array.shape)}
    if array.dtype.kind == "c":
        pairs = [[_float(float(x.real)), _float(float(x.imag))] for x in array.reshape(-1)]
        return {"complex_array": pairs, "shape": list(array.shape)}
    if array.dtype.kind in "US":
        return {
            "text_array": [str(x)[:MAX_TEXT] for x in array.reshape(-1)],
            "shape": list(array.shape),
        }
    items = [encode(x, depth + 1) for x in array.reshape(-1).tolist()]
    return {"object_array": items, "shape": list(array.shape)}


def _frame(value: Any, depth: int) -> Any:
    pandas = sys.modules.get("pandas")
    if pandas is None:
        return None
    if isinstance(value, pandas.Series):
        value = value.to_frame()
    if not isinstance(value, pandas.DataFrame):
        return None
    if value.size > MAX_ELEMENTS:
        return {"too_large": list(value.shape)}
    columns = [str(c)[:100] for c in value.columns]
    rows = [[encode(x, depth + 2) for x in row] for row in value.itertuples(index=False)]
    return {"table": {"columns": columns, "rows": rows}}


def _formula(value: Any, depth: int) -> Any:
    """SymPy: a number as a float, a matrix of numbers as an array, anything else as formula text."""
    sympy = sys.modules.get("sympy")
    if sympy is None or not isinstance(value, sympy.Basic | sympy.MatrixBase):
        return None
    if isinstance(value, sympy.MatrixBase):
        if all(x.is_number for x in value):
            numbers = np.array(value.evalf().tolist(), dtype=complex)
            return encode(numbers.real if not numbers.imag.any() else numbers, depth + 1)
        return {"formula": sympy.sstr(value)[:MAX_TEXT]}
    if value.is_number:
        number = complex(value.evalf())
        return _float(number.real) if number.imag == 0 else encode(number, depth + 1)
    return {"formula": sympy.sstr(value)[:MAX_TEXT]}


def decode(data: Any) -> Any:
    """The value an encoding stands for, as the grader reads answers: floats, arrays, text, tables."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if not data:
        return Opaque("object", "dict")
    tag, body = next(iter(data.items()))
    if tag == "float":
        return float(body)
    if tag == "complex":
        return complex(*[decode(x) for x in body])
    if tag == "formula":
        return str(body)
    if tag == "tuple":
        return tuple(decode(v) for v in body)
    if tag == "dict":
        return {_hashable(decode(k)): decode(v) for k, v in body}
    if tag == "array":
        return np.array([decode(x) for x in body], dtype=float).reshape(data["shape"])
    if tag == "complex_array":
        values = [complex(decode(re), decode(im)) for re, im in body]
        return np.array(values, dtype=complex).reshape(data["shape"])
    if tag == "text_array":
        return np.array(body, dtype=str).reshape(data["shape"])
    if tag == "object_array":
        array = np.empty(len(body), dtype=object)
        array[:] = [decode(x) for x in body]
        return array.reshape(data["shape"])
    if tag == "table":
        return Table(body["columns"], [[decode(x) for x in r] for r in body["rows"]])
    return Opaque(tag, body)


def _hashable(key: Any) -> Any:
    try:
        hash(key)
    except TypeError:
        return repr(key)
    return key


class Table:
    """A table as the grader reads it (a DataFrame handed in): its column names and its rows of
    decoded values, without pandas, which the grader then need not import to read one."""

    def __init__(self, columns: list[str], rows: list[list[Any]]) -> None:
        self.columns, self.rows = list(columns), rows
        self.shape = (len(rows), len(self.columns))
        self.size = self.shape[0] * self.shape[1]

    def column(self, name: str) -> list[Any]:
        """A column's values; with several columns of that name, each row's values in them (as
        a DataFrame gives them)."""
        at = [i for i, c in enumerate(self.columns) if c == name]
        if len(at) == 1:
            return [row[at[0]] for row in self.rows]
        return [[row[i] for i in at] for row in self.rows]

    def to_numpy(self) -> np.ndarray:
        """The rows as an array: of floats where every cell is a number, else of objects."""
        try:
            return np.array(self.rows, dtype=float).reshape(self.shape)
        except (TypeError, ValueError):
            array = np.empty(self.shape, dtype=object)
            for i, row in enumerate(self.rows):
                array[i, :] = row
            return array

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = self.to_numpy()
        return array if dtype is None else array.astype(dtype)

    def __repr__(self) -> str:
        return f"<table {self.columns}: {len(self.rows)} rows>"


class Opaque:
    """What the grader cannot take as an answer: a function, an object of another type, a huge value."""

    def __init__(self, tag: str, detail: Any) -> None:
        self.tag, self.detail = tag, detail

    def __repr__(self) -> str:
        return f"<{self.tag}: {self.detail}>"
