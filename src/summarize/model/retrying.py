"""Retries of transient failures, inside the deadline every request of a call shares.

Transient failures (connection errors, timeouts, 408, 409, 5xx) are retried up to
``max_retries`` times with exponential backoff and jitter. A rate-limit answer (429,
never ``insufficient_quota``, which is final) means "slow down", not "give up": it is
retried for as long as the deadline allows, and does not count against
``max_retries``. Every wait is at least what the server asks for in
``retry-after-ms`` / ``retry-after``, all inside one overall deadline (``timeout=``).
The other loop, re-asking an answer that fails validation (``max_reasks``), is
``summarize.pipeline.reask``; it runs inside the same deadline.

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
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from summarize.clock import Deadline
from summarize.errors import (
    APIError,
    DeadlineExceededError,
    RateLimitError,
    RateLimitTimeoutError,
)

T = TypeVar("T")

BACKOFF_INITIAL = 0.5  # seconds before the first retry when the server gives no hint
BACKOFF_MAX = 30.0
RETRY_AFTER_MAX = 120.0  # never wait longer than this on a server's say-so


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
    """Back off exponentially with jitter, and never less than the server asked for
    (OpenAI's advice: ``retry-after`` is a minimum, and clients that all wait exactly
    that long come back together)."""

    def __init__(self) -> None:
        self._backoff = wait_exponential_jitter(
            multiplier=BACKOFF_INITIAL, max=BACKOFF_MAX, jitter=BACKOFF_INITIAL
        )

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = float(self._backoff(state))
        if isinstance(exc, TransientFailure) and exc.retry_after is not None:
            return max(exc.retry_after, backoff)
        return backoff


class _Stop(stop_base):
    """Stop after ``max_retries`` retries of failures other than rate limits, or when
    the next wait would end past the deadline (``by_deadline`` then says so)."""

    def __init__(self, max_retries: int, deadline: Deadline) -> None:
        self.max_retries = max_retries
        self.deadline = deadline
        self.others = 0  # failed attempts that were not rate-limit answers
        self.limited = 0  # rate-limit answers
        self.by_deadline = False

    def __call__(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientFailure) and isinstance(exc.final, RateLimitError):
            self.limited += 1
        else:
            self.others += 1
            if self.others > self.max_retries:
                return True
        self.by_deadline = state.upcoming_sleep >= self.deadline.remaining()
        return self.by_deadline


async def retry_transient(
    send: Callable[[], Awaitable[T]], *, max_retries: int, deadline: Deadline
) -> T:
    """Run ``send`` until it succeeds, retrying TransientFailure within the bounds.

    Raises the failure's ``final`` error when the retries run out (a rate-limit
    answer's, with how long it was retried, when the deadline ends them), and
    DeadlineExceededError when the next wait after another failure would pass it.
    """
    stop = _Stop(max_retries, deadline)
    retrying = AsyncRetrying(
        sleep=deadline.clock.sleep,
        stop=stop,
        wait=_Wait(),
        retry=retry_if_exception_type(TransientFailure),
        reraise=True,
    )
    try:
        return await retrying(send)
    except TransientFailure as exc:
        if stop.by_deadline and isinstance(exc.final, RateLimitError):
            final = exc.final
            raise RateLimitTimeoutError(
                f"{final.message}; still rate-limited after {stop.limited} answer(s), and "
                f"waiting again would pass the overall timeout of {deadline.seconds:g} s: "
                "raise timeout= (--timeout), or lower concurrency= or the rate limits",
                status_code=final.status_code,
                request_id=final.request_id,
                usage=final.usage,
            ) from exc.__cause__
        if stop.by_deadline:
            raise DeadlineExceededError(
                f"{exc.final.message}; retrying would pass the overall timeout of "
                f"{deadline.seconds:g} s: raise timeout= (--timeout)",
                usage=exc.final.usage,
            ) from exc.__cause__
        raise exc.final from exc.__cause__
