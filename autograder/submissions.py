"""Submissions: where they are (files, folders, an nbgrader `submitted/` tree), whose, and what to run.

A submission's cells become a job for the sandbox: the locked cells come from the spec, the student's
solution and own cells from the notebook; hidden tests never leave the grader.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import nbformat
from nbformat.reader import NotJSONError

from autograder.execution import Asked, Cell, Job
from autograder.notebooks import instructor_notebook
from autograder.references import ASSIGNMENTS, exercise, freeze_variant, reference, thaw_variant
from autograder.spec import Kind
from autograder.values import to_student

# A notebook larger than this is refused before it is read (a student's is a few hundred kB).
MAX_NOTEBOOK_BYTES = 64 * 1024**2
STUDENT_ID = re.compile(r"^[\w.@+-]{1,100}$")


class SubmissionError(Exception):
    """A submission that cannot be graded at all: `key` names the message, `details` fill it in."""

    def __init__(self, key: str, **details: Any) -> None:
        super().__init__(key, details)
        self.key = key
        self.details = details


@dataclass(frozen=True)
class Submission:
    path: Path
    student: str
    assignment: str
    timestamp: datetime
    # the language of the notebook's texts, if it says (feedback follows it unless told otherwise)
    lang: str | None = None


@dataclass(frozen=True)
class Found:
    """A file found under the given paths, with what its place says about it (before reading it)."""

    path: Path
    student: str | None
    assignment: str | None
    timestamp: datetime | None


def find(paths: Sequence[Path]) -> list[Found]:
    """Every notebook under `paths`: a file is itself, a folder is searched, `submitted/` is read."""
    found: list[Found] = []
    for given in paths:
        if given.is_dir():
            found += [_placed(p) for p in _notebooks(given)]
        else:
            found.append(_placed(given))
    return found


def _notebooks(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*.ipynb")
        if not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and "feedback" not in p.relative_to(folder).parts[:-1]
    )


def _placed(path: Path) -> Found:
    """`…/submitted/STUDENT/ASSIGNMENT/NOTEBOOK.ipynb` says whose and which; elsewhere nothing."""
    whole = path.resolve().parts
    if "submitted" in whole[:-3]:
        i = len(whole) - 1 - whole[::-1].index("submitted")
        if len(whole) - i == 4:
            student, assignment = whole[i + 1], whole[i + 2]
            return Found(path, student, assignment, _timestamp_file(path.parent))
    return Found(path, None, None, None)


def _timestamp_file(folder: Path) -> datetime | None:
    """nbgrader's `timestamp.txt` beside a submitted notebook."""
    stamp = folder / "timestamp.txt"
    if not stamp.is_file():
        return None
    try:
        text = stamp.read_text(encoding="utf-8", errors="replace").strip()[:64]
        moment = datetime.fromisoformat(text.replace(" UTC", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read(
    found: Found, student: str | None = None, assignment: str | None = None
) -> tuple[Submission, nbformat.NotebookNode]:
    """Load a found notebook and settle whose it is and which assignment (SubmissionError if not)."""
    try:
        stat = found.path.stat()
    except OSError as problem:
        raise SubmissionError("unreadable", error=problem.strerror or str(problem)) from None
    if stat.st_size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError("too_big", size=stat.st_size, limit=MAX_NOTEBOOK_BYTES)
    notebook = load(found.path)
    meta = notebook.metadata.get("autograder", {})
    meta = meta if isinstance(meta, dict) else {}
    which = assignment or found.assignment or _assignment_of(found.path, notebook)
    if which is None:
        raise SubmissionError("no_assignment", assignments=", ".join(ASSIGNMENTS))
    if which not in ASSIGNMENTS:
        raise SubmissionError(
            "unknown_assignment", assignment=which, assignments=", ".join(ASSIGNMENTS)
        )
    who = student or found.student or _student_of(found.path, which)
    if not STUDENT_ID.match(who):
        raise SubmissionError("bad_student", student=printable(who)[:100])
    moment = found.timestamp or datetime.fromtimestamp(stat.st_mtime, UTC)
    lang = meta.get("lang") if meta.get("lang") in ("de", "en", "ru") else None
    return Submission(found.path, who, which, moment, lang), notebook


def printable(text: str | Path) -> str:
    """A path or name as text that can be printed and stored (undecodable bytes shown as �)."""
    return os.fsencode(text).decode("utf-8", "replace")


def valid_student(student: str | None) -> str | None:
    return student if student is not None and STUDENT_ID.match(student) else None


def load(path: Path) -> nbformat.NotebookNode:
    """A notebook as nbformat 4, or a SubmissionError that says what is wrong with the file."""
    try:
        raw = path.read_bytes()
    except OSError as problem:
        raise SubmissionError("unreadable", error=problem.strerror or str(problem)) from None
    if not raw.strip():
        raise SubmissionError("empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SubmissionError("not_text") from None
    try:
        notebook = nbformat.reads(text, as_version=4)
    except NotJSONError as problem:
        raise SubmissionError("not_json", error=str(problem.__cause__ or problem)[:120]) from None
    except Exception as problem:  # nbformat's readers raise many kinds on malformed notebooks
        raise SubmissionError("not_notebook", error=str(problem)[:120]) from None
    if not isinstance(notebook.get("cells"), list):
        raise SubmissionError("not_notebook")
    return notebook


def _assignment_of(path: Path, notebook: nbformat.NotebookNode) -> str | None:
    meta = notebook.metadata.get("autograder", {})
    if isinstance(meta, dict) and meta.get("assignment") in ASSIGNMENTS:
        return str(meta["assignment"])
    if path.stem in ASSIGNMENTS:
        return path.stem
    # the assignment whose answer cells the notebook has most of
    ids = {_grade_id(c) for c in notebook.cells}
    best = max(ASSIGNMENTS, key=lambda a: len(ids & {q.name for q in exercise(a).questions}))
    return best if ids & {q.name for q in exercise(best).questions} else None


def _student_of(path: Path, assignment: str) -> str:
    if path.stem != assignment and path.stem not in ASSIGNMENTS:
        return path.stem
    return path.parent.name


def _grade_id(cell: Any) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    return grade_id if isinstance(grade_id, str) else None


@lru_cache(maxsize=1024)
def _spec_cells(assignment: str, variant: Any = None) -> tuple[tuple[str, str, str], ...]:
    """(grade_id, role, source) of the instructor notebook's cells: locked, solution or test."""
    cells = []
    for cell in instructor_notebook(assignment, "en", thaw_variant(variant)).cells:
        meta = cell.metadata["nbgrader"]
        role = "solution" if meta.get("solution") else "test" if meta.get("grade") else "locked"
        cells.append((meta["grade_id"], role if cell.cell_type == "code" else "text", cell.source))
    return tuple(cells)


def job(
    submission: Submission,
    notebook: nbformat.NotebookNode,
    variant: Mapping[str, Any] | None = None,
) -> Job:
    """The cells to run for a submission and the answers to report, probes included.

    The locked cells are those of the student's own variant: numbers edited in a notebook (or a
    classmate's notebook handed in) run with the numbers the student was given.
    """
    frozen = freeze_variant(variant) if variant else None
    spec = _spec_cells(submission.assignment, frozen)
    ex = exercise(submission.assignment)
    questions = {q.name for q in ex.questions}
    from_spec = {grade_id for grade_id, role, _ in spec if role in ("locked", "test", "text")}
    # the given numbers and the checks, as released: a student's edits of locked cells do not count
    cells = [Cell(source) for grade_id, role, source in spec if role == "locked"]
    for position, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        grade_id = _grade_id(cell)
        if grade_id in from_spec:
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        cells.append(Cell(source, grade_id if grade_id in questions else None, position))
    return Job(tuple(cells), _asked(submission.assignment, frozen))


@lru_cache(maxsize=1024)
def _asked(assignment: str, variant: Any = None) -> tuple[Asked, ...]:
    """The answers to report, the same for every submission of a variant: function probes as
    students get them."""
    asked = []
    for q in exercise(assignment).questions:
        qid = f"{assignment}.{q.name}"
        probes = reference(qid, thaw_variant(variant)).probes if q.kind is Kind.FUNCTION else ()
        arguments = tuple(tuple(to_student(a) for a in args) for args in probes)
        asked.append(Asked(q.name, arguments or None))
    return tuple(asked)
