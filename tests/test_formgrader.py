"""A course graded into nbgrader's gradebook, reviewed in formgrader in a real browser.

A teacher opens the student's submission from Manage Submissions, sees the question's score box
with the auto score, and overrides one grade; the override survives a reload, is in the gradebook
as nbgrader's API reads it, and in the total that `nbgrader export` writes.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from nbgrader.api import Gradebook

from autograder.samples import answered, solution_code, submit

if TYPE_CHECKING:
    from browser import Teacher

pytest_plugins = ("browser",)
pytestmark = pytest.mark.slow

ASSIGNMENT = "minima"
STUDENT = "anna"
WHEN = "2026-11-20 10:00:00.000000 UTC"
# answered right: 1 + 2 of 18 points; every other question stays as released and gets 0
ANSWERED = ("grad_f_at_11", "dL1")
OVERRIDDEN = "grad_f_test"  # unanswered, 0 of 2 points by its tests; the teacher gives 1.5


def command(name: str, *args: str, cwd: Path | None = None) -> None:
    """A command of the environment (`autograder`, `nbgrader`); its output is shown if it fails."""
    exe = Path(sys.executable).with_name(name)
    done = subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.fail(f"{name} {' '.join(args)} exited with {done.returncode}:\n{done.stderr}")


def grade_course(course: Path) -> None:
    """Grade the course's submissions into its gradebook and its autograded/ notebooks."""
    command("nbgrader", "autograde", ASSIGNMENT, cwd=course)


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A course released by `autograder release`, with one student's submission graded."""
    course = tmp_path / "course"
    notebooks = tmp_path / "notebooks"
    command("autograder", "release", ASSIGNMENT, "--course", str(course), "--out", str(notebooks))
    released = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    answers = {name: solution_code(ASSIGNMENT, name) for name in ANSWERED}
    submit(course, STUDENT, ASSIGNMENT, answered(released, answers), WHEN)
    grade_course(course)
    return course


def recorded(course: Path) -> tuple[float, float | None, float]:
    """The overridden grade's auto and manual score, and the submission's total, by nbgrader's API."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade(OVERRIDDEN, ASSIGNMENT, ASSIGNMENT, STUDENT)
        total = gradebook.find_submission(ASSIGNMENT, STUDENT).score
        return grade.auto_score, grade.manual_score, total


def exported_score(course: Path) -> float:
    """The student's score in the CSV that `nbgrader export` writes."""
    command("nbgrader", "export", "--to", "grades.csv", cwd=course)
    with (course / "grades.csv").open(newline="") as table:
        (row,) = (
            r
            for r in csv.DictReader(table)
            if (r["student_id"], r["assignment"]) == (STUDENT, ASSIGNMENT)
        )
    return float(row["score"])


def test_a_teacher_overrides_a_grade_in_formgrader(
    course: Path, teacher: Teacher, tmp_path: Path
) -> None:
    assert recorded(course) == (0.0, None, 3.0)
    assert "3 / 18" in teacher.open_submission(ASSIGNMENT, STUDENT)
    assert teacher.score_box("grad_f_at_11_test").get_attribute("placeholder") == "1"
    box = teacher.score_box(OVERRIDDEN)
    assert (box.get_attribute("placeholder"), box.get_attribute("value")) == ("0", "")

    teacher.enter_score(OVERRIDDEN, "1.5")
    teacher.reload()
    assert teacher.score_box(OVERRIDDEN).get_attribute("value") == "1.5"
    print(f"formgrader after the override: {teacher.screenshot(tmp_path / 'formgrader.png')}")

    assert recorded(course) == (0.0, 1.5, 4.5)
    assert exported_score(course) == 4.5
