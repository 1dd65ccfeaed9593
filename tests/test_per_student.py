"""A class released per student, answered (some copying) and graded: each student against their own
numbers, copies named, edited numbers and a classmate's notebook graded with the student's own.

Everything runs as a teacher runs it: `autograder release --per-student` through nbgrader,
`autograder answers --student`, `autograder grade` into the course's gradebook.
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest
from teachers_key import teachers_lines

from autograder import grade_answer
from autograder.classroom.marking import mark
from autograder.classroom.submissions import Submission
from autograder.derivation.references import exercise, reference
from autograder.derivation.variants import course_secret
from autograder.judging.grading import is_right
from autograder.model.spec import Kind
from autograder.release.assignments import generate, nbgrader_api
from autograder.release.per_student import Variants, read_students, roster
from autograder.samples import answered, solution_code, submit, value_code
from autograder.sandbox.execution import Answer, Job, Limits, Run

pytestmark = pytest.mark.slow

ASSIGNMENT = "gradient_descent"
STUDENTS = ["s01", "s02", "s03", "s04", "s05"]
WHEN = "2026-11-20 10:00:00.000000 UTC"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("autograder")
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=900, check=False
    )


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("per_student") / "course"
    # a fixed secret, so that every run draws the same numbers (a teacher's is made at random)
    secret = root / ".autograder" / "secret"
    secret.parent.mkdir(parents=True, mode=0o700)
    secret.write_text(hashlib.sha256(b"per-student test course").hexdigest() + "\n")
    secret.chmod(0o600)
    class_list = root.parent / "students.txt"
    class_list.write_text("# Kurs Herbst\nstudent\n" + "\n".join(STUDENTS) + "\n", encoding="utf-8")
    done = cli(
        "release",
        ASSIGNMENT,
        "--course",
        str(root),
        "--out",
        str(root.parent / "out"),
        "--per-student",
        "--students",
        str(class_list),
    )
    assert done.returncode == 0, done.stderr
    return root


def personal(course: Path, student: str) -> Path:
    return course / "release_per_student" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def setup_cell(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.metadata["nbgrader"].get("locked"):
            return str(cell.source)
    raise AssertionError(f"{path}: no locked code cell")


def worked(path: Path) -> nbformat.NotebookNode:
    """The student's own notebook answered with the worked solutions (code on the given numbers)."""
    ex = exercise(ASSIGNMENT)
    return answered(path, {q.name: solution_code(ASSIGNMENT, q.name) for q in ex.autograded})


