"""The autograded notebooks a grading run writes, read back as nbgrader's tools read them: their
outputs, the released cells restored, missing grade cells added back, and the verdicts beside the
scores nbgrader's API lists for formgrader."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import nbformat
import pytest
from committed import notebook

from autograder.classroom.jobs import spec_cells
from autograder.classroom.late import lateness, seconds_late
from autograder.derivation.references import ASSIGNMENTS, exercise
from autograder.judging import feedback
from autograder.release.assignments import nbgrader_api
from autograder.samples import answered, solution_code, submit

ASSIGNMENT = "minima"
ROOT = Path(__file__).resolve().parents[1]
AUTOGRADER = str(ROOT / ".venv" / "bin" / "autograder")
# a 1×1 PNG, as IPython's Image displays it
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def grade_id(cell: Any) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def cells_of(nb: Any, wanted: str) -> list[Any]:
    return [c for c in nb.cells if grade_id(c) == wanted]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    course = tmp_path_factory.mktemp("autograded") / "course"
    run = subprocess.run(
        [AUTOGRADER, "release", ASSIGNMENT, "--course", str(course)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    released = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    names = [q.name for q in exercise(ASSIGNMENT).questions]
    right = {n: solution_code(ASSIGNMENT, n) for n in names}
    # anna: right throughout, and her cells print, display an image, fail and show a result
    anna = answered(released, right)
    for cell in anna.cells:
        if grade_id(cell) == "grad_f_at_11":
            cell.source += (
                "\nprint('grad at (1, 1):', grad_f_at_11)"
                "\nfrom IPython.display import Image, HTML, display"
                f"\ndisplay(Image(data={PNG!r}))"
                "\ndisplay(HTML('<script>alert(1)</script>'))"
                "\nprint('x' * 20000)"
            )
        if grade_id(cell) == "grad_f":
            cell.source += "\ngrad_f(1, 1)"
    anna.cells.append(nbformat.v4.new_code_cell("1 / 0"))
    submit(course, "anna", ASSIGNMENT, anna, "2026-11-20 10:00:00.000000 UTC")
    # ben: deleted a grade cell, repeated another, edited a locked cell and a test cell
    ben = answered(released, right)
    ben.cells = [c for c in ben.cells if grade_id(c) != "grad_f_test"]
    repeated = copy.deepcopy(cells_of(ben, "dL1_test")[0])
    repeated["id"] = "repeated"
    ben.cells.insert(len(ben.cells) - 1, repeated)
    for cell in ben.cells:
        if grade_id(cell) == "setup":
            cell.source += "\nc = 99"
        if grade_id(cell) == "dL3_test":
            cell.source = "print('passed')"
    submit(course, "ben", ASSIGNMENT, ben, "2026-11-20 11:00:00.000000 UTC")
    # cleo: a file that is not a notebook
    broken = course / "submitted" / "cleo" / ASSIGNMENT
    broken.mkdir(parents=True)
    (broken / f"{ASSIGNMENT}.ipynb").write_text('{"cells": [', encoding="utf-8")
    out = course / "results.json"
    run = subprocess.run(
        [AUTOGRADER, "grade", str(course / "submitted"), "--json", str(out)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    results = {r["student"]: r for r in json.loads(out.read_text(encoding="utf-8"))}
    return {"course": course, "released": released, "results": results, "summary": run.stdout}


def autograded(course: Path, student: str) -> Any:
    path = course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return nb


def test_every_readable_submission_gets_a_valid_autograded_notebook_and_its_timestamp(
    graded: dict[str, Any],
) -> None:
    course = graded["course"]
    for student in ("anna", "ben"):
        autograded(course, student)
        stamp = course / "autograded" / student / ASSIGNMENT / "timestamp.txt"
        assert stamp.read_text(encoding="utf-8").startswith("2026-11-20 1")
    assert not (course / "autograded" / "cleo").exists()
    assert "cleo" in graded["summary"] or graded["results"]["cleo"]["errors"]
    assert graded["results"]["cleo"]["score"] == 0


def test_the_outputs_of_the_run_are_where_the_cells_are(graded: dict[str, Any]) -> None:
    nb = autograded(graded["course"], "anna")
    (cell,) = cells_of(nb, "grad_f_at_11")
    kinds = [o.output_type for o in cell.outputs]
    assert kinds[0] == "stream" and cell.outputs[0].text.startswith("grad at (1, 1): [3 4]")
    images = [o for o in cell.outputs if o.output_type == "display_data" and "image/png" in o.data]
    assert len(images) == 1 and base64.b64decode(images[0].data["image/png"]) == PNG
    # a student's HTML would run in the teacher's formgrader: only its text comes through
    shown = json.dumps([o for o in cell.outputs])
    assert "<script>" not in shown and "text/html" not in shown
    printed = "".join(o.text for o in cell.outputs if o.output_type == "stream")
    assert "more bytes of output not shown" in printed or "Bytes der Ausgabe" in printed
    assert len(printed) < 6_000
    (function_cell,) = cells_of(nb, "grad_f")
    (result,) = [o for o in function_cell.outputs if o.output_type == "execute_result"]
    assert result.data["text/plain"].startswith("array([3, 4])")
    last = nb.cells[-1]
    assert [o.output_type for o in last.outputs] == ["error"]
    assert last.outputs[0].ename == "ZeroDivisionError"
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code" and c.execution_count]
    assert counts == sorted(counts) and len(set(counts)) == len(counts)


def test_grade_cells_hold_the_verdict_and_never_the_hidden_tests(graded: dict[str, Any]) -> None:
    course = graded["course"]
    questions = exercise(ASSIGNMENT).questions
    for student in ("anna", "ben"):
        nb = autograded(course, student)
        text = json.dumps(nb)
        assert "BEGIN HIDDEN TESTS" not in text and "assert_close(grad_f" not in text
        verdicts = {q["id"].partition(".")[2]: q for q in graded["results"][student]["questions"]}
        for q in questions:
            (test,) = cells_of(nb, f"{q.name}_test")
            said = "".join(o.text for o in test.outputs)
            assert verdicts[q.name]["feedback"] in said, (student, q.name)
            assert f"{verdicts[q.name]['score']:g} von {q.points:g}" in said


def test_locked_cells_come_back_as_released_and_missing_grade_cells_are_added(
    graded: dict[str, Any],
) -> None:
    released = nbformat.read(graded["released"], as_version=4)
    source = {grade_id(c): c.source for c in released.cells}
    nb = autograded(graded["course"], "ben")
    (setup,) = cells_of(nb, "setup")
    assert setup.source == source["setup"]
    (dl3,) = cells_of(nb, "dL3_test")
    assert dl3.source == source["dL3_test"]
    # the deleted cell is back, after the cell before it in the release, with a note
    (added,) = cells_of(nb, "grad_f_test")
    ids = [grade_id(c) for c in nb.cells]
    assert ids.index("grad_f_test") == ids.index("grad_f") + 1
    assert "fehlte in der Abgabe" in added.source and source["grad_f_test"] in added.source
    # the repeated grade cell keeps no grade_id: nbgrader would count it twice
    assert ids.count("dL1_test") == 1
    assert len(nb.cells) == len(released.cells) + 1


def test_nbgraders_api_lists_the_submissions_formgrader_shows(graded: dict[str, Any]) -> None:
    course = graded["course"]
    api = nbgrader_api(course)
    listed = api.get_notebook_submissions(ASSIGNMENT, ASSIGNMENT)
    by_student = {s["student"]: s for s in listed}
    # nbgrader lists a submission only where its autograded notebook exists
    assert {"anna", "ben"} <= set(by_student)
    assert by_student["anna"]["score"] == graded["results"]["anna"]["score"]
    assert by_student["anna"]["needs_manual_grade"] is False


def test_a_regrade_writes_the_notebook_again_where_it_is_missing(graded: dict[str, Any]) -> None:
    course = graded["course"]
    path = course / "autograded" / "anna" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    path.unlink()
    run = subprocess.run(
        [AUTOGRADER, "grade", str(course / "submitted")], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert path.is_file()
    assert "1 graded already" in run.stdout  # ben's was there; cleo's cannot be read at all


class _Zero:
    """nbgrader's 'zero' method: a late submission loses all its points."""

    def late_submission_penalty(self, student_id: str, score: float, seconds: float) -> float:
        return score


