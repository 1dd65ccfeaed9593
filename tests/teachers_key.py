"""What of a notebook only the teacher may read: every line of the model answers and rubrics of an
assignment's questions answered in words, in one language, with a variant's numbers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autograder.derivation.references import exercise
from autograder.release.notebooks import MANUAL_PARTS
from autograder.reports.key import teachers_text

# the assignments that have questions answered in words
WRITTEN = ("loss_functions", "gradient_descent", "backprop_chain")


def teachers_lines(
    assignment: str, lang: str, variant: Mapping[str, Any] | None = None
) -> list[str]:
    ex = exercise(assignment)
    return [
        line.strip()
        for q in ex.questions
        if q.graded_by_teacher
        for part in MANUAL_PARTS
        for line in teachers_text(ex, q, part, variant)[lang].splitlines()
        if line.strip()
    ]
