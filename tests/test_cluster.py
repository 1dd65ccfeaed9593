"""Grading on a Dask cluster: a LocalCluster and a TLS cluster grade a class exactly as the local
pool does, and a Dask worker killed mid-run costs only a rerun of its submissions."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from nbgrader.api import Gradebook

from autograder import demo
from autograder.samples import answered, submit

pytest_plugins = ("postgres",)
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
AUTOGRADER = str(Path(sys.executable).with_name("autograder"))
WHEN = "2026-11-20 10:00:00.000000 UTC"
CLASS = 12  # students, each as one of the demo's four


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """minima released, handed in by a class of twelve (right, mistaken, careless, empty)."""
    course = tmp_path_factory.mktemp("cluster") / "course"
    done = subprocess.run(
        [AUTOGRADER, "release", "minima", "--course", str(course)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    released = course / "release" / "minima" / "minima.ipynb"
    for i in range(CLASS):
        kind = demo.STUDENTS[i % len(demo.STUDENTS)]
        submit(
            course, f"s{i:02d}", "minima", answered(released, demo.answers("minima", kind)), WHEN
        )
    return course


def copy_of(template: Path, where: Path) -> Path:
    shutil.copytree(template, where)
    return where


def graded_rows(course: Path) -> list[tuple[Any, ...]]:
    """Every grade and comment in the gradebook, with how many submissions each student has."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        rows = []
        for a in gb.assignments:
            for s in a.submissions:
                counted = len([x for x in a.submissions if x.student.id == s.student.id])
                for nb in s.notebooks:
                    rows += [(s.student.id, counted, g.cell.name, g.auto_score) for g in nb.grades]
                    rows += [
                        (s.student.id, counted, c.cell.name, c.auto_comment) for c in nb.comments
                    ]
        return sorted(rows, key=repr)


