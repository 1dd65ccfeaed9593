"""Running submissions in the sandbox: a pool of pre-warmed workers, each forking a bounded child.

The grader's side of the protocol: a job is the cells to run and the answers to report; a run is
the plain data that came back and how the child ended. Nothing here compares answers.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from autograder.sandbox import plain, protocol
from autograder.sandbox.child import STRETCH
from autograder.sandbox.limits import Limits as Limits
from autograder.sandbox.oracles import Gradient

SANDBOX = Path(__file__).with_name("worker.py")
# How long the worker may take beyond the submission's own wall bound before it counts as lost.
WORKER_GRACE_SECONDS = 15.0
STARTUP_SECONDS = 120.0
# Jobs in a sandbox process per submission computing at once: one that waits (sleeps, blocks) holds
# a slot, not a core, and the next starts beside it.
SLOTS = 2


@dataclass(frozen=True)
class Cell:
    source: str
    # the question whose answer this cell gives (its grade_id), if it is a solution cell
    question: str | None = None
    # where the cell stands in the submitted notebook (None for a cell taken from the spec)
    position: int | None = None
    # the grade_id of a cell taken from the spec, for its outputs' place in the autograded notebook
    grade_id: str | None = None


@dataclass(frozen=True)
class Asked:
    """An answer name to report; for a function question, the arguments to call it with."""

    name: str
    probes: tuple[tuple[Any, ...], ...] | None = None


@dataclass(frozen=True)
class Job:
    cells: tuple[Cell, ...]
    answers: tuple[Asked, ...]


@dataclass
class Answer:
    """What came back for one name: its value, and for a function its output on each probe."""

    value: Any
    missing: bool = False
    # per probe: ("result", value) or ("raised", message); None where the name is not a function
    outputs: list[tuple[str, Any]] | None = None
    # the bound in seconds that the function ran past on the probes, if it did
    timeout: float | None = None


@dataclass
class Run:
    """How one submission's run ended, and the answers it reported before that."""

    # finished, timeout, killed, result_too_large, worker_lost (from the worker), or fault: running
    # the job failed in the grader itself (`fault` says how)
    status: str
    answers: dict[str, Answer] = field(default_factory=dict)
    cell_errors: dict[int, str] = field(default_factory=dict)
    # what each cell showed (shown.py's outputs), by the cell's index in the job
    shown: dict[int, tuple[dict[str, Any], ...]] = field(default_factory=dict)
    # the cell that was running when the run ended early (None if every cell ran)
    stopped_in: int | None = None
    completed: bool = False
    signal: int | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    max_rss_kb: int = 0
    output_bytes: int = 0
    # lines of the child that did not follow the protocol (discarded), and lines beyond the most
    # an honest run sends (not read)
    invalid: int = 0
    unread: int = 0
    fault: str | None = None


def student_path() -> list[str]:
    """Where the sandbox finds its libraries: the standard library and site-packages, not the grader."""
    paths = [sysconfig.get_path("purelib"), sysconfig.get_path("platlib"), *site.getsitepackages()]
    seen: list[str] = []
    for p in paths:
        if p and p not in seen and Path(p).is_dir():
            seen.append(p)
    return seen


