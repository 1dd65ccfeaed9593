"""The student's answer as the grader read it, shown back to the student: rounded, cut short, and
for a function its outputs on the grader's first probe beside the input (never a reference)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from autograder.derivation.references import reference
from autograder.judging.verdict import Outputs
from autograder.model.spec import Kind, Question
from autograder.model.values import Gradient, to_student
from autograder.sandbox.plain import Table

# shown with this many significant digits, and cut at this many characters
DIGITS = 4
LONGEST = 160


def answer_read(
    qid: str,
    q: Question,
    value: Any,
    outputs: Sequence[tuple[str, Any]] | None,
    variant: Mapping[str, Any] | None = None,
) -> str | None:
    """What a run reported for question `q`, as shown back: a function by its outputs."""
    if q.kind is not Kind.FUNCTION:
        return read_back(value)
    if outputs is None:
        return None
    return read_back(Outputs(tuple(outputs)), reference(qid, variant).probes, q.name)


def read_back(value: Any, probes: Sequence[tuple[Any, ...]] = (), name: str = "") -> str:
    """`value` as a student reads it: `[0.09003, 0.2447, 0.6652]`; a function's outputs as
    `grad_f(1, 1) → [3, 4]` on the first probe."""
    if isinstance(value, Outputs):
        if not value.results:
            return "…"
        how, result = value.results[0]
        args = _shown(tuple(to_student(a) for a in probes[0])) if probes else "(…)"
        returned = _shown(result) if how == "result" else str(result)
        return _cut(f"{name}{args} → {returned}")
    return _cut(_shown(value))


def _shown(value: Any) -> str:
    if isinstance(value, bool | np.bool_) or value is None:
        return str(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return _number(value) if isinstance(value, float | np.floating) else str(value)
    if isinstance(value, np.ndarray):
        rounded = {"float_kind": _number, "complex_kind": _number}
        return np.array2string(value, separator=", ", threshold=20, formatter=rounded)  # type: ignore[arg-type]
    if isinstance(value, tuple):
        return "(" + ", ".join(_shown(v) for v in value) + ")"
    if isinstance(value, list):
        return (
            "["
            + ", ".join(_shown(v) for v in value[:20])
            + (", …" if len(value) > 20 else "")
            + "]"
        )
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{_shown(k)}: {_shown(v)}" for k, v in list(value.items())[:20]) + "}"
        )
    if isinstance(value, Gradient):  # a gradient the grader hands in, by the loss it differentiates
        return f"∇({value.loss})"
    columns: Any = getattr(value, "columns", None)  # a table: its columns and first rows
    if isinstance(value, Table):
        rows = value.rows[:5]
    elif columns is not None:  # a DataFrame
        rows = list(itertools.islice(value.itertuples(index=False), 5))
    else:
        return repr(value) if isinstance(value, str) else str(value)
    shown = (", ".join(_shown(x) for x in row) for row in rows)
    return f"[{', '.join(map(str, columns))}] " + "; ".join(shown)


def _number(x: Any) -> str:
    return f"{x:.{DIGITS}g}"


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LONGEST else text[: LONGEST - 1] + "…"
