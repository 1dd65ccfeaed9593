"""Grading on a Dask cluster: a LocalCluster and a TLS cluster grade a class exactly as the local
pool does, and a Dask worker killed mid-run costs only a rerun of its submissions."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from nbgrader.api import Gradebook

from autograder import demo
from autograder.classroom.batch import Options, grade
from autograder.samples import answered, submit
from autograder.sandbox.cluster import DaskPool
from autograder.sandbox.execution import Limits

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
    return {"results": plain(json.loads(out.read_text())), "rows": graded_rows(course)}


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


def test_a_tls_cluster_grades_as_the_pool_does(
    template: Path, undisturbed: dict[str, Any], tmp_path: Path
) -> None:
    from distributed.security import Security

    course = copy_of(template, tmp_path / "course")
    with DaskPool("local:2", Limits(), security=Security.temporary()) as pool:
        assert pool.client.scheduler.address.startswith("tls://")
        graded = grade([course / "submitted"], Options(course=course), pool=pool)
    assert plain([r.as_dict() for r in graded.results]) == undisturbed["results"]
    assert graded_rows(course) == undisturbed["rows"]


def test_a_dask_worker_killed_mid_run_costs_only_a_rerun(
    template: Path, undisturbed: dict[str, Any], tmp_path: Path
) -> None:
    course = copy_of(template, tmp_path / "course")
    killed: list[int] = []
    with DaskPool("local:2", Limits()) as pool:
        pids = pool.client.run(os.getpid)

        def progress(done: int, total: int) -> None:
            if done == 2 and not killed:  # one Dask worker dies while others are out
                victim = sorted(pids.values())[0]
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        graded = grade([course / "submitted"], Options(course=course), progress, pool=pool)
    assert killed and graded.whole and len(graded.results) == CLASS
    assert plain([r.as_dict() for r in graded.results]) == undisturbed["results"]
    assert graded_rows(course) == undisturbed["rows"]  # each submission once


def test_without_a_cluster_nothing_of_dask_is_imported() -> None:
    code = (
        "import sys; from autograder.cli import main; "
        "from autograder.classroom import batch; "
        "print('distributed' in sys.modules or 'dask' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
