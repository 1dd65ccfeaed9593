"""The whole nbgrader round trip with nbgrader's own commands and an exchange of its own: release,
fetch and submit as two students (one late), collect, `autograder grade`, generate and release the
feedback, fetch it as the student; and a class collected from an LMS download by zip_collect."""

from __future__ import annotations

import os
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograder.derivation.references import exercise
from autograder.samples import solution_code

ASSIGNMENT = "minima"
BIN = Path(__file__).resolve().parents[1] / ".venv" / "bin"
COURSE_ID = "nn101"
# a teacher's own late-submission plugin, beside the course's config, as nbgrader's docs lay it out
PLUGIN = '''
import math
from nbgrader.plugins import BasePlugin


class PerHour(BasePlugin):
    """One point off for every hour begun after the due date."""

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return math.ceil(total_seconds_late / 3600)
'''


def nbgrader(args: list[str], cwd: Path, home: Path, user: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "USER": user,
        "LOGNAME": user,
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTER_DATA_DIR": str(home / ".local" / "share" / "jupyter"),
        "LANG": "C.UTF-8",
    }
    run = subprocess.run(
        [str(BIN / "nbgrader"), *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, (args, run.stdout, run.stderr)
    return run


def answer(notebook: Path) -> None:
    """The teacher's worked solutions written into the fetched notebook, as a student would."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            cell.source = solution_code(ASSIGNMENT, meta["grade_id"])
    nbformat.write(nb, notebook)


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("round_trip")
    course, exchange = root / COURSE_ID, root / "exchange"
    teacher = root / "teacher"
    teacher.mkdir()
    made = subprocess.run(
        [str(BIN / "autograder"), "release", ASSIGNMENT, "--course", str(course)],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(
            f"c.Exchange.root = {str(exchange)!r}\n"
            f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
            "c.AssignLatePenalties.plugin_class = 'late.PerHour'\n"
        )
    (course / "late.py").write_text(PLUGIN, encoding="utf-8")
    nbgrader(["release_assignment", ASSIGNMENT], course, teacher, "teacher")
    homes = {}
    for student in ("anna", "ben"):
        home = root / student
        home.mkdir()
        (home / "nbgrader_config.py").write_text(
            f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\n", encoding="utf-8"
        )
        nbgrader(["fetch_assignment", ASSIGNMENT, "--course", COURSE_ID], home, home, student)
        answer(home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
        homes[student] = home
    submit = ["submit", ASSIGNMENT, "--course", COURSE_ID, "--student"]
    nbgrader([*submit, "anna"], homes["anna"], homes["anna"], "anna")
    # the due date falls between the two submissions: ben's comes after it
    due = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    nbgrader(["db", "assignment", "add", ASSIGNMENT, f"--duedate={due}"], course, teacher, "t")
    nbgrader([*submit, "ben"], homes["ben"], homes["ben"], "ben")
    nbgrader(["collect", ASSIGNMENT], course, teacher, "teacher")
    graded = subprocess.run(
        [str(BIN / "autograder"), "grade", str(course / "submitted")],
        capture_output=True,
        text=True,
        cwd=course,
    )
    assert graded.returncode == 0, graded.stderr
    nbgrader(["generate_feedback", ASSIGNMENT], course, teacher, "teacher")
    nbgrader(["release_feedback", ASSIGNMENT], course, teacher, "teacher")
    for student, home in homes.items():
        fetch = ["fetch_feedback", ASSIGNMENT, "--course", COURSE_ID, "--student", student]
        nbgrader(fetch, home, home, student)
    return {"course": course, "homes": homes, "summary": graded.stdout, "teacher": teacher}


def fetched_feedback(home: Path) -> str:
    pages = sorted((home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
    assert len(pages) == 1, pages
    return pages[0].read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_student_fetches_feedback_with_our_verdicts(round_trip: dict[str, Any]) -> None:
    page = fetched_feedback(round_trip["homes"]["anna"])
    points = sum(q.points for q in exercise(ASSIGNMENT).questions)
    assert page.count("Automatisch bewertet") == len(exercise(ASSIGNMENT).questions)
    assert f"{points:g} von {points:g} Punkten" not in page  # one line per question, not a total
    assert "BEGIN HIDDEN TESTS" not in page


@pytest.mark.slow
def test_the_late_submission_loses_what_the_teachers_plugin_says(
    round_trip: dict[str, Any],
) -> None:
    summary = round_trip["summary"]
    assert "ben:" in summary and "−1 points" in summary, summary
    assert "anna:" not in summary.split("late (")[1].split("\n\n")[0]
    page = fetched_feedback(round_trip["homes"]["ben"])
    assert "late" in page.lower()
    run = nbgrader(["export"], round_trip["course"], round_trip["teacher"], "teacher")
    assert run.returncode == 0
    rows = (round_trip["course"] / "grades.csv").read_text(encoding="utf-8").splitlines()
    header = rows[0].split(",")
    by_student = {r.split(",")[header.index("student_id")]: r.split(",") for r in rows[1:]}
    penalty = header.index("late_submission_penalty")
    assert float(by_student["ben"][penalty]) == 1.0
    assert float(by_student["anna"][penalty]) == 0.0


@pytest.mark.slow
def test_a_class_collected_from_an_lms_download_is_graded_as_it_lands(
    round_trip: dict[str, Any], tmp_path: Path
) -> None:
    """nbgrader's zip_collect puts an LMS download into submitted/ with timestamps."""
    course = round_trip["course"]
    download = course / "downloaded" / ASSIGNMENT / "archive"
    download.mkdir(parents=True)
    fetched = round_trip["homes"]["anna"] / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    with zipfile.ZipFile(download / "lms.zip", "w") as archive:
        archive.write(fetched, f"{ASSIGNMENT}_cora_attempt_2026-11-20-10-00-00_{ASSIGNMENT}.ipynb")
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(
            "c.FileNameCollectorPlugin.named_regexp = "
            r"r'.*_(?P<student_id>\w+)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file_id>.+)'"
            "\n"
        )
    nbgrader(["zip_collect", ASSIGNMENT], course, round_trip["teacher"], "teacher")
    assert (course / "submitted" / "cora" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    graded = subprocess.run(
        [str(BIN / "autograder"), "grade", str(course / "submitted")],
        capture_output=True,
        text=True,
    )
    assert graded.returncode == 0, graded.stderr
    assert "1 graded, 0 refused, 2 graded already" in graded.stdout
    assert (course / "autograded" / "cora" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
