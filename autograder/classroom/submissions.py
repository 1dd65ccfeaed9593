"""Submissions: where they are (files, folders, an nbgrader `submitted/` tree), whose, and read.

In a `submitted/` tree a notebook's place says whose it is, and only what is the student's own is
read; everything else found there is reported, never graded as anybody's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import Any, TypeVar

import nbformat
from nbformat.reader import NotJSONError

from autograder.derivation.references import ASSIGNMENTS, exercise
from autograder.release.per_student import STUDENT_ID

# A notebook larger than this is refused before it is read (a student's is a few hundred kB).
MAX_NOTEBOOK_BYTES = 64 * 1024**2
# nbgrader's layout: submitted/STUDENT/ASSIGNMENT/NOTEBOOK, with the time of collection beside it
TREE = "submitted"
TIMESTAMP = "timestamp.txt"
# the folders of a course that hold no submission: what nbgrader and the grader write there
OTHERS = frozenset({"autograded", "feedback", "reports"})
# more than nbgrader writes ("2026-11-20 10:00:00.000000 UTC"); what a longer file holds is no time
TIMESTAMP_BYTES = 100


class SubmissionError(Exception):
    """A submission that cannot be graded at all: `key` names the message, `details` fill it in."""

    def __init__(self, key: str, **details: Any) -> None:
        super().__init__(key, details)
        self.key = key
        self.details = details


@dataclass(frozen=True)
class Note:
    """What a graded submission's student and teacher are told besides the marks (a stray notebook,
    a timestamp that is no time): `key` names the message, `details` fill it in."""

    key: str
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Submission:
    path: Path
    student: str
    assignment: str
    # None only where neither nbgrader's timestamp nor the file's own time is a date
    timestamp: datetime | None
    # the language of the notebook's texts, if it says (feedback follows it unless told otherwise)
    lang: str | None = None
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True)
class Found:
    """A file found under the given paths, with what its place says about it (before reading it).

    In a `submitted/` tree `home` is the student's folder: what is read must be the student's own.
    """

    path: Path
    student: str | None
    assignment: str | None
    timestamp: datetime | None
    home: Path | None = None
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True)
class Stray:
    """A notebook in a `submitted/` tree that is no submission: reported, never graded."""

    path: Path
    # whose folder it is in (None: beside the students' folders)
    student: str | None


Placed = TypeVar("Placed", Found, Stray)


def find(paths: Sequence[Path]) -> tuple[list[Found], list[Stray]]:
    """Every submission under `paths`, and the notebooks in `submitted/` trees that are none.

    In a tree only STUDENT/ASSIGNMENT/ASSIGNMENT.ipynb is a submission (nbgrader's layout); any
    other notebook in a student's folder is that student's and graded as nobody's. Elsewhere a file
    is itself and a folder is searched, a `submitted/` folder in it read as a tree.
    """
    found: list[Found] = []
    strays: list[Stray] = []
    for given in paths:
        tree = _tree_above(given)
        trees = [tree] if tree is not None else []
        if tree is None and given.is_dir():
            notebooks, apart = _notebooks(given, apart=OTHERS | {TREE})
            found += [_loose(p) for p in notebooks]
            trees = [(folder, ()) for folder in apart if folder.name == TREE]
        elif tree is None:
            found.append(_loose(given))
        for root, below in trees:
            in_tree, astray = _tree(root, below)
            found += in_tree
            strays += astray
    return _unique(found), _unique(strays)


def _loose(path: Path) -> Found:
    return Found(path, None, None, None)


def _unique(items: list[Placed]) -> list[Placed]:
    """Each file once, where the paths given overlap (a tree and a student's folder in it)."""
    seen: set[str] = set()
    kept = []
    for item in items:
        key = os.path.normpath(item.path.absolute())
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def _tree_above(given: Path) -> tuple[Path, tuple[str, ...]] | None:
    """The `submitted/` folder that `given` is or is in (the nearest), and the names below it."""
    parts = Path(os.path.normpath(given.absolute())).parts
    if TREE not in parts:
        return None
    below = parts[len(parts) - parts[::-1].index(TREE) :]
    # the root as the path was written (relative stays relative), where that can say it
    written = Path(os.path.normpath(given)).parts
    if len(written) > len(below) and written[len(written) - len(below) :] == below:
        return Path(*written[: len(written) - len(below)]), below
    return Path(*parts[: len(parts) - len(below)]), below


def _tree(root: Path, below: tuple[str, ...]) -> tuple[list[Found], list[Stray]]:
    """The submissions and strays of a `submitted/` tree, or of the part of it `below` names."""
    found: list[Found] = []
    strays: list[Stray] = []
    for name in below[:1] or _listed(root):
        entry = root / name
        if name.endswith(".ipynb") and not entry.is_dir():
            strays.append(Stray(entry, None))
        elif entry.is_dir() or entry.is_symlink():
            more, astray = _student(root / name)
            found += more
            strays += astray
    within = root.joinpath(*below)
    return (
        [f for f in found if f.path == within or within in f.path.parents],
        [s for s in strays if s.path == within or within in s.path.parents],
    )


def _student(home: Path) -> tuple[list[Found], list[Stray]]:
    """A student's folder: a submission per assignment folder that holds the assignment's
    notebook, every other notebook a stray. A folder that is a link is read as the student's
    submissions, each refused (and never searched)."""
    student = home.name
    placed = {
        assignment: home / assignment / notebook_name(assignment)
        for assignment in _listed(home)
        if (home / assignment).is_dir()
        and os.path.lexists(home / assignment / notebook_name(assignment))
    }
    if home.is_symlink():
        refused = [
            Found(path, student, assignment, None, home) for assignment, path in placed.items()
        ]
        return refused or [Found(home, student, None, None, home)], []
    # a submission's notebook may be a link to another file in the folder: that file is no stray
    submitted = set(placed.values()) | {_real(p) for p in placed.values()} - {None}
    notebooks, _ = _notebooks(home)
    strays = [Stray(p, student) for p in notebooks if not {p, _real(p)} & submitted]
    found = []
    for assignment, path in placed.items():
        timestamp, notes = _timestamp_file(path.parent)
        beside = [s.path.relative_to(home) for s in strays if home / assignment in s.path.parents]
        if beside:
            notes += (_strays_note(assignment, beside),)
        found.append(Found(path, student, assignment, timestamp, home, notes))
    return found, strays


def notebook_name(assignment: str) -> str:
    """The notebook a release of the assignment defines (one, named after it: `release.generate`)."""
    return f"{assignment}.ipynb"


# a stray note names this many of the stray notebooks (a folder may hold thousands)
NAMED_STRAYS = 5


def _strays_note(assignment: str, paths: list[Path]) -> Note:
    named = ", ".join(printable(p) for p in paths[:NAMED_STRAYS])
    if len(paths) > NAMED_STRAYS:
        named += f" … (+{len(paths) - NAMED_STRAYS})"
    expected = f"{assignment}/{notebook_name(assignment)}"
    return Note("strays", (("paths", named), ("expected", expected)))


def _listed(folder: Path) -> list[str]:
    """The names in a folder, hidden ones not; none where it cannot be listed."""
    try:
        return sorted(name for name in os.listdir(folder) if not name.startswith("."))
    except OSError:
        return []


def _notebooks(folder: Path, apart: frozenset[str] = frozenset()) -> tuple[list[Path], list[Path]]:
    """The notebooks under a folder (hidden ones not, links to folders not followed), and the
    folders named in `apart`, set aside unsearched."""
    notebooks: list[Path] = []
    set_aside: list[Path] = []
    for top, folders, files in os.walk(folder):
        here = Path(top)
        set_aside += [here / f for f in folders if f in apart]
        folders[:] = sorted(f for f in folders if not f.startswith(".") and f not in apart)
        notebooks += [here / f for f in files if f.endswith(".ipynb") and not f.startswith(".")]
    return sorted(notebooks), sorted(set_aside)


def _real(path: Path) -> Path | None:
    """Where a path leads once every link is followed; None for a loop of links."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a loop of links (Python < 3.13)
        return None


def _own(path: Path, home: Path) -> None:
    """What is read from a student's folder must be the student's: the folder where its name says
    (not a link to another), the file inside it once links are followed (a link out of it points
    at a classmate's notebook, the course's solutions …)."""
    real_home = _real(home)
    root = _real(home.parent)
    if real_home is None or root is None or real_home != root / home.name:
        raise SubmissionError("folder_link", folder=printable(home.name))
    real = _real(path)
    if real is None or not real.is_relative_to(real_home):
        raise SubmissionError("link_outside")


def _timestamp_file(folder: Path) -> tuple[datetime | None, tuple[Note, ...]]:
    """nbgrader's `timestamp.txt` beside a submitted notebook. One that is not a time nbgrader can
    keep counts as none (the notebook's own time is used), and the student is told."""
    stamp = folder / TIMESTAMP
    if not stamp.is_file():
        return None, ()
    try:
        with stamp.open("rb") as handle:
            text = handle.read(TIMESTAMP_BYTES).decode("utf-8", "replace").strip()
    except OSError as problem:
        return None, (Note("timestamp_unreadable", (("error", problem.strerror or ""),)),)
    try:
        moment = datetime.fromisoformat(text.replace(" UTC", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        moment.astimezone(UTC)  # nbgrader keeps naive UTC: a time past 9999-12-31 in UTC is none
    except (ValueError, OverflowError):
        return None, (Note("timestamp_not_a_time", (("text", printable(text)[:40]),)),)
    return moment, ()


def modified(mtime: float) -> datetime | None:
    """A file's modification time as a date; None where it is none (a file may claim any time)."""
    try:
        return datetime.fromtimestamp(mtime, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def read(
    found: Found, student: str | None = None, assignment: str | None = None
) -> tuple[Submission, nbformat.NotebookNode]:
    """Load a found notebook and settle whose it is and which assignment (SubmissionError if not).

    A notebook's place in a `submitted/` tree says whose and which; `student` and `assignment`
    speak for notebooks whose place does not.
    """
    if found.home is not None:
        _own(found.path, found.home)
    try:
        stat = found.path.stat()
    except OSError as problem:
        raise SubmissionError("unreadable", error=problem.strerror or str(problem)) from None
    if not S_ISREG(stat.st_mode):
        raise SubmissionError("not_a_file")
    # a second name of the file may be anywhere: a classmate's folder, the course's solutions
    if found.home is not None and stat.st_nlink > 1:
        raise SubmissionError("hard_link", links=stat.st_nlink)
    if stat.st_size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError("too_big", size=stat.st_size, limit=MAX_NOTEBOOK_BYTES)
    notebook = load(found.path)
    meta = notebook.metadata.get("autograder", {})
    meta = meta if isinstance(meta, dict) else {}
    which = found.assignment or assignment or _assignment_of(found.path, notebook)
    if which is None:
        raise SubmissionError("no_assignment", assignments=", ".join(ASSIGNMENTS))
    if which not in ASSIGNMENTS:
        raise SubmissionError(
            "unknown_assignment", assignment=which, assignments=", ".join(ASSIGNMENTS)
        )
    who = found.student or student or _student_of(found.path, which)
    if not STUDENT_ID.match(who):
        raise SubmissionError("bad_student", student=printable(who)[:100])
    moment = found.timestamp or modified(stat.st_mtime)
    lang = meta.get("lang") if meta.get("lang") in ("de", "en", "ru") else None
    return Submission(found.path, who, which, moment, lang, found.notes), notebook


# what a student's text may hold that no file can store: a lone half of a UTF-16 pair (those that
# stand for the undecodable bytes of a file name, U+DC80…U+DCFF, are turned back into the bytes)
_LONE_SURROGATE = re.compile("[\ud800-\udc7f\udd00-\udfff]")


def printable(text: str | Path) -> str:
    """A path, name or message as text that can be printed and stored: undecodable bytes of a file
    name and lone surrogates of a student's text shown as �."""
    escaped = _LONE_SURROGATE.sub("\ufffd", os.fspath(text))
    return os.fsencode(escaped).decode("utf-8", "replace")


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
    ids = {grade_id_of(c) for c in notebook.cells}
    best = max(ASSIGNMENTS, key=lambda a: len(ids & {q.name for q in exercise(a).questions}))
    return best if ids & {q.name for q in exercise(best).questions} else None


def _student_of(path: Path, assignment: str) -> str:
    if path.stem != assignment and path.stem not in ASSIGNMENTS:
        return path.stem
    return path.parent.name


def grade_id_of(cell: Any) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    return grade_id if isinstance(grade_id, str) else None
