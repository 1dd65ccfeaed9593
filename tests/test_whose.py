"""Which notebook is whose, and what a student's file or value cannot do to the run.

In an nbgrader `submitted/` tree only STUDENT/ASSIGNMENT/ASSIGNMENT.ipynb is a submission, and it is
read only where it is the student's own; every other notebook in a student's folder is reported
and graded as nobody's. A timestamp that is no time, a message nothing can store, an answer of an
odd shape in a per-student course: each costs at most its own submission, and the run says what
became of every submission it found.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import demo
from autograder.classroom.copies import COPYABLE, whose_numbers
from autograder.classroom.submissions import (
    Found,
    SubmissionError,
    find,
    printable,
    read,
    valid_student,
)
from autograder.derivation.references import ASSIGNMENTS, exercise
from autograder.derivation.variants import draw
from autograder.judging.grading import is_right
from autograder.samples import answered, solution_code, submit

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "attention_step"
NOTEBOOK = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
WHEN = "2026-11-20 10:00:00.000000 UTC"
LATER = "2026-11-21 10:00:00.000000 UTC"


@cache
def notebook_text(kind: str = "anna") -> str:
    """The released notebook answered by a sample student (anna: all right, dora: nothing)."""
    released = ROOT / "release" / "de" / f"{ASSIGNMENT}.ipynb"
    return nbformat.writes(answered(released, demo.answers(ASSIGNMENT, kind)))


def put(course: Path, where: str, kind: str = "anna") -> Path:
    path = course / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notebook_text(kind), encoding="utf-8")
    return path


def link(course: Path, where: str, target: str) -> None:
    """A symbolic link at `where` to `target` (both below the course), written relative."""
    path = course / where
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(os.path.relpath(course / target, path.parent), path)


def hard_link(course: Path, where: str, target: str) -> None:
    (course / where).parent.mkdir(parents=True, exist_ok=True)
    os.link(course / target, course / where)


def fifo(course: Path, where: str) -> None:
    (course / where).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(course / where)


@dataclass(frozen=True)
class Layout:
    name: str
    build: Callable[[Path], None]
    # the path given to the grader, below the course
    given: str
    # (student, assignment) of each submission found → the key of its refusal (None: it is read)
    submissions: dict[tuple[str, str | None], str | None]
    # path below the course → whose folder it is in, of each notebook found that is none
    strays: dict[str, str | None] = field(default_factory=dict)


def _steps(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def build(course: Path) -> None:
        for step in steps:
            step(course)

    return build


def _put(where: str, kind: str = "anna") -> Callable[[Path], None]:
    def build(course: Path) -> None:
        put(course, where, kind)

    return build


def _link(where: str, target: str) -> Callable[[Path], None]:
    return lambda course: link(course, where, target)


def _hard(where: str, target: str) -> Callable[[Path], None]:
    return lambda course: hard_link(course, where, target)


def _fifo(where: str) -> Callable[[Path], None]:
    return lambda course: fifo(course, where)


ANNA = f"submitted/anna/{NOTEBOOK}"
SOURCE = f"source/{NOTEBOOK}"

LAYOUTS = [
    Layout("nbgrader", _put(ANNA), "submitted", {("anna", ASSIGNMENT): None}),
    Layout(
        "nested notebook",
        _steps(
            _put(ANNA),
            _put(f"submitted/nest1/{NOTEBOOK}"),
            _put(f"submitted/nest1/{ASSIGNMENT}/extra/anna.ipynb", "dora"),
        ),
        "submitted",
        {("anna", ASSIGNMENT): None, ("nest1", ASSIGNMENT): None},
        {f"submitted/nest1/{ASSIGNMENT}/extra/anna.ipynb": "nest1"},
    ),
    Layout(
        "nested whole tree",
        _steps(
            _put(ANNA),
            _put(f"submitted/nest2/{NOTEBOOK}"),
            _put(f"submitted/nest2/{ASSIGNMENT}/submitted/anna/{NOTEBOOK}", "dora"),
        ),
        "submitted",
        {("anna", ASSIGNMENT): None, ("nest2", ASSIGNMENT): None},
        {f"submitted/nest2/{ASSIGNMENT}/submitted/anna/{NOTEBOOK}": "nest2"},
    ),
    Layout(
        "stray second notebook",
        _steps(
            _put(f"submitted/bob/{NOTEBOOK}", "dora"),
            _put(f"submitted/bob/{ASSIGNMENT}/final.ipynb"),
        ),
        "submitted",
        {("bob", ASSIGNMENT): None},
        {f"submitted/bob/{ASSIGNMENT}/final.ipynb": "bob"},
    ),
    Layout(
        "a notebook beside the assignment folders and one beside the students",
        _steps(_put(ANNA), _put("submitted/anna/minima.ipynb"), _put("submitted/loose.ipynb")),
        "submitted",
        {("anna", ASSIGNMENT): None},
        {"submitted/anna/minima.ipynb": "anna", "submitted/loose.ipynb": None},
    ),
    Layout(
        "symlink to the course's instructor notebook",
        _steps(_put(SOURCE), _link(f"submitted/carl/{NOTEBOOK}", SOURCE)),
        "submitted",
        {("carl", ASSIGNMENT): "link_outside"},
    ),
    Layout(
        "symlink to another student's notebook",
        _steps(_put(ANNA), _link(f"submitted/carl/{NOTEBOOK}", ANNA)),
        "submitted",
        {("anna", ASSIGNMENT): None, ("carl", ASSIGNMENT): "link_outside"},
    ),
    Layout(
        "symlink within the student's own folder",
        _steps(
            _put("submitted/carl/drafts/final.ipynb"),
            _link(f"submitted/carl/{NOTEBOOK}", "submitted/carl/drafts/final.ipynb"),
        ),
        "submitted",
        {("carl", ASSIGNMENT): None},
    ),
    Layout(
        "symlinked assignment folder",
        _steps(_put(ANNA), _link(f"submitted/carl/{ASSIGNMENT}", f"submitted/anna/{ASSIGNMENT}")),
        "submitted",
        {("anna", ASSIGNMENT): None, ("carl", ASSIGNMENT): "link_outside"},
    ),
    Layout(
        "hard link to a file outside the student's folder",
        _steps(
            _put("elsewhere/answers.ipynb"),
            _hard(f"submitted/carl/{NOTEBOOK}", "elsewhere/answers.ipynb"),
        ),
        "submitted",
        {("carl", ASSIGNMENT): "hard_link"},
    ),
    Layout(
        "symlinked student folder",
        _steps(_put(ANNA), _link("submitted/eve", "submitted/anna")),
        "submitted",
        {("anna", ASSIGNMENT): None, ("eve", ASSIGNMENT): "folder_link"},
    ),
    Layout(
        "student folder linked to nowhere",
        _link("submitted/eve", "gone"),
        "submitted",
        {("eve", None): "folder_link"},
    ),
    Layout(
        "a loop of links",
        _steps(
            _link(f"submitted/carl/{NOTEBOOK}", f"submitted/carl/{ASSIGNMENT}/b.ipynb"),
            _link(f"submitted/carl/{ASSIGNMENT}/b.ipynb", f"submitted/carl/{NOTEBOOK}"),
        ),
        "submitted",
        {("carl", ASSIGNMENT): "link_outside"},
        {f"submitted/carl/{ASSIGNMENT}/b.ipynb": "carl"},
    ),
    Layout(
        "a pipe where the notebook should be",
        _fifo(f"submitted/carl/{NOTEBOOK}"),
        "submitted",
        {("carl", ASSIGNMENT): "not_a_file"},
    ),
    Layout(
        "a student's folder given",
        _steps(
            _put(ANNA),
            _put(f"submitted/nest1/{NOTEBOOK}"),
            _put(f"submitted/nest1/{ASSIGNMENT}/extra/anna.ipynb"),
        ),
        "submitted/nest1",
        {("nest1", ASSIGNMENT): None},
        {f"submitted/nest1/{ASSIGNMENT}/extra/anna.ipynb": "nest1"},
    ),
    Layout(
        "a folder deep in a student's folder given",
        _steps(
            _put(f"submitted/nest1/{NOTEBOOK}"),
            _put(f"submitted/nest1/{ASSIGNMENT}/extra/anna.ipynb"),
        ),
        f"submitted/nest1/{ASSIGNMENT}/extra",
        {},
        {f"submitted/nest1/{ASSIGNMENT}/extra/anna.ipynb": "nest1"},
    ),
    Layout(
        "the course folder given: its submitted/ is a tree",
        _steps(_put(ANNA), _put(f"submitted/nest2/{ASSIGNMENT}/submitted/zed/{NOTEBOOK}")),
        ".",
        {("anna", ASSIGNMENT): None},
        {f"submitted/nest2/{ASSIGNMENT}/submitted/zed/{NOTEBOOK}": "nest2"},
    ),
]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda row: row.name)
def test_only_a_students_own_notebook_at_its_place_is_their_submission(
    tmp_path: Path, layout: Layout
) -> None:
    course = tmp_path / "course"
    course.mkdir()
    layout.build(course)
    found, strays = find([course / layout.given])
    refusals: dict[tuple[str, str | None], str | None] = {}
    for f in found:
        assert f.student is not None, f
        refusals[(f.student, f.assignment)] = _refusal(f)
    assert refusals == layout.submissions
    assert {str(s.path.relative_to(course)): s.student for s in strays} == layout.strays


def _refusal(found: Found) -> str | None:
    try:
        submission, _ = read(found)
    except SubmissionError as problem:
        return problem.key
    assert (submission.student, submission.assignment) == (found.student, found.assignment)
    return None


def test_a_stray_notebook_is_named_to_its_student(tmp_path: Path) -> None:
    put(tmp_path, f"submitted/nest1/{NOTEBOOK}")
    put(tmp_path, f"submitted/nest1/{ASSIGNMENT}/extra/anna.ipynb")
    (found,), _ = find([tmp_path / "submitted"])
    (note,) = found.notes
    assert note.key == "strays"
    assert dict(note.details) == {
        "paths": f"{ASSIGNMENT}/extra/anna.ipynb",
        "expected": NOTEBOOK,
    }


def test_a_tree_behind_a_linked_folder_is_read_where_it_really_is(tmp_path: Path) -> None:
    # the teacher's paths may pass through links (a temporary folder often does): only what is
    # below submitted/ is the students'
    put(tmp_path / "real", ANNA)
    os.symlink(tmp_path / "real", tmp_path / "alias")
    found, strays = find([tmp_path / "alias" / "submitted"])
    assert [(_refusal(f), f.student) for f in found] == [(None, "anna")]
    assert strays == []


def test_loose_notebooks_and_folders_are_read_as_before(tmp_path: Path) -> None:
    put(tmp_path, "hand-ins/clara.ipynb")
    put(tmp_path, "hand-ins/dora/attention_step.ipynb")
    put(tmp_path, "single.ipynb")
    found, strays = find([tmp_path / "hand-ins", tmp_path / "single.ipynb"])
    assert strays == []
    read_as = [read(f)[0] for f in found]
    assert [(s.student, s.assignment) for s in read_as] == [
        ("clara", ASSIGNMENT),
        ("dora", ASSIGNMENT),
        ("single", ASSIGNMENT),
    ]
    assert all(f.home is None for f in found)
    assert read(found[0], student="someone")[0].student == "someone"


def test_a_notebooks_place_in_a_tree_says_whose_whatever_the_options(tmp_path: Path) -> None:
    put(tmp_path, ANNA)
    (found,), _ = find([tmp_path / "submitted"])
    submission, _ = read(found, student="bob", assignment="minima")
    assert (submission.student, submission.assignment) == ("anna", ASSIGNMENT)


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        (WHEN, True),
        ("2026-11-20T10:00:00+01:00", True),
        ("9999-12-31 23:59:59-05:00", False),  # past the last day nbgrader can keep, in UTC
        ("0001-01-01 00:00:00+05:00", False),  # before the first
        ("yesterday at noon", False),
        ("2026-11-20 10:00:00 UTC" + "x" * 10**6, False),
        ("\udcff", False),
    ],
)
def test_a_timestamp_that_is_no_time_counts_as_none_and_says_so(
    tmp_path: Path, written: str, kept: bool
) -> None:
    path = put(tmp_path, ANNA)
    (path.parent / "timestamp.txt").write_bytes(os.fsencode(written))
    (found,), _ = find([tmp_path / "submitted"])
    assert (found.timestamp is not None) is kept
    assert [n.key for n in found.notes] == ([] if kept else ["timestamp_not_a_time"])
    submission, _ = read(found)
    assert submission.timestamp is not None  # the notebook's own time instead


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("ValueError: \ud800", "ValueError: \ufffd"),
        ("half \udfff of a pair", "half \ufffd of a pair"),
        (os.fsdecode(b"stud\xffent"), "stud\ufffdent"),
        ("Grüße, привет", "Grüße, привет"),
    ],
)
def test_text_that_leaves_the_grader_can_be_stored(text: str, shown: str) -> None:
    assert printable(text) == shown
    printable(text).encode("utf-8")


def test_a_name_of_dots_is_no_student() -> None:
    assert valid_student("..") is None and valid_student(".") is None
    assert valid_student("a.b") == "a.b"


ODD_VALUES: list[Any] = [
    {"a": 0.5, "b": 1.0, "c": 2.0, "d": 3.0, "e": 4.0, "f": 5.0, "g": 6.0},
    dict.fromkeys(("iteration", "z_hat", "error", "w11", "w22", "w33", "w44"), 0.5),
    {"\ud800": [1.0]},
    {1.0: {"nested": [1, 2]}},
    [[1, 2], [3]],
    [None, "x", {}],
    "",
    "\ud800",
    10**400,
    [[[[[[1.0]]]]]],
    {},
    [],
    True,
]


@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
def test_copy_detection_never_raises_on_any_answer(value: Any) -> None:
    secret = b"a course secret of its own"
    for assignment in ASSIGNMENTS:
        if not exercise(assignment).vary:
            continue
        classmates = {s: draw(assignment, s, secret) for s in ("s1", "s2")}
        for q in exercise(assignment).questions:
            if q.kind not in COPYABLE:
                continue
            qid = f"{assignment}.{q.name}"
            assert is_right(qid, value, classmates["s1"]) in (True, False)
            assert whose_numbers(qid, q, value, "s1", classmates) in (None, "s2")


# The grading runs: one course of layouts and records graded through the CLI.


def cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("autograder")
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _write(course: Path, student: str, kind: str = "anna", when: str = WHEN, **code: str) -> Path:
    released = ROOT / "release" / "de" / f"{ASSIGNMENT}.ipynb"
    answers = {**demo.answers(ASSIGNMENT, kind), **code}
    return submit(course, student, ASSIGNMENT, answered(released, answers), when)


# expected total per student in the gradebook (full marks: 10)
TOTALS = {
    "a_before": 10.0,
    "bob": 0.0,  # his own notebook answers nothing; a right one beside it is a stray
    "carl": 0.0,  # a link to the course's instructor notebook
    "dan": 0.0,  # a link to victim's notebook
    "eve": 0.0,  # her folder is a link to victim's
    "hal": 0.0,  # a hard link to a right notebook outside the tree
    "late_stamp": 10.0,
    "nest1": 10.0,
    "nest2": 10.0,
    "surrogate": 9.0,
    "victim": 10.0,
    "z_after": 10.0,
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    course = tmp_path_factory.mktemp("whose") / "course"
    for student in ("a_before", "victim", "nest1", "nest2", "z_after"):
        _write(course, student)
    # a notebook named after victim in nest1's folder, a whole tree of victim's in nest2's
    nbformat.write(
        answered(ROOT / "release" / "de" / f"{ASSIGNMENT}.ipynb", {}),
        _folder(course, "nest1", "extra") / "victim.ipynb",
    )
    nested = _write(course / "submitted" / "nest2" / ASSIGNMENT, "victim", "dora", LATER)
    assert nested.exists()
    _write(course, "bob", "dora")
    put(course, f"submitted/bob/{ASSIGNMENT}/{ASSIGNMENT} (1).ipynb")
    _write(course, "carl").unlink()
    link(course, f"submitted/carl/{NOTEBOOK}", SOURCE)  # nbgrader writes source/ as it grades
    _write(course, "dan").unlink()
    link(course, f"submitted/dan/{NOTEBOOK}", f"submitted/victim/{NOTEBOOK}")
    link(course, "submitted/eve", "submitted/victim")
    put(course, "outside/answers.ipynb")
    _write(course, "hal").unlink()
    hard_link(course, f"submitted/hal/{NOTEBOOK}", "outside/answers.ipynb")
    _write(course, "late_stamp", when="9999-12-31 23:59:59-05:00")
    _write(course, "surrogate", slide_error="raise ValueError('\\ud800')")
    out = course / "results.json"
    first = cli("grade", str(course / "submitted"), "--json", str(out), "--workers", "1")
    again = cli("grade", str(course / "submitted"), "--workers", "1")
    return {
        "course": course,
        "first": first,
        "again": again,
        "results": json.loads(out.read_text(encoding="utf-8")),
    }


def _folder(course: Path, student: str, *parts: str) -> Path:
    folder = course / "submitted" / student / ASSIGNMENT / Path(*parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.slow
def test_the_run_ends_well_and_counts_every_submission(graded: dict[str, Any]) -> None:
    first = graded["first"]
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    assert "12 submissions found: 8 graded, 4 refused, 0 graded already; 3 notebooks ignored" in (
        first.stdout
    )
    assert f"submitted/nest1/{ASSIGNMENT}/extra/victim.ipynb  (in nest1's folder)" in first.stdout
    again = graded["again"]
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert "12 submissions found: 0 graded, 4 refused, 8 graded already" in again.stdout


@pytest.mark.slow
def test_each_student_has_their_own_grade_in_the_gradebook(graded: dict[str, Any]) -> None:
    course = graded["course"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        totals = {s.student.id: s.score for s in gb.find_assignment(ASSIGNMENT).submissions}
    assert totals == pytest.approx(TOTALS)
    assert sorted(r["student"] for r in graded["results"]) == sorted(TOTALS)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("student", "says"),
    [
        ("nest1", f"Nicht bewertet: {ASSIGNMENT}/extra/victim.ipynb"),
        ("nest2", f"Nicht bewertet: {ASSIGNMENT}/submitted/victim/{NOTEBOOK}"),
        ("bob", f"Nicht bewertet: {ASSIGNMENT}/{ASSIGNMENT} (1).ipynb"),
        ("carl", "Link auf eine Datei außerhalb deines Ordners"),
        ("dan", "Link auf eine Datei außerhalb deines Ordners"),
        ("eve", "Der Ordner eve ist ein Link"),
        ("hal", "harter Link"),
        ("late_stamp", "(„9999-12-31 23:59:59-05:00“) ist keine Zeit"),
        ("surrogate", "ValueError: \ufffd"),
    ],
)
def test_each_student_is_told_what_was_done_with_their_folder(
    graded: dict[str, Any], student: str, says: str
) -> None:
    (result,) = [r for r in graded["results"] if r["student"] == student]
    assert any(says in e for e in result["errors"]), result["errors"]
    page = graded["course"] / "reports" / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert says in page.read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_message_nothing_could_store_is_stored_everywhere(graded: dict[str, Any]) -> None:
    course = graded["course"]
    assert "ValueError: \ufffd" in graded["first"].stdout
    (result,) = [r for r in graded["results"] if r["student"] == "surrogate"]
    (slide_error,) = [q for q in result["questions"] if q["id"].endswith(".slide_error")]
    assert "\ufffd" in slide_error["feedback"]
    db = sqlite3.connect(course / "gradebook.db")
    try:
        comments = [row[0] for row in db.execute("SELECT auto_comment FROM comment")]
    finally:
        db.close()
    assert any(c.startswith(slide_error["feedback"] + "\n") for c in comments)


@pytest.mark.slow
def test_a_run_that_cannot_record_a_result_does_not_end_well(tmp_path: Path) -> None:
    notebook = put(tmp_path, "clara.ipynb")
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the feedback folder would be\n")
    done = cli(
        "grade", str(notebook), "--course", str(tmp_path / "course"), "--feedback", str(blocked)
    )
    assert done.returncode == 1, done.stdout
    assert "could not write the feedback of clara" in done.stderr
    assert "1 result not recorded" in done.stdout
    assert "Traceback" not in done.stderr
    with Gradebook(f"sqlite:///{tmp_path / 'course' / 'gradebook.db'}") as gb:
        assert gb.find_submission(ASSIGNMENT, "clara").score == 10


# A per-student course: answers of odd shapes and copies, and the run goes on.

STUDENTS = ["s01", "s02", "s03"]


@pytest.mark.slow
def test_a_per_student_course_grades_every_student_whatever_the_table(tmp_path: Path) -> None:
    course = tmp_path / "course"
    secret = course / ".autograder" / "secret"
    secret.parent.mkdir(parents=True, mode=0o700)
    secret.write_text(hashlib.sha256(b"test_whose").hexdigest() + "\n")
    secret.chmod(0o600)
    students = tmp_path / "students.txt"
    students.write_text("\n".join(STUDENTS) + "\n", encoding="utf-8")
    released = cli(
        "release",
        ASSIGNMENT,
        "--course",
        str(course),
        "--out",
        str(tmp_path / "out"),
        "--per-student",
        "--students",
        str(students),
    )
    assert released.returncode == 0, released.stderr
    tables = {
        "s01": None,
        # as many columns as asked, under other names, each a single number
        "s02": "table = {" + ", ".join(f"'c{i}': 0.5" for i in range(7)) + "}",
        "s03": "table = {'iteration': 0.0, 'z_hat': 1.0, 'error': 2.0, 'w11': 3.0, "
        "'w22': 4.0, 'w33': 5.0, 'w44': 6.0}",
    }
    for student, table in tables.items():
        own = course / "release_per_student" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        code = {q.name: solution_code(ASSIGNMENT, q.name) for q in exercise(ASSIGNMENT).questions}
        if table is not None:
            code["table"] = table
        submit(course, student, ASSIGNMENT, answered(own, code), WHEN)
    out = tmp_path / "graded.json"
    done = cli("grade", str(course / "submitted"), "--json", str(out), "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "failed" not in done.stderr
    results = {r["student"]: r for r in json.loads(out.read_text(encoding="utf-8"))}
    tables_graded = {
        student: next(q for q in result["questions"] if q["id"].endswith(".table"))
        for student, result in results.items()
    }
    assert tables_graded["s01"]["score"] == 3
    for student in ("s02", "s03"):
        table = tables_graded[student]
        assert table["score"] == 0 and table["status"] == "invalid", table
        assert "einzelner Wert" in table["feedback"], table
        assert table["copied_from"] is None
        # the rest as the worked solutions score on the student's own numbers
        assert results[student]["score"] == results["s01"]["score"] - 3