def environment(home: str) -> dict[str, str]:
    """The few variables a child sees: nothing of the grader's environment beyond PATH and locale."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "LANG": "C.UTF-8",
        "IPYTHONDIR": str(Path(home) / ".ipython"),
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


# the bounds a sandbox child reports, in the words of DESIGN.md's principle 3
BOUNDS = {
    "identity": "an unprivileged identity of its own",
    "capabilities": "no capabilities",
    "files": "only the libraries readable, only its scratch folder writable (Landlock)",
    "network": "no network: sockets of AF_UNIX only (seccomp)",
    "signals": "no signals to processes outside the sandbox",
    "syscalls": "system calls of the native architecture only (seccomp)",
    "processes": "no processes beyond the bound",
    "threads": "no threads beyond the bound",
    "scratch": "a scratch folder of bounded size",
}


class WorkerLost(RuntimeError):
    """A sandbox worker died or stopped answering."""


class Worker:
    """One sandbox process: started once, warmed, then up to `slots` jobs at a time, each in a child
    of its own, of which up to `computing` compute at once (the others wait in it for a core).

    It warms up (imports) in its own process: `wait_ready` is where the caller waits for that.
    Several threads may call `run` at once: one of them reads the worker's replies for all.
    """

    def __init__(self, limits: Limits, slots: int = 1, computing: int = 1) -> None:
        self.home = tempfile.mkdtemp(prefix="autograder-sandbox-")
        os.chmod(self.home, 0o755)  # the child, under an identity of its own, reads it
        settings = json.dumps(
            {"path": student_path(), "limits": asdict(limits), "computing": max(1, computing)}
        )
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", str(SANDBOX), settings],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=environment(self.home),
            cwd=self.home,
        )
        self.slots = max(1, slots)
        self.buffer = b""
        # which bounds of the sandbox hold here, as the worker's first child found
        self.confined: dict[str, bool] = {}
        self.ids = itertools.count()
        self.writing = threading.Lock()
        self.replied = threading.Condition()
        self.replies: dict[int, dict[str, Any]] = {}
        self.reading = False
        self.lost: str | None = None

    def wait_ready(self) -> None:
        ready = self._read(STARTUP_SECONDS)
        if not ready.get("ready"):
            raise WorkerLost("the sandbox did not start")
        held = ready.get("confined")
        if isinstance(held, dict):
            self.confined = {str(k): v is True for k, v in held.items()}

    def run(self, job: Job, limits: Limits) -> dict[str, Any]:
        number = next(self.ids)
        request = {
            "id": number,
            "cells": [asdict(c) for c in job.cells],
            "answers": [
                {"name": a.name, "probes": None if a.probes is None else _probes(a.probes)}
                for a in job.answers
            ],
            "limits": asdict(limits),
        }
        assert self.process.stdin is not None
        with self.writing:
            try:
                self.process.stdin.write(json.dumps(request).encode() + b"\n")
                self.process.stdin.flush()
            except OSError as problem:
                raise WorkerLost(str(problem)) from None
        # a job may wait in the worker behind the others of its slots, and a wall bound stretches
        # by the time waited for a core (up to STRETCH times the bound)
        longest = STRETCH * limits.wall_seconds * self.slots
        return self._reply(number, longest + WORKER_GRACE_SECONDS)

    def _reply(self, number: int, seconds: float) -> dict[str, Any]:
        """The reply to job `number`: read by whichever waiting thread is not waiting on another
        reader; a worker that fails one reader has failed them all."""
        deadline = time.monotonic() + seconds
        with self.replied:
            while True:
                if number in self.replies:
                    return self.replies.pop(number)
                if self.lost is not None:
                    raise WorkerLost(self.lost)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WorkerLost("the sandbox stopped answering")
                if self.reading:
                    self.replied.wait(left)
                    continue
                self.reading = True
                self.replied.release()
                try:
                    reply: dict[str, Any] | None = self._read(left)
                except WorkerLost as problem:
                    self.lost, reply = str(problem), None
                finally:
                    self.replied.acquire()
                    self.reading = False
                    self.replied.notify_all()
                if reply is not None:
                    key = reply.get("id")
                    if type(key) is not int:
                        self.lost = "the sandbox sent a reply for no job"
                    else:
                        self.replies[key] = reply

    def _read(self, seconds: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + seconds
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerLost("the sandbox stopped answering")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise WorkerLost("the sandbox ended")
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        try:
            reply = json.loads(line)
        except (ValueError, RecursionError):
            raise WorkerLost("the sandbox sent a reply that is not JSON") from None
        if not isinstance(reply, dict):
            raise WorkerLost("the sandbox sent a reply that is not an object")
        return reply

    def close(self) -> None:
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()
        else:
            shutil.rmtree(self.home, ignore_errors=True)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.home, ignore_errors=True)


def _probes(probes: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    return [[_argument(a) for a in args] for args in probes]


def _argument(value: Any) -> Any:
    if isinstance(value, Gradient):
        return {"gradient": [value.loss, list(value.variables)]}
    return plain.encode(value)


def read_run(reply: Any, job: Job) -> Run:
    """The worker's reply as a Run; every line of the child is checked against the protocol first.

    A line that fails is discarded and counted in `invalid` (the submission sent it, not the
    sandbox); the lines beside it still count. Lines beyond the most an honest run sends are
    counted in `unread`.
    """
    fields = protocol.reply_of(reply)
    run = Run(
        status=fields.status,
        signal=fields.signal,
        seconds=fields.seconds,
        cpu_seconds=fields.cpu_seconds,
        max_rss_kb=fields.max_rss_kb,
        output_bytes=fields.output_bytes,
    )
    expected = protocol.Expected(
        len(job.cells),
        {a.name: None if a.probes is None else len(a.probes) for a in job.answers},
    )
    started: int | None = None
    reported: set[str] = set()
    # beyond what an honest run sends, lines are not read at all: a flood costs no time
    lines = fields.lines[: expected.max_lines]
    run.unread = len(fields.lines) - len(lines)
    for line in lines:
        try:
            message = protocol.message_of(line, expected, reported)
        except protocol.InvalidMessage:
            run.invalid += 1
            continue
        if isinstance(message, protocol.Done):
            run.completed = True
        elif isinstance(message, protocol.Started):
            started = message.cell
        elif isinstance(message, protocol.CellFailed):
            run.cell_errors[message.cell] = message.error[:300]
        elif isinstance(message, protocol.Shown):
            run.shown.setdefault(message.cell, message.outputs)
        else:
            reported.add(message.name)
            run.answers[message.name] = Answer(
                message.value,
                missing=message.missing,
                outputs=None if message.outputs is None else list(message.outputs),
                timeout=message.timeout,
            )
    if not run.completed:
        run.stopped_in = started
    return run
