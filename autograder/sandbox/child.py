"""What runs in the forked child of a sandbox worker: its bounds set before any student code runs,
then the submission's cells with IPython's semantics, and the answers streamed back as plain data.

Loaded by path by `worker.py` (like `plain`, `oracles` and `confinement`): it imports nothing of the
grader.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import sys
import tempfile
import time
from typing import Any

# confinement.py and shown.py, set by the worker that loads this file
confinement: Any = None
shown: Any = None


MISSING = {"missing": True}


class CellTimeout(BaseException):
    """A cell or an answer function ran past its bound (a BaseException: `except Exception` keeps it)."""


# /proc/self/schedstat, opened before the child is confined: how long it has waited for a core
_schedstat: list[int] = []
# a bound stretched by the time waited for a core ends all the same at this many times its length
STRETCH = 3


def waited(schedstat: bytes) -> float:
    """Seconds waited for a core, from a task's /proc schedstat line (0 where it says nothing)."""
    try:
        return int(schedstat.split()[1]) / 1e9
    except (IndexError, ValueError):
        return 0.0


def time_left(bound: float, elapsed: float, waiting: float) -> float:
    """Seconds left of a time bound `elapsed` seconds after it was set, of which `waiting` were
    spent waiting for a core: they do not count (a bound is not cut for the machine's load), up
    to STRETCH times the bound in all. 0 where it is reached."""
    return max(0.0, min(bound - (elapsed - waiting), STRETCH * bound - elapsed))


def _waited() -> float:
    """Seconds this process has waited for a core so far (0 where the kernel does not say)."""
    try:
        return waited(os.pread(_schedstat[0], 128, 0))
    except (IndexError, OSError):
        return 0.0


