"""Results recorded in batches into a real nbgrader gradebook (SQLite), read back with nbgrader's API.

A gradebook written in batches holds what nbgrader's own API writes one submission at a time; a
result the database refuses costs a warning and the rest of its batch still lands; what waits for
its batch is all a killed run can lose.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nbgrader.api import Gradebook as NbGradebook

from autograder.classroom import gradebook, gradebook_rows
from autograder.classroom.gradebook import Gradebook, Unrecorded
from autograder.classroom.marking import Marked, Result
from autograder.derivation.references import exercise
from autograder.judging.grading import Verdict

ASSIGNMENT = "minima"
WHEN = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course whose gradebook holds the assignment and its cells (made once, copied per test)."""
    course = tmp_path_factory.mktemp("released") / "course"
    course.mkdir()
    with Gradebook(course) as book:
        book.ensure_assignment(ASSIGNMENT)
    return course


@pytest.fixture
def course(released: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(released, tmp_path / "course"))


def result(student: str, k: int, late: int = 0, assignment: str = ASSIGNMENT) -> Result:
    """A graded submission whose every score and feedback depends on the student's number k."""
    marked = []
    for i, q in enumerate(exercise(assignment).autograded):
        share = ((k + i) % 3) / 2
        verdict = Verdict(
            f"{assignment}.{q.name}", "partial", share, None, f"{student}: {q.name} {k}"
        )
        marked.append(Marked(verdict, float(q.points)))
    moment = WHEN + timedelta(minutes=k + late)
    return Result(student, assignment, f"{student}.ipynb", moment, "de", tuple(marked))


def by_nbgraders_api(course: Path, results: list[Result]) -> None:
    """One submission at a time, each through nbgrader's own calls (the way before batches)."""
    from nbgrader.api import MissingEntry

    with NbGradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for r in results:
            assert r.student is not None and r.timestamp is not None
            gb.update_or_create_student(r.student)
            try:
                submission = gb.find_submission(ASSIGNMENT, r.student)
            except MissingEntry:
                submission = gb.add_submission(ASSIGNMENT, r.student)
            submission.timestamp = r.timestamp.astimezone(UTC).replace(tzinfo=None)
            for m in r.questions:
                name = m.verdict.qid.partition(".")[2]
                grade = gb.find_grade(f"{name}_test", ASSIGNMENT, ASSIGNMENT, r.student)
                grade.auto_score, grade.needs_manual_grade = m.score, False
                comment = gb.find_comment(name, ASSIGNMENT, ASSIGNMENT, r.student)
                comment.auto_comment = gradebook_rows.comment(m, r.lang)
            gb.db.commit()


def read_back(course: Path) -> dict[str, Any]:
    """Every row a teacher sees through nbgrader's API, by student."""
    with NbGradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {
            s.student.id: (
                s.timestamp,
                s.score,
                s.max_score,
                sorted(
                    (g.cell.name, g.auto_score, g.manual_score, g.needs_manual_grade)
                    for nb in s.notebooks
                    for g in nb.grades
                ),
                sorted((c.cell.name, c.auto_comment) for nb in s.notebooks for c in nb.comments),
            )
            for a in gb.assignments
            for s in a.submissions
        }


def test_batches_read_back_as_nbgraders_api_writes_one_by_one(course: Path, tmp_path: Path) -> None:
    one_by_one = Path(shutil.copytree(course, tmp_path / "one_by_one"))
    first = [result(f"s{k:02d}", k) for k in range(12)]
    # graded again (forced), a later hand-in, and one submission twice within one batch
    again = [result(f"s{k:02d}", k + 1, late=5) for k in range(0, 12, 3)] + [result("s01", 7)]
    with Gradebook(course) as book:
        for r in first:
            book.record(r)
    with Gradebook(course) as book:
        for r in again:
            book.record(r)
    by_nbgraders_api(one_by_one, first + again)
    batched = read_back(course)
    assert batched == read_back(one_by_one)
    assert len(batched) == 12
    with Gradebook(course) as book:
        assert set(book.complete()) == {(f"s{k:02d}", ASSIGNMENT) for k in range(12)}


def test_a_refused_result_costs_a_warning_and_the_rest_of_its_batch_lands(course: Path) -> None:
    refused: list[Unrecorded] = []
    # a lone surrogate: no database encoding can store this student id
    results = [result("s00", 0), result("s\udcff", 1), result("s02", 2)]
    with Gradebook(course, refused=refused.append) as book:
        for r in results:
            book.record(r)
    assert [u.result.student for u in refused] == ["s\udcff"]
    assert isinstance(refused[0].problem, UnicodeError)
    assert set(read_back(course)) == {"s00", "s02"}


def test_a_refused_result_is_raised_where_no_one_listens(course: Path) -> None:
    book = Gradebook(course)
    book.record(result("s\udcff", 1))
    with pytest.raises(UnicodeError):
        book.close()


