"""Error paths, retries, re-asks and mode fallback, through the SDK's HTTP layer.

All responses in this file are HAND-BUILT (conftest.chat_body / error), not recorded:
they stand for behaviours a real server shows rarely or not on demand.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx2
import pytest

from summarize import Summarizer, asummarize, summarize
from summarize import errors as E
from summarize.answer.citations import Citations, supported
from summarize.text.sentences import SentenceIndex
from tests.support import ARTICLES, NTV, Recorder, error, good_answer, mock_client, ok


def run(responses, **options):
    recorder = Recorder(responses)
    client = mock_client(recorder)
    try:
        return summarize(NTV, client=client, model="test-model", **options), recorder
    finally:
        client.close()


def test_valid_answer_is_grounded_with_library_offsets():
    brief, recorder = run([ok(good_answer())])
    assert len(recorder.requests) == 1  # its points cite every hinted sentence: no follow-up
    point = brief.contested_points[0]
    assert [p.kind for p in brief.contested_points] == ["disputed", "disputed", "one_sided"]
    for ev in point.evidence:
        assert NTV[ev.start : ev.end] == ev.quote
    assert brief.meta.usage.model_dump() == {
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "requests": 1,
        "attempts": 1,
        "loops_cut": 0,
        "reasoning_tokens": 0,
    }
    assert brief.meta.structured_output == "json_schema"
    assert brief.meta.warnings == []


def test_strict_mode_request_shape():
    _, recorder = run([ok(good_answer())])
    body = recorder.requests[0]
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["strict"] is True
    # In strict mode the schema is not repeated in the prompt: tokens matter.
    assert "JSON schema" not in body["messages"][1]["content"]
    assert body["max_tokens"] > 0
    assert body["temperature"] == 0


def test_invalid_json_is_reasked_with_the_error_then_succeeds():
    brief, recorder = run([ok("The article is about Xi."), ok(good_answer())])
    assert len(recorder.requests) == 2
    followup = recorder.requests[1]["messages"]
    assert followup[2] == {"role": "assistant", "content": "The article is about Xi."}
    assert "not valid JSON" in followup[3]["content"]
    assert brief.meta.usage.attempts == 2
    assert brief.meta.usage.requests == 2
    assert brief.meta.usage.prompt_tokens == 200
    assert any("re-asked" in w for w in brief.meta.warnings)


def test_schema_errors_are_listed_in_the_reask():
    bad = json.dumps({"language": "en", "summary": "x", "key_points": "one"})
    _, recorder = run([ok(bad), ok(good_answer())])
    reask = recorder.requests[1]["messages"][3]["content"]
    assert "key_points" in reask
    assert "contested_points" in reask


def test_always_invalid_gives_validation_failed_after_bounded_attempts():
    with pytest.raises(E.ValidationFailedError) as info:
        run([ok("{not json")], max_reasks=2)
    exc = info.value
    assert exc.attempts == 3
    assert exc.usage.requests == 3
    assert exc.raw_output == "{not json"
    assert exc.errors
    assert "not valid JSON" in exc.errors[0]


def test_fenced_json_from_weak_models_is_accepted():
    brief, recorder = run([ok("```json\n" + good_answer() + "\n```")])
    assert len(recorder.requests) == 1
    assert brief.contested_points


def test_an_unknown_sentence_id_is_reasked_then_the_point_dropped_with_a_warning():
    invented = json.loads(good_answer())
    invented["contested_points"][0]["refs"] = [999]
    invented["contested_points"][0]["quote"] = "Putin promised to withdraw all troops"
    invented["contested_points"][0]["claim"] = "Moscow promised a withdrawal."
    with_real = json.loads(good_answer())
    with_real["contested_points"].append(invented["contested_points"][0])
    brief, recorder = run([ok(json.dumps(invented)), ok(json.dumps(with_real))], max_reasks=1)
    reask = recorder.requests[1]["messages"][3]["content"]
    assert "S999 is not a sentence of the article (S1-S51)" in reask
    assert [p.claim for p in brief.contested_points] == [
        p["claim"] for p in json.loads(good_answer())["contested_points"]
    ]
    assert any("dropped, it cites no sentence" in w for w in brief.meta.warnings)
    assert brief.ungrounded(NTV) == []


def test_every_statement_carries_the_sentences_it_cites():
    brief, _ = run([ok(good_answer())])
    assert next(s.text for s in brief.summary_sentences).startswith("Xi said")
    assert brief.summary == " ".join(s.text for s in brief.summary_sentences)
    cited = [[e.sentence for e in s.evidence] for s in brief.summary_sentences]
    assert cited == [[14], [28, 29]]
    assert [e.sentence for e in brief.key_points[0].evidence] == [11]
    assert "military parade on Red Square" in brief.key_points[0].evidence[0].quote
    point = brief.contested_points[0]
    # the quote is found inside S29; S28 is cited whole
    assert [(e.sentence, e.quote) for e in point.evidence] == [
        (28, NTV[point.evidence[0].start : point.evidence[0].end]),
        (29, "The Russian Ministry of Defense denied these accusations"),
    ]
    assert brief.meta.traceability == 1.0
    assert brief.ungrounded(NTV) == []


def test_a_paraphrased_quote_is_matched_inside_its_sentence_or_the_sentence_is_cited():
    answer = json.loads(good_answer())
    # Typographic drift and a dropped word, as models produce: still found in S28 (the
    # point also cites S29, the denial, which the disputes check looks for).
    answer["contested_points"][0]["refs"] = [28, 29]
    answer["contested_points"][0]["quote"] = (
        "Ukraine reported immediate violation of the ceasefire after a few hours"
    )
    brief, _ = run([ok(json.dumps(answer))])
    ev = brief.contested_points[0].evidence[0]
    assert NTV[ev.start : ev.end] == ev.quote
    assert ev.quote.startswith("Ukraine reported immediate violations of the ceasefire")
    assert ev.sentence == 28
    # A quote the sentences do not hold: the sentences are the evidence, and it is said.
    answer["contested_points"][0]["quote"] = "Kyiv accused Moscow of lying"
    brief, recorder = run([ok(json.dumps(answer))])
    ev = brief.contested_points[0].evidence[0]
    assert ev.quote.startswith("However, Ukraine reported")
    assert ev.sentence == 28
    assert any("they are cited whole" in w for w in brief.meta.warnings)
    assert len(recorder.requests) == 1  # no re-ask: the evidence is exact either way


def test_a_key_point_citing_nothing_is_reasked_then_re_cited_by_its_words_or_counted():
    uncited = good_answer(
        key_points=[
            "Xi was the main guest at the military parade on Red Square.",  # S11's words
            "Observers expect warmer weather next spring.",  # no sentence says this
        ]
    )
    brief, recorder = run([ok(uncited), ok(uncited)], max_reasks=1)
    reask = recorder.requests[1]["messages"][3]["content"]
    assert "key_points.0.refs: cite the 1-3 sentence ids" in reask
    assert "key_points.1.refs: cite the 1-3 sentence ids" in reask
    copied, invented = brief.key_points
    assert [e.sentence for e in copied.evidence] == [11]
    assert invented.evidence == []
    assert brief.meta.traceability == 6 / 7  # 2 summary sentences, 2 key points, 3 points
    assert any(w.startswith("key point 1: re-cited S11, which holds") for w in brief.meta.warnings)
    assert any("key point 2: kept without evidence" in w for w in brief.meta.warnings)


def test_a_statement_citing_a_sentence_that_does_not_say_it_is_re_cited_when_one_does():
    misplaced = good_answer(
        key_points=[
            {"text": "Xi was the main guest at a military parade on Red Square.", "refs": [29]}
        ]
    )
    brief, recorder = run([ok(misplaced)])
    assert len(recorder.requests) == 1  # not a re-ask: the library repairs it
    assert [e.sentence for e in brief.key_points[0].evidence] == [11]
    assert any("re-cited S11" in w and "S29 does not say it" in w for w in brief.meta.warnings)


def test_a_contested_point_citing_a_sentence_that_does_not_say_it_is_re_cited_when_one_does():
    """Qwen2.5-Coder-1.5B cited one sentence off for a point ("Big Machine denied doing
    anything wrong" citing the quote after the denial), as it does for statements."""
    answer = json.loads(good_answer())
    answer["contested_points"][0]["refs"] = [11]  # the parade, not the denial
    answer["contested_points"][0]["quote"] = ""
    answer["contested_points"][0]["claim"] = (
        "The Russian Ministry of Defense denied the accusations of breaching the ceasefire."
    )
    brief, recorder = run([ok(json.dumps(answer))])
    assert len(recorder.requests) == 1
    assert [e.sentence for e in brief.contested_points[0].evidence] == [29]
    assert any(
        w.startswith("contested point 1: re-cited S29") and "S11 does not say it" in w
        for w in brief.meta.warnings
    )


def test_a_statement_two_sentences_hold_equally_is_not_re_cited_to_either():
    text = (
        "China navigates a complex relationship with its Russian neighbour. Trade grew. "
        "Experts say the relationship with Russia is nuanced for China. Talks went on."
    )
    index = SentenceIndex(text)
    cited, _, _ = index.evidence([2])
    found = Citations()
    kept = supported("The China and Russia relationship.", cited, index, None, "p", found)
    assert kept == cited  # neither S1 nor S3 clearly holds it
    assert found.warnings == ["p: cited but unsupported? S2 share(s) no content word with it: "
                              "'The China and Russia relationship.'"]  # fmt: skip


def test_a_statement_citing_the_whole_article_is_narrowed_to_three_without_a_reask():
    """Recorded from Qwen2.5-Coder-1.5B in strict mode (no list limits there): a summary
    sentence citing every id, S1 to S51, and re-asked for it twice, at a whole answer
    each time. The library picks the three sharing most words instead, and says so.
    Hand-built here to pin the behaviour."""
    everything = good_answer(
        summary=[
            {
                "text": "Ukraine reported ceasefire violations, which Russia's defence "
                "ministry denied.",
                "refs": list(range(1, 52)),
            }
        ]
    )
    brief, recorder = run([ok(everything), ok(good_answer())], max_reasks=1)
    assert len(recorder.requests) == 1  # no re-ask
    cited = [e.sentence for e in brief.summary_sentences[0].evidence]
    assert len(cited) == 3
    assert {28, 29} <= set(cited)  # the sentences that share its words
    assert any("cited 51 sentences; kept" in w for w in brief.meta.warnings)


def test_cited_sentences_sharing_no_word_with_the_statement_are_dropped_from_it():
    """Qwen2.5-Coder-1.5B cited [S1, S2, S3] for its first sentence; S1 is 'Skip to
    content'."""
    answer = json.loads(good_answer())
    answer["summary"][0]["refs"] = [1, 14, 3]
    brief, _ = run([ok(json.dumps(answer))])
    assert [e.sentence for e in brief.summary_sentences[0].evidence] == [14]
    assert "summary sentence 1: dropped S1, S3 from its citations: no word in common" in (
        brief.meta.warnings
    )


def test_a_summary_longer_than_asked_is_kept_with_a_warning_not_reasked():
    """Qwen2.5-Coder-1.5B wrote 15-17 summary sentences where 3-6 were asked for."""
    long = good_answer(
        summary=[
            {"text": f"Ukraine reported violations, claim {n}.", "refs": [28]} for n in range(12)
        ]
    )
    brief, recorder = run([ok(long)])
    assert len(recorder.requests) == 1
    assert len(brief.summary_sentences) == 12
    assert "summary: 12 items, more than the 8 asked for; all are kept" in (brief.meta.warnings)
    runaway = good_answer(summary=[{"text": f"Again, {n}.", "refs": [28]} for n in range(41)])
    brief, _ = run([ok(runaway)], max_reasks=0)  # runaway: cut to 8, never lost
    assert len(brief.summary_sentences) == 8
    assert [c.field for c in brief.meta.cut] == ["summary"]
    looping = good_answer(summary=[{"text": "Again.", "refs": [28]}] * 41)
    brief, _ = run([ok(looping)], max_reasks=0)  # a loop: cut to 8, then said once
    assert [s.text for s in brief.summary_sentences] == ["Again."]
    assert "summary sentence 8: dropped, it repeats an earlier one" in brief.meta.warnings


def test_a_statement_whose_cited_sentence_shares_no_word_with_it_is_flagged():
    answer = good_answer(key_points=[{"text": "Xi attended the parade.", "refs": [29]}])
    brief, _ = run([ok(answer)])
    assert any(
        "key point 1: cited but unsupported? S29 share(s) no content word" in w
        for w in brief.meta.warnings
    )
    assert not any("summary sentence" in w for w in brief.meta.warnings)


def test_an_uncontested_article_keeps_its_empty_list_and_passes_every_check():
    """The Emirates order (fixtures/gold: uncontested): no dispute cue, so no hint and
    nothing to re-ask. (NTV, by contrast, reports a denial: an empty list is flagged.)"""
    emirates = (ARTICLES / "374ac9a59a85.txt").read_text(encoding="utf-8")
    answer = good_answer(
        summary=[{"text": "Emirates finalized a deal to buy 30 Boeing 787-9 jets.", "refs": [1]}],
        key_points=[{"text": "The order is valued at $8.8 billion at list prices.", "refs": [5]}],
        contested_points=[],
    )
    recorder = Recorder([ok(answer)])
    brief = summarize(emirates, client=mock_client(recorder), model="test-model")
    assert brief.contested_points == []
    assert brief.meta.warnings == []
    assert len(recorder.requests) == 1
    assert "Hints from the article" not in recorder.requests[0]["messages"][1]["content"]
    assert [c.name for c in brief.meta.checks if not c.passed] == []
    ntv, _ = run([ok(good_answer(contested_points=[]))], max_reasks=0)
    assert [c.name for c in ntv.meta.checks if not c.passed] == ["disputes"]


def test_marker_echo_is_reasked_and_scrubbed(monkeypatch):
    from summarize.request import prompts

    monkeypatch.setattr(prompts.secrets, "token_hex", lambda n: "ab" * n)
    echo = good_answer(key_points=["BEGIN ARTICLE-" + "ab" * 8, "Xi visited Moscow."])
    brief, recorder = run([ok(echo)], max_reasks=0)
    assert [k.text for k in brief.key_points] == ["Xi visited Moscow."]
    assert any("boundary marker" in w for w in brief.meta.warnings)
    _, recorder = run([ok(echo), ok(good_answer())], max_reasks=1)
    assert "article marker" in recorder.requests[1]["messages"][3]["content"]


def test_summary_that_is_only_the_marker_is_never_returned(monkeypatch):
    from summarize.request import prompts

    monkeypatch.setattr(prompts.secrets, "token_hex", lambda n: "cd" * n)
    echo = good_answer(summary="BEGIN ARTICLE-" + "cd" * 8)
    with pytest.raises(E.ValidationFailedError, match="only repeated"):
        run([ok(echo)], max_reasks=1)
    brief, _ = run([ok(echo), ok(good_answer())], max_reasks=1)
    assert brief.summary.startswith("Xi said")


def test_truncated_every_time_is_a_typed_error():
    with pytest.raises(E.OutputTruncatedError) as info:
        run([ok('{"language": "en", "summ', finish_reason="length")], max_reasks=1)
    assert info.value.attempts == 2
    assert "cut off" in str(info.value)


# --- transient failures -----------------------------------------------------------


def test_429_honours_retry_after_ms_then_succeeds(clock):
    brief, recorder = run(
        [error(429, "Rate limit reached", headers={"retry-after-ms": "300"}), ok(good_answer())]
    )
    assert clock.sleeps
    assert clock.sleeps[0] >= 0.3  # the server's wait, at least
    assert len(recorder.requests) == 2
    assert brief.meta.usage.requests == 2
    assert brief.meta.usage.attempts == 1


def test_5xx_retried_up_to_max_retries_then_server_error():
    with pytest.raises(E.ServerError) as info:
        run([error(503, "overloaded")], max_retries=2)
    assert info.value.status_code == 503
    assert info.value.usage.requests == 3


def test_429_on_every_attempt_is_retried_until_the_deadline_then_a_rate_limit_error(
    monkeypatch, clock
):
    monkeypatch.setattr("summarize.model.retrying.BACKOFF_INITIAL", 0.05)
    started = clock.now()
    with pytest.raises(E.RateLimitError) as info:
        run(
            [error(429, "Rate limit reached", headers={"retry-after-ms": "10"})],
            max_retries=1,
            timeout=3,
        )
    assert 2.5 < clock.now() - started <= 3  # retried until the deadline, not past it
    assert info.value.status_code == 429
    # a 429 says "slow down": more attempts than max_retries allows other failures
    assert info.value.usage.requests > 2
    assert "still rate-limited" in str(info.value)
    assert "timeout=" in str(info.value)


def test_429s_do_not_use_up_the_retries_of_other_failures():
    limited = error(429, "Rate limit reached", headers={"retry-after-ms": "1"})
    answers = [limited] * 4 + [error(503, "busy"), limited, ok(good_answer())]
    brief, recorder = run(answers, max_retries=1, timeout=60)
    assert len(recorder.requests) == 7
    assert brief.summary
    with pytest.raises(E.ServerError):  # two 5xx exceed max_retries=1, 429s or not
        run([limited, error(503, "busy"), limited, error(503, "busy"), ok(good_answer())],
            max_retries=1, timeout=60)  # fmt: skip


def test_a_wait_is_at_least_the_retry_after_and_backs_off_beyond_it(monkeypatch):
    monkeypatch.setattr("summarize.model.retrying.BACKOFF_INITIAL", 0.5)
    monkeypatch.setattr("summarize.model.retrying.BACKOFF_MAX", 30.0)
    from tenacity import RetryCallState

    from summarize.errors import RateLimitError
    from summarize.model.retrying import TransientFailure, _Wait

    wait = _Wait()
    waits = []
    for attempt in range(1, 7):
        state = RetryCallState(None, None, (), {})
        state.attempt_number = attempt
        state.set_exception((TransientFailure, TransientFailure(RateLimitError("429"), 0.5), None))
        waits.append(wait(state))
    assert all(w >= 0.5 for w in waits)  # the server's wait is a minimum
    assert waits[-1] > 8  # and consecutive 429s back off exponentially
    assert len({round(w, 6) for w in waits}) == len(waits)  # with jitter


def test_html_502_is_retried():
    bad_gateway = httpx2.Response(
        502, text="<html><body>Bad Gateway</body></html>", headers={"content-type": "text/html"}
    )
    brief, recorder = run([bad_gateway, ok(good_answer())])
    assert len(recorder.requests) == 2
    assert brief.summary


def test_connection_errors_are_retried_then_typed():
    with pytest.raises(E.APIConnectionError) as info:
        run([httpx2.ConnectError("connection refused")], max_retries=1)
    assert info.value.usage.requests == 2
    assert "base_url" in str(info.value)


def test_empty_choices_is_retried():
    empty = httpx2.Response(
        200,
        json={"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": []},
    )
    brief, recorder = run([empty, ok(good_answer())])
    assert len(recorder.requests) == 2
    assert brief.summary


def test_retry_after_past_the_deadline_fails_fast(clock):
    with pytest.raises(E.DeadlineExceededError):
        run([error(429, "slow down", headers={"retry-after": "30"})], timeout=1.0)
    assert clock.slept == 0  # it gave up without waiting


# --- fatal failures ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (error(401, "Incorrect API key provided"), E.AuthenticationError),
        (error(403, "model not allowed"), E.AuthenticationError),
        (error(404, "The model `nope` does not exist"), E.NotFoundError),
        (error(400, "messages: too many"), E.BadRequestError),
        (
            error(429, "You exceeded your current quota", code="insufficient_quota"),
            E.QuotaExceededError,
        ),
        (
            error(
                400,
                "This model's maximum context length is 8192 tokens",
                code="context_length_exceeded",
            ),
            E.ContextLengthError,
        ),
    ],
)
def test_fatal_statuses_fail_at_once(response, kind):
    with pytest.raises(kind) as info:
        run([response])
    assert info.value.usage.requests == 1
    assert isinstance(info.value, E.SummarizeError)


