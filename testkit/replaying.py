"""Replaying recorded cassettes (fixtures/cassettes) through the real client stack."""

from __future__ import annotations

from typing import Any

import httpx2
import openai

from summarize import ArticleSummary, Comparison, Summarizer, compare
from summarize.errors import SummarizeError
from testkit.cassette import CASSETTES, Cassette, ReplayTransport

REPLAY_URL = "http://replay.invalid/v1"  # never reached: the transport answers
FIXED_BOUNDARY = "ARTICLE-0123456789abcdef"


def cassette_named(name: str) -> Cassette:
    """The Qwen recording of a scenario, else the SmolLM2 one."""
    path = CASSETTES / f"{name}.json"
    return Cassette.load(path if path.exists() else CASSETTES / "smollm2" / f"{name}.json")


def _client(transport: ReplayTransport) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=REPLAY_URL, api_key="sk-replay", http_client=httpx2.Client(transport=transport)
    )


def replay(
    cassette: Cassette, *, name: str | None = None, **extra: Any
) -> tuple[ArticleSummary | SummarizeError, ReplayTransport]:
    """``summarize()`` of the cassette's scenario, answered from the recording
    (``name``: the source's short name, as the CLI gives it)."""
    transport = ReplayTransport(cassette)
    client = _client(transport)
    options = {"model": cassette.scenario["model"], **cassette.scenario["options"], **extra}
    try:
        outcome: ArticleSummary | SummarizeError
        # a fixed article boundary: the replay matches any (the cassette normalises it),
        # and a looped answer's prompt tokens, estimated on the prompt, stay the same
        with Summarizer(client=client, boundary=lambda _: FIXED_BOUNDARY, **options) as run:
            outcome = run(cassette.source(), name=name)
    except SummarizeError as exc:
        outcome = exc
    finally:
        client.close()
    return outcome, transport


def replay_comparison(
    cassette: Cassette, **extra: Any
) -> tuple[Comparison | SummarizeError, ReplayTransport]:
    """``compare()`` of a comparison cassette's sources, answered from the recording."""
    transport = ReplayTransport(cassette)
    client = _client(transport)
    try:
        # the fixed boundary, as replay() has it: a looped answer's prompt tokens are
        # estimated on the prompt, and a random boundary tokenises differently
        outcome: Comparison | SummarizeError = compare(
            cassette.sources(),
            client=client,
            boundary=lambda _: FIXED_BOUNDARY,
            model=cassette.scenario["model"],
            **cassette.scenario["options"],
            **extra,
        )
    except SummarizeError as exc:
        outcome = exc
    finally:
        client.close()
    return outcome, transport
