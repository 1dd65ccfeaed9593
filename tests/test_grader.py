"""Grading a class through the CLI into nbgrader's gradebook.

Submissions are the released notebooks with answers written in as students write them: the worked
solutions, values with every catalogue mistake, functions with typical slips, trajectories with one
slip carried forward. Every score and named mistake is checked in the JSON and, read back with
nbgrader's own API, in the gradebook.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from committed import notebook
from nbgrader.api import Gradebook

from autograder import demo, grade_answer
from autograder.derivation.references import ASSIGNMENTS, exercise, mistake_targets, reference
from autograder.model.spec import Kind
from autograder.samples import answer_for, answered, solution_code, submit, value_code

ROOT = Path(__file__).resolve().parents[1]
WHEN = "2026-11-20 10:00:00.000000 UTC"
pytestmark = pytest.mark.slow

# Typical slips in student functions, each with the mistake the grader must name.
FUNCTION_SLIPS = {
    "loss_functions.mse": (
        "def mse(y_hat, y):\n    return np.sum((np.asarray(y_hat) - np.asarray(y)) ** 2)",
        "no_mean",
    ),
    "loss_functions.cce": (
        "def cce(y_hat, y):\n"
        "    return -np.mean(np.sum(np.asarray(y) * np.log10(np.asarray(y_hat)), axis=1))",
        "log10",
    ),
    "minima.dL1": (
        "def dL1(w1, w2):\n    r = 4 * w1 + 7 * w2 - 20\n    return np.array([2 * r, 2 * r])",
        "chain_factor",
    ),
    "gradient_descent.gradient_descent": (
        "def gradient_descent(grad, w0, eta, n):\n"
        "    w = np.asarray(w0, dtype=float)\n"
        "    path = [w]\n"
        "    for _ in range(n):\n"
        "        w = w + eta * np.asarray(grad(w))\n"
        "        path.append(w)\n"
        "    return np.array(path)",
        "sign",
    ),
    "softmax_ce.softmax": (
        "def softmax(z):\n    return np.exp(np.asarray(z, dtype=float))",
        "not_normalised",
    ),
}


def run_cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("autograder")
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def released(assignment: str) -> Path:
    return notebook("release", assignment)


def value_students(assignment: str) -> dict[str, dict[str, tuple[str, Any]]]:
    """slipK answers every value question with its K-th catalogue mistake (the rest right).

    Each cell first sets the earlier answers back to their references, so that its worked solution
    reads right inputs; an earlier mistake was reported with its own cell, as nbgrader tests it.
    """
    ex = exercise(assignment)
    found = {
        q.name: mistake_targets(f"{ex.name}.{q.name}")
        for q in ex.autograded
        if q.kind is not Kind.FUNCTION
    }
    depth = max(len(targets) for targets in found.values())
    students = {}
    for k in range(depth):
        answers: dict[str, tuple[str, Any]] = {}
        restore: list[str] = []
        for q in ex.autograded:
            right = "\n".join([*restore, solution_code(ex.name, q.name)])
            targets = found.get(q.name, [])
            if k < len(targets):
                _, target = targets[k]
                answers[q.name] = (f"{right}\n{value_code(q, target)}", answer_for(q, target))
            else:
                answers[q.name] = (right, None)
            if q.kind is not Kind.FUNCTION:
                restore.append(value_code(q, reference(f"{ex.name}.{q.name}").target))
        students[f"slip{k}"] = answers
    return students


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    course = tmp_path_factory.mktemp("course")
    expected: dict[tuple[str, str], tuple[float, str | None]] = {}
    for assignment in ASSIGNMENTS:
        ex = exercise(assignment)
        for student in ("anna", "dora"):
            notebook = answered(released(assignment), demo.answers(assignment, student))
            submit(course, student, assignment, notebook, WHEN)
            for q in ex.autograded:
                expected[(student, f"{assignment}.{q.name}")] = (
                    (1.0, None) if student == "anna" else (0.0, None)
                )
        for student, answers in value_students(assignment).items():
            code = {name: source for name, (source, _) in answers.items()}
            submit(course, student, assignment, answered(released(assignment), code), WHEN)
            for q in ex.autograded:
                qid = f"{assignment}.{q.name}"
                value = answers[q.name][1]
                if value is None:
                    expected[(student, qid)] = (1.0, None)
                else:  # the grader's verdict on the same value, given directly
                    direct = grade_answer(qid, value)
                    expected[(student, qid)] = (direct.score, direct.mistake)
    for i, (qid, (code, mistake)) in enumerate(FUNCTION_SLIPS.items()):
        assignment, _, name = qid.partition(".")
        answers = {
            q.name: solution_code(assignment, q.name) for q in exercise(assignment).autograded
        }
        answers[name] = code
        submit(course, f"fun{i}", assignment, answered(released(assignment), answers), WHEN)
        expected[(f"fun{i}", qid)] = (0.0, mistake)
    # fooling the checks gains nothing: they are not where the grading happens
    cheat = {
        q.name: "import numpy as np, math\n"
        "np.allclose = np.isclose = math.isclose = lambda *a, **k: True\n"
        'print("All tests passed")\n'
        f"{q.name} = 0"
        for q in exercise("minima").autograded
    }
    submit(course, "cheat", "minima", answered(released("minima"), cheat), WHEN)
    for q in exercise("minima").autograded:
        direct = grade_answer(f"minima.{q.name}", 0)  # 0 is right only where 0 is the answer
        expected[("cheat", f"minima.{q.name}")] = (direct.score, direct.mistake)
    out = course / "results.json"
    result = run_cli("grade", str(course / "submitted"), "--json", str(out), "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return {
        "course": course,
        "expected": expected,
        "stdout": result.stdout,
        "results": json.loads(out.read_text(encoding="utf-8")),
    }


def _verdicts(results: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["student"], q["id"]): q for r in results for q in r["questions"]}


def test_every_score_and_named_mistake_in_the_json(graded: dict[str, Any]) -> None:
    verdicts = _verdicts(graded["results"])
    for (student, qid), (score, mistake) in graded["expected"].items():
        got = verdicts[(student, qid)]
        assert got["score"] == pytest.approx(score * got["max_score"]), (student, qid, got)
        assert got["mistake"] == mistake, (student, qid, got)
    assert all(r["errors"] == [] for r in graded["results"] if r["student"] == "anna")


def test_each_catalogue_mistake_of_a_value_question_is_named_through_a_notebook(
    graded: dict[str, Any],
) -> None:
    verdicts = _verdicts(graded["results"])
    for assignment in ASSIGNMENTS:
        for q in exercise(assignment).autograded:
            if q.kind is Kind.FUNCTION:
                continue
            qid = f"{assignment}.{q.name}"
            # mistakes that fit alike are named together, "a|b": each of them is named
            named = {
                m
                for (s, i), v in verdicts.items()
                if i == qid and s.startswith("slip")
                for m in (v["mistake"].split("|") if v["mistake"] else [None])
            }
            assert set(q.mistakes) <= named | {None}, (qid, named)
            assert set(q.mistakes) & named, qid


def test_the_json_follows_the_contract(graded: dict[str, Any]) -> None:
    for r in graded["results"]:
        keys = {"student", "assignment", "score", "max_score", "manual_max_score"}
        assert keys | {"questions", "errors"} <= set(r)
        for q in r["questions"]:
            assert {"id", "score", "max_score", "correct", "mistake", "feedback", "error"} <= set(q)
            assert 0 <= q["score"] <= q["max_score"]
        assert r["score"] == pytest.approx(sum(q["score"] for q in r["questions"]))
        # max_score holds the points the teacher gives as well, the questions' ones the grader's
        by_grader = sum(q["max_score"] for q in r["questions"])
        assert r["max_score"] - r["manual_max_score"] == pytest.approx(by_grader)
    anna = {r["assignment"]: r for r in graded["results"] if r["student"] == "anna"}
    for assignment, r in anna.items():
        ex = exercise(assignment)
        assert r["score"] == sum(q.points for q in ex.autograded), assignment
        assert r["max_score"] == sum(q.points for q in ex.questions), assignment
        assert r["manual_max_score"] == sum(q.points for q in ex.questions if q.graded_by_teacher)


def test_the_summary_says_what_waits_for_the_teacher(graded: dict[str, Any]) -> None:
    waiting = [r["manual_max_score"] for r in graded["results"] if r["manual_max_score"]]
    line = f"manual grading: {sum(waiting):g} points of {len(waiting)} submissions wait"
    assert line in graded["stdout"]


def test_the_gradebook_read_back_with_nbgraders_api(graded: dict[str, Any]) -> None:
    course = graded["course"]
    verdicts = _verdicts(graded["results"])
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for (student, qid), verdict in verdicts.items():
            assignment, _, name = qid.partition(".")
            grade = gb.find_grade(f"{name}_test", assignment, assignment, student)
            assert grade.auto_score == pytest.approx(verdict["score"]), (student, qid)
            assert not grade.needs_manual_grade
            comment = gb.find_comment(name, assignment, assignment, student)
            # the feedback, then the answer as read, as on the student's page
            said, _, read = comment.auto_comment.rpartition("\n")
            assert said == verdict["feedback"], (student, qid)
            assert read.endswith(f": {verdict['answer']}" if verdict["answer"] else ")"), read
        anna = gb.find_submission("minima", "anna")
        assert anna.score == anna.max_score == 18
        assert gb.find_submission("minima", "dora").score == 0


def test_feedback_pages_are_written_in_the_notebooks_language(graded: dict[str, Any]) -> None:
    page = graded["course"] / "reports" / "feedback" / "slip0" / "minima" / "minima.html"
    text = page.read_text(encoding="utf-8")
    assert '<html lang="de">' in text
    assert "Rückmeldung zu Gradienten und Minimalstellen" in text
    assert "Erkannter Fehler: Term xy fehlt" in text and "cross_term" not in text


def test_grading_again_grades_nothing_and_changes_nothing(graded: dict[str, Any]) -> None:
    course = graded["course"]
    before = _gradebook_rows(course)
    again = run_cli("grade", str(course / "submitted"), "--json", str(course / "again.json"))
    assert again.returncode == 0, again.stderr
    assert "graded already" in again.stdout
    assert json.loads((course / "again.json").read_text()) == []
    assert _gradebook_rows(course) == before
    forced = run_cli(
        "grade", str(course / "submitted" / "anna"), "--course", str(course), "--force"
    )
    assert forced.returncode == 0, forced.stderr
    assert _gradebook_rows(course) == before


def test_export_for_an_lms(graded: dict[str, Any]) -> None:
    course = graded["course"]
    plain = run_cli("export", "--course", str(course))
    assert plain.returncode == 0, plain.stderr
    # anna has every point the grader gives; those of the answers in words wait for the teacher
    by_grader = {a: sum(q.points for q in exercise(a).autograded) for a in ASSIGNMENTS}
    waiting = {a: sum(q.points for q in exercise(a).questions) - by_grader[a] for a in ASSIGNMENTS}
    lines = plain.stdout.splitlines()
    assert lines[0] == "student,assignment,score,max_score,late_penalty,waiting_for_teacher"
    for a in ASSIGNMENTS:
        assert f"anna,{a},{by_grader[a]:g},{by_grader[a] + waiting[a]:g},0,{waiting[a]:g}" in lines
    moodle = run_cli("export", "--course", str(course), "--format", "moodle")
    header, *rows = moodle.stdout.splitlines()
    assert header == "Username," + ",".join(sorted(ASSIGNMENTS)) + ",waiting_for_teacher"
    scores = ",".join(f"{by_grader[a]:g}" for a in sorted(ASSIGNMENTS))
    assert f"anna,{scores},{sum(waiting.values()):g}" in rows


def _gradebook_rows(course: Path) -> list[tuple[Any, ...]]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return sorted(
            (s.student.id, a.name, g.cell.name, g.auto_score)
            for a in gb.assignments
            for s in a.submissions
            for nb in s.notebooks
            for g in nb.grades
        )


def test_a_run_killed_part_way_is_completed_by_the_next(tmp_path: Path) -> None:
    course = tmp_path / "course"
    for i in range(24):
        student = f"s{i:02d}"
        answers = demo.answers("minima", ("anna", "ben", "clara")[i % 3])
        if i >= 6:  # the rest wait in a cell: the run cannot end before it is killed
            first = next(iter(answers))
            answers[first] = "import time\ntime.sleep(0.6)\n" + answers[first]
        submit(course, student, "minima", answered(released("minima"), answers), WHEN)
    exe = Path(sys.executable).with_name("autograder")
    process = subprocess.Popen(
        [str(exe), "grade", str(course / "submitted"), "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(_complete(course)) < 3:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    partial = _complete(course)
    assert 3 <= len(partial) < 24
    resumed = run_cli("grade", str(course / "submitted"), "--json", str(tmp_path / "rest.json"))
    assert resumed.returncode == 0, resumed.stderr
    rest = json.loads((tmp_path / "rest.json").read_text())
    assert {r["student"] for r in rest} == {f"s{i:02d}" for i in range(24)} - set(partial)
    whole = tmp_path / "whole"
    for i in range(24):
        student = f"s{i:02d}"
        source = course / "submitted" / student / "minima"
        target = whole / "submitted" / student / "minima"
        target.mkdir(parents=True)
        for f in source.iterdir():
            target.joinpath(f.name).write_bytes(f.read_bytes())
    assert run_cli("grade", str(whole / "submitted")).returncode == 0
    assert _gradebook_rows(course) == _gradebook_rows(whole)


def _complete(course: Path) -> set[str]:
    if not (course / "gradebook.db").exists():
        return set()
    try:
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            return {
                s.student.id
                for a in gb.assignments
                for s in a.submissions
                if all(g.auto_score is not None for nb in s.notebooks for g in nb.grades)
            }
    except Exception:  # the gradebook is still being created by the run
        return set()


def test_a_loose_notebook_into_another_database_in_english(tmp_path: Path) -> None:
    notebook = answered(released("backprop_chain"), demo.answers("backprop_chain", "clara"))
    path = tmp_path / "hand-in.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    out = tmp_path / "r.json"
    result = run_cli(
        "grade",
        str(path),
        "--student",
        "clara",
        "--course",
        str(tmp_path / "course"),
        "--db",
        url,
        "--lang",
        "en",
        "--json",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    (graded,) = json.loads(out.read_text())
    assert graded["student"] == "clara" and graded["assignment"] == "backprop_chain"
    weights = next(q for q in graded["questions"] if q["id"] == "backprop_chain.weights")
    assert 0 < weights["score"] < weights["max_score"]
    assert "error carried forward" in weights["feedback"]
    with Gradebook(url) as gb:
        grade = gb.find_grade("weights_test", "backprop_chain", "backprop_chain", "clara")
        assert grade.auto_score == pytest.approx(weights["score"])
    assert not (tmp_path / "course" / "gradebook.db").exists()
    page = tmp_path / "course" / "reports" / "feedback" / "clara" / "backprop_chain"
    page = page / "backprop_chain.html"
    assert '<html lang="en">' in page.read_text(encoding="utf-8")


def test_nothing_to_grade_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("grade", str(tmp_path))
    assert result.returncode == 2
    assert "no notebooks" in result.stderr and "Traceback" not in result.stderr


def _written(course: Path, student: str) -> dict[str, tuple[Any, ...]]:
    """The grade rows of a student's loss_functions: (auto, manual score, waits for the teacher)."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission("loss_functions", student)
        return {
            g.cell.name: (g.auto_score, g.manual_score, g.needs_manual_grade)
            for nb in submission.notebooks
            for g in nb.grades
        }


