"""What to run of a submission: its cells as a job for the sandbox, and the answers to report.

The locked cells come from the spec, the student's solution and own cells from the notebook; hidden
tests never leave the grader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import nbformat

from autograder.classroom.submissions import Submission, grade_id_of
from autograder.derivation.references import exercise, freeze_variant, reference, thaw_variant
from autograder.model.spec import Kind
from autograder.model.values import to_student
from autograder.release.notebooks import instructor_notebook, without_hidden_tests, without_solution
from autograder.sandbox.execution import Asked, Cell, Job


@dataclass(frozen=True)
class SpecCell:
    """A cell of the instructor notebook: its grade_id, role (locked, solution, test or text), type,
    source, the source students are given (a test cell's without its hidden tests), and nbgrader
    metadata (not to be changed: it is shared by every submission)."""

    grade_id: str
    role: str
    cell_type: str
    source: str
    released: str
    nbgrader: Mapping[str, Any]


@lru_cache(maxsize=1024)
def spec_cells(assignment: str, lang: str = "de", variant: Any = None) -> tuple[SpecCell, ...]:
    """The cells of the instructor notebook in a language, for a variant (frozen)."""
    cells = []
    for cell in instructor_notebook(assignment, lang, thaw_variant(variant)).cells:
        meta = cell.metadata["nbgrader"]
        role = "solution" if meta.get("solution") else "test" if meta.get("grade") else "locked"
        role = role if cell.cell_type == "code" else "text"
        if meta.get("solution"):  # a written answer's cell too: its model answer stays here
            released = without_solution(cell.source, cell.cell_type)
        else:
            released = without_hidden_tests(cell.source) if role == "test" else cell.source
        cells.append(SpecCell(meta["grade_id"], role, cell.cell_type, cell.source, released, meta))
    return tuple(cells)


def job(
    submission: Submission,
    notebook: nbformat.NotebookNode,
    variant: Mapping[str, Any] | None = None,
) -> Job:
    """The cells to run for a submission and the answers to report, probes included.

    The locked cells are those of the student's own variant: numbers edited in a notebook (or a
    classmate's notebook handed in) run with the numbers the student was given.
    """
    frozen = freeze_variant(variant) if variant else None
    # in the notebook's language: what its checks print is shown in the autograded notebook
    spec = spec_cells(submission.assignment, submission.lang or "de", frozen)
    ex = exercise(submission.assignment)
    questions = {q.name for q in ex.autograded}
    from_spec = {c.grade_id for c in spec if c.role in ("locked", "test", "text")}
    # the given numbers and the checks, as released: a student's edits of locked cells do not count
    cells = [Cell(c.source, grade_id=c.grade_id) for c in spec if c.role == "locked"]
    for position, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        grade_id = grade_id_of(cell)
        if grade_id in from_spec:
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        cells.append(Cell(source, grade_id if grade_id in questions else None, position))
    return Job(tuple(cells), _asked(submission.assignment, frozen))


@lru_cache(maxsize=1024)
def _asked(assignment: str, variant: Any = None) -> tuple[Asked, ...]:
    """The answers to report, the same for every submission of a variant: function probes as
    students get them."""
    asked = []
    for q in exercise(assignment).autograded:
        qid = f"{assignment}.{q.name}"
        probes = reference(qid, thaw_variant(variant)).probes if q.kind is Kind.FUNCTION else ()
        arguments = tuple(tuple(to_student(a) for a in args) for args in probes)
        asked.append(Asked(q.name, arguments or None))
    return tuple(asked)
