"""Rate limits: configured, learned from x-ratelimit-* headers, and 429s that slow the
whole batch down. Runs against the real local fake server (testkit/fakeserver.py), on a
virtual clock (testkit/clock.py): the tests assert what the limiter decided (when it let
each request go, ``RateLimiter.started``), which does not depend on the machine's speed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from testkit import fakeserver as F
from testkit.fakemodel import completion as fakemodel_completion

from summarize import summarize_many
from summarize.errors import DeadlineExceededError
from summarize.model.ratelimit import RateLimiter, parse_reset
from tests.support import ARTICLES

# One request per article through the fake model, which lists what the hints name; not
# the Korean column: of its 11 cue sentences the hints name 8, and a follow-up the rest.
TEXTS = [
    p.read_text(encoding="utf-8")
    for p in sorted(ARTICLES.glob("*.txt"))
    if p.name != "0ec95c7261d1.txt"
]


@pytest.fixture
def server() -> Iterator[F.FakeServer]:
    with F.FakeServer() as fake:
        yield fake


def run(server: F.FakeServer, count: int, limiter: RateLimiter, **options):  # type: ignore[no-untyped-def]
    items = [(f"a{i}", TEXTS[i % len(TEXTS)]) for i in range(count)]
    # one answer per article: these tests count requests to check the pacing
    options = {"base_url": server.url, "api_key": "k", "model": "gpt-4o-mini",
               "cache": False, "rate_limiter": limiter, "max_reasks": 0, **options}  # fmt: skip
    results = list(summarize_many(items, **options))
    assert len(results) == count
    assert all(r.result is not None for r in results), [r.error for r in results]
    return results


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("6m0s", 360.0), ("20ms", 0.02), ("1s", 1.0), ("0.5", 0.5), ("1h2m3.5s", 3723.5),
     ("7.66s", 7.66), ("", None), ("soon", None), ("5x", None), (None, None)],
)  # fmt: skip
def test_reset_durations_parse_as_openai_writes_them(value, seconds):
    assert parse_reset(value) == (pytest.approx(seconds) if seconds is not None else None)


def assert_paced(starts: list[tuple[float, float]], per_second: float, burst: float) -> None:
    """Over any interval, the cost let through is at most a burst plus the refill."""
    for i, (first, _) in enumerate(starts):
        total = 0.0
        for moment, cost in starts[i:]:
            total += cost
            assert total <= burst + (moment - first) * per_second + 1e-6 + starts[i][1]


def test_requests_per_minute_is_never_exceeded_in_any_interval(server, clock):
    limiter = RateLimiter(requests_per_minute=40, window=1.0)  # a one-second "minute"
    run(server, 12, limiter, concurrency=12)
    starts = list(limiter.started)
    assert len(starts) == server.count == 12
    assert_paced([(t, 1) for t, _ in starts], per_second=40, burst=4 - 1)
    # 12 requests with a burst of 4 at 40/s need at least 8/40 s: the limiter let the
    # last one go that long after the first, and held requests back to do it
    assert starts[-1][0] - starts[0][0] >= 8 / 40 - 1e-9
    assert limiter.stats.waited >= 8 / 40 - 1e-9
    assert clock.slept >= 8 / 40 - 1e-9


def test_tokens_per_minute_paces_by_prompt_plus_max_tokens(server, clock):
    limit = 60_000  # per one-second "minute": bursts of 6,000 tokens
    limiter = RateLimiter(tokens_per_minute=limit, window=1.0)
    run(server, 6, limiter, concurrency=6, max_output_tokens=500)
    assert limiter.counts_tokens
    starts = list(limiter.started)
    costs = [cost for _, cost in starts]
    # the cost is the prompt plus max_tokens, so each is above 500 and near the
    # server's own prompt count plus 500
    assert all(cost > 500 for cost in costs)
    prompt = sum(r["usage"]["prompt_tokens"] for r in map(fakemodel_completion, server.requests))
    assert sum(costs) == pytest.approx(prompt + 6 * 500, rel=0.1)
    assert_paced(starts, per_second=limit, burst=6_000)
    assert starts[-1][0] - starts[0][0] >= (sum(costs) - 6_000 - max(costs)) / limit


def test_limits_and_remaining_budget_are_learned_from_headers(server, clock):
    def headers(number: int) -> dict[str, str]:
        if number == 1:
            return {
                "x-ratelimit-limit-requests": "600",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": "400ms",
                "x-ratelimit-limit-tokens": "150000000",
                "x-ratelimit-remaining-tokens": "149000000",
                "x-ratelimit-reset-tokens": "0s",
            }
        return {}

    server.headers = headers
    limiter = RateLimiter()
    run(server, 4, limiter, concurrency=1)
    assert limiter.stats.learned_rpm == 600
    assert limiter.stats.learned_tpm == 150_000_000
    # the server said its window had no request left for 400 ms: the next one waited
    starts = [t for t, _ in limiter.started]
    assert starts[1] - starts[0] >= 0.4 - 1e-9


def test_a_429_pauses_every_request_not_only_the_one_that_got_it(server, clock):
    limited: list[int] = []

    def chooser(body):  # type: ignore[no-untyped-def]
        if not limited:
            limited.append(1)
            wait = {"retry-after-ms": "600"}
            return F.status(429, "Rate limit reached for requests", headers=wait)
        return None

    server.choose(chooser)
    limiter = RateLimiter()
    paused: list[tuple[float, int]] = []  # (when, requests let go before it)
    throttled = limiter.throttled

    def record(retry_after: float | None) -> None:
        paused.append((clock.now(), len(limiter.started)))
        throttled(retry_after)

    limiter.throttled = record  # type: ignore[method-assign]
    results = run(server, 16, limiter, concurrency=8)
    assert limiter.stats.throttled == 1
    assert sum(r.usage.requests for r in results) == 17
    # No request starts in the 0.6 s pause after the 429 (the retried one included);
    # those already let go still finish.
    ((at, before),) = paused
    later = [t for t, _ in list(limiter.started)[before:]]
    assert len(later) == 17 - before > 0
    assert min(later) >= at + 0.6 - 1e-9
    # ...and afterwards fewer requests run at once: the in-flight cap was halved
    assert limiter.in_flight_cap is not None
    assert limiter.in_flight_cap <= 8


def test_429s_in_one_burst_halve_the_cap_once(server):
    limiter = RateLimiter()
    limiter._in_flight = 8
    limiter.throttled(0.2)
    limiter.throttled(0.2)
    limiter.throttled(None)
    assert limiter.in_flight_cap == 4
    assert limiter.stats.throttled == 3


def test_a_rate_limit_wait_past_the_timeout_fails_at_once(server, clock):
    server.headers = lambda number: {
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "30s",
    }
    items = [("a", TEXTS[0]), ("b", TEXTS[1])]
    results = list(summarize_many(items, base_url=server.url, api_key="k", model="m",
                                  cache=False, concurrency=1, timeout=5))  # fmt: skip
    assert clock.slept == 0  # it did not wait for the reset first
    by_id = {r.id: r for r in results}
    assert by_id["a"].result is not None
    assert by_id["b"].error is not None
    assert by_id["b"].error.type == DeadlineExceededError.__name__
    assert "rate limit" in by_id["b"].error.message
    assert server.count == 1


def test_a_shared_limiter_takes_the_limits_itself():
    from summarize import Summarizer
    from summarize.errors import ConfigurationError

    shared = RateLimiter(requests_per_minute=100)
    assert Summarizer(model="m", rate_limiter=shared).rate_limiter is shared
    with pytest.raises(ConfigurationError, match="shared RateLimiter"):
        Summarizer(model="m", rate_limiter=shared, requests_per_minute=5)
    with pytest.raises(ConfigurationError, match="tokens_per_minute must be a number > 0"):
        RateLimiter(tokens_per_minute=-1)


def test_the_blocking_api_is_paced_too(server, clock):
    from summarize import Summarizer

    limiter = RateLimiter(requests_per_minute=30, window=1.0)  # bursts of 3, then 30/s
    with Summarizer(
        base_url=server.url, api_key="k", model="m", rate_limiter=limiter, max_reasks=0
    ) as s:
        for text in TEXTS[:6]:
            s(text)
    starts = list(limiter.started)
    assert len(starts) == 6
    assert_paced([(t, 1) for t, _ in starts], per_second=30, burst=3 - 1)
