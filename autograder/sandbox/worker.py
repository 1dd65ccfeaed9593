"""The sandbox: a pre-warmed worker that runs each submission in a fresh, bounded child process.

Started by `autograder.sandbox.execution` as `python -I -S worker.py SETTINGS`. It imports the libraries
students use once, then forks a child per submission; it never imports the grader, so neither it nor
its children hold a reference value, a hidden test or a grading function. The child runs the cells
with IPython's cell semantics and streams back plain data: the values of the answer names and the
outputs of answer functions on the arguments the grader chose. Protocol: one JSON object per line.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import json
import os
import select
import shutil
import signal
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any, NamedTuple

HERE = Path(__file__).resolve().parent
# A child that used more than this share of a core since it was last looked at is computing; a job
# waiting for a core starts once one is not. Looked at every LOOK seconds while a job waits.
BUSY = 0.25
LOOK = 0.05
TICKS = os.sysconf("SC_CLK_TCK")


def _load(name: str) -> Any:
    """A sibling module of the package that stands alone (plain data, oracles), loaded by path."""
    spec = importlib.util.spec_from_file_location(f"_sandbox_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class Kit(NamedTuple):
    """The package's stand-alone files the worker loads by path: plain data, the oracles handed to
    a student's function, and what runs in the child."""

    plain: Any
    oracles: Any
    child: Any


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
    # the instance IPython's display() publishes through, as in a kernel
    shell = InteractiveShell.instance(config=config)
    # the first traceback and the first magic load their modules: do it here, not in every child
    for source in ("1/0", "%time _ = 1", "display(1)"):
        shell.run_cell(source, store_history=False)
    shell.reset(new_session=False)
    # what they printed must not reach a child's output through the buffers it inherits
    sys.stdout.flush()
    sys.stderr.flush()
    return shell


def main() -> None:
    settings = json.loads(sys.argv[1])
    sys.path.extend(settings["path"])
    requests = os.dup(0)
    replies = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(null, fd)
    kit = Kit(_load("plain"), _load("oracles"), _load("child"))
    kit.child.confinement = _load("confinement")
    kit.child.shown = _load("shown")
    shell = warm()
    known = _load("known").KnownCells(shell)
    keep = {requests, replies.fileno()}
    # a first child that runs nothing tells which bounds hold on this machine
    probe = Running({"cells": [], "answers": [], "limits": settings["limits"]}, shell, kit, keep)
    while not probe.ended(time.monotonic()):
        probe.wait()
    held = probe.reply()["confined"]
    # what the worker holds now is every child's: kept out of the children's garbage collections,
    # which would otherwise visit (and so copy, page by page) the whole inherited heap
    gc.collect()
    gc.freeze()
    _send(replies, {"ready": True, "pid": os.getpid(), "confined": held})
    serve(requests, replies, shell, kit, keep, settings["computing"], known)
    # the grader closed the pipe: every reply is sent and flushed, and nothing of the interpreter's
    # own shutdown (IPython's and the libraries' exit handlers, 0.3 s) is of use to anyone
    os._exit(0)


def serve(
    requests: int,
    replies: Any,
    shell: Any,
    kit: Kit,
    keep: set[int],
    computing: int,
    known: Any,
) -> None:
    """Every job the grader sends (no more at once than the worker's slots), each in a child of its
    own, replied to as each child ends, in any order.

    A job starts at once where fewer than `computing` children compute (the cores the grader gives
    the sandbox); otherwise it waits until one of them waits (sleeps, blocks) or ends: the bounds
    are wall time, and two children computing on one core would each take twice as long.
    """
    # by pid: a child's pipe is closed before it is reaped, and its number serves the next child
    running: dict[int, Running] = {}
    waiting: deque[dict[str, Any]] = deque()
    buffer, reading = b"", True
    while reading or running or waiting:
        now = time.monotonic()
        for pid, one in list(running.items()):
            if one.ended(now):
                del running[pid]
                _send(replies, one.reply())
        while waiting and sum(one.computing(now) for one in running.values()) < computing:
            # a child closes every pipe of the worker's: its siblings' results are not its own
            siblings = {one.fd for one in running.values() if one.open}
            one = Running(waiting.popleft(), shell, kit, keep | siblings)
            running[one.pid] = one
        if not (reading or running or waiting):
            return
        pipes = {one.fd: one for one in running.values() if one.open}
        watched = [*pipes, requests] if reading else list(pipes)
        pause = _pause(running.values(), now)
        if waiting:
            pause = LOOK if pause is None else min(pause, LOOK)
        ready, _, _ = select.select(watched, [], [], pause)
        for fd in ready:
            if fd != requests:
                pipes[fd].read()
                continue
            chunk = os.read(requests, 1 << 20)
            if not chunk:
                reading = False
                continue
            buffer += chunk
            while b"\n" in buffer:
                line, _, buffer = buffer.partition(b"\n")
                job = json.loads(line)
                for asked in job["answers"]:
                    kit.oracles.compile_gradients(asked.get("probes"))
                known.learn(job["cells"])
                waiting.append(job)


def _pause(running: Any, now: float) -> float | None:
    """How long the worker may wait for a pipe: until the next deadline, and only briefly while a
    child that closed its pipe has still to exit."""
    if not running:
        return None
    pause = max(0.0, min(one.deadline for one in running) - now)
    if any(not one.open for one in running):
        pause = min(pause, 0.002)
    return pause


