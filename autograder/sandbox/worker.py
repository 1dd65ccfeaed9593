"""The sandbox: a pre-warmed worker that runs each submission in a fresh, bounded child process.

Started by `autograder.sandbox.execution` as `python -I -S worker.py SETTINGS`. It imports the libraries
students use once, then forks a child per submission; it never imports the grader, so neither it nor
its children hold a reference value, a hidden test or a grading function. The child runs the cells
with IPython's cell semantics and streams back plain data: the values of the answer names and the
outputs of answer functions on the arguments the grader chose. Protocol: one JSON object per line.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MISSING = {"missing": True}
confinement: Any = None  # confinement.py beside this file, loaded by path in main()


def _load(name: str) -> Any:
    """A sibling module of the package that stands alone (plain data, oracles), loaded by path."""
    spec = importlib.util.spec_from_file_location(f"_sandbox_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class CellTimeout(BaseException):
    """A cell or an answer function ran past its bound (a BaseException: `except Exception` keeps it)."""


def _alarm(signum: int, frame: Any) -> None:
    raise CellTimeout("time bound reached")


def warm() -> Any:
    """Import what students use and build one IPython shell; every child starts from this state."""
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import sympy  # noqa: F401
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    config.InteractiveShell.xmode = "Plain"
    config.InteractiveShell.autocall = 0
    shell = InteractiveShell(config=config)
    # the first traceback and the first magic load their modules: do it here, not in every child
    for source in ("1/0", "%time _ = 1", "display(1)"):
        shell.run_cell(source, store_history=False)
    shell.reset(new_session=False)
    return shell


def main() -> None:
    settings = json.loads(sys.argv[1])
    sys.path.extend(settings["path"])
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(null, fd)
    plain, oracles = _load("plain"), _load("oracles")
    global confinement
    confinement = _load("confinement")
    shell = warm()
    keep = {requests.fileno(), replies.fileno()}
    # a first child that runs nothing tells which bounds hold on this machine
    probe = run(
        {"cells": [], "answers": [], "limits": settings["limits"]}, shell, plain, oracles, keep
    )
    _send(replies, {"ready": True, "pid": os.getpid(), "confined": probe["confined"]})
    for line in requests:
        job = json.loads(line)
        _send(replies, run(job, shell, plain, oracles, keep))
    # the grader closed the pipe: every reply is sent and flushed, and nothing of the interpreter's
    # own shutdown (IPython's and the libraries' exit handlers, 0.3 s) is of use to anyone
    os._exit(0)


def _send(stream: Any, message: dict[str, Any]) -> None:
    stream.write(json.dumps(message).encode() + b"\n")
    stream.flush()


def run(
    job: dict[str, Any], shell: Any, plain: Any, oracles: Any, keep: set[int]
) -> dict[str, Any]:
    """Fork a child for one submission, collect what it streams, and bound it; report how it ended."""
    limits = job["limits"]
    workdir = tempfile.mkdtemp(prefix="submission-")
    read_end, write_end = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            _child(job, shell, plain, oracles, write_end, workdir, keep)
        finally:
            os._exit(0)
    os.close(write_end)
    received, status = _collect(
        read_end, pid, started + limits["wall_seconds"], limits["result_bytes"]
    )
    os.close(read_end)
    code, usage = _reap(pid, started + limits["wall_seconds"])
    output = Path(workdir) / "output"
    output_bytes = output.stat().st_size if output.exists() else 0
    shutil.rmtree(workdir, ignore_errors=True)
    signal_number = os.WTERMSIG(code) if os.WIFSIGNALED(code) else None
    if status == "finished" and signal_number is not None:
        status = "killed"
    # the child's first line comes before any student code ran: which bounds held; the rest is the
    # submission's, for the grader to check
    first, _, received = received.partition(b"\n")
    held = _held(first)
    if limits["confined"] and not (held and all(held.values())):
        status = "unconfined"
    return {
        "status": status,
        "signal": signal_number,
        "exit": os.WEXITSTATUS(code) if os.WIFEXITED(code) else None,
        "confined": held,
        "lines": received.decode("utf-8", "replace").splitlines(),
        "seconds": time.monotonic() - started,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "max_rss_kb": usage.ru_maxrss,
        "output_bytes": output_bytes,
    }


def _held(first: bytes) -> dict[str, bool]:
    """Which bounds held, from the child's first line (none where it sent none)."""
    try:
        held = json.loads(first).get("confined")
    except (ValueError, AttributeError):
        return {}
    return {str(k): v is True for k, v in held.items()} if isinstance(held, dict) else {}


def _collect(fd: int, pid: int, deadline: float, cap: int) -> tuple[bytes, str]:
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            _kill_group(pid)
            return b"".join(chunks), "timeout"
        ready, _, _ = select.select([fd], [], [], min(left, 1.0))
        if not ready:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks), "finished"
        size += len(chunk)
        if size > cap:
            _kill_group(pid)
            return b"".join(chunks), "result_too_large"
        chunks.append(chunk)


def _reap(pid: int, deadline: float) -> tuple[int, Any]:
    """Wait for the child to end (until the deadline), then end whatever it left in its group."""
    pause = 0.0005
    while time.monotonic() < deadline:
        done, code, usage = os.wait4(pid, os.WNOHANG)
        if done:
            # the child is gone; its process group may live on in what it started
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            return code, usage
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
    _kill_group(pid)
    _, code, usage = os.wait4(pid, 0)
    return code, usage


def _kill_group(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            target()


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


def _child(
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
    os.chdir(workdir)
    output = os.open("output", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
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
        error = _run_cell(shell, cell["source"], limits["cell_seconds"])
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


def _run_cell(shell: Any, source: str, seconds: float) -> str | None:
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        result = shell.run_cell(source, store_history=False, silent=False)
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
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limits["function_seconds"])
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
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limits["function_seconds"])
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


if __name__ == "__main__":
    main()
