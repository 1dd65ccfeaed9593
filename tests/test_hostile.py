"""The hostile corpus (tests/hostile/corpus.py) graded in one `autograder grade` run.

Every case must get its expected points per question and a clear message; the run must finish,
the gradebook must stay whole, and a name that is not a valid student id is refused, not stored.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent / "hostile"))
import corpus
import unprivileged

pytestmark = pytest.mark.slow


def _grade_corpus(course: Path, wrap: Any = None) -> dict[str, Any]:
    """The corpus written into `course` graded in one `autograder grade` run (`wrap` turns the
    command into another user's)."""
    cases = {case.name: case for case in corpus.CASES}
    exe = Path(sys.executable).with_name("autograder")
    out = course / "results.json"
    argv = [str(exe), "grade", str(course / "submitted"), "--json", str(out), *corpus.BOUNDS]
    if wrap is not None:
        argv = wrap(argv)
    result = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    results = json.loads(out.read_text(encoding="utf-8"))
    return {
        "course": course,
        "cases": cases,
        "results": results,
        "stdout": result.stdout,
        "stderr": result.stderr,
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    course = tmp_path_factory.mktemp("hostile")
    corpus.write(course / "submitted")
    return _grade_corpus(course)


@pytest.fixture(scope="module")
def graded_as_nobody() -> Iterator[dict[str, Any]]:
    """The corpus graded by a grader that nobody (uid 65534) runs."""
    if os.geteuid() != 0 or unprivileged.missing_tools():
        message = "needs root to start the grader as nobody, and util-linux's unshare and setpriv"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    home = Path(tempfile.mkdtemp(prefix="autograder-nobody-"))
    try:
        course = home / "course"
        course.mkdir()
        corpus.write(course / "submitted")
        unprivileged.hand_over(home)
        yield _grade_corpus(course, lambda argv: unprivileged.command(argv, home))
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_the_corpus_has_every_kind_of_case() -> None:
    assert len(corpus.CASES) >= 30
    assert {c.group for c in corpus.CASES} == {
        "fool",
        "rob",
        "stall",
        "kill",
        "tamper",
        "broken",
        "awkward",
        "escape",
        "forge",
        "crash",
        "paths",
        "records",
    }
    assert len({c.name for c in corpus.CASES}) == len(corpus.CASES)


@pytest.mark.parametrize("case", corpus.CASES, ids=lambda c: c.name)
def test_each_case_gets_its_expected_score_and_a_clear_message(
    graded: dict[str, Any], case: corpus.Case
) -> None:
    (result,) = [r for r in graded["results"] if r["student"] == case.name]
    got = {q["id"].partition(".")[2]: q["score"] for q in result["questions"]}
    assert got == case.expected(), case.what
    said = " ".join([q["feedback"] for q in result["questions"]] + result["errors"])
    assert any(phrase in said for phrase in case.says.split(" | ")), said
    assert "Traceback" not in said


def test_the_verdicts_are_the_same_whoever_starts_the_grader(
    graded: dict[str, Any], graded_as_nobody: dict[str, Any]
) -> None:
    def verdicts(run: dict[str, Any]) -> dict[Any, list[tuple[str, float, Any]]]:
        return {
            r["student"]: [(q["id"], q["score"], q["mistake"]) for q in r["questions"]]
            for r in run["results"]
        }

    assert "every bound holds" in graded_as_nobody["stderr"]
    assert (graded_as_nobody["course"] / "gradebook.db").stat().st_uid == unprivileged.NOBODY
    assert verdicts(graded_as_nobody) == verdicts(graded)


# what a Dask worker hosting the sandbox must outlive: submissions that end or kill their sandbox,
# crash it, look for the course's secrets, or try to get out (the network among them)
ON_A_CLUSTER = ("kill", "crash", "rob", "escape")


@pytest.fixture(scope="module")
def graded_on_a_cluster(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The corpus's cases of those groups graded on a LocalCluster of two Dask workers."""
    course = tmp_path_factory.mktemp("hostile_cluster")
    corpus.write(course / "submitted")
    for case in corpus.CASES:
        folder = course / "submitted" / case.name
        if case.group in ON_A_CLUSTER:
            continue
        if folder.is_symlink() or folder.is_file():
            folder.unlink()
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return _grade_corpus(course, lambda argv: [*argv, "--scheduler", "local:2"])


@pytest.mark.slow
def test_on_a_dask_cluster_every_case_gets_its_expected_score(
    graded_on_a_cluster: dict[str, Any],
) -> None:
    """Submissions that kill their sandbox, crash it, rob or escape are graded as on one machine
    and none is retried for ever; the Dask workers outlive them all."""
    for case in (c for c in corpus.CASES if c.group in ON_A_CLUSTER):
        (result,) = [r for r in graded_on_a_cluster["results"] if r["student"] == case.name]
        got = {q["id"].partition(".")[2]: q["score"] for q in result["questions"]}
        assert got == case.expected(), (case.name, case.what)
    assert "sandbox: every bound holds" in graded_on_a_cluster["stderr"]


def test_the_run_says_which_bounds_of_the_sandbox_hold(graded: dict[str, Any]) -> None:
    assert "sandbox: every bound holds" in graded["stderr"]


def test_an_undecodable_student_name_is_refused_and_not_stored(graded: dict[str, Any]) -> None:
    odd = [r for r in graded["results"] if r["student"] is None]
    assert len(odd) == 1 and "keine gültige Kennung" in odd[0]["errors"][0]
    assert odd[0]["score"] == 0


def test_no_case_is_graded_as_anybody_else(graded: dict[str, Any]) -> None:
    students = [r["student"] for r in graded["results"]]
    assert sorted(s for s in students if s is not None) == sorted(graded["cases"])


def test_the_gradebook_is_whole_and_holds_every_case(graded: dict[str, Any]) -> None:
    db = sqlite3.connect(graded["course"] / "gradebook.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        students = {row[0] for row in db.execute("SELECT id FROM student")}
    finally:
        db.close()
    assert students == set(graded["cases"])


def test_two_runs_at_once_leave_the_gradebook_whole(tmp_path: Path) -> None:
    from autograder import demo
    from autograder.samples import answered, submit

    course = tmp_path / "course"
    released = corpus.ROOT / "release" / "de" / "minima.ipynb"
    for i in range(16):
        kind = ("anna", "ben", "clara", "dora")[i % 4]
        submit(
            course,
            f"s{i:02d}",
            "minima",
            answered(released, demo.answers("minima", kind)),
            corpus.WHEN,
        )
    exe = Path(sys.executable).with_name("autograder")
    first = subprocess.run(
        [str(exe), "grade", str(course / "submitted" / "s00")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert first.returncode == 0, (
        first.stderr
    )  # the assignment is in the gradebook: both runs write scores only
    runs = [
        subprocess.Popen(
            [str(exe), "grade", str(course / "submitted"), "--workers", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for run in runs:
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
        assert "Traceback" not in err
        assert "could not record" not in err  # a row the other run made first is read, not lost
    db = sqlite3.connect(course / "gradebook.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        submissions = db.execute("SELECT COUNT(*) FROM submitted_assignment").fetchone()[0]
        unscored = db.execute("SELECT COUNT(*) FROM grade WHERE auto_score IS NULL").fetchone()[0]
    finally:
        db.close()
    assert submissions == 16
    assert unscored == 0
    again = subprocess.run(
        [str(exe), "grade", str(course / "submitted")], capture_output=True, text=True, check=False
    )
    assert "16 submissions graded already" in again.stdout


def test_where_a_bound_does_not_hold_the_run_says_so_and_may_refuse(tmp_path: Path) -> None:
    """In a user namespace that maps only root, the child cannot take an identity of its own."""
    usable = shutil.which("unshare") is not None and (
        subprocess.run(["unshare", "--user", "--map-root-user", "true"], check=False).returncode
        == 0
    )
    if not usable:
        message = "needs util-linux's unshare (apt-get install util-linux) and user namespaces"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from autograder import demo
    from autograder.samples import answered, submit

    released = corpus.ROOT / "release" / "de" / "minima.ipynb"
    submit(
        tmp_path, "anna", "minima", answered(released, demo.answers("minima", "anna")), corpus.WHEN
    )
    exe = Path(sys.executable).with_name("autograder")
    argv = ["unshare", "--user", "--map-root-user", str(exe), "grade", str(tmp_path / "submitted")]
    refused = subprocess.run(
        [*argv, "--require-confinement"], capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2, refused.stderr
    assert "not graded" in refused.stderr and "an unprivileged identity" in refused.stderr
    assert not (tmp_path / "gradebook.db").exists()
    warned = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert warned.returncode == 0, warned.stderr
    assert "do NOT hold" in warned.stderr and "18/18" in warned.stdout
