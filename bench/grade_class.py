"""Grading time per notebook for a class: `python bench/grade_class.py --n 100`.

Builds a class of N submissions from the released notebooks of all seven assignments (the demo's
students in turn: right, typical mistakes, careless, nothing), grades it with `autograder grade`
in a fresh temporary course, and prints the median seconds per notebook and the throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grade_throughput import build_class

from autograder.derivation.references import ASSIGNMENTS
from autograder.release.assignments import release


def build(course: Path, n: int) -> None:
    release(ASSIGNMENTS, course, "de", course.parent / "copies")
    build_class(course, n, slow=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="submissions in the class")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="autograder-bench-") as tmp:
        course = Path(tmp) / "course"
        build(course, args.n)
        out = Path(tmp) / "results.json"
        exe = Path(sys.executable).with_name("autograder")
        started = time.perf_counter()
        subprocess.run(
            [
                str(exe),
                "grade",
                str(course / "submitted"),
                "--json",
                str(out),
                "--workers",
                str(args.workers),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - started
        results = json.loads(out.read_text(encoding="utf-8"))
    seconds = sorted(r["seconds"] for r in results)
    print(f"class of {len(results)} notebooks, {args.workers} workers, {os.cpu_count()} cores")
    print(
        f"whole run (start-up and gradebook included): {wall:.1f} s, {len(results) / wall:.1f} notebooks/s"
    )
    print(
        f"per notebook (sandbox run + marking): median {statistics.median(seconds) * 1000:.0f} ms, "
        f"p90 {seconds[int(0.9 * (len(seconds) - 1))] * 1000:.0f} ms, max {seconds[-1] * 1000:.0f} ms"
    )
    print(f"repeat: python bench/grade_class.py --n {args.n} --workers {args.workers}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
