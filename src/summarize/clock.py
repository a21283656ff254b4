"""The clock every wait and deadline reads (``now()``, ``sleep()``), and the deadline.

Rate limits (``summarize.model.ratelimit``), retries (``summarize.model.retrying``),
the overall ``Deadline`` of one call (below: shared by every layer that waits or
prepares) and the progress events read time through a ``Clock``, taken from
``current()`` when they are made. The system clock is the default. Tests install a
virtual one (``testkit/clock.py``) so that what a limiter or a deadline decides does not
depend on how fast the machine runs the test.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from summarize.errors import DeadlineExceededError


class Clock(Protocol):
    """Monotonic seconds, and an awaitable wait measured on the same clock."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """``time.monotonic`` and ``asyncio.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM = SystemClock()
_installed: list[Clock] = [SYSTEM]


def current() -> Clock:
    """The clock new limiters, deadlines and reporters use."""
    return _installed[-1]


def install(clock: Clock) -> None:
    """Make ``clock`` the one ``current()`` returns until ``uninstall()`` (tests)."""
    _installed.append(clock)


def uninstall() -> None:
    """Go back to the clock installed before the last ``install()``."""
    if len(_installed) > 1:
        _installed.pop()


class Deadline:
    """The end of the overall time budget of one call, on ``clock`` (default: the
    current one, ``summarize.clock``); waits inside it sleep on the same clock."""

    def __init__(self, seconds: float, clock: Clock | None = None) -> None:
        self.seconds = seconds
        self.clock = clock or current()
        self.end = self.clock.now() + seconds

    def remaining(self) -> float:
        return self.end - self.clock.now()

    def check(self) -> float:
        """Return the seconds left; raise DeadlineExceededError when none are."""
        left = self.remaining()
        if left <= 0:
            raise DeadlineExceededError(
                f"gave up after the overall timeout of {self.seconds:g} s "
                "(retries included): raise timeout= or --timeout"
            )
        return left
