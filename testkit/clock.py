"""A virtual clock for tests: time moves only when something waits on it.

Installed in place of the system clock (``summarize.clock.install``), it makes a rate
limiter's or a deadline's decisions independent of how fast the machine runs the test:
a request that takes a real second costs no virtual time, and a wait of 30 virtual
seconds passes at once. ``sleep(s)`` yields to the event loop (a real millisecond, so
that requests in flight progress), then moves the clock to at least ``s`` after the
moment the wait began. Thread-safe: the blocking API runs its loop in a thread.

    with virtual_clock() as clock:
        ...  # every limiter, deadline and reporter made here reads ``clock``
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
from collections.abc import Iterator

from summarize import clock as clocks


class VirtualClock:
    """Monotonic virtual seconds from ``start``; ``slept`` sums every wait asked for."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.slept = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        with self._lock:
            target = self._now + seconds
            if seconds > 0:  # a wait too short to move the float still moves time
                target = max(target, math.nextafter(self._now, math.inf))
            self.slept += seconds
            self.sleeps.append(seconds)
        await asyncio.sleep(0.001)
        with self._lock:
            self._now = max(self._now, target)


@contextlib.contextmanager
def virtual_clock(start: float = 1000.0) -> Iterator[VirtualClock]:
    """A ``VirtualClock`` installed as ``summarize.clock.current()`` for the block."""
    clock = VirtualClock(start)
    clocks.install(clock)
    try:
        yield clock
    finally:
        clocks.uninstall()
