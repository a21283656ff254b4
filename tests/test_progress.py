"""Progress events (``on_progress=``): every stage of a run, tokens as they stream, and a
callback that fails never costs the article. Answers are hand-built (tests/support)
or from the scripted fake model (testkit/fakemodel.py)."""

from __future__ import annotations

import itertools
import json
import threading

import httpx2
import pytest
from testkit import fakemodel

from summarize import ProgressEvent, Summarizer, compare, summarize
from summarize.errors import ConfigurationError
from summarize.progress import TOKEN_INTERVAL, Reporter
from summarize.schema import Usage
from tests.support import NTV, REPLAY_URL, Recorder, good_answer, mock_client, ok
from tests.support.streams import CountingStream, pieces, stream_response
from tests.test_mapreduce import LONG, WINDOW, FakeModel


class Events(list[ProgressEvent]):
    """An on_progress callback that keeps what it was given (from any thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def __call__(self, event: ProgressEvent) -> None:
        with self.lock:
            self.append(event)

    def stages(self) -> list[str]:
        """The stages in order, each run of repeats once."""
        out: list[str] = []
        for event in self:
            if not out or out[-1] != event.stage:
                out.append(event.stage)
        return out


def test_a_streamed_brief_reports_each_stage_and_its_tokens_as_they_arrive(monkeypatch):
    monkeypatch.setattr("summarize.progress.TOKEN_INTERVAL", 0.0)  # every chunk an event
    events = Events()
    stream = CountingStream(pieces(good_answer(), size=5))
    client = mock_client(Recorder(lambda request: stream_response(stream)))
    brief = summarize(NTV, client=client, model="m", stream=True, on_progress=events)
    assert events.stages() == ["reading", "briefing", "checking", "done"]
    assert events[0].detail == f"{len(NTV):,} characters of text"
    streamed = [e.tokens for e in events if e.stage == "briefing"]
    assert len(streamed) > 20  # the count grew while the answer came in
    assert streamed == sorted(streamed)
    done = events[-1]
    assert done.usage == brief.meta.usage
    assert done.tokens == brief.meta.usage.completion_tokens
    assert (done.model, done.endpoint, done.requests) == ("m", "replay.invalid", 1)
    assert [e.elapsed for e in events] == sorted(e.elapsed for e in events)
    assert "briefing: the whole article in one request" in events[1].line()


def test_a_reask_is_reported_with_the_problem_it_asks_to_fix():
    events = Events()
    first = good_answer(summary=[{"text": "Xi spoke.", "refs": [999]}])  # no such sentence
    recorder = Recorder([ok(first), ok(good_answer())])
    summarize(NTV, client=mock_client(recorder), model="m", on_progress=events)
    assert events.stages() == ["reading", "briefing", "checking", "re-asking", "checking", "done"]
    (reask,) = [e for e in events if e.stage == "re-asking"]
    assert "S999 is not a sentence" in reask.detail
    assert events[-1].requests == 2


def test_a_long_article_reports_its_parts_and_the_merge():
    events = Events()
    fake = FakeModel()
    brief = summarize(
        LONG, client=mock_client(fake), model="m", context_window=WINDOW, on_progress=events
    )
    parts = brief.meta.chunks
    assert parts > 1
    first = next(e for e in events if e.parts)
    assert (first.stage, first.detail, first.parts_done) == ("briefing", f"{parts} parts", 0)
    done_counts = [e.parts_done for e in events if e.parts]
    assert done_counts == sorted(done_counts)
    assert done_counts[-1] == parts
    assert any(e.detail.startswith(f"part {parts} of {parts}") for e in events)
    merging = [e for e in events if e.stage == "merging"]
    assert merging
    assert merging[0].detail.endswith("level 1")
    assert "(2 of" in next(e for e in events if e.parts_done == 2).line()
    assert events[-1].stage == "done"
    assert events[-1].requests == brief.meta.usage.requests


def test_a_comparison_reports_each_source_and_the_comparing_step():
    events = Events()

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=fakemodel.completion(json.loads(request.content)))

    pair = [("NTV", NTV), ("Other", NTV.replace("Xi", "President Xi"))]
    result = compare(pair, client=mock_client(handler), model="m", on_progress=events)
    assert {e.source for e in events} >= {"NTV", "Other", "NTV vs Other"}
    comparing = [e for e in events if e.stage == "comparing"]
    assert comparing
    assert comparing[0].source == "NTV vs Other"
    last = events[-1]
    assert (last.stage, last.source) == ("done", "NTV vs Other")
    assert last.usage == result.meta.usage


def test_a_failing_callback_is_dropped_with_a_warning_and_the_brief_comes_back():
    calls: list[str] = []

    def broken(event: ProgressEvent) -> None:
        calls.append(event.stage)
        if event.stage == "briefing":
            raise RuntimeError("the display went away")

    brief = summarize(NTV, client=mock_client(Recorder([ok(good_answer())])), model="m",
                      on_progress=broken)  # fmt: skip
    assert calls == ["reading", "briefing"]  # not called again after it raised
    assert brief.contested_points
    assert any(
        "on_progress raised RuntimeError: the display went away" in w for w in brief.meta.warnings
    )


def test_on_progress_must_be_callable():
    with pytest.raises(ConfigurationError, match="on_progress must be a function"):
        Summarizer(base_url=REPLAY_URL, on_progress="yes")  # type: ignore[typeddict-item]


def test_token_events_are_throttled_but_stage_changes_never_are():
    now = [0.0]
    events = Events()
    reporter = Reporter(events, model="m", endpoint="e", clock=lambda: now[0])
    reporter.stage("briefing")
    for _ in range(100):  # 100 tokens within one interval: no event
        now[0] += TOKEN_INTERVAL / 1000
        reporter.received()
    assert [e.stage for e in events] == ["briefing"]
    now[0] += TOKEN_INTERVAL
    reporter.received()
    assert events[-1].tokens == 101
    reporter.stage("checking")
    reporter.stage("done")
    assert [e.stage for e in events] == ["briefing", "briefing", "checking", "done"]


def test_without_a_callback_nothing_is_built():
    reporter = Reporter(None)
    assert not reporter.active
    reporter.stage("briefing")
    reporter.received(10)
    reporter.done(Usage())
    assert reporter.failure is None


def test_preparing_a_long_article_counts_its_megabytes_as_it_goes(monkeypatch):
    from summarize.pipeline import budget

    monkeypatch.setattr("summarize.progress.TOKEN_INTERVAL", 0.0)  # every step an event
    text = LONG * (budget.PREPARING_SHOWN // len(LONG) + 1)
    events = Events()
    summarizer = Summarizer(model="m", api_key="sk-test", context_window=32_768)
    run = summarizer.new_run(summarizer.read(text), text, progress=Reporter(events))
    parts = budget.parts_of(run)
    details = [e.detail for e in events if e.stage == "preparing"]
    megabytes = len(text.encode("utf-8")) / 1_048_576
    assert len(details) >= len(parts)  # one step per part counted, at least
    done = [float(detail.split(" of ")[0]) for detail in details]
    assert all(detail.endswith(f" of {megabytes:.1f} MB") for detail in details)
    passes = [[done[0]]]  # the parts are cut again (smaller) when one is over: a new pass
    for before, after in itertools.pairwise(done):
        if after < before:
            passes.append([])
        passes[-1].append(after)
    assert 1 <= len(passes) <= 3  # cut once, and again if the numbered text was over
    for counted in passes:
        assert len(set(counted)) > len(parts) // 2  # the count moved along the text
        assert counted[-1] == pytest.approx(megabytes, abs=0.05)  # each pass to the end


def test_a_short_article_is_prepared_without_a_preparing_event():
    events = Events()
    summarize(NTV, client=mock_client(Recorder([ok(good_answer())])), model="m",
              on_progress=events)  # fmt: skip
    assert "preparing" not in events.stages()