def test_refusal_and_content_filter_are_fatal():
    with pytest.raises(E.RefusalError):
        run([ok(None, refusal="I can't help with that")])
    with pytest.raises(E.ContentFilterError):
        run([ok("", finish_reason="content_filter")])


def test_api_key_never_appears_in_errors():
    secret = "SENTINEL-key-abcdef0123456789"
    recorder = Recorder([error(401, f"Incorrect API key provided: {secret}")])
    client = mock_client(recorder, key=secret)
    with pytest.raises(E.AuthenticationError) as info:
        summarize(NTV, client=client, model="m")
    assert secret not in str(info.value)
    assert secret not in repr(info.value)
    assert "[REDACTED]" in str(info.value)
    assert secret not in repr(Summarizer(api_key=secret, base_url="http://x/v1"))


# --- structured-output fallback ---------------------------------------------------


def _json_object_only(request):
    fmt = json.loads(request.content).get("response_format", {})
    if fmt.get("type") == "json_schema":
        return error(400, "response_format json_schema is not supported")
    if "schema" in fmt:
        return error(422, "Unrecognized key in response_format: schema")
    return ok(good_answer())


def test_fallback_chain_and_memory_per_endpoint():
    handler = _json_object_only
    brief, recorder = run(handler)
    kinds = [r.get("response_format", {}).get("type") for r in recorder.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]
    assert brief.meta.structured_output == "json_object"
    assert "JSON schema" in recorder.requests[-1]["messages"][1]["content"]
    # The working mode is remembered: the next article goes straight to it.
    _, again = run(handler)
    assert [r["response_format"]["type"] for r in again.requests] == ["json_object"]


