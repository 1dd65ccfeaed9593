"""Every right answer is right in every form students write it, for every question of the
catalogue: through `grade_answer`, and through released notebooks graded by `autograder grade`.

The forms are the tables of `forms.py`; what is not an answer stays invalid with a message that
says what was given and what is asked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from committed import notebook
from forms import PRELUDE, Form, answer_in_form, forms_of, snippet

from autograder import grade_answer
from autograder.derivation.references import ASSIGNMENTS, exercise
from autograder.judging import feedback
from autograder.judging.grading import asked
from autograder.model.spec import Kind, Question
from autograder.samples import answered, solution_code, submit

ROOT = Path(__file__).resolve().parents[1]
WHEN = "2026-11-20 10:00:00.000000 UTC"

ROWS = [
    pytest.param(assignment, q, form, id=f"{assignment}.{q.name}: {form.name}")
    for assignment in ASSIGNMENTS
    for q in exercise(assignment).autograded
    for form in forms_of(assignment, q)
]


@pytest.mark.parametrize(("assignment", "q", "form"), ROWS)
def test_every_right_form_is_right(assignment: str, q: Question, form: Form) -> None:
    answer = answer_in_form(assignment, q, form)
    verdict = grade_answer(f"{assignment}.{q.name}", answer, lang="de")
    assert (verdict.status, verdict.score) == ("correct", 1.0), verdict.feedback


def test_every_question_has_its_forms_table() -> None:
    for assignment in ASSIGNMENTS:
        for q in exercise(assignment).autograded:
            assert len(forms_of(assignment, q)) >= 3, f"{assignment}.{q.name}"


# --- through released notebooks -------------------------------------------------------------


def form_notebooks(assignment: str) -> list[dict[str, str]]:
    """Notebook k answers every question in its k-th form (the worked solution where a question
    has fewer). Each cell first sets the earlier answers back to the worked ones, so that a later
    solution computes from numbers and functions as worked, not from an earlier answer's text or
    generator."""
    ex = exercise(assignment)
    tables = {q.name: forms_of(assignment, q) for q in ex.autograded}
    notebooks = []
    for k in range(max(len(t) for t in tables.values())):
        cells: dict[str, str] = {}
        restore: list[str] = []
        for i, q in enumerate(ex.autograded):
            head = [PRELUDE] if i == 0 else []
            parts = [*head, *restore, solution_code(assignment, q.name)]
            if k < len(tables[q.name]):
                parts.append(snippet(q, tables[q.name][k]))
                restore.append(f"{q.name} = _right_{q.name}")
            cells[q.name] = "\n".join(parts)
        notebooks.append(cells)
    return notebooks


@pytest.fixture(scope="module")
def graded_forms(tmp_path_factory: pytest.TempPathFactory, under_test: list[str]) -> dict[str, Any]:
    course = tmp_path_factory.mktemp("forms")
    for assignment in under_test:
        released = notebook("release", assignment)
        for k, cells in enumerate(form_notebooks(assignment)):
            submit(course, f"form{k:02d}", assignment, answered(released, cells), WHEN)
    out = course / "results.json"
    exe = Path(sys.executable).with_name("autograder")
    run = subprocess.run(
        [str(exe), "grade", str(course / "submitted"), "--json", str(out), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return {"stderr": run.stderr, "results": json.loads(out.read_text(encoding="utf-8"))}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_form_is_right_through_a_graded_notebook(
    graded_forms: dict[str, Any], assignment: str
) -> None:
    tables = {q.name: forms_of(assignment, q) for q in exercise(assignment).autograded}
    results = [r for r in graded_forms["results"] if r["assignment"] == assignment]
    assert len(results) == max(len(t) for t in tables.values())
    for result in results:
        k = int(result["student"].removeprefix("form"))
        for question in result["questions"]:
            name = question["id"].partition(".")[2]
            form = tables[name][k].name if k < len(tables[name]) else "worked solution"
            where = (question["id"], form, question["feedback"], result["errors"])
            assert question["score"] == question["max_score"], where


@pytest.mark.slow
def test_no_form_is_a_grader_fault(graded_forms: dict[str, Any]) -> None:
    assert "failed" not in graded_forms["stderr"] and "Traceback" not in graded_forms["stderr"]
    for result in graded_forms["results"]:
        assert all(q["error"] != "grader_error" for q in result["questions"])


# --- what is not an answer ------------------------------------------------------------------

# (kinds it applies to, the answer, the form problem, a word the message must contain (de))
NOT_ANSWERS: list[tuple[tuple[Kind, ...], Any, str, str]] = [
    ((Kind.NUMBER, Kind.VECTOR, Kind.MATRIX, Kind.POINT_IN_SET), "vier", "text", "vier"),
    ((Kind.NUMBER, Kind.VECTOR, Kind.MATRIX, Kind.POINT_IN_SET), {"x": 1.0}, "not_numbers", "dict"),
    (
        (Kind.NUMBER, Kind.VECTOR, Kind.MATRIX, Kind.POINT_IN_SET),
        lambda: 1.0,
        "not_numbers",
        "function",
    ),
    ((Kind.VECTOR, Kind.MATRIX, Kind.POINT_IN_SET), [[1.0, 2.0], [3.0]], "ragged", "ungleichmäßig"),
    ((Kind.FUNCTION,), 3.0, "not_callable", "Funktion"),
    ((Kind.EXPRESSION,), {"w1": 1}, "not_formula", "dict"),
    ((Kind.TABLE,), "Tabelle", "text", "Tabelle"),
]


def _not_answer_rows() -> list[Any]:
    rows = []
    for assignment in ASSIGNMENTS:
        for q in exercise(assignment).autograded:
            for kinds, answer, key, word in NOT_ANSWERS:
                if q.kind in kinds:
                    rows.append(
                        pytest.param(
                            f"{assignment}.{q.name}", q, answer, key, word, id=f"{q.name}: {key}"
                        )
                    )
    return rows


@pytest.mark.parametrize(("qid", "q", "answer", "key", "word"), _not_answer_rows())
def test_what_is_not_an_answer_is_invalid_and_says_what_is_asked(
    qid: str, q: Question, answer: Any, key: str, word: str
) -> None:
    verdict = grade_answer(qid, answer, lang="de")
    assert (verdict.status, verdict.error, verdict.score) == ("invalid", key, 0.0)
    assert word in verdict.feedback
    if key not in ("not_formula",):
        assert asked(q, "de") in verdict.feedback


# Functions whose results are not what is asked: named with the input they were called on.
BAD_FUNCTIONS: list[tuple[str, Any, str]] = [
    ("returns None", lambda *args: None, "returned_none"),
    ("returns None for the second probe only", None, "returned_none"),
    ("returns a dict", lambda *args: {"gradient": 1.0}, "not_numbers"),
    ("returns text that is no numeral", lambda *args: "Gradient", "text"),
    ("raises", lambda *args: 1 / 0, "raised"),
    ("returns a ragged list", lambda *args: [[1.0, 2.0], [3.0]], "ragged"),
]


def _second_only(function: Any) -> Any:
    calls = []

    def student(*args: Any) -> Any:
        calls.append(1)
        return None if len(calls) == 2 else function(*args)

    return student


@pytest.mark.parametrize(
    ("note", "function", "key"), BAD_FUNCTIONS, ids=[b[0] for b in BAD_FUNCTIONS]
)
def test_a_function_with_results_of_no_form_is_invalid_with_the_input(
    note: str, function: Any, key: str
) -> None:
    q = exercise("minima").question("dL1")
    if function is None:
        function = _second_only(answer_in_form("minima", q, forms_of("minima", q)[0]))
    verdict = grade_answer("minima.dL1", function, lang="de")
    assert (verdict.status, verdict.error) == ("invalid", key), verdict.feedback
    assert "Eingabe (" in verdict.feedback and asked(q, "de") in verdict.feedback


def test_a_function_asked_for_two_results_that_returns_one_says_so() -> None:
    verdict = grade_answer("backprop_neuron.neuron_step", lambda *args: 0.5, lang="en")
    assert (verdict.status, verdict.error) == ("invalid", "parts")
    assert feedback.message("form", "parts", "en", expected=2, got=1) in verdict.feedback


def test_a_function_that_returns_a_result_and_more_is_told_to_return_one() -> None:
    verdict = grade_answer("minima.dL1", lambda w1, w2: (np.array([w1, w2]), 3.0), lang="en")
    assert (verdict.status, verdict.error) == ("invalid", "one_result")
