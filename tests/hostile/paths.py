"""Hostile cases: paths (which notebook is whose) and records (what a student's text or file does
to the gradebook, the feedback pages and the summary).

Only submitted/STUDENT/ASSIGNMENT/ASSIGNMENT.ipynb is a submission, read only where it is the
student's own. The layout cases place their tricks after every case is written: notebooks named
after `path_victim` in their own folders, links and hard links to files that are not theirs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
from kit import ASSIGNMENT, WRONG, WRONG_OPTION, Case, in_cell, last, right_notebook

NOTEBOOK = f"{ASSIGNMENT}.ipynb"
VICTIM = "path_victim"
LATER = "2026-11-21 10:00:00.000000 UTC"
NOT_GRADED = "Nicht bewertet"
LINK_OUT = "Link auf eine Datei außerhalb deines Ordners"


def _unanswered() -> str:
    notebook = right_notebook()
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "# YOUR CODE HERE\nraise NotImplementedError()"
    return nbformat.writes(notebook)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _own(submitted: Path, case: str) -> Path:
    return submitted / case / ASSIGNMENT / NOTEBOOK


def _nested_notebook(submitted: Path) -> None:
    _write(submitted / "nested_notebook" / ASSIGNMENT / "extra" / f"{VICTIM}.ipynb", _unanswered())


def _nested_tree(submitted: Path) -> None:
    tree = submitted / "nested_tree" / ASSIGNMENT / "submitted" / VICTIM / ASSIGNMENT
    _write(tree / NOTEBOOK, _unanswered())
    _write(tree / "timestamp.txt", LATER + "\n")


def _stray_second(submitted: Path) -> None:
    _write(submitted / "stray_second" / ASSIGNMENT / f"{ASSIGNMENT} (2).ipynb", _right())


def _right() -> str:
    return nbformat.writes(right_notebook())


def _linked(case: str, target: Callable[[Path], Path]) -> Callable[[Path], None]:
    """The case's notebook replaced by a link to `target(submitted)`, written relative."""

    def place(submitted: Path) -> None:
        own = _own(submitted, case)
        own.unlink()
        os.symlink(os.path.relpath(target(submitted), own.parent), own)

    return place


def _instructor_notebook(submitted: Path) -> Path:
    # nbgrader writes the course's source/ as the run enters the assignment, before any is read
    return submitted.parent / "source" / ASSIGNMENT / NOTEBOOK


def _hard_link(submitted: Path) -> None:
    outside = submitted.parent / "elsewhere" / "answers.ipynb"
    _write(outside, _right())
    own = _own(submitted, "hard_link")
    own.unlink()
    os.link(outside, own)


def _linked_folder(submitted: Path) -> None:
    """The student's folder a link to a classmate's."""
    folder = submitted / "linked_folder"
    shutil.rmtree(folder)
    os.symlink(VICTIM, folder)


def _linked_assignment(submitted: Path) -> None:
    """The assignment folder a link to a classmate's."""
    folder = submitted / "linked_assignment" / ASSIGNMENT
    shutil.rmtree(folder)
    os.symlink(Path("..") / VICTIM / ASSIGNMENT, folder)


def _pipe(submitted: Path) -> None:
    own = _own(submitted, "pipe")
    own.unlink()
    os.mkfifo(own)


def _timestamp(case: str, data: bytes) -> Callable[[Path], None]:
    def place(submitted: Path) -> None:
        (submitted / case / ASSIGNMENT / "timestamp.txt").write_bytes(data)

    return place


# the whole submission refused: 0 for every question
REFUSED = None

CASES: tuple[Case, ...] = (
    Case(VICTIM, "paths", "the classmate the others try to grade as", lambda nb: nb, {}),
    Case(
        "nested_notebook",
        "paths",
        "a notebook named after a classmate in a folder of one's own",
        lambda nb: nb,
        {},
        NOT_GRADED,
        _nested_notebook,
    ),
    Case(
        "nested_tree",
        "paths",
        "a whole submitted/ tree of a classmate's, later, inside one's own folder",
        lambda nb: nb,
        {},
        NOT_GRADED,
        _nested_tree,
    ),
    Case(
        "stray_second",
        "paths",
        "a wrong notebook where it belongs and a right one beside it",
        in_cell("slide_error", WRONG_OPTION),
        WRONG,
        NOT_GRADED,
        _stray_second,
    ),
    Case(
        "link_to_source",
        "paths",
        "the notebook a symlink to the course's instructor notebook",
        lambda nb: nb,
        REFUSED,
        LINK_OUT,
        _linked("link_to_source", _instructor_notebook),
    ),
    Case(
        "link_to_classmate",
        "paths",
        "the notebook a symlink to a classmate's",
        lambda nb: nb,
        REFUSED,
        LINK_OUT,
        _linked("link_to_classmate", lambda submitted: _own(submitted, VICTIM)),
    ),
    Case(
        "hard_link",
        "paths",
        "the notebook a hard link to a right notebook outside the tree",
        lambda nb: nb,
        REFUSED,
        "harter Link",
        _hard_link,
    ),
    Case(
        "linked_folder",
        "paths",
        "the student's folder a symlink to a classmate's",
        lambda nb: nb,
        REFUSED,
        "ist ein Link auf einen anderen Ordner",
        _linked_folder,
    ),
    Case(
        "linked_assignment",
        "paths",
        "the assignment folder a symlink to a classmate's",
        lambda nb: nb,
        REFUSED,
        LINK_OUT,
        _linked_assignment,
    ),
    Case(
        "pipe",
        "paths",
        "a named pipe where the notebook should be (reading it would wait for ever)",
        lambda nb: nb,
        REFUSED,
        "keine gewöhnliche Datei",
        _pipe,
    ),
    Case(
        "surrogate_message",
        "records",
        "an error message with a lone surrogate, which no file or database can hold",
        last("raise ValueError('\\ud800')"),
        WRONG,
        "ValueError: \ufffd",
    ),
    Case(
        "surrogate_answer",
        "records",
        "an answer that is a lone surrogate, quoted in the feedback",
        in_cell("slide_error", "slide_error = '\\ud800'"),
        WRONG,
        '"\ufffd" ist keine der Optionen',
    ),
    Case(
        "late_timestamp",
        "records",
        "timestamp.txt past the last moment the gradebook can keep (in UTC)",
        lambda nb: nb,
        {},
        "keine Zeit, die das Notenbuch speichern kann",
        _timestamp("late_timestamp", b"9999-12-31 23:59:59-05:00\n"),
    ),
    Case(
        "garbage_timestamp",
        "records",
        "timestamp.txt of a megabyte of bytes that are no time",
        lambda nb: nb,
        {},
        "keine Zeit",
        _timestamp("garbage_timestamp", b"\xff\x00" * 2**19),
    ),
)