def test_only_the_batch_that_waits_is_not_yet_in_the_gradebook(
    course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gradebook, "BATCH_SIZE", 4)
    monkeypatch.setattr(gradebook, "BATCH_SECONDS", 3600.0)
    book = Gradebook(course)
    for k in range(6):
        book.record(result(f"s{k:02d}", k))
    # what another process sees now is what a kill at this moment leaves: whole submissions
    assert set(read_back(course)) == {f"s{k:02d}" for k in range(4)}
    assert all(g[1] is not None for row in read_back(course).values() for g in row[3])
    book.close()
    assert set(read_back(course)) == {f"s{k:02d}" for k in range(6)}


# --- answers in words, which the teacher grades in formgrader ---------------------------------

WRITTEN = "gradient_descent"


@pytest.fixture(scope="module")
def released_written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    course = tmp_path_factory.mktemp("written") / "course"
    course.mkdir()
    with Gradebook(course) as book:
        book.ensure_assignment(WRITTEN)
    return course


@pytest.fixture
def written_course(released_written: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(released_written, tmp_path / "course"))


def grades(course: Path, student: str) -> dict[str, tuple[Any, ...]]:
    """(auto score, manual score, needs a manual grade) by grade cell, read with nbgrader's API."""
    with NbGradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(WRITTEN, student)
        return {
            g.cell.name: (g.auto_score, g.manual_score, g.needs_manual_grade)
            for nb in submission.notebooks
            for g in nb.grades
        }


def test_a_written_answer_waits_for_the_teacher_and_the_submission_counts_as_graded(
    written_course: Path,
) -> None:
    ex = exercise(WRITTEN)
    written = {q.name for q in ex.questions if q.graded_by_teacher}
    with Gradebook(written_course) as book:
        book.record(result("s00", 0, assignment=WRITTEN))
    found = grades(written_course, "s00")
    assert {name for name, row in found.items() if row == (None, None, True)} == written
    assert all(found[f"{q.name}_test"][0] is not None for q in ex.autograded)
    with NbGradebook(f"sqlite:///{written_course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(WRITTEN, "s00")
        assert submission.max_score == sum(q.points for q in ex.questions)
        assert submission.needs_manual_grade
    with Gradebook(written_course) as book:
        # a run after this one skips it: the written answers' empty auto scores do not count
        assert set(book.complete()) == {("s00", WRITTEN)}
        (row,) = book.rows()
        assert row["waiting_for_teacher"] == sum(
            q.points for q in ex.questions if q.graded_by_teacher
        )


@pytest.mark.parametrize(
    ("forget", "written_after", "override_after"),
    [
        # a resubmission graded again: the teacher's grade and override stay
        (False, (None, 2.0, False), 0.5),
        # --force: both go, and the written answer waits for the teacher again
        (True, (None, None, True), None),
    ],
)
def test_a_regrade_keeps_the_teachers_scores_unless_they_are_forgotten(
    written_course: Path,
    forget: bool,
    written_after: tuple[Any, ...],
    override_after: float | None,
) -> None:
    with Gradebook(written_course) as book:
        book.record(result("s00", 0, assignment=WRITTEN))
    # the teacher grades a written answer in formgrader and overrides an automatic score
    with NbGradebook(f"sqlite:///{written_course / 'gradebook.db'}") as gb:
        for cell, score in (("why_it_stops", 2.0), ("iterates_test", 0.5)):
            grade = gb.find_grade(cell, WRITTEN, WRITTEN, "s00")
            grade.manual_score, grade.needs_manual_grade = score, False
        gb.db.commit()
    with Gradebook(written_course, forget_manual_scores=forget) as book:
        book.record(result("s00", 1, late=5, assignment=WRITTEN))
    found = grades(written_course, "s00")
    assert found["why_it_stops"] == written_after
    assert found["iterates_test"][1] == override_after
    assert found["numerical_pitfalls"] == (None, None, True)
    # the grader's own scores are the new submission's either way
    assert found["losses_test"][0] == result("s00", 1, assignment=WRITTEN).questions[1].score


def test_the_gradebook_models_come_without_jupyter_and_the_packages_stay_whole() -> None:
    import subprocess
    import sys

    program = (
        "import sys\n"
        "from autograder.classroom.nbgrader_models import nbgrader_models\n"
        "api = nbgrader_models()\n"
        "print(hasattr(api, 'Gradebook'), 'jupyter_server' in sys.modules,"
        " 'setuptools.dist' in sys.modules, 'requests.api' in sys.modules)\n"
        "import nbgrader, setuptools, requests\n"
        "from nbgrader.apps import NbGraderAPI\n"
        "print(nbgrader.__version__ == nbgrader._version.__version__,"
        " callable(nbgrader._jupyter_server_extension_points), callable(setuptools.setup),"
        " callable(requests.get))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == [
        "True",
        "False",
        "False",
        "False",
        "True",
        "True",
        "True",
        "True",
    ]
