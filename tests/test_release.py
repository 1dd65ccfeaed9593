"""Release through real nbgrader, on one assignment with texts given by the test: the instructor
notebook runs in a Jupyter kernel and passes its tests, nbgrader generates the student version,
and nbgrader's autograde gives the solutions full marks and the unanswered notebook 0.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.derivation.references import exercise, question_ids, reference
from autograder.judging import feedback
from autograder.release import notebooks
from autograder.release.assignments import nbgrader_api, release
from autograder.release.selfcheck import self_check

SOLUTIONS = {
    "z_hat": "z_hat = float(w_start @ x)",
    "loss": "loss = 0.5 * (z_hat - z) ** 2",
    "grad": "grad = (z_hat - z) * x",
    "w_new": "w_new = w_start - eta * grad",
    "table": (
        "rows, w = [], w_start.copy()\n"
        "for k in range(6):\n"
        "    out = float(w @ x)\n"
        "    rows.append([k, out, out - z, *w])\n"
        "    w = w - eta * (out - z) * x\n"
        "table = pd.DataFrame(rows, columns=['iteration', 'z_hat', 'error', 'w11', 'w22', 'w33', 'w44'])"
    ),
    "slide_error": "slide_error = (5, 'w22')",
}


@pytest.fixture
def texts(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Texts for attention_step written here, so that the release machinery is tested on its own."""
    given = {
        **feedback.exercise_texts("attention_step"),
        "intro": {lang: "x = {x}, z = {z}, η = {eta}" for lang in feedback.LANGUAGES},
        "setup": (
            "import numpy as np\nimport pandas as pd\n"
            "x = np.array({x}, dtype=float)\nw_start = np.array({w_start}, dtype=float)\n"
            "z = {z}\neta = {eta}\n"
        ),
        "tasks": {
            name: {lang: f"{name} ({lang})" for lang in feedback.LANGUAGES} for name in SOLUTIONS
        },
        "solutions": SOLUTIONS,
    }
    monkeypatch.setattr(notebooks, "texts", lambda ex: given)
    return given


def test_the_instructor_notebook_has_nbgrader_cells_for_every_question(
    texts: dict[str, Any],
) -> None:
    nb = notebooks.instructor_notebook("attention_step", "de")
    by_id = {cell.metadata["nbgrader"]["grade_id"]: cell for cell in nb.cells}
    for q in exercise("attention_step").questions:
        assert by_id[q.name].metadata["nbgrader"]["solution"] is True
        test = by_id[f"{q.name}_test"]
        assert test.metadata["nbgrader"]["grade"] is True
        assert test.metadata["nbgrader"]["points"] == q.points
        assert "### BEGIN HIDDEN TESTS" in test.source
    assert "x = [1, 2, 1, 0], z = 0.5, η = 0.1" in nb.cells[0].source
    assert nb == notebooks.instructor_notebook("attention_step", "de")  # the same file every time


@pytest.mark.slow
def test_the_instructor_notebook_passes_its_tests_in_a_kernel(texts: dict[str, Any]) -> None:
    nb = notebooks.instructor_notebook("attention_step", "ru")
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    errors = [o for cell in nb.cells for o in cell.get("outputs", []) if o.output_type == "error"]
    assert not errors


@pytest.mark.slow
def test_release_and_autograde_through_nbgrader(texts: dict[str, Any], tmp_path: Path) -> None:
    course, out = tmp_path / "course", tmp_path / "repo"
    (done,) = release(["attention_step"], course, "de", out)
    student = nbformat.read(done.student, as_version=4)
    text = nbformat.writes(student)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    answers = reference("attention_step.table").value[2:, 1:6].reshape(-1)  # from iteration 2 on
    for v in answers:
        for shown in {repr(float(v)), f"{v:.4f}", f"{v:.3f}"}:
            assert shown not in text, f"the student notebook gives away {shown}"
    assert all(
        "checksum" in c.metadata["nbgrader"]
        for c in student.cells
        if c.metadata["nbgrader"]["grade"]
    )

    api = nbgrader_api(course)
    for who, notebook in (("teacher", done.solution), ("nobody", done.student)):
        folder = course / "submitted" / who / "attention_step"
        folder.mkdir(parents=True)
        shutil.copyfile(notebook, folder / "attention_step.ipynb")
        assert api.autograde("attention_step", who, force=True, create=True)["success"]

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course.name) as gradebook:
        full = gradebook.find_submission("attention_step", "teacher")
        empty = gradebook.find_submission("attention_step", "nobody")
        assert (full.score, full.max_score) == (10.0, 10.0)
        assert (empty.score, empty.max_score) == (0.0, 10.0)


@pytest.mark.slow
def test_the_self_check_reports_form_only(texts: dict[str, Any], tmp_path: Path) -> None:
    (done,) = release(["attention_step"], tmp_path / "course", "en", tmp_path)
    report = self_check(done.student)
    assert set(report) == {
        q.partition(".")[2] for q in question_ids() if q.startswith("attention_step.")
    }
    assert all("no answer yet" in lines[0] for lines in report.values())
    answered = nbformat.read(done.solution, as_version=4)
    nbformat.write(answered, tmp_path / "answered.ipynb")
    assert all(
        lines == [f"{name}: form OK (whether it is right is shown by the grading)."]
        for name, lines in self_check(tmp_path / "answered.ipynb").items()
    )


@pytest.mark.parametrize(
    ("template", "shown"),
    [
        ("$c = {c}$", "$c = [1, 10.5]$"),
        ("$c_1 = {c[0]}$, $c_2 = {c[1]}$", "$c_1 = 1$, $c_2 = 10.5$"),
        ("{m[1][0]} in {m}", "3 in [[1, 2], [3, 4]]"),
        ("{d[a]} of {d}", "2 of {'a': 2}"),
        ("η = {eta}, {label}", "η = 0.1, 'relu'"),
        ("w_{{{steps}}}", "w_{3}"),
    ],
)
def test_a_parameter_and_its_entries_are_written_into_a_text_as_a_reader_expects(
    template: str, shown: str
) -> None:
    """A list is written whole and entry by entry (`{c[0]}` its first entry, not a character);
    decimal strings as the lecture writes them, a word as Python text, doubled braces single."""
    parameters = {
        "c": [1, "10.5"],
        "m": [[1, 2], [3, 4]],
        "d": {"a": "2"},
        "eta": "0.1",
        "label": "relu",
        "steps": 3,
    }
    assert notebooks.fill(template, parameters) == shown