def _new_process() -> None:
    """What a new process starts with: no mode found in memory (the file stays)."""
    from summarize.model import client as client_module

    client_module._working_modes.clear()


def test_the_mode_found_is_remembered_for_a_later_run_in_the_cache_directory():
    import os
    import stat

    run(_json_object_only)
    _new_process()
    _, again = run(_json_object_only)
    assert [r["response_format"]["type"] for r in again.requests] == ["json_object"]
    path = Path(os.environ["XDG_CACHE_HOME"]) / "summarize" / "endpoints.json"
    kept = path.read_text(encoding="utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "json_object" in kept
    assert "sk-" not in kept  # named by a digest, not by key
    assert "http" not in kept  # nor by URL


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"x": 5}', "\u0000" * 10])
def test_a_damaged_memory_file_is_a_first_run_not_a_crash(content):
    import os

    path = Path(os.environ["XDG_CACHE_HOME"]) / "summarize" / "endpoints.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    _, first = run(_json_object_only)
    kinds = [r.get("response_format", {}).get("type") for r in first.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]
    assert json.loads(path.read_text(encoding="utf-8"))  # rewritten whole


def test_no_memory_turns_the_file_off(monkeypatch):
    import os

    monkeypatch.setenv("SUMMARIZE_NO_MEMORY", "1")
    run(_json_object_only)
    _new_process()
    _, again = run(_json_object_only)
    assert len(again.requests) == 3  # found again
    assert not (Path(os.environ["XDG_CACHE_HOME"]) / "summarize" / "endpoints.json").exists()


