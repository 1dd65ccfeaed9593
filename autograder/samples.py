"""Sample submissions: released notebooks with answers written into their solution cells as code,
the way students write them (NumPy arrays, DataFrames, formulas as text, their own functions).

The answers come from the derivations (the reference, a named mistake, a trajectory with one slip),
so that the demo and the tests know what every sample must score.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import sympy as sp

from autograder.notebooks import texts
from autograder.references import Target, exercise, locate, steps
from autograder.spec import Kind, Question
from autograder.values import SolutionSet, numeric


def solution_code(assignment: str, name: str) -> str:
    """The teacher's worked solution of one question (what the instructor notebook holds)."""
    return str(texts(exercise(assignment))["solutions"][name]).rstrip()


def value_code(q: Question, t: Target) -> str:
    """A cell that assigns the target's value to the question's name, as a student would."""
    value = t.value
    if isinstance(value, SolutionSet):
        return f"{q.name} = np.array({_floats(numeric(value.member))})"
    if q.kind is Kind.TABLE:
        rows = _floats(np.asarray(value, dtype=float))
        return f"import pandas as pd\n{q.name} = pd.DataFrame({rows}, columns={list(q.columns)!r})"
    if q.kind is Kind.EXPRESSION:
        return f"{q.name} = {sp.sstr(value)!r}"
    if q.kind is Kind.CHOICE:
        chosen = sorted(value)[0] if isinstance(value, frozenset) else value
        return f"{q.name} = {chosen!r}"
    if q.kind is Kind.FUNCTION:
        raise ValueError(f"{q.name} is a function question: its answer is code, see solution_code")
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return f"{q.name} = {float(array)!r}"
    return f"{q.name} = np.array({_floats(array)})"


def _floats(array: np.ndarray) -> Any:
    return np.asarray(array, dtype=float).tolist()


def carried_forward(qid: str, slip_at: int = 0, by: float = 0.5) -> np.ndarray:
    """A trajectory with entry `slip_at` off by `by`, and every later entry rightly computed from it.

    In a row of a table, the slip is in its middle cell (a weight, not the iteration's number).
    """
    ex, q = locate(qid)
    from autograder.references import reference

    entries = [np.asarray(e, dtype=float) for e in np.asarray(reference(qid).value, dtype=float)]
    follow = steps(ex.name)[q.name]
    slipped = entries[slip_at].copy()
    slipped.flat[slipped.size // 2] += by
    entries[slip_at] = slipped
    for k in range(slip_at + 1, len(entries)):
        previous = [_exact(e) for e in entries[:k]]
        entries[k] = np.asarray(numeric(follow(previous)), dtype=float).reshape(entries[k].shape)
    return np.array(entries)


def _exact(entry: np.ndarray) -> Any:
    if entry.ndim == 0:
        return sp.Float(float(entry), 17)
    return [sp.Float(float(x), 17) for x in entry]


def answered(released: Path, answers: Mapping[str, str]) -> nbformat.NotebookNode:
    """The released notebook with `answers` (question name → code) in their solution cells."""
    notebook = nbformat.read(released, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers and cell.metadata["nbgrader"].get("solution"):
            cell.source = answers[grade_id]
    return notebook


def submit(
    course: Path, student: str, assignment: str, notebook: nbformat.NotebookNode, when: str
) -> Path:
    """Put a notebook where nbgrader's collect puts it: submitted/STUDENT/ASSIGNMENT/, with timestamp."""
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{assignment}.ipynb"
    nbformat.write(notebook, path)
    (folder / "timestamp.txt").write_text(when + "\n", encoding="utf-8")
    return path
