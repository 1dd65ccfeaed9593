"""Grading throughput, side by side with nbgrader autograde in one run.

    .venv/bin/python bench/grade_throughput.py --n 200

Builds a class of N submissions from the released notebooks of all seven assignments (the demo's
students in turn: right, typical mistakes, careless, nothing; every tenth also sleeps 0.5 s, slow
but within the bounds), grades identical copies with `autograder grade` and with real `nbgrader
autograde` (up to --nbgrader-max), checks that both give the same total per submission where both
grade it, and prints notebooks per second, seconds per notebook (median over --repeats), the peak
memory of each (all processes of the run), the ratio, and how our cost grows with N (--scale).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from autograder import demo
from autograder.derivation.references import ASSIGNMENTS
from autograder.release.assignments import release
from autograder.samples import answered, submit

BIN = Path(sys.executable).parent
SLOW = "import time\ntime.sleep(0.5)\n"
WHEN = "2026-11-20 10:00:00.000000 UTC"


def build_class(course: Path, n: int, slow: bool = True) -> None:
    """N submissions in the released course's submitted/ tree; every tenth slow if `slow`."""
    for i in range(n):
        assignment = ASSIGNMENTS[i % len(ASSIGNMENTS)]
        kind = demo.STUDENTS[(i // len(ASSIGNMENTS)) % len(demo.STUDENTS)]
        answers = demo.answers(assignment, kind)
        if slow and i % 10 == 9 and answers:
            first = next(iter(answers))
            answers[first] = SLOW + answers[first]
        released = course / "release" / assignment / f"{assignment}.ipynb"
        submit(course, f"s{i:05d}", assignment, answered(released, answers), WHEN)


def fresh_course(template: Path, where: Path, n: int | None = None) -> Path:
    """A copy of the released course (its gradebook holds the assignments) with the first n students."""
    shutil.copytree(template, where, ignore=shutil.ignore_patterns("submitted"))
    students = sorted((template / "submitted").iterdir())[:n]
    for folder in students:
        shutil.copytree(folder, where / "submitted" / folder.name)
    config = where / "nbgrader_config.py"
    config.write_text(config.read_text().replace(str(template), str(where)))
    return where


class Peak:
    """The largest total memory of a process and all its descendants, sampled: the sum of their
    proportional set sizes (PSS), so that the pages a worker's forked children share with it are
    counted once, not once per child as a sum of resident sizes would."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.running = pid, 0, True
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while self.running:
            self.peak = max(self.peak, _tree_pss(self.pid))
            time.sleep(0.05)

    def stop(self) -> int:
        self.running = False
        self.thread.join()
        return self.peak


def _tree_pss(root: int) -> int:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _pss(pid)
        stack += children.get(pid, [])
    return total


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def timed(command: list[str], cwd: Path) -> tuple[float, int]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    peak = Peak(process.pid)
    code = process.wait()
    seconds = time.perf_counter() - started
    memory = peak.stop()
    if code != 0:
        raise RuntimeError(f"{' '.join(command)} failed with {code}")
    return seconds, memory


def ours(
    course: Path, workers: int, scheduler: str | None = None
) -> tuple[float, int, dict[str, float]]:
    out = course / "ours.json"
    argv = [
        str(BIN / "autograder"),
        "grade",
        str(course / "submitted"),
        "--json",
        str(out),
        "--workers",
        str(workers),
    ]
    seconds, memory = timed([*argv, "--scheduler", scheduler] if scheduler else argv, course)
    results = json.loads(out.read_text())
    # nbgrader has no partial credit: compare the totals without what ours gave as partial
    totals = {
        r["student"]: r["score"]
        - sum(q["score"] for q in r["questions"] if q["status"] == "partial")
        for r in results
    }
    return seconds, memory, totals


def theirs(course: Path) -> tuple[float, int, dict[str, float]]:
    seconds = memory = 0
    for assignment in ASSIGNMENTS:
        if not any((course / "submitted").glob(f"*/{assignment}")):
            continue
        s, m = timed([str(BIN / "nbgrader"), "autograde", assignment, "--force"], course)
        seconds, memory = seconds + s, max(memory, m)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        totals = {s.student.id: float(s.score) for a in gb.assignments for s in a.submissions}
    return seconds, memory, totals


def references(variants: int) -> dict[str, float]:
    """`variant_references.py` in a fresh process: its caches start cold."""
    script = Path(__file__).with_name("variant_references.py")
    out = subprocess.run(
        [sys.executable, str(script), "--variants", str(variants)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[str, float] = json.loads(out)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="submissions in the class (default 200)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--nbgrader-max", type=int, default=200, help="nbgrader grades at most this many"
    )
    parser.add_argument("--scale", default="50,200,1000", help="class sizes for our grader alone")
    parser.add_argument(
        "--variants", type=int, default=1000, help="variants per assignment for the references"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--scheduler", help="grade on a Dask cluster (local:N, tcp://…), beside the local pool"
    )
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.scale.split(",") if s} | {args.n})
    with tempfile.TemporaryDirectory(prefix="autograder-throughput-") as tmp:
        base = Path(tmp)
        template = base / "template"
        release(ASSIGNMENTS, template, "de", base / "copies")
        build_class(template, max(sizes))
        n_nb = min(args.n, args.nbgrader_max)
        mine, theirs_runs = [], []
        agree: tuple[int, int, list[str]] | None = None
        for k in range(args.repeats):
            seconds, memory, totals = ours(
                fresh_course(template, base / f"ours{k}", args.n), args.workers
            )
            mine.append((seconds, memory))
            if n_nb:
                t_seconds, t_memory, t_totals = theirs(
                    fresh_course(template, base / f"nb{k}", n_nb)
                )
                theirs_runs.append((t_seconds, t_memory))
                both = set(totals) & set(t_totals)
                differ = sorted(s for s in both if abs(totals[s] - t_totals[s]) > 1e-6)
                agree = len(both) - len(differ), len(both), differ[:5]
        on_cluster = []
        if args.scheduler:
            for k in range(args.repeats):
                course = fresh_course(template, base / f"dask{k}", args.n)
                on_cluster.append(ours(course, args.workers, args.scheduler)[:2])
        scaling = []
        for size in sizes:
            seconds, memory, _ = ours(
                fresh_course(template, base / f"scale{size}", size), args.workers
            )
            scaling.append((size, seconds, memory))
        refs = references(args.variants)
    per_nb = statistics.median(s for s, _ in mine) / args.n
    print(
        f"machine: {os.cpu_count()} cores; {args.workers} workers; class of {args.n} over {len(ASSIGNMENTS)} assignments; {args.repeats} repeats"
    )
    print(
        f"autograder grade:  {1 / per_nb:7.1f} notebooks/s  {per_nb * 1000:7.0f} ms/notebook (median, whole run)  peak {max(m for _, m in mine) / 2**20:.0f} MiB"
    )
    if theirs_runs:
        per_theirs = statistics.median(s for s, _ in theirs_runs) / n_nb
        print(
            f"nbgrader autograde: {1 / per_theirs:6.2f} notebooks/s  {per_theirs * 1000:7.0f} ms/notebook (median, N = {n_nb})  peak {max(m for _, m in theirs_runs) / 2**20:.0f} MiB"
        )
        print(f"ratio: {per_theirs / per_nb:.1f}× nbgrader's notebooks per second")
        if agree:
            shown = f" (differing: {', '.join(agree[2])})" if agree[2] else ""
            print(
                f"same total per submission (without our partial credit): {agree[0]} of {agree[1]}{shown}"
            )
    if on_cluster:
        per_dask = statistics.median(s for s, _ in on_cluster) / args.n
        print(
            f"autograder grade --scheduler {args.scheduler}: {1 / per_dask:7.1f} notebooks/s  "
            f"{per_dask * 1000:7.0f} ms/notebook (median, whole run with the cluster's start)"
        )
    print("how our cost grows (one run each):")
    for size, seconds, memory in scaling:
        print(
            f"  N = {size:5d}: {seconds:7.1f} s  {seconds / size * 1000:6.0f} ms/notebook  peak {memory / 2**20:.0f} MiB"
        )
    print(
        f"references: cold derivation of all {refs['questions']:.0f} {refs['cold']:.2f} s; warm "
        f"lookup {refs['warm'] * 1e6:.1f} µs; formulas for the varying numbers "
        f"{refs['formulas']:.2f} s (they hold {refs['held']:.0f} of {refs['questions']:.0f}); "
        f"{refs['variants']:.0f} variants of every assignment at once {refs['at_once'] * 1000:.0f} ms; "
        f"the other questions derived exactly: {refs['exact_per_variant'] * 1000:.0f} ms per variant"
    )
    print(
        f"repeat: .venv/bin/python bench/grade_throughput.py --n {args.n} --repeats {args.repeats} "
        f"--scale {args.scale} --variants {args.variants}"
        + (f" --scheduler {args.scheduler}" if args.scheduler else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