def test_server_ignoring_every_mode_ends_in_plain_text():
    def handler(request):
        if "response_format" in json.loads(request.content):
            return error(400, "unknown parameter response_format")
        return ok(good_answer())

    brief, recorder = run(handler)
    assert "response_format" not in recorder.requests[-1]
    assert brief.meta.structured_output == "text"


def test_forced_mode_does_not_fall_back():
    with pytest.raises(E.BadRequestError):
        run(
            [error(400, "response_format json_schema unsupported")], structured_output="json_schema"
        )


# --- inputs and configuration: nothing is sent ------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\t ", "\u200b\u200b", "\x00\x01"])
def test_empty_article_is_an_input_error_before_any_request(text):
    recorder = Recorder([ok(good_answer())])
    with pytest.raises(E.InputError, match="nothing to summarise"):
        summarize(text, client=mock_client(recorder))
    assert recorder.requests == []


def test_invisible_characters_are_stripped_before_prompting_but_offsets_stay_original():
    poisoned = NTV.replace("Ukraine reported", "Ukraine\u200b reported\u202e")
    recorder = Recorder([ok(good_answer())])
    brief = summarize(poisoned, client=mock_client(recorder), model="m")
    assert "\u200b" not in recorder.requests[0]["messages"][1]["content"]
    for ev in brief.contested_points[0].evidence:
        assert poisoned[ev.start : ev.end] == ev.quote


