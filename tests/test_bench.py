"""The benchmarks run as documented (a smoke test: small classes, no assertion on time)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

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
