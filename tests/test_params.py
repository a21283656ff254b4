"""Model parameters learned from the endpoint's answers, not guessed from model names.

A 400 naming a parameter the model does not take (OpenAI's own wording and error
fields, as its API returns them for reasoning models) is fixed once, retried once, and
remembered per endpoint and model. Hand-built servers, not recordings.
"""

from __future__ import annotations

import json

import httpx2
import pytest
from testkit import fakeserver as F

import summarize.errors as E
from summarize import Summarizer, summarize
from summarize.model.client import forget_modes
from tests.support import NTV, Recorder, chat_body, good_answer, mock_client, ok

# OpenAI's answers, word for word, to a reasoning model sent these parameters
NO_TEMPERATURE = F.status(
    400,
    "Unsupported value: 'temperature' does not support 0 with this model. "
    "Only the default (1) value is supported.",
    code_name="unsupported_value",
    param="temperature",
)
NO_MAX_TOKENS = F.status(
    400,
    "Unsupported parameter: 'max_tokens' is not supported with this model. "
    "Use 'max_completion_tokens' instead.",
    code_name="unsupported_parameter",
    param="max_tokens",
)


def refusing(*names: str):
    """A server that answers 400 to any request carrying one of ``names``."""
    faults = {"temperature": NO_TEMPERATURE, "max_tokens": NO_MAX_TOKENS}

    def choose(body):
        for name in names:
            if name in body:
                return faults[name]
        return None

    return choose


def test_a_server_refusing_temperature_works_after_one_retry_and_is_not_sent_it_again():
    with F.FakeServer() as server:
        server.choose(refusing("temperature"))
        with Summarizer(base_url=server.url, api_key="x", model="new-reasoner") as summarizer:
            first = summarizer(NTV)
            sent_first = len(server.requests)
            second = summarizer(NTV)
    assert first.summary
    assert second.summary
    assert "temperature" in server.requests[0]  # the default, 0, was sent once
    assert "temperature" not in server.requests[1]  # the one retry
    assert not any("temperature" in body for body in server.requests[sent_first:])
    assert first.meta.usage.requests == sent_first
    assert any("refused parameter 'temperature'" in w for w in first.meta.warnings)
    assert not any("temperature" in w for w in second.meta.warnings)


def test_a_refused_max_tokens_is_renamed_and_a_second_refusal_is_a_typed_error():
    with F.FakeServer() as server:
        server.choose(refusing("max_tokens"))
        brief = summarize(NTV, base_url=server.url, api_key="x", model="m")
        assert brief.summary
        assert server.requests[1]["max_completion_tokens"] == server.requests[0]["max_tokens"]
        assert "max_tokens" not in server.requests[1]
    forget_modes()
    with F.FakeServer() as server:  # refuses the parameter whatever it is called
        server.choose(lambda body: NO_TEMPERATURE if "temperature" in body else NO_MAX_TOKENS)
        with pytest.raises(E.BadRequestError, match="max_tokens"):
            summarize(NTV, base_url=server.url, api_key="x", model="m")
        assert len(server.requests) == 3  # each fix tried once, then no more guessing


def test_what_one_model_taught_is_not_applied_to_another():
    with F.FakeServer() as server:
        server.choose(refusing("temperature"))
        summarize(NTV, base_url=server.url, api_key="x", model="reasoner")
        before = len(server.requests)
        server.choose(lambda body: None)
        summarize(NTV, base_url=server.url, api_key="x", model="plain")
        assert "temperature" in server.requests[before]


def test_a_400_about_something_else_is_not_mistaken_for_a_parameter():
    with F.FakeServer() as server:
        server.queue(F.status(400, "messages: the temperature of the article is too high"))
        with pytest.raises(E.BadRequestError):
            summarize(NTV, base_url=server.url, api_key="x", model="m")
        assert len(server.requests) == 1


def reasoning_body(content, *, finish_reason="stop", completion=50, reasoning=0):
    body = chat_body(content, finish_reason=finish_reason, completion_tokens=completion)
    body["usage"]["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return httpx2.Response(200, json=body)


def test_an_answer_cut_off_by_reasoning_gets_more_room_not_a_shorter_re_ask():
    cut = reasoning_body("", finish_reason="length", completion=2048, reasoning=2048)
    recorder = Recorder([cut, reasoning_body(good_answer(), completion=900, reasoning=700)])
    client = mock_client(recorder)
    try:
        brief = summarize(NTV, client=client, model="thinker", max_output_tokens=2048)
    finally:
        client.close()
    limits = [r["max_tokens"] for r in recorder.requests]
    assert limits[0] == 2048
    assert limits[1] == 2048 * 3
    assert not any("shorter" in m["content"] for m in recorder.requests[1]["messages"])
    assert brief.meta.usage.reasoning_tokens == 2048 + 700
    assert brief.meta.usage.attempts == 1  # not a re-ask: the same request, more room
    assert any("spent 2048 of 2048 output tokens reasoning" in w for w in brief.meta.warnings)


def test_reasoning_tokens_are_reported_and_the_model_then_gets_room():
    recorder = Recorder([reasoning_body(good_answer(), completion=600, reasoning=400)])
    client = mock_client(recorder)
    try:
        first = summarize(NTV, client=client, model="thinker", max_output_tokens=1000)
        summarize(NTV, client=client, model="thinker", max_output_tokens=1000)
    finally:
        client.close()
    assert first.meta.usage.reasoning_tokens == 400
    assert [r["max_tokens"] for r in recorder.requests] == [1000, 3000]


def test_a_plain_answer_cut_off_is_still_re_asked_shorter():
    cut = ok('{"language": "en", "summ', finish_reason="length")
    recorder = Recorder([cut, ok(good_answer())])
    client = mock_client(recorder)
    try:
        summarize(NTV, client=client, model="m", max_reasks=1)
    finally:
        client.close()
    assert recorder.requests[0]["max_tokens"] == recorder.requests[1]["max_tokens"]
    assert "cut off" in json.dumps(recorder.requests[1]["messages"])


def test_the_room_to_reason_stays_inside_the_context_window():
    cut = reasoning_body("", finish_reason="length", completion=1024, reasoning=1024)
    recorder = Recorder([cut, reasoning_body(good_answer(), completion=900, reasoning=700)])
    client = mock_client(recorder)
    try:
        summarize(NTV, client=client, model="thinker", max_output_tokens=1024, context_window=4000)
    finally:
        client.close()
    first, second = (r["max_tokens"] for r in recorder.requests)
    assert first == 1024
    assert 1024 < second < 1024 * 3  # more room, but only what the window leaves
