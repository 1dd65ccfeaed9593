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
import pandas as pd
import sympy as sp

from autograder.derivation.references import Target, exercise, locate, next_entry, reference, steps
from autograder.model.spec import Kind, Question
from autograder.model.values import Rule, SolutionSet, to_student
from autograder.release.notebooks import texts


def solution_code(assignment: str, name: str) -> str:
    """The teacher's worked solution of one question (what the instructor notebook holds)."""
    return str(texts(exercise(assignment))["solutions"][name]).rstrip()


def answer_for(q: Question, t: Target) -> Any:
    """What a student would assign to reach this target (a value, a DataFrame, a def, a formula)."""
    value = t.value
    if isinstance(value, SolutionSet):
        return to_student(value.member)
    if q.kind is Kind.FUNCTION:
        rule: Rule = t.exact
        return rule.numeric()
    if q.kind is Kind.TABLE:
        return pd.DataFrame(value, columns=list(q.columns))
    if q.kind is Kind.EXPRESSION:
        return sp.sstr(value)
    if q.kind is Kind.CHOICE:
        return sorted(value)[0] if isinstance(value, frozenset) else value
    return value.tolist()


def value_code(q: Question, t: Target) -> str:
    """A cell that assigns `answer_for(q, t)` to the question's name, written as a student would."""
    if q.kind is Kind.FUNCTION:
        raise ValueError(f"{q.name} is a function question: its answer is code, see solution_code")
    value = answer_for(q, t)
    if isinstance(value, pd.DataFrame):
        rows = value.to_numpy(dtype=float).tolist()
        return (
            f"import pandas as pd\n{q.name} = pd.DataFrame({rows}, columns={list(value.columns)!r})"
        )
    if isinstance(value, str):
        return f"{q.name} = {value!r}"
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return f"{q.name} = {float(array)!r}"
    return f"{q.name} = np.array({array.tolist()})"


def carried_forward(qid: str, slip_at: int = 0, by: float = 0.5) -> np.ndarray:
    """A trajectory with entry `slip_at` off by `by`, and every later entry rightly computed from it.

    In a row of a table, the slip is in its middle cell (a weight, not the iteration's number).
    """
    ex, q = locate(qid)
    entries = [np.asarray(e, dtype=float) for e in np.asarray(reference(qid).value, dtype=float)]
    rule = steps(ex.name)[q.name]
    slipped = entries[slip_at].copy()
    slipped.flat[slipped.size // 2] += by
    entries[slip_at] = slipped
    for k in range(slip_at + 1, len(entries)):
        follows = next_entry(rule, np.array(entries[:k]))
        assert follows is not None, f"{qid}: the rule does not go on from entry {k - 1}"
        entries[k] = follows.reshape(entries[k].shape)
    return np.array(entries)


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