def test_no_key_no_url_names_all_three_options():
    with pytest.raises(E.ConfigurationError) as info:
        summarize(NTV)
    message = str(info.value)
    assert "OPENAI_API_KEY" in message
    assert "base_url" in message
    assert "--local" in message


def test_window_too_small_even_for_parts_is_a_clear_error():
    recorder = Recorder([ok(good_answer())])
    with pytest.raises(E.ContextLengthError, match="context_window"):
        summarize(NTV * 20, client=mock_client(recorder), model="m", context_window=1200)
    assert recorder.requests == []


def test_invalid_options_are_configuration_errors():
    for bad in (
        {"max_retries": -1},
        {"timeout": 0},
        {"context_window": 0},
        {"structured_output": "xml"},
    ):
        with pytest.raises(E.ConfigurationError):
            Summarizer(**bad)


# --- sync, async, event loops -----------------------------------------------------


def test_asummarize_with_async_client():
    recorder = Recorder([ok(good_answer())])
    client = mock_client(recorder, asynchronous=True)
    brief = asyncio.run(asummarize(NTV, client=client, model="m"))
    assert brief.contested_points
    assert len(recorder.requests) == 1


def test_sync_summarize_inside_a_running_event_loop():
    recorder = Recorder([ok(good_answer())])

    async def notebook_cell():
        return summarize(NTV, client=mock_client(recorder), model="m")

    assert asyncio.run(notebook_cell()).summary


