"""A per-student release, timed as a whole command, beside nbgrader's generate_assignment per student.

    .venv/bin/python bench/release_per_student.py --n 200

Runs `autograder release --per-student` for a class of N students over all seven assignments
(--repeats times, a fresh course each; the median is printed), then nbgrader's own
`generate_assignment` once per student and assignment for --sample students (what the release
did before it ran nbgrader's preprocessors in memory), and prints seconds in all, milliseconds per
notebook, and what the old way would take for the whole class.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.derivation.references import ASSIGNMENTS
from autograder.derivation.variants import course_secret, draw
from autograder.release.assignments import generate, nbgrader_api

BIN = Path(sys.executable).parent


def ours(where: Path, students: list[str]) -> float:
    course = where / "course"
    roster = where / "students.txt"
    roster.write_text("\n".join(students) + "\n", encoding="utf-8")
    argv = [str(BIN / "autograder"), "release", "--per-student", "--students", str(roster)]
    argv += ["--course", str(course), "--out", str(where / "out")]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    made = list((course / "release_per_student").glob("*/*/*.ipynb"))
    if len(made) != len(students) * len(ASSIGNMENTS):
        raise SystemExit(f"{len(made)} notebooks, not {len(students) * len(ASSIGNMENTS)}")
    return seconds


def theirs(where: Path, students: list[str]) -> float:
    """nbgrader's generate_assignment for every student and assignment, in a course of its own."""
    secret = course_secret(where / "course", create=True)
    api = nbgrader_api(where / "staging")
    started = time.perf_counter()
    for assignment in ASSIGNMENTS:
        for student in students:
            generate(api, assignment, where / "staging", "de", draw(assignment, student, secret))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="students (default 200)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sample", type=int, default=3, help="students for nbgrader's way")
    args = parser.parse_args()
    students = [f"s{i:04d}" for i in range(args.n)]
    notebooks = args.n * len(ASSIGNMENTS)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    runs = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="bench-release-") as tmp:
            runs.append(ours(Path(tmp), students))
    with tempfile.TemporaryDirectory(prefix="bench-release-") as tmp:
        sample = theirs(Path(tmp), students[: args.sample])
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    median = statistics.median(runs)
    per = sample / (args.sample * len(ASSIGNMENTS))
    print(
        f"autograder release --per-student, {args.n} students x {len(ASSIGNMENTS)} assignments: "
        f"{median:.1f} s (median of {args.repeats}: {' '.join(f'{s:.1f}' for s in runs)}), "
        f"{1000 * median / notebooks:.0f} ms per notebook"
    )
    print(
        f"nbgrader generate_assignment per student ({args.sample} students): "
        f"{1000 * per:.0f} ms per notebook, {per * notebooks / 60:.1f} min for the class"
    )
    print(f"repeat: .venv/bin/python bench/release_per_student.py --n {args.n}")


if __name__ == "__main__":
    main()
