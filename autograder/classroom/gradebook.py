"""The nbgrader gradebook: scores and feedback written as rows of nbgrader's own models.

SQLite in the course directory by default, any SQLAlchemy URL with `db_url`. Results are written
in batches, one transaction each: a run killed at any moment leaves each submission with all its
scores or none (one without scores counts as not graded yet) and loses at most the last batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import case, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import selectinload

from autograder.classroom.by_hand import ByHand, by_hand
from autograder.classroom.gradebook_rows import Found, Layout, Rows
from autograder.classroom.late import Plugin, lateness, naive_utc, penalty_plugin, seconds_late
from autograder.classroom.marking import Result
from autograder.classroom.nbgrader_models import nbgrader_models
from autograder.derivation.references import exercise
from autograder.release.assignments import generate, nbgrader_api, nbgrader_commands_on_path
from autograder.release.notebooks import grade_cell

# A batch is written when it holds this many results or its first has waited this long: one commit
# per batch instead of several per submission, and a killed run loses at most these results.
BATCH_SIZE = 200
BATCH_SECONDS = 0.5
# how often a submission is written again after another run made one of its rows first
RACE_ATTEMPTS = 3
# what a database that refuses a row raises (a name it cannot encode, nbgrader's InvalidEntry …)
RECORD_ERRORS = (SQLAlchemyError, UnicodeError, ValueError)


@dataclass(frozen=True)
class Unrecorded:
    """A result the gradebook refused, and why; the next run grades its submission again."""

    result: Result
    problem: Exception


class Gradebook:
    """nbgrader's gradebook of one course, opened once per grading run."""

    def __init__(
        self,
        course: Path,
        db_url: str | None = None,
        lang: str = "de",
        refused: Callable[[Unrecorded], None] | None = None,
        forget_manual_scores: bool = False,
    ) -> None:
        """`refused` hears of each result the database refuses; without it, the refusal is raised.

        A submission graded again keeps the scores a teacher gave in formgrader (its written
        answers, its overrides), unless `forget_manual_scores`: then they go, and its written
        answers wait for the teacher again."""
        NbGradebook = nbgrader_models().Gradebook

        self.course = course.resolve()
        # a course named for the first time (`grade x.ipynb --course new`) gets its folder
        self.course.mkdir(parents=True, exist_ok=True)
        self.lang = lang
        self.db_url = db_url
        self.url = db_url or f"sqlite:///{self.course / 'gradebook.db'}"
        self.ready: set[str] = set()
        self.layouts: dict[str, Layout] = {}
        self.pending: list[Result] = []
        self.since = 0.0
        self.refused = refused or _raise
        self.plugin: Plugin | None = None
        self.dues: dict[str, tuple[datetime | None, dict[str, timedelta | None]]] = {}
        self.forget_manual_scores = forget_manual_scores
        nbgrader_commands_on_path()
        self.gb = _patient(NbGradebook(self.url, course_id=self.course.name))

    def close(self) -> None:
        """Writes the results that wait for their batch, then closes."""
        try:
            self.flush()
        finally:
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
            self.flush()
            self.layouts.pop(assignment, None)
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
        return all(grade_cell(q) in names for q in exercise(assignment).questions)

    def complete(self) -> dict[tuple[str, str], datetime | None]:
        """(student, assignment) → timestamp of every submission that has all its auto scores.

        Only the code cells count: the written answers (markdown) wait for the teacher, and their
        auto score stays empty whether the grader has been there or not.
        """
        from nbgrader.api import (
            Assignment,
            Grade,
            GradeCell,
            SubmittedAssignment,
            SubmittedNotebook,
        )

        code = GradeCell.cell_type == "code"
        counted = (
            self.gb.db.query(
                SubmittedAssignment.student_id,
                Assignment.name,
                SubmittedAssignment.timestamp,
                func.count(case((code, Grade.id))),
                func.count(case((code, Grade.auto_score))),
            )
            .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
            .outerjoin(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
            .outerjoin(Grade, Grade.notebook_id == SubmittedNotebook.id)
            .outerjoin(GradeCell, GradeCell.id == Grade.cell_id)
            .group_by(SubmittedAssignment.id, Assignment.name)
        )
        return {
            (student, assignment): timestamp
            for student, assignment, timestamp, grades, scored in counted
            if grades and scored == grades
        }

    @staticmethod
    def same_time(recorded: datetime | None, moment: datetime | None) -> bool:
        return recorded == (naive_utc(moment) if moment is not None else None)

    def late(self, result: Result) -> Result:
        """The result with its lateness and penalty, from nbgrader's due date and extension."""
        if result.student is None or result.assignment is None or result.timestamp is None:
            return result
        self.ensure_assignment(result.assignment)
        due, extensions = self._due(result.assignment)
        late = seconds_late(result.timestamp, due, extensions.get(result.student))
        if late <= 0:
            return replace(result, late=None)
        if self.plugin is None:
            self.plugin = penalty_plugin(self.course)
        found = lateness(self.plugin, result.student, result.score, late)
        return replace(result, late=found)

    def _due(self, assignment: str) -> tuple[datetime | None, dict[str, timedelta | None]]:
        """The assignment's due date and each student's extension, read once per run."""
        if assignment not in self.dues:
            from nbgrader.api import SubmittedAssignment

            layout = self._layout(assignment)
            rows = self.gb.db.execute(
                select(SubmittedAssignment.student_id, SubmittedAssignment.extension).where(
                    SubmittedAssignment.assignment_id == layout.assignment_id,
                    SubmittedAssignment.extension.is_not(None),
                )
            )
            self.dues[assignment] = (layout.duedate, {s: e for s, e in rows})
        return self.dues[assignment]

    def record(self, result: Result) -> None:
        """Scores into the grade cells, feedback into the comments, written with the next batch."""
        if result.student is None or result.assignment is None:
            return
        self.ensure_assignment(result.assignment)
        if not self.pending:
            self.since = time.monotonic()
        self.pending.append(result)
        if len(self.pending) >= BATCH_SIZE or time.monotonic() - self.since >= BATCH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """The waiting results in one transaction, or, where it fails, each in its own."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            self._write(batch)
        except RECORD_ERRORS:
            # one result the database refuses, or a row another run made first: the others land
            for result in batch:
                self._write_alone(result)

    def _write_alone(self, result: Result) -> None:
        attempts = RACE_ATTEMPTS
        while True:
            try:
                self._write([result])
                return
            except IntegrityError as problem:
                # another run made one of its rows first; that row is committed now and read anew
                attempts -= 1
                if not attempts:
                    self.refused(Unrecorded(result, problem))
                    return
            except RECORD_ERRORS as problem:
                self.refused(Unrecorded(result, problem))
                return

    def _write(self, batch: list[Result]) -> None:
        """Every result of the batch into its submission's rows, in one transaction.

        The rows are nbgrader's models, inserted and updated in bulk: one statement per model for
        the whole batch (object by object, the unit of work cost ~16 ms of CPU per submission).
        """
        from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook

        # the last result of a submission counts, as when each was written in turn
        latest = {(r.assignment, r.student): r for r in batch if r.assignment and r.student}
        with self._transaction():
            layouts = {a: self._layout(a) for a, _ in latest}
            students = {s for _, s in latest}
            found = self._existing(students, [la.assignment_id for la in layouts.values()])
            new, changed = Rows(), Rows()
            new.students = [{"id": s} for s in sorted(students - found.students)]
            for (assignment, student), result in latest.items():
                layout = layouts[assignment]
                submission = found.submissions.get((layout.assignment_id, student))
                if submission is None:
                    new.add_submission(layout, student, result)
                else:
                    changed.update_submission(
                        layout, submission, found, result, self.forget_manual_scores
                    )
            for model, rows in (
                (Student, new.students),
                (SubmittedAssignment, new.submissions),
                (SubmittedNotebook, new.notebooks),
                (Grade, new.grades),
                (Comment, new.comments),
            ):
                if rows:
                    self.gb.db.execute(insert(model), rows)
            for model, rows in (
                (SubmittedAssignment, changed.submissions),
                (SubmittedNotebook, changed.notebooks),
                (Grade, changed.grades),
                (Comment, changed.comments),
            ):
                if rows:
                    self.gb.db.execute(update(model), rows)

    def _existing(self, students: set[str], assignment_ids: list[str]) -> Found:
        """What the gradebook holds of these submissions, read in one query per model."""
        from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook

        db = self.gb.db
        known = set(db.scalars(select(Student.id).where(Student.id.in_(students))))
        submitted = db.execute(
            select(
                SubmittedAssignment.assignment_id,
                SubmittedAssignment.student_id,
                SubmittedAssignment.id,
            ).where(
                SubmittedAssignment.student_id.in_(students),
                SubmittedAssignment.assignment_id.in_(assignment_ids),
            )
        )
        found = Found(known, {(a, s): i for a, s, i in submitted})
        notebooks = db.execute(
            select(SubmittedNotebook.assignment_id, SubmittedNotebook.id).where(
                SubmittedNotebook.assignment_id.in_(list(found.submissions.values()))
            )
        )
        for submission, notebook in notebooks:
            found.notebooks.setdefault(submission, []).append(notebook)
        for rows, model in ((found.grades, Grade), (found.comments, Comment)):
            cells = db.execute(
                select(SubmittedNotebook.assignment_id, model.id, model.cell_id)
                .join(model, model.notebook_id == SubmittedNotebook.id)
                .where(SubmittedNotebook.assignment_id.in_(list(found.submissions.values())))
            )
            for submission, row_id, cell_id in cells:
                rows.setdefault(submission, []).append((row_id, cell_id))
        return found

    def _layout(self, assignment: str) -> Layout:
        if assignment not in self.layouts:
            from nbgrader.api import GradeCell, Notebook, SolutionCell, TaskCell

            found = self.gb.find_assignment(assignment)
            notebooks = self.gb.db.query(Notebook).filter(Notebook.assignment_id == found.id)
            cells: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
            question: dict[str, str] = {}
            # all cells of all notebooks in one query, instead of one lazy load per notebook
            for nb in notebooks.options(selectinload(Notebook._base_cells)):
                graded = [c for c in nb._base_cells if isinstance(c, GradeCell | TaskCell)]
                commented = [c for c in nb._base_cells if isinstance(c, SolutionCell | TaskCell)]
                cells[nb.id] = (tuple(c.id for c in graded), tuple(c.id for c in commented))
                question |= {c.id: c.name for c in commented}
                question |= {c.id: c.name.removesuffix("_test") for c in graded}
            self.layouts[assignment] = Layout(found.id, found.duedate, cells, question)
        return self.layouts[assignment]

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        try:
            yield
            self.gb.db.commit()
        except BaseException:
            self.gb.db.rollback()
            raise

    def rows(self) -> list[dict[str, Any]]:
        """Every submission's total as nbgrader's export computes it (manual scores included,
        the late penalty taken off), and the points of its cells that wait for the teacher."""
        found = []
        for assignment in self.gb.assignments:
            for submission in assignment.submissions:
                penalty = float(submission.late_submission_penalty or 0.0)
                grades = [g for nb in submission.notebooks for g in nb.grades]
                found.append(
                    {
                        "student": submission.student.id,
                        "assignment": assignment.name,
                        # as nbgrader's export counts it: the points less the late penalty
                        "score": float(submission.score) - penalty,
                        "max_score": float(submission.max_score),
                        "late_penalty": penalty,
                        "waiting_for_teacher": float(
                            sum(g.max_score for g in grades if g.needs_manual_grade)
                        ),
                    }
                )
        return sorted(found, key=lambda row: (row["student"], row["assignment"]))

    def by_hand(self) -> ByHand:
        """What the teacher gave in formgrader: scores and comments, by submission and question."""
        return by_hand(self.gb.db)

    def scores(self, assignment: str, student: str) -> dict[str, float | None]:
        """The auto scores of one submission by grade cell, as nbgrader holds them."""
        submission = self.gb.find_submission(assignment, student)
        return {g.cell.name: g.auto_score for nb in submission.notebooks for g in nb.grades}


def _raise(unrecorded: Unrecorded) -> None:
    raise unrecorded.problem


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
