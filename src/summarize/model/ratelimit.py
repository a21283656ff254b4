"""Rate limits shared by every request of a ``Summarizer``, so of a whole batch.

Three sources of limits, all enforced before each request is sent:

* configured: ``requests_per_minute`` / ``tokens_per_minute`` (``--rpm`` / ``--tpm``);
* learned: OpenAI's ``x-ratelimit-limit-*`` headers set the per-minute limits, and
  ``x-ratelimit-remaining-*`` with ``x-ratelimit-reset-*`` hold requests back until
  the server's window resets once its budget is used up;
* on a 429: the whole limiter pauses (for the server's ``retry-after``, else an
  exponential wait), and the number of requests in flight is halved, then grows back
  by one per "window" of successes (additive increase, multiplicative decrease).

Per-minute limits are paced as token buckets that refill continuously and hold at
most a tenth of a minute's worth, so a burst never spends a whole minute's budget in
one second (servers such as OpenAI's enforce limits on shorter slices too).

A request's token cost is its prompt plus ``max_tokens``, as OpenAI counts it.
State is guarded by a thread lock and waits are plain ``asyncio.sleep`` calls, so one
limiter works across event loops and threads (the blocking API runs one loop per call).
Time is read from a ``summarize.clock.Clock`` (the system clock unless one is given), and
``started`` keeps when the latest requests were let go, as the limiter's clock says.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from summarize import clock as clocks
from summarize.errors import ConfigurationError, DeadlineExceededError

# A bucket holds this share of a minute's limit: the largest burst allowed.
BURST_SHARE = 0.1
PAUSE_INITIAL = 1.0  # seconds, after a 429 without retry-after
PAUSE_MAX = 60.0
STARTS_KEPT = 10_000  # request starts kept in ``RateLimiter.started``
_POLL = 0.02  # seconds between checks while the in-flight window is full
_NO_WAIT = 1e-6  # seconds: a shorter wait is float rounding in the refill, not a wait
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_SCALE = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_reset(value: str | None) -> float | None:
    """Seconds from an ``x-ratelimit-reset-*`` value: ``"6m0s"``, ``"20ms"``, ``"1.5"``."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    parts = _DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value.replace(" ", ""):
        return None
    return sum(float(number) * _SCALE[unit] for number, unit in parts)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number >= 0 else None


@dataclass
class RateStats:
    """What the limiter did: 429 answers seen and the seconds requests were held back."""

    throttled: int = 0
    waited: float = 0.0
    learned_rpm: float | None = None
    learned_tpm: float | None = None


