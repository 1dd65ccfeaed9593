"""The nbgrader gradebook: scores and feedback written through nbgrader's own API and models.

SQLite in the course directory by default, any SQLAlchemy URL with `db_url`. The scores of a
submission are written in one transaction: a run killed at any moment leaves each submission with
all its scores or none, and one without scores counts as not graded yet.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.exc import SAWarning

from autograder.marking import Result
from autograder.references import exercise
from autograder.release import generate, nbgrader_api, nbgrader_commands_on_path

T = TypeVar("T")


class Gradebook:
    """nbgrader's gradebook of one course, opened once per grading run."""

    def __init__(self, course: Path, db_url: str | None = None, lang: str = "de") -> None:
        from nbgrader.api import Gradebook as NbGradebook

        self.course = course.resolve()
        self.lang = lang
        self.db_url = db_url
        self.url = db_url or f"sqlite:///{self.course / 'gradebook.db'}"
        self.ready: set[str] = set()
        nbgrader_commands_on_path()
        self.gb = _patient(NbGradebook(self.url, course_id=self.course.name))

    def close(self) -> None:
        self.gb.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def ensure_assignment(self, assignment: str) -> None:
        """The assignment and its grade cells in the gradebook (released into the course if new)."""
        if assignment in self.ready:
            return
        if not self._has_grade_cells(assignment):
            self.gb.close()
            # nbgrader's API (and its config file in the course) only where an assignment is new
            generate(nbgrader_api(self.course, self.db_url), assignment, self.course, self.lang)
            from nbgrader.api import Gradebook as NbGradebook

            self.gb = _patient(NbGradebook(self.url, course_id=self.course.name))
        self.ready.add(assignment)

    def _has_grade_cells(self, assignment: str) -> bool:
        from nbgrader.api import MissingEntry

        try:
            found = self.gb.find_assignment(assignment)
        except MissingEntry:
            return False
        names = {c.name for nb in found.notebooks for c in nb.grade_cells}
        return all(f"{q.name}_test" in names for q in exercise(assignment).questions)

    def complete(self) -> dict[tuple[str, str], datetime | None]:
        """(student, assignment) → timestamp of every submission that has all its scores."""
        found = {}
        for assignment in self.gb.assignments:
            for submission in assignment.submissions:
                grades = [g for nb in submission.notebooks for g in nb.grades]
                if grades and all(g.auto_score is not None for g in grades):
                    found[(submission.student.id, assignment.name)] = submission.timestamp
        return found

    @staticmethod
    def same_time(recorded: datetime | None, moment: datetime) -> bool:
        return recorded == _naive_utc(moment)

    def record(self, result: Result) -> None:
        """Scores into the grade cells, feedback into the comments, in one commit."""
        if result.student is None or result.assignment is None:
            return
        self.ensure_assignment(result.assignment)
        with warnings.catch_warnings(), self._transaction():
            # nbgrader's add_submission makes SQLAlchemy warn about its autoflush; it is harmless
            warnings.simplefilter("ignore", SAWarning)
            with self.gb.db.no_autoflush:
                self._record(result)

    def _record(self, result: Result) -> None:
        from nbgrader.api import MissingEntry

        assert result.student is not None and result.assignment is not None
        student, assignment = result.student, result.assignment
        self._racing(lambda: self.gb.update_or_create_student(student))
        try:
            submission = self.gb.find_submission(assignment, student)
        except MissingEntry:
            submission = self._racing(
                lambda: self.gb.add_submission(assignment, student),
                lambda: self.gb.find_submission(assignment, student),
            )
        if result.timestamp is not None:
            submission.timestamp = _naive_utc(result.timestamp)
        by_name = {m.verdict.qid.partition(".")[2]: m for m in result.questions}
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                marked = by_name.get(grade.cell.name.removesuffix("_test"))
                if marked is not None:
                    grade.auto_score = marked.score
                    grade.needs_manual_grade = False
            for comment in notebook.comments:
                marked = by_name.get(comment.cell.name)
                if marked is not None:
                    comment.auto_comment = marked.verdict.feedback

    def _racing(self, make: Callable[[], T], find: Callable[[], T] | None = None) -> T:
        """Make a row that another grading run may be making at the same moment.

        nbgrader rolls back and raises InvalidEntry when the other run was first (and logs the
        traceback, which is silenced here since the row is then simply read).
        """
        from nbgrader.api import InvalidEntry

        quiet = logging.getLogger("tornado.application")
        before, quiet.disabled = quiet.disabled, True
        try:
            return make()
        except InvalidEntry:
            self.gb.db.rollback()
            return (find or make)()
        finally:
            quiet.disabled = before

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        try:
            yield
            self.gb.db.commit()
        except BaseException:
            self.gb.db.rollback()
            raise

    def rows(self) -> list[dict[str, Any]]:
        """Every submission's total as nbgrader computes it (manual scores included)."""
        found = []
        for assignment in self.gb.assignments:
            for submission in assignment.submissions:
                found.append(
                    {
                        "student": submission.student.id,
                        "assignment": assignment.name,
                        "score": float(submission.score),
                        "max_score": float(submission.max_score),
                    }
                )
        return sorted(found, key=lambda row: (row["student"], row["assignment"]))

    def scores(self, assignment: str, student: str) -> dict[str, float | None]:
        """The auto scores of one submission by grade cell, as nbgrader holds them."""
        submission = self.gb.find_submission(assignment, student)
        return {g.cell.name: g.auto_score for nb in submission.notebooks for g in nb.grades}


# how long a write waits for another grading run that holds SQLite's lock
BUSY_SECONDS = 60


def _patient(gb: Any) -> Any:
    """With SQLite, wait for the lock of another run instead of failing after 5 s."""
    if gb.engine.dialect.name == "sqlite":

        def busy_timeout(connection: Any, record: Any) -> None:
            connection.execute(f"PRAGMA busy_timeout = {BUSY_SECONDS * 1000}")

        event.listen(gb.engine, "connect", busy_timeout)
        gb.engine.dispose()  # connections made so far lack the setting
    return gb


def _naive_utc(moment: datetime) -> datetime:
    """nbgrader keeps timestamps as naive UTC."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
