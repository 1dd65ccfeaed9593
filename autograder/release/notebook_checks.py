"""The checks a released notebook carries: form checks for the student, comparisons for hidden tests.

This module's source is copied into every notebook, below a `MESSAGES` dict in the notebook's
language; it needs only NumPy, and it never holds a reference value.
"""

import math

import numpy as np

MESSAGES: dict = {}


def _say(key, **details):
    print(MESSAGES[key].format(**details))


def _number(text):
    """A numeral written as text, as the grader reads it: 0.25, 1/4, 2.5e-1, 0,25."""
    compact = "".join(str(text).split()).replace("−", "-").replace(",", ".")
    parts = compact.split("/")
    if len(parts) > 2 or "_" in compact:
        raise TypeError("text")
    values = [float(part) for part in parts]
    if len(values) == 1:
        return values[0]
    return values[0] / values[1] if values[1] else math.nan


def _numbers(value):
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if isinstance(value, str):
        return _number(value)
    if isinstance(value, list | tuple):
        return [_numbers(item) for item in value]
    return value


def _array(value):
    if isinstance(value, bool | dict) or value is None:
        raise TypeError(type(value).__name__)
    array = np.asarray(_numbers(value), dtype=float)
    if not np.all(np.isfinite(array)):
        raise ValueError("not finite")
    return array


def _fits(shape, expected):
    size = int(np.prod(expected)) if expected else 1
    squeeze = [n for n in shape if n != 1]
    return shape == tuple(expected) or (
        int(np.prod(shape)) == size and squeeze == [n for n in expected if n != 1]
    )


def check(name, kind, shape=None, args=None, options=None):
    """Says whether the answer named `name` has the form asked for, never whether it is right;
    returns nothing, so that the cell shows the line it printed and no value beneath it."""
    namespace = globals()
    if name not in namespace or namespace[name] is None:
        _say("missing", name=name)
        return
    value = namespace[name]
    try:
        if kind == "function":
            ok = callable(value) and _takes(value, len(args))
            if not ok:
                _say("not_function", name=name, args=", ".join(args))
                return
        elif kind == "expression":
            if not isinstance(value, str) and type(value).__module__.split(".")[0] != "sympy":
                _say("not_formula", name=name)
                return
        elif kind == "choice":
            if not isinstance(value, str | int | tuple | list):
                _say("not_option", name=name)
                return
        elif kind == "table":
            rows = value.to_numpy() if hasattr(value, "to_numpy") else value
            if not _fits(np.shape(_array(rows)), shape):
                _say("shape", name=name, expected=tuple(shape), got=np.shape(rows))
                return
        else:
            array = _array(value)
            if not _fits(array.shape, shape):
                _say("shape", name=name, expected=tuple(shape), got=array.shape)
                return
    except (TypeError, ValueError) as problem:
        _say("not_numbers", name=name, problem=problem)
        return
    _say("form_ok", name=name)


def _takes(function, count):
    import inspect

    try:
        inspect.signature(function).bind(*range(count))
    except (TypeError, ValueError):
        return False
    return True


def assert_close(value, expected, rtol=1e-3, atol=1e-6):
    """The hidden tests' rule: |a − r| ≤ atol + rtol·|r| element by element, with the shape asked for."""
    got = _array(value.to_numpy() if hasattr(value, "to_numpy") else value)
    want = np.asarray(expected, dtype=float)
    assert _fits(got.shape, want.shape), "shape"
    got = got.reshape(want.shape)
    assert np.all(np.abs(got - want) <= atol + rtol * np.abs(want)), "value"


def assert_in_halfspaces(value, normals, offsets, equal, rtol=1e-3, atol=1e-6):
    """A point of {w : n·w + c = 0 (or ≤ 0)}: within the tolerance box of the answer."""
    point = _array(value).reshape(-1)
    slack = atol + rtol * np.abs(point)
    for normal, offset, is_equal in zip(normals, offsets, equal, strict=True):
        g = float(np.dot(normal, point) + offset)
        reach = float(np.dot(np.abs(normal), slack))
        assert abs(g) <= reach if is_equal else g <= reach, "condition"


def assert_option(value, accepted):
    """One of the accepted keys (an option's key or label; "5, w22" is the tuple (5, "w22"))."""
    parts = value if isinstance(value, tuple | list) else [value]
    text = ",".join(
        str(int(p)) if isinstance(p, float) and p.is_integer() else str(p) for p in parts
    )
    assert ",".join(p.strip() for p in text.lower().split(",")) in accepted, "option"


def assert_formula(text, expected, variables, points, rtol=1e-3, atol=1e-6):
    """The same values at the given points; the formula is read by SymPy (instructor side only)."""
    import sympy

    names = {v: sympy.Symbol(v) for v in variables}
    formula = sympy.sympify(str(text).replace("^", "**"), locals=names)
    for point, want in zip(points, expected, strict=True):
        got = float(formula.subs({names[v]: x for v, x in zip(variables, point, strict=True)}))
        assert math.isfinite(got) and abs(got - want) <= atol + rtol * abs(want), "value"