def test_summarizer_reused_for_many_articles(patch_build_client):
    recorder = Recorder([ok(good_answer())])
    patch_build_client(recorder)
    with Summarizer(api_key="sk-x", model="m") as summarizer:
        for _ in range(3):
            assert summarizer(NTV).summary
    assert len(recorder.requests) == 3


def test_env_configuration_is_read_at_call_time(monkeypatch, patch_build_client):
    recorder = Recorder([ok(good_answer())])
    patch_build_client(recorder)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("SUMMARIZE_MODEL", "env-model")
    brief = summarize(NTV)
    assert brief.meta.model == "env-model"
    assert recorder.requests[0]["model"] == "env-model"


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (
            httpx2.Response(
                200, content=b'{"id": "x", "choi', headers={"content-type": "application/json"}
            ),
            "not valid JSON",
        ),
        (
            httpx2.Response(
                200, text="<html>proxy error</html>", headers={"content-type": "text/html"}
            ),
            "text/html",
        ),
        (httpx2.Response(200, json={"error": {"message": "upstream failed"}}), "upstream failed"),
    ],
)
def test_malformed_200_is_retried_then_a_typed_server_error(bad, says):
    with pytest.raises(E.ServerError, match=says) as info:
        run([bad], max_retries=1)
    assert info.value.usage.requests == 2
    brief, recorder = run([bad, ok(good_answer())])
    assert len(recorder.requests) == 2
    assert brief.summary


