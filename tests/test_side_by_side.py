"""One sandbox process runs the pool's submissions side by side, each in a child of its own: the
children never see each other's pipes, and every reply comes back, in whatever order they end."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from autograder.sandbox.execution import Asked, Cell, Job, Limits, Run
from autograder.sandbox.pool import Pool

LIMITS = Limits(wall_seconds=10, cell_seconds=8, function_seconds=2, cpu_seconds=6)

TIMES = "import time\nstarted = time.monotonic()\n{body}\nended = time.monotonic()"
# the pipes a child holds open (its own result pipe is one); a sibling's would be another
PIPES = (
    "import os, stat\n"
    "pipes = 0\n"
    "for fd in range(3, 1024):\n"
    "    try:\n"
    "        pipes += stat.S_ISFIFO(os.fstat(fd).st_mode)\n"
    "    except OSError:\n"
    "        pass\n"
)
# a submission that closes every descriptor it can (its result pipe among them), then goes on
CLOSES_ITS_PIPE = (
    "import os, stat, time\n"
    "for fd in range(3, 1024):\n"
    "    try:\n"
    "        if stat.S_ISFIFO(os.fstat(fd).st_mode):\n"
    "            os.close(fd)\n"
    "    except OSError:\n"
    "        pass\n"
    "time.sleep(1.5)\n"
)


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    with Pool(2, LIMITS) as p:
        yield p


def job(source: str, *names: str) -> Job:
    return Job((Cell(source),), tuple(Asked(n) for n in names))


def at_once(pool: Pool, *jobs: Job, stagger: float = 0.0) -> list[Run]:
    """The jobs sent to the pool from threads of their own, as the grading run does; each
    `stagger` seconds after the one before."""
    runs: list[Run | None] = [None] * len(jobs)

    def one(i: int) -> None:
        time.sleep(i * stagger)
        runs[i] = pool.run(jobs[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r is not None for r in runs)
    return [r for r in runs if r is not None]


def test_two_submissions_run_side_by_side_in_one_sandbox_process(pool: Pool) -> None:
    waiting = job(TIMES.format(body="time.sleep(2)"), "started", "ended")
    first, second = at_once(pool, waiting, waiting)
    assert first.completed and second.completed
    a = (first.answers["started"].value, first.answers["ended"].value)
    b = (second.answers["started"].value, second.answers["ended"].value)
    assert isinstance(a[0], float) and isinstance(b[0], float)
    # each started before the other ended: they ran at the same time
    assert a[0] < b[1] and b[0] < a[1]


def test_a_child_holds_no_pipe_of_the_submission_beside_it(pool: Pool) -> None:
    beside = job(TIMES.format(body="time.sleep(1)"), "ended")
    _, looking = at_once(pool, beside, job("import time\ntime.sleep(0.2)\n" + PIPES, "pipes"))
    assert looking.answers["pipes"].value == 1


def test_a_child_that_closes_its_pipe_and_goes_on_gets_its_reply_and_so_does_the_next(
    pool: Pool,
) -> None:
    # the next child starts while the first, its pipe closed, has still to be reaped
    closing, following = at_once(
        pool, job(CLOSES_ITS_PIPE), job("answer = 7", "answer"), stagger=0.5
    )
    assert closing.status == "finished" and not closing.completed
    assert following.completed and following.answers["answer"].value == 7


def test_a_submission_that_waits_lets_the_next_start_on_its_core() -> None:
    # one core for the sandbox: the sleeping submission holds a slot but computes nothing
    with Pool(1, LIMITS) as single:
        sleeping, quick = at_once(
            single,
            job(TIMES.format(body="time.sleep(2)"), "started", "ended"),
            job(TIMES.format(body="answer = 7"), "ended"),
            stagger=0.3,
        )
    assert sleeping.completed and quick.completed
    assert quick.answers["ended"].value < sleeping.answers["ended"].value