def plain(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The results without what differs between two runs of the same class (where, how long)."""
    return sorted(
        ({k: v for k, v in r.items() if k not in ("path", "seconds")} for r in results),
        key=lambda r: r["student"],
    )


@pytest.fixture(scope="module")
def undisturbed(template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    course = copy_of(template, tmp_path_factory.mktemp("pool") / "course")
    out = course / "results.json"
    done = subprocess.run(
        [AUTOGRADER, "grade", str(course / "submitted"), "--json", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return {
        "results": plain(json.loads(out.read_text())),
        "rows": graded_rows(course),
        "sqlite": nbgrader_rows(f"sqlite:///{course / 'gradebook.db'}"),
    }


def test_a_local_cluster_grades_as_the_pool_does(
    template: Path, undisturbed: dict[str, Any], tmp_path: Path
) -> None:
    course = copy_of(template, tmp_path / "course")
    out = course / "results.json"
    argv = [AUTOGRADER, "grade", str(course / "submitted"), "--json", str(out)]
    done = subprocess.run([*argv, "--scheduler", "local:2"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"{CLASS} graded" in done.stdout
    assert plain(json.loads(out.read_text())) == undisturbed["results"]
    assert graded_rows(course) == undisturbed["rows"]


def on_a_cluster(course: Path, mode: str) -> dict[str, Any]:
    """`tests/cluster_run.py` on the course, in a session of its own."""
    out = course / "cluster.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "cluster_run.py"), str(course), str(out), mode],
        capture_output=True,
        text=True,
        timeout=600,
        start_new_session=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return found


def test_a_tls_cluster_grades_as_the_pool_does(
    template: Path, undisturbed: dict[str, Any], tmp_path: Path
) -> None:
    course = copy_of(template, tmp_path / "course")
    ran = on_a_cluster(course, "tls")
    assert ran["address"].startswith("tls://")
    assert plain(ran["results"]) == undisturbed["results"]
    assert graded_rows(course) == undisturbed["rows"]


def test_a_dask_worker_killed_mid_run_costs_only_a_rerun(
    template: Path, undisturbed: dict[str, Any], tmp_path: Path
) -> None:
    course = copy_of(template, tmp_path / "course")
    ran = on_a_cluster(course, "kill")
    assert ran["killed"] and ran["whole"] and len(ran["results"]) == CLASS
    assert plain(ran["results"]) == undisturbed["results"]
    assert graded_rows(course) == undisturbed["rows"]  # each submission once


def test_without_a_cluster_nothing_of_dask_is_imported() -> None:
    code = (
        "import sys; from autograder.cli import main; "
        "from autograder.classroom import batch; "
        "print('distributed' in sys.modules or 'dask' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def nbgrader_rows(url: str) -> list[tuple[Any, ...]]:
    with Gradebook(url) as gb:
        return sorted(
            (s.student.id, g.cell.name, g.auto_score)
            for a in gb.assignments
            for s in a.submissions
            for nb in s.notebooks
            for g in nb.grades
        )


def grading(course: Path, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [AUTOGRADER, "grade", str(course / "submitted"), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_gradebook_on_postgresql_holds_what_sqlite_does(
    template: Path, undisturbed: dict[str, Any], postgres: str, tmp_path: Path
) -> None:
    from postgres import create_database

    url = create_database(postgres, "whole")
    course = copy_of(template, tmp_path / "course")
    done = grading(course, "--db", url)
    _, err = done.communicate(timeout=600)
    assert done.returncode == 0, err
    assert nbgrader_rows(url) == undisturbed["sqlite"]
    exported = subprocess.run(
        [str(Path(sys.executable).with_name("nbgrader")), "export", "--db", url, "--to", "g.csv"],
        cwd=course,
        capture_output=True,
        text=True,
    )
    assert exported.returncode == 0, exported.stderr
    assert len((course / "g.csv").read_text().splitlines()) == CLASS + 1
    ours = subprocess.run(
        [AUTOGRADER, "export", "--course", str(course), "--db", url],
        capture_output=True,
        text=True,
    )
    assert len(ours.stdout.splitlines()) == CLASS + 1, ours.stderr


def test_on_postgresql_a_killed_client_and_two_at_once_leave_the_gradebook_whole(
    template: Path, undisturbed: dict[str, Any], postgres: str, tmp_path: Path
) -> None:
    import sqlalchemy
    from postgres import create_database

    url = create_database(postgres, "interrupted")
    course = copy_of(template, tmp_path / "course")
    first = grading(course, "--db", url, "--workers", "1")
    engine = sqlalchemy.create_engine(url)
    count = sqlalchemy.text("SELECT count(*) FROM submitted_assignment")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with contextlib.suppress(sqlalchemy.exc.SQLAlchemyError), engine.connect() as c:
            if c.execute(count).scalar_one() >= 2:
                break
        time.sleep(0.2)  # polling the gradebook for the run's progress
    first.send_signal(signal.SIGKILL)
    first.wait()
    engine.dispose()
    # two clients at once complete the rest
    both = [grading(course, "--db", url), grading(course, "--db", url)]
    for run in both:
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
    assert nbgrader_rows(url) == undisturbed["sqlite"]


def test_a_notebook_on_the_cluster_cannot_reach_the_scheduler(
    template: Path, tmp_path: Path
) -> None:
    """The sandbox's network bound holds on a Dask worker: a submission that tries the scheduler's
    port gets nowhere (the grader itself reaches it), and the right answer it would then give is
    never recorded."""
    course = tmp_path / "course"
    shutil.copytree(template / "release", course / "release")
    shutil.copy(template / "gradebook.db", course / "gradebook.db")
    ran = on_a_cluster(course, "reach")
    scores = {
        r["student"]: {q["id"]: q["score"] for q in r["questions"]}["minima.grad_f_at_11"]
        for r in ran["results"]
    }
    assert scores["control"] > 0 and scores["mallory"] == 0


def test_a_per_student_release_and_the_report_on_postgresql(postgres: str, tmp_path: Path) -> None:
    from postgres import create_database

    url = create_database(postgres, "personal")
    course, students = tmp_path / "course", tmp_path / "students.txt"
    students.write_text("s01\ns02\n", encoding="utf-8")
    argv = [
        "release",
        "minima",
        "--course",
        str(course),
        "--out",
        str(tmp_path / "out"),
        "--db",
        url,
    ]
    done = subprocess.run(
        [AUTOGRADER, *argv, "--per-student", "--students", str(students)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert not (course / "gradebook.db").exists()
    with Gradebook(
        url
    ) as gb:  # the assignment and its cells, in nbgrader's gradebook on the server
        assert [a.name for a in gb.assignments] == ["minima"]
        assert gb.find_assignment("minima").max_score > 0
    mine = course / "release_per_student" / "s01" / "minima" / "minima.ipynb"
    import nbformat

    submit(course, "s01", "minima", nbformat.read(mine, as_version=4), WHEN)
    assert grading(course, "--db", url).wait(timeout=600) == 0
    report = subprocess.run(
        [AUTOGRADER, "report", "--course", str(course), "--db", url], capture_output=True, text=True
    )
    assert report.returncode == 0, report.stderr
    page = (course / "reports" / "report.html").read_text(encoding="utf-8")
    assert "Abgaben: <strong>1</strong>" in page
