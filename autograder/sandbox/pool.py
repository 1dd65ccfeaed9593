"""The pool: sandbox workers side by side, jobs spread over them, a worker lost on a job replaced
and the job run once more, a fault of one job that job's own run, never the pool's end."""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from autograder.sandbox.execution import (
    BOUNDS,
    SLOTS,
    STARTUP_SECONDS,
    Job,
    Limits,
    Run,
    Worker,
    WorkerLost,
    read_run,
)


class Runner(Protocol):
    """What grading needs of a pool: where its bounds hold, and jobs run as they come."""

    def confinement(self) -> dict[str, bool]: ...

    def map(
        self, jobs: Iterable[tuple[Any, Job | None]], done: Callable[[Any, Run | None], None]
    ) -> None: ...


class Pool:
    """`workers` submissions computing at once (and SLOTS times as many where the others wait), in
    one sandbox process that forks a child for each; a lost process is replaced and its jobs run
    once more.

    One warm process serves them all: a second would cost its own warm-up (SymPy, pandas, IPython:
    0.9 s of CPU) and gain nothing, since its children are as much apart from each other as from
    the grader. Entering starts it without waiting: it warms up while the caller prepares (opens
    the gradebook, reads the references), and the first job waits for it.
    """

    def __init__(self, workers: int, limits: Limits) -> None:
        self.limits = limits
        self.size = max(1, workers)
        self.idle: queue.Queue[Worker] = queue.Queue()
        self.all: list[Worker] = []
        self.starting: list[Worker] = []
        self.lock = threading.Lock()

    def __enter__(self) -> Pool:
        try:
            worker = self._worker()
        except OSError:
            return self
        with self.lock:
            self.starting.append(worker)
        return self

    def _worker(self) -> Worker:
        return Worker(self.limits, slots=SLOTS * self.size, computing=self.size)

    def _ready(self) -> None:
        """The workers started on entering, once warm; one that does not start is dropped."""
        with self.lock:
            starting, self.starting = self.starting, []
            if not starting:
                return
        for worker in starting:
            self._enlist(worker)
        if not self.all:
            raise WorkerLost("no sandbox worker could start")

    def confinement(self) -> dict[str, bool]:
        """Which bounds of the sandbox hold here: a bound holds where it held for every worker."""
        self._ready()
        with self.lock:
            reports = [w.confined for w in self.all]
        names = sorted({name for report in reports for name in report} | set(BOUNDS))
        return {name: all(report.get(name, False) for report in reports) for name in names}

    def _start_one(self) -> None:
        try:
            worker = self._worker()
        except OSError:
            return
        self._enlist(worker)

    def _enlist(self, worker: Worker) -> None:
        try:
            worker.wait_ready()
        except (WorkerLost, OSError, ValueError):
            worker.kill()
            return
        with self.lock:
            self.all.append(worker)
        for _ in range(worker.slots):
            self.idle.put(worker)

    def __exit__(self, *exc: Any) -> None:
        with self.lock:
            workers, self.all, self.starting = self.all + self.starting, [], []
        for w in workers:
            w.close()

    def run(self, job: Job) -> Run:
        """The job on an idle worker. A worker lost on it is replaced and the job runs once more, on
        another; a job that fails the worker's protocol in the grader is reported as a fault."""
        self._ready()
        attempts = 0
        while attempts < 2:
            try:
                worker = self.idle.get(timeout=STARTUP_SECONDS)
            except queue.Empty:
                return Run(status="worker_lost")
            with self.lock:
                alive = worker in self.all
            if not alive:
                continue  # a slot of a worker replaced since
            attempts += 1
            try:
                reply = worker.run(job, self.limits)
            except WorkerLost:
                self._replace(worker)
                continue
            except Exception as problem:  # whatever broke, the worker is in an unknown state
                self._replace(worker)
                return _fault(problem)
            self.idle.put(worker)
            return read_run(reply, job)
        return Run(status="worker_lost")

    def _replace(self, worker: Worker) -> None:
        """A worker lost (its other jobs are lost with it) is killed and another started, once."""
        with self.lock:
            if worker not in self.all:
                return
            self.all.remove(worker)
        worker.kill()
        self._start_one()

    def _reported(self, job: Job) -> Run:
        """The job's run; a fault of the grader in running it is that job's result, so that the
        thread serving the pool goes on with the next job."""
        try:
            return self.run(job)
        except Exception as problem:  # the boundary: one job's failure is that job's Run
            return _fault(problem)

    def map(
        self, jobs: Iterable[tuple[Any, Job | None]], done: Callable[[Any, Run | None], None]
    ) -> None:
        """Run every (key, job) on the pool and call `done(key, run)` in this thread as each ends.

        `jobs` is read lazily by the pool's threads, so a large class is never all in memory; a
        key without a job is passed straight on (`run` None).
        """
        self._ready()
        feed = iter(jobs)
        feed_lock = threading.Lock()
        results: queue.Queue[tuple[Any, Run | None] | None] = queue.Queue(maxsize=4 * self.size)
        failed: list[Exception] = []

        def serve() -> None:
            try:
                while True:
                    with feed_lock:
                        item = next(feed, None)
                    if item is None:
                        return
                    key, job = item
                    results.put((key, None if job is None else self._reported(job)))
            except Exception as problem:  # the feed failed: raised in the caller's thread
                failed.append(problem)
            finally:
                results.put(None)

        with self.lock:
            serving = max(1, sum(w.slots for w in self.all))
        threads = [threading.Thread(target=serve, daemon=True) for _ in range(serving)]
        for t in threads:
            t.start()
        running = len(threads)
        while running:
            item = results.get()
            if item is None:
                running -= 1
            else:
                done(*item)
        for t in threads:
            t.join()
        if failed:
            raise failed[0]


def _fault(problem: Exception) -> Run:
    print(
        f"autograder: running a submission failed: {type(problem).__name__}: {problem}",
        file=sys.stderr,
    )
    return Run(status="fault", fault=f"{type(problem).__name__}: {str(problem)[:200]}")
