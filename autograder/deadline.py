"""The time bound of judging one answer: an alarm that ends the grader's work on a student's value.

Size caps stop most costly values before any work starts; this bound stops what they cannot foresee
(a formula whose value SymPy works on for minutes). It holds on the main thread, where a class is
marked; elsewhere (signals reach only the main thread) the size caps are the only bound.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# What the alarm is set to at least when a bound is already over: it rings at once, not never.
_AT_ONCE = 1e-4

# The deadlines (time.monotonic()) in force on the main thread, innermost last; each is no later
# than the one around it, so the last one is when the alarm rings.
_deadlines: list[float] = []
# How many `excluded` blocks are open: the alarm is off while the grader works on its own behalf.
_paused = 0
_previous_handler: Any = None


class OutOfTime(BaseException):
    """The bound was reached. A BaseException, as KeyboardInterrupt is: the grader's own
    `except Exception` (a derivation from a student's earlier answers may fail) must not take it for
    one more failure and carry on past the bound."""


def _ring(signum: int, frame: Any) -> None:
    if _deadlines and not _paused:
        raise OutOfTime()


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _arm() -> None:
    if _paused or not _deadlines:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return
    signal.setitimer(signal.ITIMER_REAL, max(_deadlines[-1] - time.monotonic(), _AT_ONCE))


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Raise OutOfTime in the block once `seconds` have passed (not counting `excluded` blocks).

    Nested bounds end at the earlier of the two. Off the main thread, or where something else
    already uses the real-time alarm, the block runs without a bound of time.
    """
    global _previous_handler
    if not _on_main_thread() or (not _deadlines and signal.getitimer(signal.ITIMER_REAL)[0] > 0):
        yield
        return
    if not _deadlines:
        _previous_handler = signal.signal(signal.SIGALRM, _ring)
    ends = time.monotonic() + seconds
    _deadlines.append(min(ends, _deadlines[-1]) if _deadlines else ends)
    _arm()
    try:
        yield
    finally:
        _deadlines.pop()
        _arm()
        if not _deadlines:
            signal.signal(signal.SIGALRM, _previous_handler)


@contextmanager
def excluded() -> Iterator[None]:
    """The clock stops in this block: the grader's own derivations (cached for every later answer)
    are not the answer's time, so a verdict never depends on what was derived before it."""
    global _paused
    if not _deadlines or not _on_main_thread():
        yield
        return
    _paused += 1
    _arm()
    started = time.monotonic()
    try:
        yield
    finally:
        _paused -= 1
        if not _paused:  # the outermost block moves the deadlines by all the time it stopped
            stopped = time.monotonic() - started
            _deadlines[:] = [d + stopped for d in _deadlines]
        _arm()