def test_links_not_in_the_article_are_removed_with_a_warning():
    """Hand-built answer: a model adds a link the article does not contain."""
    answer = json.loads(good_answer())
    answer["summary"][0]["text"] += " More at https://evil.example/phish."
    answer["key_points"].append({"text": "See www.evil.example for details", "refs": [11]})
    recorder = Recorder([ok(json.dumps(answer))])
    brief = summarize(NTV, client=mock_client(recorder), model="m")
    assert "evil.example" not in brief.summary
    assert "evil.example" not in " ".join(k.text for k in brief.key_points)
    assert brief.summary.startswith("Xi said")  # the rest of the text stays
    assert sum("removed a link" in w for w in brief.meta.warnings) == 2


def test_a_statement_that_repeats_the_instructions_is_dropped_with_a_warning():
    """Hand-built: small models sometimes answer with the system prompt itself."""
    from summarize.request import prompts

    echo = json.loads(good_answer())
    instructions = prompts.load("brief.system").render().split("\n\n")[1]
    echo["summary"].append({"text": instructions, "refs": [8]})
    recorder = Recorder([ok(json.dumps(echo))])
    brief = summarize(NTV, client=mock_client(recorder), model="m")
    assert len(recorder.requests) == 1
    assert instructions not in brief.summary
    assert [s.text for s in brief.summary_sentences] == [
        s["text"] for s in json.loads(good_answer())["summary"]
    ]
    dropped = [w for w in brief.meta.warnings if "repeats the instructions" in w]
    assert len(dropped) == 1
    number = len(json.loads(good_answer())["summary"]) + 1
    assert dropped[0].startswith(f"summary sentence {number}: dropped")
    clean = summarize(NTV, client=mock_client(Recorder([ok(good_answer())])), model="m")
    assert not any("repeats the instructions" in w for w in clean.meta.warnings)


def test_a_summary_that_is_all_instructions_is_asked_again():
    from summarize.request import prompts

    echo = json.loads(good_answer())
    echo["summary"] = [
        {"text": prompts.load("brief.system").render().split("\n\n")[1], "refs": [8]}
    ]
    recorder = Recorder([ok(json.dumps(echo)), ok(good_answer())])
    brief = summarize(NTV, client=mock_client(recorder), model="m")
    assert len(recorder.requests) == 2  # nothing of the article was left to keep
    assert brief.summary == " ".join(s["text"] for s in json.loads(good_answer())["summary"])


@pytest.mark.parametrize(
    "claim",
    [
        "One contested point as the model writes it.",  # the schema's own docstring
        "One one_sided claim",  # SmolLM2's, from the kinds' help
        "One sided claim",  # the same, its kind written with a space (4 December)
    ],
)
def test_the_demo_model_s_echoes_of_the_schema_are_no_contested_points(claim):
    """As the bundled SmolLM2-135M wrote them on the README's article."""
    answer = json.loads(good_answer())
    real = answer["contested_points"][0]
    answer["contested_points"] = [{**real, "claim": claim}, real]
    brief = summarize(NTV, client=mock_client(Recorder([ok(json.dumps(answer))])), model="m")
    assert [p.claim for p in brief.contested_points] == [real["claim"]]
    assert any(
        w.startswith("contested point 1: dropped, it repeats the instructions or the schema")
        for w in brief.meta.warnings
    )


