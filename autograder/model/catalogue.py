"""The catalogue: the assignments the course has, each exercise's spec found by its name in
`exercises/`, and the ids of their questions (`minima.argmin_L1`)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from autograder.model.errors import UserError

if TYPE_CHECKING:  # a spec, and SymPy with it, is loaded only when an exercise is asked for
    from autograder.model.spec import Exercise, Question

ASSIGNMENTS = (
    "loss_functions",
    "minima",
    "gradient_descent",
    "attention_step",
    "softmax_ce",
    "backprop_chain",
    "backprop_neuron",
)


class UnknownQuestion(UserError, KeyError):
    """A question id that is not in the catalogue."""

    def __str__(self) -> str:
        return f"no question {self.args[0]!r}; ids look like 'minima.argmin_L1' (see `autograder answers`)"


class GradedByTeacher(UserError, ValueError):
    """A question the teacher grades: it has no reference and no automatic verdict."""

    def __str__(self) -> str:
        qid = self.args[0]
        return (
            f"{qid} is answered in words and graded by the teacher in nbgrader's formgrader: it "
            f"has no reference to compare with (`autograder answers {qid.partition('.')[0]}` "
            "shows its model answer)"
        )


class UnknownAssignment(UserError, KeyError):
    def __str__(self) -> str:
        return f"no assignment {self.args[0]!r}; there are: {', '.join(ASSIGNMENTS)}"


def exercise(name: str) -> Exercise:
    if name not in ASSIGNMENTS:
        raise UnknownAssignment(name)
    found: Exercise = importlib.import_module(f"exercises.{name}").EXERCISE
    return found


def exercises() -> list[Exercise]:
    return [exercise(name) for name in ASSIGNMENTS]


def locate(qid: str) -> tuple[Exercise, Question]:
    assignment, _, name = qid.partition(".")
    try:
        ex = exercise(assignment)
        return ex, ex.question(name)
    except KeyError:
        raise UnknownQuestion(qid) from None


def question_ids() -> list[str]:
    """The questions the grader marks, which `reference` and `grade_answer` take; those the teacher
    grades are left out (`locate` finds them too)."""
    return [f"{ex.name}.{q.name}" for ex in exercises() for q in ex.autograded]


def autograded(qid: str) -> tuple[Exercise, Question]:
    """The exercise and question of `qid`, which the grader marks; else why not."""
    ex, q = locate(qid)
    if q.graded_by_teacher:
        raise GradedByTeacher(qid)
    return ex, q
