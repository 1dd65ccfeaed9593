"""The pool on a Dask cluster: each Dask worker hosts the same sandbox as a machine of its own (a
warm process forking a confined child per submission), Dask carries the job there and the plain
run back; marking and recording stay with the caller.

Student code runs only in the sandbox's children, never in a Dask worker's own process. A Dask
worker that dies costs only a rerun of its jobs elsewhere (Dask reschedules them); a job that
keeps killing workers ends, after Dask's `allowed-failures`, as a lost worker's run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from distributed import WorkerPlugin

from autograder.sandbox.execution import Job, Limits, Run
from autograder.sandbox.pool import Pool

PLUGIN = "autograder-sandbox"
# jobs in flight per Dask worker thread: enough to keep each busy while results travel
IN_FLIGHT = 2


class SandboxPlugin(WorkerPlugin):
    """A Dask worker plugin: the worker's sandbox pool, started with the worker (one child per
    thread computing at once) and closed with it."""

    name = PLUGIN

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.pool: Pool | None = None

    def setup(self, worker: Any) -> None:
        self.pool = Pool(max(1, int(worker.state.nthreads)), self.limits).__enter__()

    def teardown(self, worker: Any) -> None:
        if self.pool is not None:
            self.pool.__exit__(None, None, None)


def _sandbox(worker: Any = None) -> Pool:
    from distributed import get_worker

    plugin = (worker or get_worker()).plugins[PLUGIN]
    assert isinstance(plugin, SandboxPlugin) and plugin.pool is not None
    return plugin.pool


def run_on_worker(job: Job) -> Run:
    """A job in the sandbox of the Dask worker that holds this task."""
    return _sandbox().run(job)


def confinement_on_worker(dask_worker: Any) -> dict[str, bool]:
    """Where the bounds hold on one Dask worker (`Client.run` passes the worker by this name)."""
    return _sandbox(dask_worker).confinement()


class DaskPool:
    """The pool's interface (`map`, `run`, `confinement`) over a Dask cluster: an existing one by
    its address (`tcp://…`, `tls://…`, with the TLS settings of Dask's configuration) or
    `local:N`, a LocalCluster of N worker processes on this machine."""

    def __init__(self, address: str, limits: Limits, security: Any = None) -> None:
        self.address = address
        self.limits = limits
        self.security = security
        self.client: Any = None
        self.cluster: Any = None

    def __enter__(self) -> DaskPool:
        from distributed import Client, LocalCluster

        if self.address.startswith("local:"):
            workers = int(self.address.partition(":")[2] or 1)
            self.cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                security=self.security,
                protocol="tls://" if self.security else None,
            )
            self.client = Client(self.cluster, security=self.security)
        else:
            self.client = Client(self.address, security=self.security)
        self.client.register_plugin(SandboxPlugin(self.limits), name=PLUGIN)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def threads(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def confinement(self) -> dict[str, bool]:
        """A bound holds where it holds on every Dask worker."""
        reports = list(self.client.run(confinement_on_worker).values())
        names = sorted({name for report in reports for name in report})
        return {name: all(report.get(name, False) for report in reports) for name in names}

    def run(self, job: Job) -> Run:
        return self._result(self.client.submit(run_on_worker, job, pure=False))

    def _result(self, future: Any) -> Run:
        from distributed import KilledWorker

        try:
            run = future.result()
        except KilledWorker:  # a job that kept killing the workers that held it
            return Run(status="worker_lost")
        assert isinstance(run, Run)
        return run

    def map(
        self, jobs: Iterable[tuple[Any, Job | None]], done: Callable[[Any, Run | None], None]
    ) -> None:
        """Every (key, job) on the cluster, `done(key, run)` called in this thread as each ends;
        at most IN_FLIGHT jobs per worker thread are out at once, read lazily from `jobs`."""
        from distributed import as_completed

        limit = IN_FLIGHT * self.threads()
        keys: dict[Any, Any] = {}
        lock = threading.Lock()
        feed = iter(jobs)
        pending = as_completed()

        def submit_more() -> None:
            while pending.count() < limit:
                item = next(feed, None)
                if item is None:
                    return
                key, job = item
                if job is None:
                    done(key, None)
                    continue
                future = self.client.submit(run_on_worker, job, pure=False)
                with lock:
                    keys[future.key] = key
                pending.add(future)

        submit_more()
        while pending.count():
            future = next(pending)
            with lock:
                key = keys.pop(future.key)
            done(key, self._result(future))
            submit_more()
