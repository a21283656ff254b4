"""What the token budget measures is what is sent: every request goes out as the very
messages ``budget.measured`` counted, built by the one builder of its kind
(``summarize.request.prompts``), and a plan's estimate of a part bounds the part sent.
Answers come from the scripted fake model (testkit/fakemodel.py) or are hand-built
(tests/support); nothing here is recorded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from testkit import fakemodel

from summarize import compare, summarize
from summarize.errors import ContextLengthError
from summarize.pipeline import budget
from summarize.text.tokens import count_messages, encoding_for_model
from tests.support import ARTICLES, NTV, Recorder, good_answer, mock_client, ok
from tests.test_mapreduce import LONG, WINDOW, FakeModel

ENCODING = encoding_for_model("gpt-4o-mini")


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> list[list[dict[str, str]]]:
    """The messages ``budget.measured`` counted, in order."""
    seen: list[list[dict[str, str]]] = []
    original = budget.measured

    def spy(run: Any, messages: list[dict[str, str]]) -> list[dict[str, str]]:
        seen.append([dict(m) for m in messages])
        return original(run, messages)

    monkeypatch.setattr(budget, "measured", spy)
    return seen


def _sent(bodies: list[dict[str, Any]]) -> list[list[dict[str, str]]]:
    return [[{"role": m["role"], "content": m["content"]} for m in b["messages"]] for b in bodies]


def _same_requests(sent: list[list[dict[str, str]]], measured: list[list[dict[str, str]]]) -> bool:
    """The same requests, in any order: concurrent parts are built in one order and may
    reach the transport in another."""
    return sorted(map(json.dumps, sent)) == sorted(map(json.dumps, measured))


def test_a_brief_and_its_follow_up_go_out_as_measured(measured):
    # no contested point cites the hinted sentences: the follow-up goes out too
    recorder = Recorder([ok(good_answer(contested_points=[])), ok('{"contested_points": []}')])
    brief = summarize(NTV, client=mock_client(recorder), model="gpt-4o-mini", max_reasks=0)
    assert brief.meta.followup_requests == 1
    assert len(recorder.requests) == 2
    assert _sent(recorder.requests) == measured
    assert "Their wording suggests disputes" in measured[1][1]["content"]


def test_the_parts_and_the_merge_of_a_long_article_go_out_as_measured(measured):
    fake = FakeModel()
    brief = summarize(LONG, client=mock_client(fake), model="gpt-4o-mini", context_window=WINDOW)
    assert brief.meta.chunks > 2
    assert fake.merges()
    assert _same_requests(_sent(fake.bodies), measured)
    # The plan of a part (its prompt around no article, plus the article's numbered
    # sentences) bounds what was sent, and every request left its answer room.
    from summarize import Summarizer

    summarizer = Summarizer(model="gpt-4o-mini", api_key="sk-test", context_window=WINDOW)
    run = summarizer.new_run(summarizer.read(LONG), LONG)
    overhead = budget.prompt_overhead(run, "part")
    for body in fake.parts():
        article = fakemodel.block_of(body)
        tokens = count_messages(_sent([body])[0], ENCODING)
        assert tokens <= overhead + run.count(article)
        assert tokens + run.output_tokens <= WINDOW


def test_a_comparison_goes_out_as_measured(measured):
    fake = FakeModel()
    fine_line = (ARTICLES / "xi-putin-fine-line.txt").read_text(encoding="utf-8")
    comparison = compare([("NTV", NTV), ("Fine Line", fine_line)], client=mock_client(fake),
                         model="gpt-4o-mini")  # fmt: skip
    assert comparison.sources
    comparing = [b for b in fake.bodies if fakemodel.is_compare(b)]
    assert len(comparing) == 1
    assert _same_requests(_sent(fake.bodies), measured)  # the two briefs (either order)
    assert _sent(fake.bodies)[-1] == measured[-1]  # then the comparison


def test_a_prompt_that_fills_the_window_is_refused_before_it_is_sent():
    from summarize import Summarizer

    summarizer = Summarizer(model="gpt-4o-mini", api_key="sk-test", context_window=1_000)
    run = summarizer.new_run(summarizer.read(NTV), NTV)
    small = [{"role": "user", "content": "Summarise: " + NTV[:500]}]
    assert budget.measured(run, small) is small
    with pytest.raises(ContextLengthError, match="fills gpt-4o-mini's context window of 1000"):
        budget.measured(run, [{"role": "user", "content": NTV * 2}])


@pytest.mark.parametrize("text", [NTV, "Ein Satz über Zölle. " * 300, "中国和俄罗斯。" * 700])
def test_fits_one_call_is_what_counting_the_article_says(text):
    # fits_one_call skips counting when the bytes alone fit (a token is at least one
    # byte); on either side of that edge its answer is the count's
    from summarize import Summarizer

    regimes = set()
    for window in range(2_000, 60_000, 1_000):
        summarizer = Summarizer(model="gpt-4o-mini", api_key="sk-test", context_window=window)
        run = summarizer.new_run(summarizer.read(text), text)
        room = budget.text_budget(run, "brief")
        rendered = run.sentences.render()
        tokens = run.count(rendered)
        assert budget.fits_one_call(run) == (tokens <= room), window
        regimes.add("bytes fit" if len(rendered.encode("utf-8")) <= room else
                    "tokens fit" if tokens <= room else "too long")  # fmt: skip
    assert regimes == {"bytes fit", "tokens fit", "too long"}


def test_a_prompt_whose_bytes_fit_the_window_is_sent_without_counting_its_tokens(monkeypatch):
    from summarize import Summarizer
    from summarize.text import tokens

    summarizer = Summarizer(model="gpt-4o-mini", api_key="sk-test", context_window=1_000)
    run = summarizer.new_run(summarizer.read(NTV), NTV)
    counted: list[str] = []
    real = tokens.count_tokens
    monkeypatch.setattr(tokens, "count_tokens", lambda t, e: counted.append(t) or real(t, e))
    fits = [{"role": "user", "content": "Сводка: " + NTV[:400]}]
    assert budget.measured(run, fits) is fits
    assert counted == []  # fewer bytes than the window: fewer tokens
    near = [{"role": "user", "content": NTV[:1_500]}]  # more bytes than the window
    assert budget.measured(run, near) is near
    assert counted == [NTV[:1_500]]
    for text in ("日本語の記事です。" * 40, "Ünïcödé " * 60, NTV[:900], "\U0001f600" * 200):
        messages = [{"role": "system", "content": "brief"}, {"role": "user", "content": text}]
        exact = tokens.count_messages(messages, run.encoding)
        assert exact <= tokens.count_messages(messages, run.encoding, under=10**9)
