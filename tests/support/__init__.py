"""Helpers for tests: the sample articles, and *hand-made* HTTP responses for
error-path tests (every test that uses them says so). Recorded responses live in
fixtures/cassettes (see testkit/cassette.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
import openai
import pytest
from testkit.cassette import FIXTURES
from testkit.replaying import REPLAY_URL

ARTICLES = FIXTURES / "articles"
NTV = (ARTICLES / "xi-putin-ntv.txt").read_text(encoding="utf-8")

Handler = Callable[[httpx2.Request], httpx2.Response]


def chat_body(
    content: str | None,
    *,
    finish_reason: str = "stop",
    refusal: str | None = None,
    prompt_tokens: int = 100,
    completion_tokens: int = 50,
) -> dict[str, Any]:
    """A hand-built chat.completion body."""
    return {
        "id": "chatcmpl-handbuilt",
        "object": "chat.completion",
        "created": 0,
        "model": "test-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def ok(content: str, **kwargs: Any) -> httpx2.Response:
    return httpx2.Response(200, json=chat_body(content, **kwargs))


def error(
    status: int, message: str, *, code: str | None = None, headers: dict[str, str] | None = None
) -> httpx2.Response:
    body = {"error": {"message": message, "type": "error", "param": None, "code": code}}
    return httpx2.Response(status, json=body, headers=headers)


def good_answer(**overrides: Any) -> str:
    """A hand-written valid answer for NTV's article, citing its sentences by id (S11:
    the parade, S14: Xi's "hegemonic harassment", S28: Ukraine's report, S29: the
    denial), with a quote copied from S29; its contested points cite every sentence the
    hints name (S13, S24: accusations, S43, S45: criticism), so no follow-up is sent."""
    answer: dict[str, Any] = {
        "language": "en",
        "summary": [
            {
                "text": 'Xi said China stands by Russia against what he called "hegemonic '
                'harassment".',
                "refs": [14],
            },
            {
                "text": "Ukraine reported ceasefire violations, which Russia's defence "
                "ministry denied.",
                "refs": [28, 29],
            },
        ],
        "key_points": [
            {"text": "Xi was the main guest at the military parade in Moscow.", "refs": [11]}
        ],
        "contested_points": [
            {
                "claim": "Ukraine says Russia broke the ceasefire; Russia denies it.",
                "kind": "disputed",
                "asserted_by": ["Ukraine"],
                "disputed_by": ["Russian Ministry of Defense"],
                "refs": [28, 29],
                "quote": "The Russian Ministry of Defense denied these accusations",
            },
            {
                "claim": "Western countries accuse China of supporting Russia economically "
                "and diplomatically; the article says the EU is criticised for its support.",
                "kind": "disputed",
                "asserted_by": ["Western countries"],
                "disputed_by": ["China"],
                "refs": [24, 43, 45],
                "quote": "",
            },
            {
                "claim": "The article says US unilateralism is accused of straining ties.",
                "kind": "one_sided",
                "asserted_by": ["China", "Russia"],
                "disputed_by": [],
                "refs": [13],
                "quote": "",
            },
        ],
    }
    answer.update(overrides)
    return json.dumps(answer)


class Recorder:
    """Collects the requests a handler saw (hand-built tests)."""

    def __init__(self, responses: list[httpx2.Response | Exception] | Handler) -> None:
        self.requests: list[dict[str, Any]] = []
        self._responses = responses

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(json.loads(request.content))
        if callable(self._responses):
            return self._responses(request)
        item = self._responses[min(len(self.requests), len(self._responses)) - 1]
        if isinstance(item, Exception):
            raise item
        return item


def mock_client(
    handler: Handler, *, asynchronous: bool = False, key: str = "sk-test-key"
) -> openai.OpenAI | openai.AsyncOpenAI:
    transport = httpx2.MockTransport(handler)
    if asynchronous:
        return openai.AsyncOpenAI(
            base_url=REPLAY_URL, api_key=key, http_client=httpx2.AsyncClient(transport=transport)
        )
    return openai.OpenAI(
        base_url=REPLAY_URL, api_key=key, http_client=httpx2.Client(transport=transport)
    )


def loopback_as_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a page server on 127.0.0.1 stand in for a public site: the URL guard
    (summarize.source.urls) is told 127.0.0.1 resolves to a public address."""
    from summarize.source import urls

    real = urls.resolve

    def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34"] if host == "127.0.0.1" else real(host, port)

    monkeypatch.setattr(urls, "resolve", resolve)


def ctrl_c_reaches() -> None:
    """A ``preexec_fn`` for a child a test sends SIGINT to: the default handler, however
    the suite was started (a background job of a script inherits SIGINT ignored, and a
    Python started so never raises KeyboardInterrupt)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def sentences_cited(index: Any, ids: list[int] | tuple[int, ...]) -> list[Any]:
    """``Evidence`` for whole sentences ``ids`` of ``index`` (a ``SentenceIndex``)."""
    from summarize.schema import Evidence

    evidence = []
    for n in ids:
        sentence = index.get(n)
        assert sentence is not None
        quote = index.text[sentence.start : sentence.end]
        evidence.append(Evidence(quote=quote, start=sentence.start, end=sentence.end, sentence=n))
    return evidence