def test_every_student_gets_a_notebook_of_their_own_through_nbgrader(course: Path) -> None:
    setups = {s: setup_cell(personal(course, s)) for s in STUDENTS}
    assert len(set(setups.values())) == len(STUDENTS)
    for student in STUDENTS:
        notebook = nbformat.read(personal(course, student), as_version=4)
        assert notebook.metadata["autograder"]["student"] == student
        # nbgrader's student version: solutions cleared, hidden tests removed
        assert any("YOUR CODE HERE" in str(c.source) for c in notebook.cells)
    assert roster(course) == {ASSIGNMENT: sorted(STUDENTS)}
    # the course's shared version is nbgrader's as always (its gradebook holds the grade cells)
    assert (course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()


def test_no_students_notebook_holds_a_model_answer_or_a_rubric(course: Path) -> None:
    for student in STUDENTS:
        # the texts with the student's own numbers, and with the seed's
        variant = Variants(course).of(ASSIGNMENT, student)
        lines = {*teachers_lines(ASSIGNMENT, "de", variant), *teachers_lines(ASSIGNMENT, "de")}
        text = "\n".join(c.source for c in nbformat.read(personal(course, student), 4).cells)
        assert lines and not [line for line in lines if line in text], student


@pytest.mark.parametrize("student", STUDENTS[:3])
def test_each_notebook_is_what_nbgrader_generate_assignment_makes_for_that_student(
    course: Path, student: str, tmp_path: Path
) -> None:
    """The release runs nbgrader's preprocessors in memory; nbgrader's own generate_assignment, on a
    course of its own with the student's numbers, writes the same bytes."""
    variant = Variants(course).of(ASSIGNMENT, student)
    assert variant is not None
    api = nbgrader_api(tmp_path / "staging")
    generate(api, ASSIGNMENT, tmp_path / "staging", "de", variant)
    theirs = nbformat.read(
        tmp_path / "staging" / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4
    )
    theirs.metadata.setdefault("autograder", {})["student"] = student
    nbformat.write(theirs, tmp_path / "theirs.ipynb")
    assert personal(course, student).read_bytes() == (tmp_path / "theirs.ipynb").read_bytes()


def test_the_secret_stays_in_the_course(course: Path) -> None:
    secret = course_secret(course)
    path = course / ".autograder" / "secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for student in STUDENTS:
        assert secret.hex() not in personal(course, student).read_text(encoding="utf-8")


def test_a_students_key_is_their_own(course: Path) -> None:
    keys = {}
    for student in ("s01", "s02"):
        done = cli("answers", ASSIGNMENT, "--student", student, "--course", str(course), "--json")
        assert done.returncode == 0, done.stderr
        keys[student] = {item["id"]: item.get("reference") for item in json.loads(done.stdout)}
    seed = {
        item["id"]: item.get("reference")
        for item in json.loads(cli("answers", ASSIGNMENT, "--json").stdout)
    }
    qid = f"{ASSIGNMENT}.iterates"
    assert keys["s01"][qid] != keys["s02"][qid]
    assert keys["s01"][qid] != seed[qid]
    variant = Variants(course).of(ASSIGNMENT, "s01")
    assert keys["s01"][qid] == pytest.approx(reference(qid, variant).value.tolist())
    text = cli("answers", ASSIGNMENT, "--student", "s01", "--course", str(course))
    assert "numbers of s01" in text.stdout


@pytest.fixture(scope="module")
def graded(course: Path) -> dict[str, dict[str, Any]]:
    """s01, s02 work on their own numbers; s03 hands in s01's numbers as values; s04 edits the
    given numbers; s05 hands in s02's notebook (its code, s02's given numbers) as their own."""
    variants = Variants(course)
    ex = exercise(ASSIGNMENT)
    for student in ("s01", "s02"):
        submit(course, student, ASSIGNMENT, worked(personal(course, student)), WHEN)
    s01 = variants.of(ASSIGNMENT, "s01")
    values = {
        q.name: value_code(q, reference(f"{ASSIGNMENT}.{q.name}", s01).target)
        for q in ex.autograded
        if q.kind is not Kind.FUNCTION
    }
    submit(course, "s03", ASSIGNMENT, answered(personal(course, "s03"), values), WHEN)
    edited = worked(personal(course, "s04"))
    for cell in edited.cells:
        if cell.cell_type == "code" and cell.metadata["nbgrader"].get("locked"):
            cell.source = re.sub(r"eta = \S+", "eta = 0.5", str(cell.source))
            break
    submit(course, "s04", ASSIGNMENT, edited, WHEN)
    submit(course, "s05", ASSIGNMENT, worked(personal(course, "s02")), WHEN)
    report = course.parent / "graded.json"
    done = cli("grade", str(course / "submitted"), "--json", str(report), "--workers", "2")
    assert done.returncode == 0, done.stderr
    results = {r["student"]: r for r in json.loads(report.read_text(encoding="utf-8"))}
    results["summary"] = {"text": done.stdout}
    return results


def test_each_student_is_graded_against_their_own_numbers(graded: dict[str, Any]) -> None:
    for student in ("s01", "s02", "s04", "s05"):
        result = graded[student]
        # every point the grader gives; the answers in words wait for the teacher
        by_grader = result["max_score"] - result["manual_max_score"]
        assert result["score"] == by_grader, (student, result["questions"])
        assert all(q["copied_from"] is None for q in result["questions"])


def test_a_copy_of_a_classmates_numbers_scores_nothing_and_is_named(
    course: Path, graded: dict[str, Any]
) -> None:
    variants = Variants(course)
    own, theirs = variants.of(ASSIGNMENT, "s03"), variants.of(ASSIGNMENT, "s01")
    copied = {q["id"]: q for q in graded["s03"]["questions"]}
    values = [q for q in exercise(ASSIGNMENT).autograded if q.kind is not Kind.FUNCTION]
    differ = []
    for q in values:
        qid = f"{ASSIGNMENT}.{q.name}"
        verdict = copied[qid]
        if is_right(qid, reference(qid, theirs).value, own):
            # the two variants share this answer within the tolerance (Adam's first steps are
            # ~η whatever the target): the copy is right, and no copy
            assert verdict["correct"] and verdict["copied_from"] is None, verdict
            continue
        differ.append(q.name)
        assert verdict["score"] == 0, verdict
        assert verdict["copied_from"] == "s01", verdict
    assert len(differ) >= 2
    summary = graded["summary"]["text"]
    assert "copies" in summary
    assert f"s03: {differ[0]} has s01's numbers" in summary


def test_the_class_list_is_read_as_teachers_write_it() -> None:
    assert read_students("id\ns1\n\n# absent\ns2,Anna\ns1\n") == ["s1", "s2"]
    with pytest.raises(ValueError, match="not a student id"):
        read_students("s1\nno spaces please\n")


def test_a_copy_earns_nothing_where_its_entries_would_count_as_carried_forward() -> None:
    # two variants that share the learning rate and the target, but not the start: from the
    # first entry on, a classmate's iterates follow by the right rule from each other
    own = {"w0": 1, "target": 4, "eta": "0.25"}
    theirs = {"w0": -3, "target": 4, "eta": "0.25"}
    qid = f"{ASSIGNMENT}.iterates"
    copied = reference(qid, theirs).value.tolist()
    alone = grade_answer(qid, copied, own)
    assert alone.status == "partial" and alone.score > 0  # without the classmate, partial credit
    submission = Submission(Path("s03.ipynb"), "s03", ASSIGNMENT, datetime(2026, 11, 20))
    run = Run("finished", answers={"iterates": Answer(copied)}, completed=True)
    result = mark(submission, Job((), ()), run, "en", Limits(), own, {"s01": theirs})
    (marked,) = [m for m in result.questions if m.verdict.qid == qid]
    assert (marked.score, marked.copied_from, marked.verdict.mistake) == (0.0, "s01", "copied")
