"""Copy detection: an answer that is wrong for a student's own variant but right for a classmate's.

With per-student numbers a copied answer scores nothing anyway; this names whose numbers it was,
for the teacher (the results, the JSON, the class summary), without changing a score.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autograder.derivation.lambdified import holds
from autograder.judging.grading import is_right
from autograder.model.spec import Kind, Question

# Answers that are numbers of the student's task; a function or a formula is the same for all.
COPYABLE = (Kind.NUMBER, Kind.VECTOR, Kind.MATRIX, Kind.TABLE, Kind.POINT_IN_SET)

Variant = Mapping[str, Any]


def whose_numbers(
    qid: str, q: Question, answer: Any, own: str, classmates: Mapping[str, Variant]
) -> str | None:
    """The classmate (other than `own`) for whose variant `answer` is right; None if there is none.

    Called only for an answer that is wrong for the student's own variant. Classmates are tried in
    the order of their ids, so the same class gives the same report on every run. Only questions
    whose references a formula gives are compared: a class of hundreds would otherwise mean
    hundreds of exact derivations per wrong answer.
    """
    assignment, _, name = qid.partition(".")
    if q.kind not in COPYABLE or answer is None or not holds(assignment, name):
        return None
    for student in sorted(classmates):
        if student != own and is_right(qid, answer, classmates[student]):
            return student
    return None
