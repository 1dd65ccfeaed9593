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
# An alarm this early still counts as on time (the timer's own rounding).
_EARLY = 1e-3

# The bounds in force on the main thread, innermost last, each as (its owner, when it ends by
# time.monotonic()); each ends no later than the one around it, so the last one sets the alarm.
_bounds: list[tuple[object, float]] = []
# How many `excluded` blocks are open: the alarm is off while the grader works on its own behalf.
_paused = 0
_previous_handler: list[Any] = []


class OutOfTime(BaseException):
    """The bound was reached. A BaseException, as KeyboardInterrupt is: the grader's own
    `except Exception` (a derivation from a student's earlier answers may fail) must not take it for
    one more failure and carry on past the bound."""


def _ring(signum: int, frame: Any) -> None:
    """The alarm: the bounds that are over end here, before OutOfTime is raised, so that no bound
    is left in force whichever line of its block (or of its own ending) the alarm interrupts."""
    if _paused or not _bounds:
        return
    now = time.monotonic()
    over = [i for i, (_, ends) in enumerate(_bounds) if ends <= now + _EARLY]
    if not over:  # another SIGALRM, or a timer that rounds early: not yet
        _arm()
        return
    del _bounds[over[0] :]
    _settle()
    raise OutOfTime()


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _arm() -> None:
    if _paused or not _bounds:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return
    signal.setitimer(signal.ITIMER_REAL, max(_bounds[-1][1] - time.monotonic(), _AT_ONCE))


def _settle() -> None:
    """The alarm set for the bounds in force, and the SIGALRM handler given back once none is."""
    _arm()
    if not _bounds and _previous_handler:
        signal.signal(signal.SIGALRM, _previous_handler.pop())


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Raise OutOfTime in the block once `seconds` have passed (not counting `excluded` blocks).

    Nested bounds end at the earlier of the two. Off the main thread, or where something else
    already uses the real-time alarm, the block runs without a bound of time.
    """
    if not _on_main_thread() or (not _bounds and signal.getitimer(signal.ITIMER_REAL)[0] > 0):
        yield
        return
    owner = object()
    ends = time.monotonic() + seconds
    if not _bounds:
        _previous_handler.append(signal.signal(signal.SIGALRM, _ring))
    _bounds.append((owner, min(ends, _bounds[-1][1]) if _bounds else ends))
    try:
        _arm()
        yield
    finally:
        _bounds[:] = [b for b in _bounds if b[0] is not owner]
        _settle()


@contextmanager
def excluded() -> Iterator[None]:
    """The clock stops in this block: the grader's own derivations (cached for every later answer)
    are not the answer's time, so a verdict never depends on what was derived before it."""
    global _paused
    if not _bounds or not _on_main_thread():
        yield
        return
    _paused += 1
    _arm()
    started = time.monotonic()
    try:
        yield
    finally:
        _paused -= 1
        if not _paused:  # the outermost block moves the bounds by all the time it stopped
            stopped = time.monotonic() - started
            _bounds[:] = [(owner, ends + stopped) for owner, ends in _bounds]
        _arm()
