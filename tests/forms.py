"""The forms students write a right answer in, as code: one table per answer kind.

Each form is a snippet that a solution cell ends with: it takes the worked solution's answer (bound
to `_right`, a value or a function) and assigns the same answer, in that form, to the question's
name. The same snippet runs in a released notebook (graded by `autograder grade`) and in this
process (graded by `grade_answer`), so both ways in see the same forms.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from autograder.derivation.references import exercise, reference
from autograder.model.spec import Kind, Question
from autograder.release.notebooks import fill, texts

HAS_TORCH = importlib.util.find_spec("torch") is not None

# What every form snippet may use: the libraries students import, and a few conversions.
PRELUDE = '''\
import copy
import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import sympy as sp


def _nest(value, kind):
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return float(array)
    return kind(_nest(v, kind) for v in array)


def _pandas(value):
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return float(array)
    return pd.Series(array) if array.ndim == 1 else pd.DataFrame(array)


def _column(value):
    array = np.asarray(value, dtype=float)
    return array.reshape(-1, 1) if array.ndim == 1 else array


def _scalars(value):
    array = np.asarray(value, dtype=float)
    return np.float64(array) if array.ndim == 0 else list(array)


def _key(value):
    """A choice as its key text: "5,w22" for the tuple (5, "w22")."""
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return str(value)


def _spoiled(args):
    """Every array argument overwritten, as a function that works in place leaves it."""
    for arg in args:
        if isinstance(arg, np.ndarray) and arg.dtype.kind == "f":
            arg[...] = 7.0
'''


@dataclass(frozen=True)
class Form:
    """One way of writing an answer: `code` assigns it to NAME from the worked answer `_right`."""

    name: str
    code: str
    torch: bool = False


def _value(name: str, expression: str, torch: bool = False) -> Form:
    return Form(name, f"NAME = {expression}", torch)


NUMBER = [
    _value("Python float", "float(np.asarray(_right))"),
    _value("Python int where whole", "(lambda x: int(x) if x.is_integer() else x)(float(_right))"),
    _value("NumPy float64", "np.float64(_right)"),
    _value("NumPy float32", "np.float32(_right)"),
    _value("NumPy longdouble", "np.longdouble(_right)"),
    _value("Fraction", "Fraction(repr(float(_right)))"),
    _value("Decimal", "Decimal(repr(float(_right)))"),
    _value("SymPy Float", "sp.Float(repr(float(_right)))"),
    _value("SymPy Rational", "sp.Rational(repr(float(_right)))"),
    _value("0-d array", "np.array(float(_right))"),
    _value("1-element array", "np.array([float(_right)])"),
    _value("(1, 1) array", "np.array([[float(_right)]])"),
    _value("one-element list", "[float(_right)]"),
    _value("text", "repr(float(_right))"),
    _value("text with a decimal comma", "repr(float(_right)).replace('.', ',')"),
    _value("text with an exponent", "f'{float(_right):.6e}'"),
    _value("text as a fraction", "str(Fraction(repr(float(_right))).limit_denominator(10**9))"),
    _value("torch tensor", "__import__('torch').tensor(float(_right))", torch=True),
]

VECTOR = [
    _value("list", "_nest(_right, list)"),
    _value("tuple", "_nest(_right, tuple)"),
    _value("list of NumPy scalars", "_scalars(_right)"),
    _value("float32 array", "np.asarray(_right, dtype=np.float32)"),
    _value("longdouble array", "np.asarray(_right, dtype=np.longdouble)"),
    _value(
        "int array where whole",
        "(lambda a: a.astype(int) if (a == a.round()).all() else a)"
        "(np.asarray(_right, dtype=float))",
    ),
    _value("column vector", "_column(_right)"),
    _value("row vector", "np.asarray(_right, dtype=float)[None, :]"),
    _value("pandas Series", "pd.Series(np.asarray(_right, dtype=float))"),
    _value("np.matrix", "np.asmatrix(np.asarray(_right, dtype=float))"),
    _value("SymPy Matrix", "sp.Matrix(np.asarray(_right, dtype=float).tolist())"),
    _value("list of Fractions", "[Fraction(repr(float(v))) for v in np.asarray(_right)]"),
    _value("list of numerals as text", "[repr(float(v)) for v in np.asarray(_right)]"),
    _value(
        "list of decimal-comma text",
        "[repr(float(v)).replace('.', ',') for v in np.asarray(_right)]",
    ),
    _value(
        "torch tensor", "__import__('torch').tensor(np.asarray(_right, dtype=float))", torch=True
    ),
    _value(
        "torch tensor that requires grad",
        "__import__('torch').tensor(np.asarray(_right, dtype=float), requires_grad=True)",
        torch=True,
    ),
]

MATRIX = [
    _value("list of lists", "_nest(_right, list)"),
    _value("tuple of tuples", "_nest(_right, tuple)"),
    _value("list of row arrays", "list(np.asarray(_right, dtype=float))"),
    _value("float32 array", "np.asarray(_right, dtype=np.float32)"),
    _value("DataFrame", "pd.DataFrame(np.asarray(_right, dtype=float))"),
    _value("np.matrix", "np.asmatrix(np.asarray(_right, dtype=float))"),
    _value("SymPy Matrix", "sp.Matrix(np.asarray(_right, dtype=float).tolist())"),
    _value(
        "nested lists of numerals as text",
        "[[repr(float(v)) for v in row] for row in np.asarray(_right)]",
    ),
    _value(
        "torch tensor", "__import__('torch').tensor(np.asarray(_right, dtype=float))", torch=True
    ),
]

TABLE = [
    _value("DataFrame by column name", "pd.DataFrame(_right)"),
    _value(
        "DataFrame with columns in another order",
        "pd.DataFrame(_right)[list(pd.DataFrame(_right).columns)[::-1]]",
    ),
    _value(
        "DataFrame with column names spelt otherwise",
        "pd.DataFrame(_right).rename(columns=lambda c: str(c).upper().replace('_', ' '))",
    ),
    _value("list of rows", "pd.DataFrame(_right).to_numpy().tolist()"),
    _value("list of tuples", "[tuple(row) for row in pd.DataFrame(_right).to_numpy().tolist()]"),
    _value("NumPy array", "pd.DataFrame(_right).to_numpy(dtype=float)"),
    _value("dict of columns", "{c: list(v) for c, v in pd.DataFrame(_right).items()}"),
]

EXPRESSION = [
    _value("text as worked", "str(_right)"),
    _value("SymPy expression", "sp.sympify(str(_right))"),
    _value("expanded text", "sp.sstr(sp.expand(sp.sympify(str(_right))))"),
    _value("factored text", "sp.sstr(sp.factor(sp.sympify(str(_right))))"),
    _value(
        "text with ^ for powers", "sp.sstr(sp.expand(sp.sympify(str(_right)))).replace('**', '^')"
    ),
    _value("text without spaces", "str(_right).replace(' ', '')"),
]

CHOICE = [
    _value("key as worked", "_right"),
    _value("key as text", "_key(_right)"),
    _value("key in capitals with spaces", "'  ' + _key(_right).upper().replace(',', ' , ') + ' '"),
    _value(
        "key as a number or tuple where it is one",
        "(lambda k: int(k) if k.isdigit() else tuple(int(p) if p.isdigit() else p "
        "for p in k.split(',')) if ',' in k else k)(_key(_right))",
    ),
]

# point-in-set: the worked member in several forms; other members are added per question
POINT = [
    _value("list", "_nest(_right, list)"),
    _value("tuple", "_nest(_right, tuple)"),
    _value("column vector", "_column(_right)"),
    _value("list of NumPy scalars", "_scalars(_right)"),
]


def _function(name: str, body: str) -> Form:
    """A student's function that returns the worked function's result `r` as `body` says."""
    return Form(
        name,
        f"def NAME(ARGS):\n    r = copy.deepcopy(_right(ARGS))\n    {body}\n",
    )


FUNCTION = [
    _function("returns a tuple", "return _nest(r, tuple)"),
    _function("returns a list", "return _nest(r, list)"),
    _function("returns NumPy scalars (a list of them)", "return _scalars(r)"),
    _function("returns a float32 array", "return np.asarray(r, dtype=np.float32)"),
    _function(
        "returns a generator", "return (v for v in np.atleast_1d(np.asarray(r, dtype=float)))"
    ),
    _function(
        "returns a map object", "return map(lambda v: np.asarray(v).tolist(), np.atleast_1d(r))"
    ),
    _function("returns a column", "return _column(r)"),
    _function("returns a row", "return np.asarray(r, dtype=float)[None]"),
    _function("returns pandas", "return _pandas(r)"),
    _function(
        "returns a SymPy Matrix or number",
        "return sp.Matrix(np.atleast_1d(np.asarray(r, dtype=float)).tolist()) if np.ndim(r) else sp.Float(float(r))",
    ),
    _function("prints on the way", "print('debug', ARGS)\n    return r"),
    _function("overwrites its arrays afterwards", "_spoiled([ARGS])\n    return r"),
]

# a function returning several results (W_new, b_new)
PARTS = [
    _function("returns a list of lists and floats", "return [_nest(p, list) for p in r]"),
    _function(
        "returns a tuple of tuples and NumPy scalars",
        "return tuple(_nest(p, tuple) if np.ndim(p) else np.float64(p) for p in r)",
    ),
    _function(
        "returns a list of float32 arrays", "return [np.asarray(p, dtype=np.float32) for p in r]"
    ),
    _function("returns a generator of the results", "return (p for p in r)"),
    _function("prints on the way", "print('debug', ARGS)\n    return r"),
    _function("overwrites its arrays afterwards", "_spoiled([ARGS])\n    return r"),
]


# Functions as students write them from scratch: loops, math, plain lists, the lecture's numbers.
NATURAL: dict[str, list[tuple[str, str]]] = {
    "loss_functions.mse": [
        (
            "a loop over pairs",
            "def mse(y_hat, y):\n"
            "    total = 0.0\n"
            "    for p, t in zip(y_hat, y):\n"
            "        total += (p - t) ** 2\n"
            "    return total / len(y)\n",
        )
    ],
    "loss_functions.mae": [
        (
            "a generator expression",
            "def mae(y_hat, y):\n    return sum(abs(p - t) for p, t in zip(y_hat, y)) / len(y)\n",
        )
    ],
    "loss_functions.cce": [
        (
            "math.log in loops",
            "import math\n"
            "def cce(y_hat, y):\n"
            "    rows = []\n"
            "    for probs, onehot in zip(y_hat, y):\n"
            "        rows.append(-sum(t * math.log(p) for p, t in zip(probs, onehot) if t))\n"
            "    return sum(rows) / len(rows)\n",
        )
    ],
    "loss_functions.bce": [
        (
            "math.log on each pair",
            "import math\n"
            "def bce(y_hat, y):\n"
            "    terms = [t * math.log(p) + (1 - t) * math.log(1 - p) for p, t in zip(y_hat, y)]\n"
            "    return -sum(terms) / len(terms)\n",
        )
    ],
    "loss_functions.ce_int": [
        (
            "math.log of one entry",
            "import math\ndef ce_int(p, label):\n    return -math.log(p[label])\n",
        )
    ],
    "minima.grad_f": [
        ("a tuple", "def grad_f(x, y):\n    return 2 * x + y, 3 * y**2 + x\n"),
    ],
    "minima.dL1": [
        (
            "a tuple with the lecture's numbers",
            "def dL1(w1, w2):\n    r = 4 * w1 + 7 * w2 - 20\n    return (8 * r, 14 * r)\n",
        ),
        (
            "a list from the given a and c",
            "def dL1(w1, w2):\n"
            "    r = a[0] * w1 + a[1] * w2 - c\n"
            "    return [2 * r * a[0], 2 * r * a[1]]\n",
        ),
    ],
    "minima.dL2": [
        (
            "a list comprehension over b",
            "def dL2(w1, w2, w3):\n"
            "    u = b[0] * w1 + b[1] * w2 + b[2] * w3\n"
            "    return [2 * max(u, 0) * bi for bi in b]\n",
        )
    ],
    "minima.dL3": [
        (
            "math and an if",
            "import math\n"
            "def dL3(w):\n"
            "    side = 1.0 if w > math.exp(-w) else -1.0\n"
            "    return side * (1 + math.exp(-w))\n",
        )
    ],
    "gradient_descent.gradient_descent": [
        (
            "in place, a list of copies",
            "def gradient_descent(grad, w0, eta, n):\n"
            "    w = np.array(w0, dtype=float)\n"
            "    path = [w.copy()]\n"
            "    for _ in range(n):\n"
            "        w -= eta * np.asarray(grad(w))\n"
            "        path.append(w.copy())\n"
            "    return path\n",
        ),
        (
            "as for numbers, a list",
            "def gradient_descent(grad, w0, eta, n):\n"
            "    w = w0\n"
            "    ws = [w]\n"
            "    for i in range(n):\n"
            "        w = w - eta * grad(w)\n"
            "        ws.append(w)\n"
            "    return ws\n",
        ),
    ],
    "softmax_ce.softmax": [
        (
            "math.exp in a loop",
            "import math\n"
            "def softmax(z):\n"
            "    exps = [math.exp(v) for v in z]\n"
            "    total = sum(exps)\n"
            "    return [e / total for e in exps]\n",
        )
    ],
    "softmax_ce.stable_softmax": [
        (
            "math.exp shifted by the maximum, a tuple",
            "import math\n"
            "def stable_softmax(z):\n"
            "    top = max(z)\n"
            "    exps = [math.exp(v - top) for v in z]\n"
            "    return tuple(e / sum(exps) for e in exps)\n",
        )
    ],
    "backprop_chain.train": [
        (
            "math in a loop, a list",
            "import math\n"
            "def train(x, w, t, lr, n):\n"
            "    out = []\n"
            "    for _ in range(n):\n"
            "        a = 1 / (1 + math.exp(-x * w))\n"
            "        w = w - lr * 2 * (a - t) * a * (1 - a) * x\n"
            "        out.append(w)\n"
            "    return out\n",
        )
    ],
    "backprop_neuron.neuron_step": [
        (
            "in place on W, a list",
            "import math\n"
            "def neuron_step(X, W, b, target, lr):\n"
            "    Z = sum(x * w for x, w in zip(X, W)) + b\n"
            "    pred = 1 / (1 + math.exp(-Z))\n"
            "    d = 2 * (pred - target) * pred * (1 - pred)\n"
            "    for i in range(len(W)):\n"
            "        W[i] -= lr * d * X[i]\n"
            "    return [W, b - lr * d]\n",
        )
    ],
}


def forms_of(assignment: str, q: Question) -> list[Form]:
    """The forms of a question's answer (torch's only where torch is installed)."""
    found = _forms_of(assignment, q)
    return [f for f in found if HAS_TORCH or not f.torch]


def _forms_of(assignment: str, q: Question) -> list[Form]:
    qid = f"{assignment}.{q.name}"
    if q.kind is Kind.FUNCTION:
        natural = [Form(f"written by hand: {name}", code) for name, code in NATURAL.get(qid, [])]
        parts = isinstance(reference(qid).value[0], tuple)
        return [*(PARTS if parts else FUNCTION), *natural]
    if q.kind is Kind.POINT_IN_SET:
        return [*POINT, *other_members(qid)]
    if q.kind is Kind.CHOICE:
        key = reference(qid).value
        return [*CHOICE, _value("the option's label", repr(q.options[key]))]
    return {
        Kind.NUMBER: NUMBER,
        Kind.VECTOR: VECTOR,
        Kind.MATRIX: MATRIX,
        Kind.TABLE: TABLE,
        Kind.EXPRESSION: EXPRESSION,
        Kind.CHOICE: CHOICE,
    }[q.kind]


def other_members(qid: str) -> list[Form]:
    """Members of a point-in-set question's set other than the worked one: the points of the set
    nearest to a few fixed points (derived from the set's condition, not typed)."""
    from autograder.judging.compare import nearest_member

    ref = reference(qid)
    solutions = ref.target.value
    n = len(solutions.variables)
    found = []
    for i, seed in enumerate(([1.0] * n, [-2.0, *([3.0] * (n - 1))], [0.5 * k for k in range(n)])):
        member = nearest_member(np.array(seed, dtype=float), solutions)
        found.append(_value(f"another member ({i + 1})", f"np.array({member.tolist()!r})"))
    return found


def snippet(q: Question, form: Form) -> str:
    """The form's code for question `q`: the worked answer kept as `_right`, then the form."""
    code = form.code.replace("NAME", q.name).replace("ARGS", ", ".join(q.args))
    # each question keeps its own worked answer: a later cell must not change what this one uses
    return f"_right = {q.name}\n{code}".replace("_right", f"_right_{q.name}")


@cache
def worked_namespace(assignment: str) -> dict[str, Any]:
    """What a notebook's namespace holds after the setup and every worked solution has run."""
    ex = exercise(assignment)
    content = texts(ex)
    namespace: dict[str, Any] = {}
    exec(PRELUDE, namespace)
    exec(fill(content["setup"], ex.parameters), namespace)
    for q in ex.autograded:
        exec(content["solutions"][q.name], namespace)
    return namespace


def answer_in_form(assignment: str, q: Question, form: Form) -> Any:
    """The value or function the form's snippet assigns, run here as in a notebook."""
    namespace = dict(worked_namespace(assignment))
    exec(snippet(q, form), namespace)
    return namespace[q.name]
