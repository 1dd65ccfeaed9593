"""What the hostile corpus is built from: a case, the right notebook it changes, the bounds.

Every case starts from the released `attention_step` notebook answered with the worked solutions
(10 points: z_hat 1, loss 1, grad 2, w_new 2, table 3, slide_error 1) and changes one thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from autograder import demo
from autograder.samples import answered

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "attention_step"
POINTS = {"z_hat": 1.0, "loss": 1.0, "grad": 2.0, "w_new": 2.0, "table": 3.0, "slide_error": 1.0}
WHEN = "2026-11-20 10:00:00.000000 UTC"
# a wrong but well-formed answer to slide_error: the attacks assign it besides their trick
WRONG_OPTION = 'slide_error = "0,z_hat"'
# the bounds the corpus is graded with (small, so that the runaways cost seconds)
BOUNDS = [
    "--wall-seconds",
    "12",
    "--cell-seconds",
    "3",
    "--cpu-seconds",
    "12",
    "--memory-mb",
    "1024",
]


@dataclass(frozen=True)
class Case:
    name: str
    group: str
    what: str
    # the notebook (or the file's bytes) from the right one
    build: Callable[[nbformat.NotebookNode], nbformat.NotebookNode | bytes]
    # points that differ from full marks; None: the whole submission is refused (0 for all)
    points: dict[str, float] | None = field(default_factory=dict)
    # a phrase that the feedback of some question or the submission's errors contains; a runaway
    # that meets one of several bounds first, as the machine's load has it (the time a submission
    # waits for a core does not count towards its wall bounds), names them with " | " between
    says: str = ""
    # files beside the submissions (a stray notebook, a link, another tree), given `submitted/`
    place: Callable[[Path], None] | None = None

    def expected(self) -> dict[str, float]:
        if self.points is None:
            return dict.fromkeys(POINTS, 0.0)
        return {**POINTS, **self.points}


def right_notebook() -> nbformat.NotebookNode:
    released = ROOT / "release" / "de" / f"{ASSIGNMENT}.ipynb"
    return answered(released, demo.answers(ASSIGNMENT, "anna"))


def in_cell(name: str, code: str) -> Callable[[nbformat.NotebookNode], nbformat.NotebookNode]:
    """Replace the solution cell of question `name` by `code`."""

    def build(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == name:
                cell.source = code
        return nb

    return build


def last(code: str) -> Callable[[nbformat.NotebookNode], nbformat.NotebookNode]:
    """The attack in the last solution cell, with a wrong slide_error besides."""
    return in_cell("slide_error", f"{code}\n{WRONG_OPTION}")


def cells_where(test: Callable[[Any], bool], change: Callable[[Any], Any]) -> Callable[..., Any]:
    def build(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        nb.cells = [change(c) if test(c) else c for c in nb.cells]
        nb.cells = [c for c in nb.cells if c is not None]
        return nb

    return build


def grade_id(cell: Any) -> str | None:
    found = cell.metadata.get("nbgrader", {}).get("grade_id")
    return found if isinstance(found, str) else None


WRONG = {"slide_error": 0.0}
