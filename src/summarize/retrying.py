"""Retries of transient failures, and the deadline every request of a call shares.

Transient failures (connection errors, timeouts, 408, 409, 429, 5xx) are retried up
to ``max_retries`` times with exponential backoff and jitter, waiting what the
server asks for in ``retry-after-ms`` / ``retry-after`` when it says, all inside one
overall deadline (``timeout=``). The other loop, re-asking an answer that fails
validation (``max_reasks``), is ``summarize.reask``; it runs inside the same deadline.

The openai SDK's own retries are switched off so the two layers do not multiply.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from summarize.errors import APIError, DeadlineExceededError

T = TypeVar("T")

BACKOFF_INITIAL = 0.5  # seconds before the first retry when the server gives no hint
BACKOFF_MAX = 30.0
RETRY_AFTER_MAX = 120.0  # never wait longer than this on a server's say-so


class Deadline:
    """The end of the overall time budget of one call."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def check(self) -> float:
        """Return the seconds left; raise DeadlineExceededError when none are."""
        left = self.remaining()
        if left <= 0:
            raise DeadlineExceededError(
                f"gave up after the overall timeout of {self.seconds:g} s "
                "(retries included): raise timeout= or --timeout"
            )
        return left


class TransientFailure(Exception):
    """A failure worth retrying; ``final`` is raised if the retries run out."""

    def __init__(self, final: APIError, retry_after: float | None = None) -> None:
        super().__init__(final.message)
        self.final = final
        self.retry_after = retry_after


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """The wait a server asks for in ``retry-after-ms`` or ``retry-after``, in seconds."""
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            parsed = email.utils.parsedate_tz(value)
            if parsed is None:
                continue
            seconds = float(email.utils.mktime_tz(parsed)) - time.time()
        return max(0.0, min(seconds, RETRY_AFTER_MAX))
    return None


class _Wait:
    """Wait what the server asked for, else back off exponentially with jitter."""

    def __init__(self) -> None:
        self._backoff = wait_exponential_jitter(
            multiplier=BACKOFF_INITIAL, max=BACKOFF_MAX, jitter=BACKOFF_INITIAL
        )

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientFailure) and exc.retry_after is not None:
            return exc.retry_after
        return float(self._backoff(state))


class _StopAtDeadline(stop_base):
    """Stop when the next wait would end past the deadline."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline

    def __call__(self, state: RetryCallState) -> bool:
        return state.upcoming_sleep >= self.deadline.remaining()


async def retry_transient(
    send: Callable[[], Awaitable[T]], *, max_retries: int, deadline: Deadline
) -> T:
    """Run ``send`` until it succeeds, retrying TransientFailure within the bounds.

    Raises the failure's ``final`` error when the attempts run out, and
    DeadlineExceededError when the next wait would pass the deadline.
    """

    retrying = AsyncRetrying(
        stop=stop_after_attempt(max_retries + 1) | _StopAtDeadline(deadline),
        wait=_Wait(),
        retry=retry_if_exception_type(TransientFailure),
        reraise=True,
    )
    try:
        return await retrying(send)
    except TransientFailure as exc:
        if retrying.statistics.get("attempt_number", 0) <= max_retries:
            # Stopped early: the next wait would have passed the deadline.
            raise DeadlineExceededError(
                f"{exc.final.message}; retrying would pass the overall timeout of "
                f"{deadline.seconds:g} s: raise timeout= (--timeout)",
                usage=exc.final.usage,
            ) from exc.__cause__
        raise exc.final from exc.__cause__