def test_parties_named_twice_are_listed_once():
    """Qwen2.5-Coder-1.5B's merge of trade-war-in-parts listed 'Xi, Ukraine, Russia,
    China, American negotiators' twice over as disputing one point."""
    point = json.loads(good_answer())["contested_points"][0]
    point["disputed_by"] = ["Russia", "China", " russia ", "", "China", "Russian  MoD"]
    answer = good_answer(contested_points=[point])
    brief = summarize(NTV, client=mock_client(Recorder([ok(answer)])), model="m")
    assert brief.contested_points[0].disputed_by == ["Russia", "China", "Russian MoD"]
    assert brief.contested_points[0].asserted_by == ["Ukraine"]


def test_an_answer_that_writes_the_re_ask_s_problems_back_loses_those_statements():
    """Qwen2.5-Coder-1.5B, re-asked about a quoted term on xi-putin-ntv, wrote the
    advice back as a contested point: "The article quotes it (S8): keep it in quotation
    marks or say whose word it is"."""
    bad = json.loads(good_answer())
    bad["key_points"][0]["refs"] = [999]
    echo = json.loads(good_answer())
    echo["key_points"].append(
        {"text": "S999 is not a sentence of the article; cite the 1-3 sentence ids it rests on",
         "refs": [11]}
    )  # fmt: skip
    brief, recorder = run([ok(json.dumps(bad)), ok(json.dumps(echo))], max_reasks=1)
    assert len(recorder.requests) == 2
    assert [k.text for k in brief.key_points] == [
        "Xi was the main guest at the military parade in Moscow."
    ]
    assert any(
        w.startswith("key point 2: dropped, it repeats the re-ask's list of problems")
        for w in brief.meta.warnings
    )


def test_a_re_ask_answer_whose_whole_summary_echoes_the_problems_is_not_the_brief():
    """CI of 7 December: the bundled 135M model's brief came out with an empty summary
    (and no key points), valid by type. A re-ask answer whose summary sentences all
    repeat the re-ask's list of problems has no summary once they are dropped: it is
    unusable, so the first answer stays the brief."""
    bad = json.loads(good_answer())
    bad["key_points"][0]["refs"] = [999]
    echo = json.loads(good_answer())
    echo["summary"] = [
        {"text": "S999 is not a sentence of the article; cite the 1-3 sentence ids it rests on",
         "refs": [11]}
    ]  # fmt: skip
    brief, recorder = run([ok(json.dumps(bad)), ok(json.dumps(echo))], max_reasks=1)
    assert len(recorder.requests) == 2
    assert brief.summary == " ".join(s["text"] for s in bad["summary"])
    assert brief.summary_sentences


def test_a_sentence_written_again_as_a_summary_sentence_or_key_point_is_said_once():
    # the 1.5B model's brief of 0ec95c7261d1 (bench/results/quality-after-44.jsonl):
    # one sentence as the last summary sentence and as three key points; done on the
    # finished brief, so no prompt a later request sends changes
    denial = {
        "text": "Ukraine reported ceasefire violations, which Russia's defence ministry denied.",
        "refs": [28, 29],
    }
    parade = {"text": "Xi was the main guest at the military parade in Moscow.", "refs": [11]}
    answer = json.loads(good_answer())
    answer["summary"] = [*answer["summary"], {**denial, "text": denial["text"].upper()}]
    answer["key_points"] = [denial, parade, {**denial, "text": "  " + denial["text"]}, parade]
    brief, recorder = run([ok(json.dumps(answer))])
    said = [s.text for s in [*brief.summary_sentences, *brief.key_points]]
    assert said == [answer["summary"][0]["text"], denial["text"], parade["text"]]
    assert len(recorder.requests) == 1  # a repair, not a re-ask
    warnings = brief.meta.warnings
    assert "summary sentence 3: dropped, it repeats an earlier one" in warnings
    assert "key point 1: dropped, it repeats a summary sentence" in warnings
    assert "key point 3: dropped, it repeats an earlier one" in warnings  # in the answer
    assert "key point 4: dropped, it repeats an earlier one" in warnings
