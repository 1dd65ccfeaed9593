"""The committed notebooks of every assignment: in sync with the specs, running in a Jupyter kernel,
graded by real nbgrader (solutions full marks, unanswered 0), and giving nothing away.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest
from committed import notebook, of_the_package
from nbclient import NotebookClient
from teachers_key import WRITTEN, teachers_lines

from autograder.derivation.references import ASSIGNMENTS, exercise, reference
from autograder.judging import feedback
from autograder.model.spec import Kind, exact
from autograder.model.values import Published
from autograder.release.assignments import nbgrader_api, release
from autograder.release.notebooks import instructor_notebook

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory, under_test: list[str]) -> Path:
    out = tmp_path_factory.mktemp("repo")
    release(under_test, out / "course", "de", out)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["solutions", "release"])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_notebooks_are_in_sync_with_the_specs(
    regenerated: Path, folder: str, assignment: str
) -> None:
    if not of_the_package(assignment):
        pytest.skip(f"{assignment} is a course's own exercise: nothing of it is committed here")
    committed = ROOT / folder / "de" / f"{assignment}.ipynb"
    assert committed.exists(), f"{committed} is missing: run `autograder release`"
    assert committed.read_text(encoding="utf-8") == (
        regenerated / folder / "de" / f"{assignment}.ipynb"
    ).read_text(encoding="utf-8"), f"{committed} is out of date: run `autograder release`"


@pytest.mark.parametrize("lang", feedback.LANGUAGES)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_language_builds(assignment: str, lang: str) -> None:
    nb = instructor_notebook(assignment, lang)
    nbformat.validate(nb)  # its cells are built without validating each alone
    # a task, a solution and a test per question the grader marks; a task and the answer in words
    # per question the teacher grades
    ex = exercise(assignment)
    assert len(nb.cells) == 3 + 3 * len(ex.autograded) + 2 * (
        len(ex.questions) - len(ex.autograded)
    )
    # mathematical content is the same in every language: the code cells are identical
    german = instructor_notebook(assignment, "de")
    assert [c.source for c in nb.cells if c.cell_type == "code" and c.id != "checks"] == [
        c.source for c in german.cells if c.cell_type == "code" and c.id != "checks"
    ]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_instructor_notebook_passes_all_its_tests_in_a_kernel(assignment: str) -> None:
    nb = nbformat.read(notebook("solutions", assignment), as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    errors = [o for cell in nb.cells for o in cell.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors[:1]


@pytest.mark.slow
def test_nbgrader_gives_the_solutions_full_marks_and_the_unanswered_notebooks_zero(
    tmp_path: Path,
) -> None:
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    release(ASSIGNMENTS, course, "de", tmp_path)
    api = nbgrader_api(course)
    for assignment in ASSIGNMENTS:
        for who, folder in (("teacher", "solutions"), ("nobody", "release")):
            target = course / "submitted" / who / assignment
            target.mkdir(parents=True)
            shutil.copyfile(
                tmp_path / folder / "de" / f"{assignment}.ipynb", target / f"{assignment}.ipynb"
            )
            assert api.autograde(assignment, who, force=True, create=True)["success"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course.name) as gradebook:
        for assignment in ASSIGNMENTS:
            ex = exercise(assignment)
            points = sum(q.points for q in ex.questions)
            by_grader = sum(q.points for q in ex.autograded)
            full = gradebook.find_submission(assignment, "teacher")
            empty = gradebook.find_submission(assignment, "nobody")
            # the answers in words wait for the teacher in the solutions, and count 0 left blank
            assert (full.score, full.max_score) == (by_grader, points), assignment
            assert full.needs_manual_grade == (by_grader < points), assignment
            assert (empty.score, empty.needs_manual_grade) == (0.0, False), assignment


def _given_numbers(assignment: str) -> set[float]:
    """Every number the task itself gives: the parameters, and the published tables it shows."""
    found: set[float] = set()

    def walk(value: object) -> None:
        if isinstance(value, Published):
            walk([list(row) for row in value.rows])
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        else:
            with contextlib.suppress(TypeError, ValueError):
                found.add(round(float(exact(value)), 12))  # type: ignore[arg-type]

    walk(list(exercise(assignment).parameters.values()))
    return found


def _answers(assignment: str) -> list[float]:
    values: list[float] = []
    for q in exercise(assignment).autograded:
        ref = reference(f"{assignment}.{q.name}")
        if q.kind in (Kind.NUMBER, Kind.VECTOR, Kind.MATRIX, Kind.TABLE):
            values += list(np.asarray(ref.value, dtype=float).reshape(-1))
        elif q.kind is Kind.FUNCTION:
            for out in ref.value:
                for part in out if isinstance(out, tuple) else (out,):
                    values += list(np.asarray(part, dtype=float).reshape(-1))
    return values


def _published_texts(assignment: str) -> set[str]:
    """The numbers of the published tables a task shows, as printed there (a slide's 0.590)."""
    return {
        cell
        for value in exercise(assignment).parameters.values()
        if isinstance(value, Published)
        for row in value.rows
        for cell in row
    }


def _shown(value: float) -> set[str]:
    """The ways a notebook could print a number: in full, and rounded to 3 and 4 decimals."""
    return {repr(value), f"{value:.4f}", f"{value:.3f}"} - {"0.000", "-0.000", "0.0000", "-0.0000"}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_student_notebook_gives_no_answer_away(assignment: str) -> None:
    text = notebook("release", assignment).read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    given = _given_numbers(assignment)
    for value in _answers(assignment):
        if round(value, 12) in given or abs(value) < 1e-3 or float(value).is_integer():
            continue
        for shown in _shown(value) - _published_texts(assignment):
            assert not re.search(rf"(?<![\d.]){re.escape(shown)}(?!\d)", text), (
                f"{assignment}: the student notebook shows {shown}, an answer"
            )


def test_the_assignments_with_answers_in_words_are_known() -> None:
    assert (
        tuple(a for a in ASSIGNMENTS if any(q.graded_by_teacher for q in exercise(a).questions))
        == WRITTEN
    )


@pytest.fixture(scope="module")
def every_language(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The assignments with answers in words released in every language, through nbgrader."""
    out = tmp_path_factory.mktemp("languages")
    for lang in feedback.LANGUAGES:
        release(WRITTEN, out / "course" / lang, lang, out)
    return out


def _sources(path: Path) -> str:
    return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)


@pytest.mark.slow
@pytest.mark.parametrize("lang", feedback.LANGUAGES)
@pytest.mark.parametrize("assignment", WRITTEN)
def test_no_model_answer_or_rubric_reaches_a_student(
    every_language: Path, assignment: str, lang: str
) -> None:
    solutions = _sources(every_language / "solutions" / lang / f"{assignment}.ipynb")
    students = [every_language / "release" / lang / f"{assignment}.ipynb"]
    if lang == "de":
        students.append(ROOT / "release" / "de" / f"{assignment}.ipynb")
    lines = teachers_lines(assignment, lang)
    assert lines and all(line in solutions for line in lines)  # the teacher's notebook has them
    for student in students:
        text = _sources(student)
        assert not [line for line in lines if line in text], student
        nb = nbformat.read(student, as_version=4)
        written = [
            c for c in nb.cells if c.metadata["nbgrader"].get("grade") and c.cell_type == "markdown"
        ]
        stubs = [q.name for q in exercise(assignment).questions if q.graded_by_teacher]
        assert [(c.id, c.source) for c in written] == [(name, "YOUR ANSWER HERE") for name in stubs]


@pytest.fixture(scope="module")
def student_kernel(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Jupyter kernel in an environment with only NumPy and pandas, as a student's may be."""
    import json
    import os
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("student")
    env = root / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    python = env / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "numpy", "pandas", "ipykernel"], check=True
    )
    spec = root / "kernels" / "student-numpy"
    spec.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "NumPy only", "language": "python"})
    )
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        filter(None, [str(root), os.environ.get("JUPYTER_PATH")])
    )
    return "student-numpy"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_student_notebook_runs_with_only_numpy_and_checks_form_only(
    student_kernel: str, assignment: str
) -> None:
    nb = nbformat.read(notebook("release", assignment), as_version=4)
    solutions = nbformat.read(notebook("solutions", assignment), as_version=4)
    answers = {c.id: c.source for c in solutions.cells if c.metadata["nbgrader"]["solution"]}
    # unanswered, every cell runs (no error stops "Run All") and each check says so in one line
    NotebookClient(nb, timeout=300, kernel_name=student_kernel).execute()
    for q in exercise(assignment).autograded:
        (check,) = [c for c in nb.cells if c.id == f"{q.name}_test"]
        said = feedback.message("check", "missing", "de", name=q.name)
        # the kernel may send one printed line in two stream messages; the notebook shows them as one
        assert all(o.output_type == "stream" and o.name == "stdout" for o in check.outputs)
        assert "".join(o.text for o in check.outputs) == said + "\n", check.outputs
    for cell in nb.cells:  # now answered as the teacher would
        if cell.id in answers:
            cell.source = answers[cell.id]
    NotebookClient(nb, timeout=300, kernel_name=student_kernel).execute()
    printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert printed.count("Form in Ordnung") == len(exercise(assignment).autograded)
    assert "richtig" not in printed.lower().replace("ob die antwort stimmt", "")
