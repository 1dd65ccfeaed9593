"""The commands a person waits for, each timed as a whole process: start-up included.

    .venv/bin/python bench/commands.py --repeats 3

Releases the course once (not timed), then runs each command --repeats times in a fresh process
and prints the median and every run, beside the target: `--help` and each `COMMAND --help`,
`answers ASSIGNMENT` once the course is released, a student's `check NOTEBOOK`, and `grade` of one
submitted notebook (a fresh copy of the course for every run, so that nothing is graded already),
and nbgrader's own `autograde` of the same one notebook for comparison. The load average of the
machine is printed before and after: figures taken under load are slower than a quiet machine's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder import demo
from autograder.release.assignments import release
from autograder.samples import answered, submit

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
WHEN = "2026-11-20 10:00:00.000000 UTC"
COMMANDS = ("answers", "audit", "release", "check", "grade", "feedback", "report", "export", "demo")


def timed(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return seconds


def course_with_one(template: Path, where: Path, assignment: str) -> Path:
    """A copy of the released course with one student's submission of `assignment`."""
    shutil.copytree(template, where)
    config = where / "nbgrader_config.py"
    config.write_text(config.read_text().replace(str(template), str(where)))
    released = where / "release" / assignment / f"{assignment}.ipynb"
    notebook = answered(released, demo.answers(assignment, "anna"))
    submit(where, "anna", assignment, notebook, WHEN)
    return where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--assignment", default="minima")
    parser.add_argument("--no-nbgrader", action="store_true", help="leave out nbgrader's autograde")
    args = parser.parse_args()
    autograder = str(BIN / "autograder")
    a = args.assignment
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="bench-commands-") as tmp:
        template = Path(tmp) / "course"
        release([a], template, "de", Path(tmp) / "copies")
        student_notebook = template / "release" / a / f"{a}.ipynb"
        runs: list[tuple[str, float | None, list[str], Path | None]] = [
            ("autograder --help", 0.3, [autograder, "--help"], None),
            *((f"autograder {c} --help", 0.3, [autograder, c, "--help"], None) for c in COMMANDS),
            (
                f"autograder answers {a}",
                1.0,
                [autograder, "answers", a, "--course", str(template)],
                None,
            ),
            (
                f"autograder check release/de/{a}.ipynb",
                2.0,
                [autograder, "check", str(student_notebook)],
                None,
            ),
        ]
        rows = []
        for name, target, argv, _ in runs:
            seconds = [timed(argv, ROOT) for _ in range(args.repeats)]
            rows.append((name, target, seconds))
        graders = [
            ("autograder grade (one notebook)", 1.5, "autograder"),
            ("autograder grade --no-report (one notebook)", 1.5, "no-report"),
        ]
        if not args.no_nbgrader:
            graders.append(("nbgrader autograde (one notebook)", None, "nbgrader"))
        for name, target, which in graders:
            seconds = []
            for i in range(args.repeats):
                course = course_with_one(template, Path(tmp) / f"{which}-{i}", a)
                if which == "autograder":
                    argv = [autograder, "grade", str(course / "submitted")]
                elif which == "no-report":
                    argv = [autograder, "grade", str(course / "submitted"), "--no-report"]
                else:
                    argv = [str(BIN / "nbgrader"), "autograde", a, "--student", "anna"]
                seconds.append(timed(argv, course))
            rows.append((name, target, seconds))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"\n{'command':<46} {'median':>8} {'target':>8}  runs")
    for name, target, seconds in rows:
        median = statistics.median(seconds)
        shown = "" if target is None else f"< {target:g} s"
        mark = "" if target is None else ("  ok" if median < target else "  MISSED")
        every = " ".join(f"{s:.2f}" for s in seconds)
        print(f"{name:<46} {median:>6.2f} s {shown:>8}  {every}{mark}")
    print(f"\nrepeat: .venv/bin/python bench/commands.py --repeats {args.repeats}")


if __name__ == "__main__":
    main()