def _send(stream: Any, message: dict[str, Any]) -> None:
    stream.write(json.dumps(message).encode() + b"\n")
    stream.flush()


class Running:
    """One submission's child: forked at once, its stream collected as it comes, bounded in wall
    time and size, reaped without waiting on it; the reply says how it ended."""

    def __init__(self, job: dict[str, Any], shell: Any, kit: Kit, keep: set[int]) -> None:
        self.job = job
        self.child = kit.child
        self.limits = job["limits"]
        self.workdir = tempfile.mkdtemp(prefix="submission-")
        self.fd, write_end = os.pipe()
        self.started = time.monotonic()
        self.deadline = self.started + self.limits["wall_seconds"]
        pid = os.fork()
        if pid == 0:
            try:
                os.close(self.fd)
                kit.child.run(job, shell, kit.plain, kit.oracles, write_end, self.workdir, keep)
            finally:
                os._exit(0)
        os.close(write_end)
        self.pid = pid
        self.open = True
        self.chunks: list[bytes] = []
        self.size = 0
        self.status = "finished"
        self.code: int | None = None
        self.usage: Any = None
        # when the child's CPU time was last looked at, and how much it had used then
        self.looked = (self.started, 0.0)
        self.busy = True

    def _waited(self) -> float:
        """Seconds the child has waited for a core so far (0 where the kernel does not say)."""
        try:
            with open(f"/proc/{self.pid}/schedstat", "rb") as f:
                return float(self.child.waited(f.read()))
        except OSError:
            return 0.0

    def computing(self, now: float) -> bool:
        """Whether the child used more than a share of a core since it was last looked at (one
        just started counts as computing; one whose use cannot be read, too)."""
        then, before = self.looked
        if now - then < LOOK:
            return self.busy
        used = _cpu_seconds(self.pid)
        if used is None:
            return True
        self.busy = (used - before) / (now - then) > BUSY
        self.looked = (now, used)
        return self.busy

    def read(self) -> None:
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            self._close()
            return
        self.size += len(chunk)
        if self.size > self.limits["result_bytes"]:
            self.status = "result_too_large"
            _kill_group(self.pid)
            self._close()
            return
        self.chunks.append(chunk)

    def wait(self) -> None:
        """Block until this child has something to say (for the worker's first child alone)."""
        if self.open:
            select.select([self.fd], [], [], max(0.0, self.deadline - time.monotonic()))
            self.read()
        else:
            time.sleep(0.0005)

    def ended(self, now: float) -> bool:
        """Whether the child has ended (killed at its deadline); reaps it if so.

        The time the child waited for a core does not count towards its wall bound, as in the
        child's own bounds of a cell and a function (`child.time_left`)."""
        if now >= self.deadline and self.code is None:
            left = self.child.time_left(
                self.limits["wall_seconds"], now - self.started, self._waited()
            )
            if left > 0:
                self.deadline = now + max(left, 0.005)
                return False
            if self.open:
                self.status = "timeout"
            _kill_group(self.pid)
            self._close()
            _, self.code, self.usage = os.wait4(self.pid, 0)
        elif not self.open and self.code is None:
            done, code, usage = os.wait4(self.pid, os.WNOHANG)
            if done:
                self.code, self.usage = code, usage
                # the child is gone; its process group may live on in what it started
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.pid, signal.SIGKILL)
        return self.code is not None

    def _close(self) -> None:
        if self.open:
            os.close(self.fd)
            self.open = False

    def reply(self) -> dict[str, Any]:
        assert self.code is not None
        code, status = self.code, self.status
        output = Path(self.workdir) / "output"
        output_bytes = output.stat().st_size if output.exists() else 0
        shutil.rmtree(self.workdir, ignore_errors=True)
        signal_number = os.WTERMSIG(code) if os.WIFSIGNALED(code) else None
        if status == "finished" and signal_number is not None:
            status = "killed"
        # the child's first line comes before any student code ran: which bounds held; the rest
        # is the submission's, for the grader to check
        first, _, received = b"".join(self.chunks).partition(b"\n")
        held = _held(first)
        if self.limits["confined"] and not (held and all(held.values())):
            status = "unconfined"
        return {
            "id": self.job.get("id"),
            "status": status,
            "signal": signal_number,
            "exit": os.WEXITSTATUS(code) if os.WIFEXITED(code) else None,
            "confined": held,
            "lines": received.decode("utf-8", "replace").splitlines(),
            "seconds": time.monotonic() - self.started,
            "cpu_seconds": self.usage.ru_utime + self.usage.ru_stime,
            "max_rss_kb": self.usage.ru_maxrss,
            "output_bytes": output_bytes,
        }


def _cpu_seconds(pid: int) -> float | None:
    """User and system time of a process and its threads so far, from /proc (None if unreadable)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def _held(first: bytes) -> dict[str, bool]:
    """Which bounds held, from the child's first line (none where it sent none)."""
    try:
        held = json.loads(first).get("confined")
    except (ValueError, AttributeError):
        return {}
    return {str(k): v is True for k, v in held.items()} if isinstance(held, dict) else {}


def _kill_group(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            target()


if __name__ == "__main__":
    main()
