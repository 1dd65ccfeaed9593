"""The benchmarks run as documented (a smoke test: small classes, no assertion on time)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.model.catalogue import ASSIGNMENTS

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_throughput_benchmark_runs_and_prints_the_ratio() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "grade_throughput.py"),
            "--n",
            "7",
            "--repeats",
            "1",
            "--scale",
            "7",
            "--variants",
            "5",
            "--scheduler",
            "local:1",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"ratio: [\d.]+×", result.stdout)
    assert "same total per submission (without our partial credit): 7 of 7" in result.stdout
    assert "repeat: .venv/bin/python bench/grade_throughput.py" in result.stdout
    assert re.search(r"5 variants of every assignment at once \d+ ms", result.stdout)
    assert re.search(r"autograder grade --scheduler local:1: +[\d.]+ notebooks/s", result.stdout)


@pytest.mark.slow
def test_the_client_cost_benchmark_prints_the_ceiling_of_a_cluster() -> None:
    result = subprocess.run(
        [sys.executable, "client_cost.py", "--n", "7", "--scheduler", "local:1"],
        cwd=ROOT / "bench",
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if "nb/s" in line and "ms" in line]
    assert len(rows) == 2 and rows[1].startswith("--scheduler local:1"), result.stdout
    assert re.search(r"sandboxes' CPU per notebook: \d+ ms", result.stdout)


@pytest.mark.slow
def test_the_commands_benchmark_times_each_command_beside_its_target() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "commands.py"), "--repeats", "1", "--no-nbgrader"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = {
        line[:46].strip(): line[46:]
        for line in result.stdout.splitlines()
        if line.startswith("autograder ")
    }
    assert {"autograder --help", "autograder grade --help", "autograder answers minima"} <= set(
        rows
    )
    assert "autograder grade (one notebook)" in rows
    assert "autograder grade --no-report (one notebook)" in rows
    assert {"autograder feedback --help", "autograder report --help"} <= set(rows)
    assert all(re.search(r"\d+\.\d\d s .*(ok|MISSED)$", row) for row in rows.values()), rows
    assert re.search(r"load average before: [\d.]+ [\d.]+ [\d.]+", result.stdout)
    assert "repeat: .venv/bin/python bench/commands.py --repeats 1" in result.stdout


@pytest.mark.slow
def test_the_release_benchmark_releases_every_notebook_and_prints_both_ways() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "release_per_student.py"),
            *("--n", "2", "--repeats", "1", "--sample", "1"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(
        rf"2 students x {len(ASSIGNMENTS)} assignments: [\d.]+ s .* \d+ ms per notebook",
        result.stdout,
    )
    assert re.search(
        r"nbgrader generate_assignment per student \(1 students\): \d+ ms", result.stdout
    )