class _TooMuch:
    def late_submission_penalty(self, student_id: str, score: float, seconds: float) -> float:
        return score + 100


@pytest.mark.parametrize(
    ("plugin", "score", "late", "penalty"),
    [
        (_Zero(), 12.0, 3600.0, 12.0),
        (_Zero(), 0.0, 1.0, 0.0),
        (_TooMuch(), 5.0, 10.0, 5.0),  # never more than the score, as nbgrader keeps it
        (_Zero(), 12.0, 0.0, None),  # on time: no lateness at all
    ],
)
def test_the_penalty_is_the_plugins_within_the_score(
    plugin: Any, score: float, late: float, penalty: float | None
) -> None:
    found = lateness(plugin, "anna", score, late)
    assert (found.penalty if found else None) == penalty


def test_lateness_counts_from_the_due_date_and_the_extension() -> None:
    from datetime import UTC, datetime, timedelta

    due = datetime(2026, 11, 20, 9, 0)
    handed = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
    assert seconds_late(handed, due, None) == 7200
    assert seconds_late(handed, due, timedelta(hours=1)) == 3600
    assert seconds_late(handed, due, timedelta(hours=3)) == 0
    assert seconds_late(handed, None, None) == 0


WORDS = "loss_functions"  # an assignment with questions answered in words, graded by the teacher


