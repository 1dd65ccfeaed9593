"""Per-student release: every student's own notebook, with numbers drawn from the course's secret.

The course keeps which assignments went out per student, and to whom (`.autograder/roster.json`);
the grader reads it to grade each submission against its student's own variant, never against
numbers found in the notebook, and to know whose numbers a copied answer was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from autograder.derivation.variants import course_secret, draw
from autograder.model.errors import UserError
from autograder.release.assignments import generate, nbgrader_api
from autograder.release.files import write_whole
from autograder.release.personal import Pipeline, student_notebooks

# what a student id may be: it names folders and gradebook rows; a name of dots only would be a
# folder above the feedback pages (`..`), not a student
STUDENT_ID = re.compile(r"^(?!\.+$)[\w.@+-]{1,100}$")
ROSTER_FILE = Path(".autograder") / "roster.json"
# COURSE/release_per_student/STUDENT/ASSIGNMENT/ASSIGNMENT.ipynb, as nbgrader lays out feedback
OUT = "release_per_student"


class BadRoster(UserError, ValueError):
    """A class list with a student id that nbgrader (and the grader) would not accept."""


@dataclass(frozen=True)
class Personal:
    assignment: str
    student: str
    notebook: Path


def roster(course: Path) -> dict[str, list[str]]:
    """assignment → the students it was released to with numbers of their own."""
    path = course / ROSTER_FILE
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(a): [str(s) for s in students] for a, students in data.items()}


class Variants:
    """The variants of one course's students, for a grading run: the roster and secret read once."""

    def __init__(self, course: Path | None) -> None:
        self.per_student = roster(course) if course is not None else {}
        self.secret = course_secret(course) if self.per_student and course else b""
        self._drawn: dict[tuple[str, str], dict[str, Any]] = {}

    def of(self, assignment: str, student: str | None) -> dict[str, Any] | None:
        """The student's own variant where the assignment went out per student; None otherwise
        (the seed's numbers). A student missing from the class list still gets their id's."""
        if student is None or assignment not in self.per_student:
            return None
        # a draw checks that the variant is well posed (a derivation): once per student
        key = (assignment, student)
        if key not in self._drawn:
            self._drawn[key] = draw(assignment, student, self.secret)
        return self._drawn[key]

    def classmates(self, assignment: str) -> dict[str, dict[str, Any]]:
        """Every student on the assignment's class list with their variant ({} if not per student)."""
        students = self.per_student.get(assignment, [])
        return {s: variant for s in students if (variant := self.of(assignment, s)) is not None}


def read_students(text: str) -> list[str]:
    """A class list: one student id per line (or the first column of a CSV); blank lines and
    lines starting with # are skipped, and so is a header line `student` or `id`."""
    students: list[str] = []
    for line in text.splitlines():
        first = line.split(",")[0].strip()
        if not first or first.startswith("#") or first.lower() in ("student", "student_id", "id"):
            continue
        if not STUDENT_ID.match(first):
            raise BadRoster(f"{first!r} is not a student id (letters, digits and . _ @ + -)")
        if first not in students:
            students.append(first)
    return students


def students_in_gradebook(course: Path, db_url: str | None = None) -> list[str]:
    """The students nbgrader's gradebook knows (`nbgrader db student add` or import)."""
    from nbgrader.api import Gradebook

    if db_url is None and not (course / "gradebook.db").exists():
        raise BadRoster(f"no gradebook in {course} (or give --db)")
    with Gradebook(db_url or f"sqlite:///{course / 'gradebook.db'}") as book:
        return sorted(s.id for s in book.students)


def release_per_student(
    assignments: Iterable[str],
    course: Path,
    lang: str,
    students: list[str],
    db_url: str | None = None,
) -> list[Personal]:
    """The shared version of each assignment into the course through nbgrader's generate_assignment
    (its gradebook entries: grade ids and points are the same for every student), then each
    student's own notebook through the same preprocessors, configured as the course configures them.
    """
    if not students:
        raise BadRoster("no students to release to")
    secret = course_secret(course, create=True)
    api = nbgrader_api(course, db_url)
    pipeline: Pipeline | None = None
    made: list[Personal] = []
    listed = roster(course)
    for assignment in assignments:
        generate(api, assignment, course, lang)
        pipeline = pipeline or Pipeline(course)
        for student, text in student_notebooks(pipeline, assignment, lang, students, secret):
            notebook = nbformat.reads(text, as_version=4)
            target = course / OUT / student / assignment / f"{assignment}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            notebook.metadata.setdefault("autograder", {})["student"] = student
            nbformat.write(notebook, target)
            made.append(Personal(assignment, student, target))
        listed[assignment] = sorted(set(listed.get(assignment, [])) | set(students))
        write_whole(course / ROSTER_FILE, json.dumps(listed, indent=1, sort_keys=True) + "\n")
    return made
