"""A course graded by `autograder grade`, reviewed in nbgrader's formgrader in a real browser.

A teacher opens the student's submission from Manage Submissions and sees, for every question,
the auto score in its score box and the grader's comment in its comment box; the answer written
in words waits for a score. The teacher grades it and overrides an auto score; both survive a
reload, are in nbgrader's gradebook, in `nbgrader export` and in `autograder export`, and survive
the regrade of a resubmission, until `autograder grade --force` grades anew.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from nbgrader.api import Gradebook

from autograder.derivation.references import exercise
from autograder.samples import answered, solution_code, submit

if TYPE_CHECKING:
    from browser import Teacher

pytest_plugins = ("browser",)
pytestmark = pytest.mark.slow

ASSIGNMENT = "loss_functions"
STUDENT = "anna"
WHEN, AGAIN = "2026-11-20 10:00:00.000000 UTC", "2026-11-21 09:30:00.000000 UTC"
ANSWERED = ("mse", "cce", "bce_zero")  # right; every other question as released
OVERRIDDEN = "mae_test"  # unanswered, 0 of 2 by its tests; the teacher gives 1
WRITTEN = "why_minus"  # answered in words; the teacher gives 1.5 of 2
WORDS = "Ohne das Minus wäre der Loss nie positiv: ln p ist für Wahrscheinlichkeiten höchstens 0."


def command(name: str, *args: str, cwd: Path | None = None) -> str:
    """A command of the environment (`autograder`, `nbgrader`); its output is shown if it fails."""
    exe = Path(sys.executable).with_name(name)
    done = subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.fail(f"{name} {' '.join(args)} exited with {done.returncode}:\n{done.stderr}")
    return done.stdout


def hand_in(course: Path, when: str) -> None:
    released = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook = answered(released, {name: solution_code(ASSIGNMENT, name) for name in ANSWERED})
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == WRITTEN:
            cell.source = WORDS
    submit(course, STUDENT, ASSIGNMENT, notebook, when)


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A course released by `autograder release`, one student's submission graded by ours."""
    course = tmp_path / "course"
    notebooks = tmp_path / "notebooks"
    command("autograder", "release", ASSIGNMENT, "--course", str(course), "--out", str(notebooks))
    hand_in(course, WHEN)
    command("autograder", "grade", str(course / "submitted"))
    return course


def recorded(course: Path) -> dict[str, tuple[float | None, float | None]]:
    """Each grade's auto and manual score, and the total (as `total`), by nbgrader's API."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, STUDENT)
        found: dict[str, tuple[float | None, float | None]] = {
            g.name: (g.auto_score, g.manual_score) for nb in submission.notebooks for g in nb.grades
        }
        found["total"] = (submission.score, None)
        return found


def auto_comment(course: Path, question: str) -> str:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return str(gradebook.find_comment(question, ASSIGNMENT, ASSIGNMENT, STUDENT).auto_comment)


def nbgrader_export(course: Path) -> float:
    """The student's score in the CSV that `nbgrader export` writes."""
    command("nbgrader", "export", "--to", "grades.csv", cwd=course)
    with (course / "grades.csv").open(newline="") as table:
        (row,) = (r for r in csv.DictReader(table) if r["student_id"] == STUDENT)
    return float(row["score"])


def our_export(course: Path) -> dict[str, str]:
    (row,) = csv.DictReader(io.StringIO(command("autograder", "export", "--course", str(course))))
    return row


def test_a_teacher_reviews_and_grades_by_hand_in_formgrader(
    course: Path, teacher: Teacher, tmp_path: Path
) -> None:
    ex = exercise(ASSIGNMENT)
    points = {q.name: q.points for q in ex.questions}
    by_grader = sum(points[name] for name in ANSWERED)
    waiting = sum(q.points for q in ex.questions if q.graded_by_teacher)
    before = recorded(course)
    assert before[OVERRIDDEN] == (0.0, None) and before[WRITTEN] == (None, None)
    assert before["total"][0] == by_grader

    row = teacher.open_submission(ASSIGNMENT, STUDENT)
    assert f"{by_grader:g} / {sum(points.values()):g}" in row
    # every question as the grader left it: its auto score, and its comment where the answer is
    for name in ANSWERED:
        assert teacher.score_box(f"{name}_test").get_attribute("placeholder") == f"{points[name]:g}"
        said = auto_comment(course, name)
        assert said and teacher.comment_box(name).get_attribute("placeholder") == said
    # the answer in words: the student's words, a score box without an auto score
    written = teacher.score_box(WRITTEN)
    assert "needs_manual_grade" in (written.get_attribute("class") or "")
    assert not written.get_attribute("placeholder")
    assert WORDS[:40] in teacher.driver.page_source

    teacher.enter_score(WRITTEN, "1.5")
    teacher.enter_score(OVERRIDDEN, "1")
    teacher.reload()
    assert teacher.score_box(WRITTEN).get_attribute("value") == "1.5"
    assert teacher.score_box(OVERRIDDEN).get_attribute("value") == "1"
    print(
        f"formgrader after grading by hand: {teacher.screenshot(tmp_path / 'formgrader.png', at=WRITTEN)}"
    )

    graded = recorded(course)
    assert graded[WRITTEN] == (None, 1.5) and graded[OVERRIDDEN] == (0.0, 1.0)
    assert graded["total"][0] == by_grader + 2.5 == nbgrader_export(course)
    row_out = our_export(course)
    assert float(row_out["score"]) == by_grader + 2.5
    assert float(row_out["waiting_for_teacher"]) == waiting - points[WRITTEN]
    # the student's feedback page, written again, counts the teacher's scores
    command("autograder", "feedback", "--course", str(course))
    page = course / "reports" / "feedback" / STUDENT / ASSIGNMENT / f"{ASSIGNMENT}.html"
    shown = page.read_text(encoding="utf-8")
    assert (
        f"1.5 / {points[WRITTEN]:g} <small>" in shown and f"1 / {points['mae']:g} <small>" in shown
    )
    assert f"<strong>{by_grader + 2.5:g} / {sum(points.values()):g}</strong>" in shown

    # a resubmission is graded again; the teacher's scores stay
    hand_in(course, AGAIN)
    command("autograder", "grade", str(course / "submitted"))
    assert recorded(course)[WRITTEN] == (None, 1.5) and recorded(course)[OVERRIDDEN] == (0.0, 1.0)
    teacher.reload()
    assert teacher.score_box(WRITTEN).get_attribute("value") == "1.5"

    # --force grades anew: the teacher's scores are cleared, the written answer waits again
    command("autograder", "grade", str(course / "submitted"), "--force")
    # (formgrader, open all along, shows the scores it read until it saves one or restarts: its
    # gradebook session keeps what it loaded; nbgrader's own autograde meets the same)
    forced = recorded(course)
    assert forced[WRITTEN] == (None, None) and forced[OVERRIDDEN] == (0.0, None)
    assert float(our_export(course)["waiting_for_teacher"]) == waiting


def test_formgrader_starts_on_another_port_when_one_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A port found free and taken before the server binds it costs one more start, no failure."""
    import socket

    import browser

    course = tmp_path / "course"
    course.mkdir()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = iter([int(taken.getsockname()[1])])
        free = browser.free_port
        monkeypatch.setattr(browser, "free_port", lambda: next(ports, None) or free())
        with browser.running_formgrader(course, tmp_path / "jupyter") as server:
            assert server.url != f"http://127.0.0.1:{taken.getsockname()[1]}"
            assert browser.answers(server.page("api/assignments"))