def test_a_released_solution_cell_is_what_nbgraders_release_gives_students() -> None:
    """What an autograded notebook restores of a solution cell (a written answer's included) is
    the source nbgrader's generate_assignment released, never the model answer."""
    for assignment in ASSIGNMENTS:
        released = nbformat.read(notebook("release", assignment), as_version=4)
        source = {grade_id(c): c.source for c in released.cells}
        solutions = [c for c in spec_cells(assignment, "de") if c.nbgrader.get("solution")]
        assert solutions, assignment
        for cell in solutions:
            assert cell.released == source[cell.grade_id], (assignment, cell.grade_id)
            assert cell.released != cell.source


@pytest.fixture(scope="module")
def in_words(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """dora answers one question in words and deletes another's cell; the rest is right."""
    course = tmp_path_factory.mktemp("in_words") / "course"
    run = subprocess.run(
        [AUTOGRADER, "release", WORDS, "--course", str(course)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    ex = exercise(WORDS)
    written = [q.name for q in ex.questions if q.graded_by_teacher]
    released = course / "release" / WORDS / f"{WORDS}.ipynb"
    dora = answered(released, {q.name: solution_code(WORDS, q.name) for q in ex.autograded})
    for cell in dora.cells:
        if grade_id(cell) == written[0]:
            cell.source = "Weil ln p für Wahrscheinlichkeiten nie positiv ist."
    dora.cells = [c for c in dora.cells if grade_id(c) != written[1]]
    submit(course, "dora", WORDS, dora, "2026-11-20 10:00:00.000000 UTC")
    out = course / "results.json"
    run = subprocess.run(
        [AUTOGRADER, "grade", str(course / "submitted"), "--json", str(out)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    (result,) = json.loads(out.read_text(encoding="utf-8"))
    path = course / "autograded" / "dora" / WORDS / f"{WORDS}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return {
        "course": course,
        "nb": nb,
        "written": written,
        "summary": run.stdout,
        "result": result,
    }


def test_answers_in_words_reach_formgrader_as_nbgrader_grades_them_by_hand(
    in_words: dict[str, Any],
) -> None:
    nb, (first, deleted, *_) = in_words["nb"], in_words["written"]
    points = {q.name: q.points for q in exercise(WORDS).questions}
    (kept,) = cells_of(nb, first)
    assert kept.cell_type == "markdown" and "nie positiv" in kept.source
    meta = kept.metadata["nbgrader"]
    assert meta["grade"] and meta["solution"] and meta["points"] == points[first]
    (added,) = cells_of(nb, deleted)
    assert added.cell_type == "markdown" and "YOUR ANSWER HERE" in added.source
    assert "fehlte in der Abgabe" in added.source
    # the model answers and rubrics stay in the instructor's notebook
    text = json.dumps(nb, ensure_ascii=False)
    teacher = feedback.exercise_texts(WORDS)
    for part in ("model_answers", "rubrics"):
        for name in in_words["written"]:
            words = teacher[part][name]["de"].strip()
            assert words[:60] not in text, (part, name)
    listed = nbgrader_api(in_words["course"]).get_notebook_submissions(WORDS, WORDS)
    (dora,) = listed
    assert dora["needs_manual_grade"] is True
    assert "Lehrkraft" in in_words["summary"] or "formgrader" in in_words["summary"]


def test_the_feedback_page_shows_what_the_teacher_gave_by_hand(in_words: dict[str, Any]) -> None:
    """The teacher grades in formgrader (through nbgrader's API, as formgrader saves); then
    `autograder feedback` writes the page again from the kept result, with those scores."""
    from nbgrader.api import Gradebook

    course, (first, *_) = in_words["course"], in_words["written"]
    kept = json.loads((course / ".autograder" / "results" / WORDS / "dora.json").read_text())
    assert {k: kept[k] for k in in_words["result"]} == in_words["result"]
    page = course / "reports" / "feedback" / "dora" / WORDS / f"{WORDS}.html"
    before = page.read_text(encoding="utf-8")
    assert "von der Lehrkraft bewertet" not in before
    auto = in_words["result"]["score"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade(first, WORDS, WORDS, "dora")
        grade.manual_score, grade.needs_manual_grade = 1.5, False
        comment = gradebook.find_comment(first, WORDS, WORDS, "dora")
        comment.manual_comment = "Gut begründet; das Vorzeichen von ln p fehlt."
        overridden = gradebook.find_grade("mse_test", WORDS, WORDS, "dora")
        overridden.manual_score = 1.0
        gradebook.db.commit()
    run = subprocess.run(
        [AUTOGRADER, "feedback", "--course", str(course)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "1 feedback pages" in run.stdout and "1 with the teacher's" in run.stdout
    after = page.read_text(encoding="utf-8")
    assert "1.5 / 2 <small>(von der Lehrkraft bewertet)" in after
    assert "das Vorzeichen von ln p fehlt" in after
    assert "1 / 2 <small>(von der Lehrkraft bewertet)" in after  # mse: 2 by the grader, 1 now
    assert f"<strong>{auto - 2 + 1 + 1.5:g} / " in after
