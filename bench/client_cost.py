"""What one grading client costs per submission, the ceiling of a cluster's throughput:
`python bench/client_cost.py --n 200 --scheduler local:2`.

Builds a class of N submissions over every assignment (as bench/grade_class.py does), grades it in
this process on the local pool and on a Dask cluster, and prints for each the wall time and the
CPU time of this process alone (every thread: marking, the gradebook, autograded notebooks, pages,
and with Dask its client), never the sandboxes' or the Dask workers' (other processes). One client
core then grades at most 1 / (client CPU per submission) submissions a second, however many
workers compute.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from grade_class import build

from autograder.classroom.batch import Options, grade
from autograder.sandbox.cluster import DaskPool
from autograder.sandbox.execution import Limits


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def children_cpu() -> float:
    """The CPU time of this process's children that have ended: the local pool's sandboxes once
    the pool is closed."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(course: Path, scheduler: str | None, workers: int) -> tuple[float, float, int, float]:
    """Wall seconds, this process's CPU seconds, the submissions graded, and the sandboxes' CPU
    seconds (local pool only; a Dask worker's sandboxes are not this process's children)."""
    started, cpu, sandboxes = time.perf_counter(), own_cpu(), children_cpu()
    if scheduler:
        with DaskPool(scheduler, Limits()) as pool:
            ready = time.perf_counter()  # the cluster's start is not the client's cost
            cpu_ready = own_cpu()
            graded = grade([course / "submitted"], Options(course=course), pool=pool)
            wall = time.perf_counter() - ready
            return wall, own_cpu() - cpu_ready, len(graded.results), float("nan")
    graded = grade([course / "submitted"], Options(course=course, workers=workers))
    wall = time.perf_counter() - started
    return wall, own_cpu() - cpu, len(graded.results), children_cpu() - sandboxes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="submissions in the class")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--scheduler", default="local:2", help="the cluster to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="autograder-client-") as tmp:
        template = Path(tmp) / "template"
        build(template, args.n)
        rows = []
        for label, scheduler in (
            ("local pool", None),
            (f"--scheduler {args.scheduler}", args.scheduler),
        ):
            course = Path(tmp) / label.replace(" ", "_").replace(":", "_")
            shutil.copytree(template, course)
            rows.append((label, *measured(course, scheduler, args.workers)))
    print(f"class of {args.n} submissions over every assignment; {os.cpu_count()} cores")
    print(
        f"{'':28} {'wall':>8} {'notebooks/s':>12} {'client CPU/notebook':>20} {'client ceiling':>16}"
    )
    for label, wall, cpu, n, sandboxes in rows:
        print(
            f"{label:28} {wall:7.1f}s {n / wall:12.1f} {cpu / n * 1000:17.1f} ms "
            f"{n / cpu:11.0f} nb/s"
        )
        if sandboxes == sandboxes:  # measured: the local pool's
            print(f"{'':28} sandboxes' CPU per notebook: {sandboxes / n * 1000:.0f} ms")
    print(
        f"repeat: .venv/bin/python bench/client_cost.py --n {args.n} --scheduler {args.scheduler}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
