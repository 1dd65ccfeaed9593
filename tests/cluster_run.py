"""Grade a course on a LocalCluster in a process of its own (the tests start it in a session of its
own, so that nothing a cluster does to its processes reaches the test runner):
`python cluster_run.py COURSE OUT.json tls|kill|reach`. `tls`: the cluster with TLS on
(`Security.temporary()`); `kill`: one Dask worker killed with SIGKILL after the second result;
`reach`: two submissions handed in first, one of which tries the scheduler's port."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from autograder.classroom.batch import Options, grade
from autograder.sandbox.cluster import DaskPool
from autograder.sandbox.execution import Limits

REACH = """import socket
try:
    socket.create_connection(({host!r}, {port}), timeout=3).close()
    reached = True
except Exception:
    reached = False
grad_f_at_11 = [3, 4] if reached else [0, 0]
"""


def hand_in_reaching(course: Path, address: str) -> None:
    """mallory's notebook gives the right answer only if it reaches the scheduler; control's
    gives it plainly. The test itself checks that the scheduler answers from outside."""
    from urllib.parse import urlparse

    from autograder.samples import answered, submit

    where = urlparse(address)
    released = course / "release" / "minima" / "minima.ipynb"
    reach = REACH.format(host=where.hostname, port=where.port)
    when = "2026-11-20 10:00:00.000000 UTC"
    submit(course, "mallory", "minima", answered(released, {"grad_f_at_11": reach}), when)
    right = answered(released, {"grad_f_at_11": "grad_f_at_11 = [3, 4]\n"})
    submit(course, "control", "minima", right, when)
    import socket

    with socket.create_connection((where.hostname, where.port), timeout=5):
        pass  # from outside the sandbox the scheduler answers


def main(course: Path, out: Path, mode: str) -> int:
    security = None
    if mode == "tls":
        from distributed.security import Security

        security = Security.temporary()
    killed: list[int] = []
    with DaskPool("local:2", Limits(), security=security) as pool:
        address = pool.client.scheduler.address
        pids = pool.client.run(os.getpid)
        if mode == "reach":
            hand_in_reaching(course, address)

        def progress(done: int, total: int) -> None:
            if mode == "kill" and done == 2 and not killed:  # one worker dies, others are out
                victim = sorted(pids.values())[0]
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        graded = grade([course / "submitted"], Options(course=course), progress, pool=pool)
    report = {
        "address": address,
        "killed": killed,
        "whole": graded.whole,
        "results": [r.as_dict() for r in graded.results],
    }
    out.write_text(json.dumps(report), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