class _Bucket:
    """Continuous refill at ``per_minute / window`` per second; holds a burst at most."""

    def __init__(self, per_minute: float, window: float, now: float) -> None:
        self.rate = per_minute / window
        self.capacity = max(1.0, per_minute * BURST_SHARE)
        self.level = self.capacity
        self.stamp = now

    def resize(self, per_minute: float, window: float, now: float) -> None:
        self._refill(now)
        self.rate = per_minute / window
        self.capacity = max(1.0, per_minute * BURST_SHARE)
        self.level = min(self.level, self.capacity)

    def _refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until ``cost`` can be taken (a cost above the capacity needs a full bucket)."""
        self._refill(now)
        need = min(cost, self.capacity)
        return 0.0 if self.level >= need else (need - self.level) / self.rate

    def take(self, cost: float) -> None:
        self.level -= cost  # may go below zero: a large request is paid back over time


class RateLimiter:
    """Paces requests to per-minute limits, learned ones and 429s; see the module doc.

    Share one instance between Summarizers that use the same account and endpoint
    (``Summarizer(rate_limiter=...)``); a Summarizer builds its own otherwise.
    """

    def __init__(
        self,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        *,
        window: float = 60.0,
        clock: clocks.Clock | None = None,
    ) -> None:
        for name, value in (
            ("requests_per_minute", requests_per_minute),
            ("tokens_per_minute", tokens_per_minute),
        ):
            if value is not None and (isinstance(value, bool) or not value > 0):
                raise ConfigurationError(f"{name} must be a number > 0 or None, not {value!r}")
        self.window = window  # seconds in a "minute" (tests shorten it)
        self.clock = clock or clocks.current()
        # (when, token cost) of the latest requests let go, on ``clock``: what it decided
        self.started: deque[tuple[float, int]] = deque(maxlen=STARTS_KEPT)
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self.stats = RateStats()
        self._lock = threading.Lock()
        self._requests: _Bucket | None = None
        self._tokens: _Bucket | None = None
        self._paused_until = 0.0
        self._pause = PAUSE_INITIAL
        self._in_flight = 0
        self._allowed: float | None = None  # in-flight cap after a 429; None: no cap
        # The server's own count for its current window (from x-ratelimit-remaining-*).
        self._server_requests: tuple[float, float] | None = None  # (left, resets at)
        self._server_tokens: tuple[float, float] | None = None
        self._apply_limits()

    def _apply_limits(self) -> None:
        rpm = _least(self.requests_per_minute, self.stats.learned_rpm)
        tpm = _least(self.tokens_per_minute, self.stats.learned_tpm)
        for attr, limit in (("_requests", rpm), ("_tokens", tpm)):
            bucket: _Bucket | None = getattr(self, attr)
            if limit is None:
                setattr(self, attr, None)
            elif bucket is None:
                setattr(self, attr, _Bucket(limit, self.window, self.clock.now()))
            elif bucket.rate != limit / self.window:
                bucket.resize(limit, self.window, self.clock.now())

    @property
    def counts_tokens(self) -> bool:
        """Whether requests need a token estimate (a token limit is configured or known)."""
        return self._tokens is not None or self._server_tokens is not None

    async def acquire(self, tokens: int = 0, *, deadline_left: float | None = None) -> None:
        """Wait until one request of ``tokens`` may start, then count it as in flight.

        Raises DeadlineExceededError at once when the wait would outlast ``deadline_left``.
        """
        while True:
            with self._lock:
                now = self.clock.now()
                wait = self._wait(tokens, now)
                if wait <= _NO_WAIT:
                    self._start(tokens, now)
                    return
            if deadline_left is not None:
                if wait >= deadline_left:
                    raise DeadlineExceededError(
                        f"waiting {wait:.1f} s for the rate limit would pass the overall "
                        "timeout: raise timeout= (--timeout) or lower the concurrency"
                    )
                deadline_left -= wait
            self.stats.waited += wait
            await self.clock.sleep(wait)

    def _wait(self, tokens: int, now: float) -> float:
        if now < self._paused_until:
            return self._paused_until - now
        if self._allowed is not None and self._in_flight >= int(self._allowed):
            return _POLL
        waits = [0.0]
        if self._requests is not None:
            waits.append(self._requests.wait_for(1, now))
        if self._tokens is not None:
            waits.append(self._tokens.wait_for(tokens, now))
        for budget, cost in ((self._server_requests, 1), (self._server_tokens, tokens)):
            if budget is not None:
                left, resets_at = budget
                if now < resets_at and cost > left:
                    waits.append(resets_at - now)
        return max(waits)

    def _start(self, tokens: int, now: float) -> None:
        self.started.append((now, tokens))
        self._in_flight += 1
        if self._requests is not None:
            self._requests.take(1)
        if self._tokens is not None:
            self._tokens.take(tokens)
        if self._server_requests is not None:
            left, resets_at = self._server_requests
            self._server_requests = (left - 1, resets_at)
        if self._server_tokens is not None:
            left, resets_at = self._server_tokens
            self._server_tokens = (left - tokens, resets_at)

    def release(self, *, ok: bool) -> None:
        """One request finished; ``ok`` when it was not rate limited."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            if ok:
                self._pause = PAUSE_INITIAL
                if self._allowed is not None:
                    self._allowed += 1 / self._allowed  # about +1 per window of successes

    def observe(self, headers: Mapping[str, str] | None) -> None:
        """Learn limits and the server's remaining budget from ``x-ratelimit-*`` headers."""
        if not headers:
            return
        get = headers.get
        limit_requests = _number(get("x-ratelimit-limit-requests"))
        limit_tokens = _number(get("x-ratelimit-limit-tokens"))
        now = self.clock.now()
        with self._lock:
            changed = False
            if limit_requests and limit_requests != self.stats.learned_rpm:
                self.stats.learned_rpm, changed = limit_requests, True
            if limit_tokens and limit_tokens != self.stats.learned_tpm:
                self.stats.learned_tpm, changed = limit_tokens, True
            if changed:
                self._apply_limits()
            for kind in ("requests", "tokens"):
                left = _number(get(f"x-ratelimit-remaining-{kind}"))
                reset = parse_reset(get(f"x-ratelimit-reset-{kind}"))
                if left is not None and reset is not None:
                    setattr(self, f"_server_{kind}", (left, now + reset))

    def throttled(self, retry_after: float | None) -> None:
        """A 429: pause every request, and halve how many may be in flight."""
        with self._lock:
            self.stats.throttled += 1
            now = self.clock.now()
            already_paused = now < self._paused_until
            pause = retry_after if retry_after is not None else self._pause
            self._pause = min(PAUSE_MAX, self._pause * 2)
            self._paused_until = max(self._paused_until, now + pause)
            if already_paused:
                return  # the 429s of one burst halve the in-flight cap once
            # The request that got the 429 is still counted in flight here.
            current = float(self._in_flight)
            if self._allowed is not None:
                current = min(self._allowed, current)
            self._allowed = max(1.0, current / 2)

    @property
    def in_flight_cap(self) -> int | None:
        """How many requests may be in flight after 429s; None before any."""
        return None if self._allowed is None else int(self._allowed)


def _least(*values: float | None) -> float | None:
    known = [v for v in values if v]
    return min(known) if known else None
