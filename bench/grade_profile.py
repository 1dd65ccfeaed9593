"""Where the grader's own time goes: `python bench/grade_profile.py --n 200`.

Builds a class of N submissions (as bench/grade_class.py does) and grades a copy of it twice in
this process with `autograder.batch.grade`: first without a profiler, to print the grading
process's own CPU time per notebook (every thread, the whole call; the sandbox runs happen in the
worker processes and are not in it), then a second copy under cProfile, to print the cost per
notebook of each stage (marking, gradebook, autograded notebooks, feedback pages; the module
caches are warm by then) and the functions that take the most of it. cProfile sees the thread
that marks and records and counts its CPU time, so that other work on the machine does not
inflate the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

from grade_class import build
from grade_throughput import fresh_course

from autograder.classroom.batch import Options, grade

# the parent's stages, by the function that does each
STAGES = {
    "marking": ("classroom/marking.py", "mark"),
    "gradebook": ("classroom/batch.py", "_record"),
    "gradebook (last batch, at the end)": ("classroom/gradebook.py", "close"),
    "autograded notebooks": ("classroom/batch.py", "_write_autograded"),
    "feedback pages": ("classroom/batch.py", "_write_feedback"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="submissions in the class")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--top", type=int, default=25, help="functions to list")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="autograder-profile-") as tmp:
        template = Path(tmp) / "template"
        build(template, args.n)
        # first without the profiler: the grading process's own CPU time, every thread of it
        own = resource.getrusage(resource.RUSAGE_SELF)
        grade(
            [fresh_course(template, Path(tmp) / "plain") / "submitted"],
            Options(workers=args.workers),
        )
        after = resource.getrusage(resource.RUSAGE_SELF)
        plain_cpu = after.ru_utime + after.ru_stime - own.ru_utime - own.ru_stime
        course = fresh_course(template, Path(tmp) / "course")
        profile = cProfile.Profile(time.thread_time)
        started, cpu = time.perf_counter(), _cpu_seconds()
        profile.enable()
        graded = grade([course / "submitted"], Options(workers=args.workers))
        profile.disable()
        wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    n = len(graded.results)
    stats = pstats.Stats(profile)
    print(f"class of {n} notebooks, {args.workers} workers, {os.cpu_count()} cores")
    print(
        f"batch.grade: {wall:.1f} s, {n / wall:.1f} notebooks/s (load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"CPU time of all its processes (workers and sandboxes too): {cpu / n * 1000:.0f} ms/notebook"
    )
    print(
        f"the grading process's own CPU time per notebook, every thread, without the profiler: "
        f"{plain_cpu / n * 1000:.1f} ms (the whole grade call: stored references, gradebook, "
        "reading notebooks, marking, autograded notebooks, pages; the sandboxes are other processes)"
    )
    print("under the profiler, the thread that marks and records, per notebook:")
    total = 0.0
    for label, (module, function) in STAGES.items():
        seconds = _cumulative(stats, module, function)
        total += seconds
        print(f"  {label:36s} {seconds / n * 1000:6.1f} ms")
    print(f"  {'together':36s} {total / n * 1000:6.1f} ms")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.top)
    print(out.getvalue())
    print(f"repeat: .venv/bin/python bench/grade_profile.py --n {args.n} --workers {args.workers}")
    return 0


def _cpu_seconds() -> float:
    """User and system time of this process and of its children that have ended."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _cumulative(stats: pstats.Stats, module: str, function: str) -> float:
    """Seconds spent in a function and what it called; a stage that is in no file of the package
    is an error of this benchmark, not a stage that took no time."""
    if not (Path(__file__).resolve().parents[1] / "autograder" / module).is_file():
        raise SystemExit(f"bench/grade_profile.py: no autograder/{module}: update STAGES")
    table = stats.stats  # type: ignore[attr-defined]
    return sum(
        entry[3]
        for (path, _, name), entry in table.items()
        if name == function and path.endswith(f"autograder/{module}")
    )


if __name__ == "__main__":
    sys.exit(main())
