"""The hostile corpus graded by real `nbgrader autograde` and by `autograder grade`, side by side.

    .venv/bin/python tests/hostile/side_by_side.py          # writes docs/hostile.md

Both graders get identical copies of the corpus in two fresh courses made by `autograder release`.
nbgrader runs one student per process (a case that kills its kernel's parent would otherwise end
the whole run), with a per-cell timeout like ours and, so that the machine survives, its kernel
limited to 4 GiB of memory; the fork bomb is not given to nbgrader at all, since nothing there
bounds processes. Everything else is as nbgrader ships it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import corpus
from nbgrader.api import Gradebook, MissingEntry

from autograder.release.assignments import release

ROOT = corpus.ROOT
BIN = Path(sys.executable).parent
# what would harm this machine where it succeeds, as it does in a kernel that root runs
NOT_FOR_NBGRADER = {
    "fork_bomb": "not run: nbgrader bounds no processes, this would exhaust the machine",
    "reboot_and_hostname": "not run: its kernel runs as root, this would rename the machine",
    "immutable_file": "not run: its kernel runs as root, this would leave a file nobody can delete",
    "io_uring_and_ptrace": "not run: its kernel may trace its parent, this would stop nbgrader",
    "i386_fork": "not run: a second kernel process would share the first one's sockets",
}
KERNEL_MEMORY = 4 * 1024**3
CELL_TIMEOUT = 3


def limited_kernel(home: Path) -> dict[str, str]:
    """A Jupyter data dir whose python3 kernel starts under a memory limit."""
    spec = home / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    start = (
        "import resource; "
        f"resource.setrlimit(resource.RLIMIT_AS, ({KERNEL_MEMORY}, {KERNEL_MEMORY})); "
        "from ipykernel import kernelapp; kernelapp.launch_new_instance()"
    )
    kernel = {
        "argv": [sys.executable, "-c", start, "-f", "{connection_file}"],
        "display_name": "Python 3",
        "language": "python",
    }
    (spec / "kernel.json").write_text(json.dumps(kernel))
    return {
        **os.environ,
        "JUPYTER_PATH": str(home),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }


def run_nbgrader(
    course: Path, cases: list[str], env: dict[str, str]
) -> dict[str, tuple[str, float]]:
    found = {}
    for name in cases:
        if name in NOT_FOR_NBGRADER:
            found[name] = (NOT_FOR_NBGRADER[name], 0.0)
            continue
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [
                    str(BIN / "nbgrader"),
                    "autograde",
                    corpus.ASSIGNMENT,
                    "--student",
                    name,
                    "--force",
                    f"--ExecutePreprocessor.timeout={CELL_TIMEOUT}",
                ],
                cwd=course,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                start_new_session=True,
                check=False,
            )
            log = done.stdout + done.stderr
            code = done.returncode
        except subprocess.TimeoutExpired:
            log, code = "nbgrader ran past 300 s", -1
        seconds = time.perf_counter() - started
        found[name] = (_score(course, name, code, log), seconds)
        print(f"nbgrader {name}: {found[name][0]} ({seconds:.1f} s)", file=sys.stderr)
    return found


def _score(course: Path, student: str, code: int, log: str) -> str:
    try:
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            submission = gb.find_submission(corpus.ASSIGNMENT, student)
            score = submission.score
    except (MissingEntry, ValueError):
        score = None
    if code != 0 or score is None:
        reason = _reason(log, code)
        return f"failed ({reason})" if score is None else f"{score:g} ({reason})"
    return f"{score:g}"


def _reason(log: str, code: int) -> str:
    """The exception nbgrader's log ends with (its last traceback line), or how the process ended."""
    if code < 0:
        return f"killed by signal {-code}"
    raised = [
        line.strip()
        for line in log.splitlines()
        if re.match(r"^\s*[\w.]*(Error|Exception|Exit|Interrupt|Timeout)\b", line)
    ]
    if raised:
        return raised[-1][:90].replace("|", "/")
    return "no score" if code == 0 else f"exit {code}"


def main() -> int:
    out = ROOT / "docs" / "hostile.md"
    with tempfile.TemporaryDirectory(prefix="autograder-hostile-") as tmp:
        base = Path(tmp)
        courses = {}
        for who in ("nbgrader", "ours"):
            course = base / who
            release([corpus.ASSIGNMENT], course, "de", base / f"{who}-copies")
            corpus.write(course / "submitted")
            courses[who] = course
        names = [c.name for c in corpus.CASES]
        theirs = run_nbgrader(courses["nbgrader"], names, limited_kernel(base / "jupyter"))
        results = base / "ours.json"
        started = time.perf_counter()
        subprocess.run(
            [
                str(BIN / "autograder"),
                "grade",
                str(courses["ours"] / "submitted"),
                "--json",
                str(results),
                *corpus.BOUNDS,
            ],
            check=True,
            capture_output=True,
        )
        ours_seconds = time.perf_counter() - started
        ours = {r["student"]: r for r in json.loads(results.read_text())}
    rows = []
    fooled = failed = short = 0
    for case in corpus.CASES:
        expected = sum(case.expected().values())
        mine = ours[case.name]["score"]
        nb_text, _ = theirs[case.name]
        note = ""
        if nb_text.startswith("not run"):
            pass
        elif "(" in nb_text or nb_text.startswith("failed"):
            note, failed = "nbgrader failed", failed + 1
        elif float(nb_text) > expected:
            note, fooled = "nbgrader fooled", fooled + 1
        elif float(nb_text) < expected:
            note, short = "nbgrader gave too little", short + 1
        mark = "" if abs(mine - expected) < 1e-9 else " ≠"
        rows.append(
            f"| `{case.name}` | {case.group} | {case.what} | {nb_text} | {mine:g}{mark} | {expected:g} | {note} |"
        )
    total_nb = sum(s for _, s in theirs.values())
    text = f"""# The hostile corpus, side by side with nbgrader

Each row is one submission of `tests/hostile/corpus.py`: the released `attention_step` notebook
(10 points) answered with the worked solutions, with one thing changed. *Expected* is what a fair
grader gives (the points of whatever the case does not attack). Regenerate this page with

    .venv/bin/python tests/hostile/side_by_side.py

nbgrader {_version()} runs `nbgrader autograde` one student at a time, with a per-cell timeout of
{CELL_TIMEOUT} s and its kernel limited to 4 GiB (without that limit the memory bomb takes the
machine); the fork bomb, and four escapes that would harm the machine where they succeed, are
not given to it. `autograder grade` grades the whole corpus in one run
with its bounds `{" ".join(corpus.BOUNDS)}`. Its scores are checked against *expected* by
`tests/test_hostile.py` in CI.

| case | kind | what it does | nbgrader | autograder | expected | |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

nbgrader was fooled into more points than earned in {fooled} cases, stopped with an error (and
0 points, or none at all) in {failed}, and gave too few points without an error in {short}; it
took {total_nb:.0f} s for the corpus (a process per student), `autograder grade`
{ours_seconds:.0f} s for all of it in one run. Every autograder score equals *expected*
(a ≠ would mark one that does not).
"""
    out.parent.mkdir(exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


def _version() -> str:
    import nbgrader

    return str(nbgrader.__version__)


if __name__ == "__main__":
    sys.exit(main())
