"""Streamed answers: a looping answer is stopped early, salvaged or re-asked, and counted.

The fake streams are shaped like llama.cpp's server-sent events (one ``data:`` line per
token-ish piece, a final chunk with ``finish_reason`` and a usage chunk). The loops are
the ones small models really produce: the same key point again and again, a summary
sentence repeated, the article's marker line repeated, whitespace forever.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from summarize import summarize
from summarize.answer.repairs import close_json, json_closings
from summarize.errors import OutputTruncatedError, RefusalError
from summarize.model.loops import RepetitionGuard, is_looping, loop_start
from tests.support import ARTICLES, NTV, Recorder, good_answer, mock_client
from tests.support.streams import CountingStream, chunk, pieces, sse_event, stream_response

SAMPLES = sorted(ARTICLES.glob("*.txt"))


def _looping_brief(limit: int = 100_000) -> Iterator[str]:
    """A brief whose key points repeat until the limit, as SmolLM2's did."""
    head = (
        '{"language": "en", "summary": [{"text": "Xi said China stands by Russia; Russia\'s '
        'defence ministry denied Ukraine\'s reports of ceasefire violations.", "refs": [14, 29]'
        '}], "key_points": [{"text": "Xi was the main guest at the military parade.", '
        '"refs": [11]}, '
    )
    yield from pieces(head)
    for _ in range(limit):
        yield from pieces(
            '{"text": "Ukraine reported violations of the ceasefire.", "refs": [28]}, '
        )


def _summarize_streamed(handler: Any, **options: Any) -> Any:
    client = mock_client(Recorder(handler))
    try:
        return summarize(NTV, client=client, model="test-model", stream=True, **options)
    finally:
        client.close()


def test_every_sample_article_reads_as_no_loop():
    """No false alarm on real prose, fed as a stream in small pieces."""
    for path in SAMPLES:
        guard = RepetitionGuard()
        text = path.read_text(encoding="utf-8")
        for piece in pieces(text, 5):
            guard.feed(piece)
        assert not guard.looping, path.name
    assert not is_looping(good_answer())


@pytest.mark.parametrize(
    "tail",
    [
        '"BEGIN ARTICLE-6774dbe96f3aba1b",\n    ' * 12,  # the marker line, again and again
        "The partnership presents challenges to US-led policies. " * 8,
        " " * 300,  # grammar-allowed whitespace forever
        "".join(f'{{"claim": "Point {i} says the ministry denied it"}}, ' for i in range(9)),
    ],
)
def test_loops_small_models_produce_are_spotted(tail):
    assert is_looping('{"summary": "' + tail)


def test_close_json_keeps_what_came_before_a_cut():
    cut = '{"language": "en", "summary": "A said B.", "key_points": ["one", "tw'
    assert json.loads(close_json(cut) or "") == {
        "language": "en",
        "summary": "A said B.",
        "key_points": ["one"],
    }
    inside = '{"language": "en", "summary": "A said B. A said'
    assert json.loads(close_json(inside) or "")["summary"] == "A said B. A said"
    assert close_json("no json here") is None
    looping = '{"summary": "S.", "key_points": [' + '"same point", ' * 40
    closed = json.loads(close_json(looping[: loop_start(looping)]) or "")
    assert 1 <= len(closed["key_points"]) < 40


def test_shorter_closings_drop_an_unfinished_last_item():
    cut = '{"summary": "S.", "framing": [{"source": "A", "commentary": []}, {"source": "B", "comm'
    closings = [json.loads(c) for c in json_closings(cut)]
    assert closings[0]["framing"][-1] == {"source": "B"}  # longest first: missing a field
    assert {"summary": "S.", "framing": [{"source": "A", "commentary": []}]} in closings


def test_a_looping_stream_is_stopped_early_and_salvaged():
    streams: list[CountingStream] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        assert body["stream"] is True
        assert body["stream_options"] == {"include_usage": True}
        if "Their wording suggests disputes" in body["messages"][1]["content"]:
            followups.append(body)  # the salvaged brief cites none of NTV's cue sentences
            return stream_response(CountingStream(pieces('{"contested_points": []}')))
        stream = CountingStream(_looping_brief())
        streams.append(stream)
        return stream_response(stream)

    followups: list[dict[str, object]] = []
    brief = _summarize_streamed(handler, max_reasks=1)
    assert len(followups) == 1
    assert len(streams) == 2  # the first answer and one re-ask, both loops
    for stream in streams:
        assert stream.sent < 200, "the loop was read far past its start"
        assert stream.closed
    assert brief.meta.usage.loops_cut == 2
    assert brief.meta.usage.completion_tokens > 0
    assert brief.key_points[0].text == "Xi was the main guest at the military parade."
    texts = [k.text for k in brief.key_points]
    assert texts.count("Ukraine reported violations of the ceasefire.") == 1
    assert any("repeated itself" in w for w in brief.meta.warnings)
    assert any("re-asked" in w and "repeating itself" in w for w in brief.meta.warnings)


def test_a_loop_then_a_good_answer_takes_the_good_one():
    answers = iter([CountingStream(_looping_brief()), CountingStream(pieces(good_answer()))])
    roles: list[list[str]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        roles.append([m["role"] for m in body["messages"]])
        return stream_response(next(answers))

    brief = _summarize_streamed(handler)
    # the looping answer is not sent back (the model would carry it on): only the re-ask
    assert roles == [["system", "user"], ["system", "user", "user"]]
    assert brief.meta.usage.loops_cut == 1
    assert brief.meta.usage.attempts == 2
    assert len(brief.contested_points) == 3
    assert all(NTV[e.start : e.end] == e.quote for p in brief.contested_points for e in p.evidence)


def test_a_loop_with_nothing_to_keep_is_a_typed_error():
    def handler(request: httpx2.Request) -> httpx2.Response:
        return stream_response(CountingStream(iter(["{"] + [" "] * 100_000)))

    with pytest.raises(OutputTruncatedError, match="repeating itself") as info:
        _summarize_streamed(handler, max_reasks=1)
    assert info.value.usage is not None
    assert info.value.usage.loops_cut == 2


def test_a_streamed_answer_counts_the_servers_usage():
    def handler(request: httpx2.Request) -> httpx2.Response:
        return stream_response(CountingStream(pieces(good_answer())))

    brief = _summarize_streamed(handler)
    assert brief.meta.usage.prompt_tokens == 900
    assert brief.meta.usage.completion_tokens == len(list(pieces(good_answer())))
    assert brief.meta.usage.loops_cut == 0


def test_a_streamed_refusal_is_a_refusal_error():
    def handler(request: httpx2.Request) -> httpx2.Response:
        body = sse_event({**chunk(), "choices": [{"index": 0, "delta": {"refusal": "I can't."},
                                                 "finish_reason": "stop"}]})  # fmt: skip
        return httpx2.Response(200, headers={"content-type": "text/event-stream"},
                               content=body + b"data: [DONE]\n\n")  # fmt: skip

    with pytest.raises(RefusalError, match="I can't"):
        _summarize_streamed(handler, max_reasks=0)


def test_a_streamed_answer_teaches_the_rate_limiter_the_servers_limits():
    from summarize import RateLimiter

    limiter = RateLimiter()

    def handler(request: httpx2.Request) -> httpx2.Response:
        response = stream_response(CountingStream(pieces(good_answer())))
        response.headers["x-ratelimit-limit-requests"] = "600"
        return response

    _summarize_streamed(handler, rate_limiter=limiter)
    assert limiter.stats.learned_rpm == 600