def _arm(seconds: float) -> None:
    """The alarm of a bound of `seconds` of wall time, of which the time the child waits for a
    core (other submissions beside it, other work on the machine) does not count."""
    start, before = time.monotonic(), _waited()

    def alarm(signum: int, frame: Any) -> None:
        left = time_left(seconds, time.monotonic() - start, _waited() - before)
        if left > 0:
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.005))
            return
        raise CellTimeout("time bound reached")

    signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def _bound(limits: dict[str, Any]) -> None:
    """This process and what it starts: memory, CPU time, file size, no core dumps, no priority."""
    memory = int(limits["memory_bytes"])
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["output_bytes"], limits["output_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # a nice value below the worker's and real-time scheduling are out of reach
    resource.setrlimit(resource.RLIMIT_NICE, (0, 0))
    resource.setrlimit(resource.RLIMIT_RTPRIO, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _bound_tasks(limits: dict[str, Any], alone: bool) -> bool:
    """Threads and processes besides the child itself; True where the bound binds.

    RLIMIT_NPROC counts every task of the user: alone (an identity or a user namespace of its own)
    that is the child's; otherwise the user's other tasks are counted in, and for root it binds
    nothing.
    """
    tasks = 1 + int(limits["threads"]) + int(limits["processes"])
    if not alone:
        tasks += _tasks_of_user()
    resource.setrlimit(resource.RLIMIT_NPROC, (tasks, tasks))
    return os.geteuid() != 0


def _tasks_of_user() -> int:
    """Threads and processes the user runs now: RLIMIT_NPROC counts them all."""
    uid, count = os.getuid(), 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                continue
    return count


def confine(limits: dict[str, Any], workdir: str) -> dict[str, bool]:
    """Every bound of the child before any student code runs; which of them held."""
    _bound(limits)
    # the worker was started with the few variables of execution.environment(); the child's home
    # and temporary folder are its own scratch folder, the worker's home it may only read
    home = os.environ["HOME"]
    os.environ.update({"HOME": workdir, "TMPDIR": workdir})
    tempfile.tempdir = workdir
    readable = [*confinement.readable_roots(), home]
    started_by_root = os.geteuid() == 0
    held = confinement.unprivileged(
        workdir, limits["scratch_bytes"], limits["scratch_files"], readable
    )
    alone = held.pop("alone")
    held["threads"] = _bound_tasks(limits, alone)
    landlock = confinement.confine_files(readable, [workdir, os.devnull])
    seccomp = confinement.filter_syscalls(refuse_processes=limits["processes"] == 0)
    held["files"] = landlock["files"]
    # without Landlock's scope, only an identity of its own keeps its signals from the grader's
    held["signals"] = landlock["signals"] or (started_by_root and held["identity"])
    held["network"] = seccomp
    held["syscalls"] = seccomp
    held["processes"] = seccomp if limits["processes"] == 0 else held["threads"]
    return held


def run(
    job: dict[str, Any],
    shell: Any,
    plain: Any,
    oracles: Any,
    out_fd: int,
    workdir: str,
    keep: set[int],
) -> None:
    os.setpgid(0, 0)
    for fd in keep:
        os.close(fd)
    with contextlib.suppress(OSError):
        _schedstat.append(os.open("/proc/self/schedstat", os.O_RDONLY))
    os.chdir(workdir)
    output = os.open("output", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    # printed text and errors in the order they were written, as a notebook shows them
    for handle in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            handle.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    capture = shown.Capture(shell, "output")
    limits = job["limits"]
    held = confine(limits, workdir)
    out = os.fdopen(out_fd, "w", buffering=1)
    stream = Stream(out)
    stream.send({"confined": held})
    if limits["confined"] and not all(held.values()):
        return  # told to run only where every bound holds: no student code runs
    answers = {a["name"]: a for a in job["answers"]}
    reported: set[str] = set()
    for index, cell in enumerate(job["cells"]):
        stream.send({"cell": index, "started": True})
        capture.start()
        error = _run_cell(shell, cell["source"], limits["cell_seconds"], capture)
        outputs = capture.end()
        if outputs:
            stream.send({"cell": index, "shown": outputs})
        if error:
            stream.send({"cell": index, "error": error})
        name = cell.get("question")
        if name in answers and shell.user_ns.get(name) is not None:
            stream.send(_answer(answers[name], shell.user_ns, plain, oracles, limits))
            reported.add(name)
    for name, asked in answers.items():
        if name not in reported:
            stream.send(_answer(asked, shell.user_ns, plain, oracles, limits))
    stream.send({"done": True})
    out.flush()
    for handle in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            handle.flush()


class Stream:
    """Lines to the worker; a student who closed or replaced the pipe only loses their own results."""

    def __init__(self, out: Any) -> None:
        self.out = out

    def send(self, message: dict[str, Any]) -> None:
        try:
            self.out.write(json.dumps(message, allow_nan=False) + "\n")
        except (OSError, ValueError):
            os._exit(3)


def _run_cell(shell: Any, source: str, seconds: float, capture: Any) -> str | None:
    _arm(seconds)
    try:
        result = shell.run_cell(source, store_history=False, silent=False)
        capture.figures()
    except CellTimeout:
        return f"CellTimeout: the cell ran longer than {seconds:g} s"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    problem = result.error_before_exec or result.error_in_exec
    if problem is None:
        return None
    if isinstance(problem, CellTimeout):
        return f"CellTimeout: the cell ran longer than {seconds:g} s"
    return f"{type(problem).__name__}: {str(problem)[:200]}"


def _answer(
    asked: dict[str, Any],
    namespace: dict[str, Any],
    plain: Any,
    oracles: Any,
    limits: dict[str, Any],
) -> dict[str, Any]:
    name = asked["name"]
    if name not in namespace:
        return {"answer": name, "value": MISSING}
    value = namespace[name]
    # reading a value may run the student's code (a generator yields): bounded like a function
    _arm(limits["function_seconds"])
    try:
        encoded = plain.encode(value)
    except BaseException as problem:  # the student's object decides what its methods do
        encoded = {"object": f"{type(problem).__name__} while reading it"}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    message: dict[str, Any] = {"answer": name, "value": encoded}
    if asked.get("probes") is not None and callable(value):
        message["outputs"] = _outputs(value, asked["probes"], plain, oracles, limits)
    return message


def _outputs(
    function: Any, probes: list[Any], plain: Any, oracles: Any, limits: dict[str, Any]
) -> Any:
    """The function on each probe, all within the function bound; what it raised where it did."""
    _arm(limits["function_seconds"])
    results: list[Any] = []
    try:
        for args in probes:
            try:
                result = function(*[_argument(a, plain, oracles) for a in args])
                results.append({"result": plain.encode(result)})
            except CellTimeout:
                raise
            except BaseException as problem:
                results.append({"raised": f"{type(problem).__name__}: {str(problem)[:80]}"})
    except CellTimeout:
        return {"timeout": limits["function_seconds"]}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return results


def _argument(data: Any, plain: Any, oracles: Any) -> Any:
    if isinstance(data, dict) and "gradient" in data:
        loss, variables = data["gradient"]
        return oracles.Gradient(loss, tuple(variables))
    return plain.decode(data)
