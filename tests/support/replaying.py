"""Replaying recorded cassettes (fixtures/cassettes) through the real client stack."""

from __future__ import annotations

from typing import Any

import httpx2
import openai
from testkit.cassette import CASSETTES, Cassette, ReplayTransport

from summarize import ArticleSummary, Comparison, compare, summarize
from summarize.errors import SummarizeError
from tests.support import REPLAY_URL


def cassette_named(name: str) -> Cassette:
    """The Qwen recording of a scenario, else the SmolLM2 one."""
    path = CASSETTES / f"{name}.json"
    return Cassette.load(path if path.exists() else CASSETTES / "smollm2" / f"{name}.json")


def _client(transport: ReplayTransport) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=REPLAY_URL, api_key="sk-replay", http_client=httpx2.Client(transport=transport)
    )


def replay(
    cassette: Cassette, **extra: Any
) -> tuple[ArticleSummary | SummarizeError, ReplayTransport]:
    """``summarize()`` of the cassette's scenario, answered from the recording."""
    transport = ReplayTransport(cassette)
    client = _client(transport)
    try:
        outcome: ArticleSummary | SummarizeError = summarize(
            cassette.source(),
            client=client,
            model=cassette.scenario["model"],
            **cassette.scenario["options"],
            **extra,
        )
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
        outcome: Comparison | SummarizeError = compare(
            cassette.sources(),
            client=client,
            model=cassette.scenario["model"],
            **cassette.scenario["options"],
            **extra,
        )
    except SummarizeError as exc:
        outcome = exc
    finally:
        client.close()
    return outcome, transport