def test_the_teachers_scores_stay_until_forced(graded: dict[str, Any]) -> None:
    course = graded["course"]
    written = [q.name for q in exercise("loss_functions").questions if q.graded_by_teacher]
    rows = _written(course, "anna")
    assert all(rows[name] == (None, None, True) for name in written)
    # the teacher grades one answer in formgrader and overrides an automatic score
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for cell, score in ((written[0], 1.5), ("mse_test", 1.0)):
            grade = gb.find_grade(cell, "loss_functions", "loss_functions", "anna")
            grade.manual_score, grade.needs_manual_grade = score, False
        gb.db.commit()
    anna = course / "submitted" / "anna" / "loss_functions"
    again = run_cli("grade", str(anna), "--course", str(course))
    assert again.returncode == 0 and "1 graded already" in again.stdout, again.stderr
    # handed in again: graded anew, and what the teacher gave stays
    (anna / "timestamp.txt").write_text("2026-11-21 09:00:00.000000 UTC")
    resubmitted = run_cli("grade", str(anna), "--course", str(course))
    assert resubmitted.returncode == 0 and "0 graded already" in resubmitted.stdout
    rows = _written(course, "anna")
    assert rows[written[0]] == (None, 1.5, False) and rows["mse_test"] == (2.0, 1.0, False)
    forced = run_cli("grade", str(anna), "--course", str(course), "--force")
    assert forced.returncode == 0, forced.stderr
    rows = _written(course, "anna")
    assert rows[written[0]] == (None, None, True) and rows["mse_test"] == (2.0, None, False)
    (anna / "timestamp.txt").write_text(WHEN)
    assert run_cli("grade", str(anna), "--course", str(course), "--force").returncode == 0
