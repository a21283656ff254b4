"""Replay of real exchanges recorded from llama.cpp's server.

``fixtures/cassettes/*.json``: Qwen2.5-Coder-1.5B-Instruct through the local engine
(llama.cpp's own server via xllamacpp), streamed. A folder ``fixtures/cassettes/<name>/``
holds another model's recordings of the same scenarios (``scripts/record.py --into``);
none is kept at present.

Every cassette is checked for the promises of the library: a schema-valid result
(or the typed error that was recorded), every statement's evidence equal to
``text[start:end]``, usage summed over every request.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx2
import openai
import pytest
from testkit.cassette import CASSETTES, Cassette, ReplayTransport, response_content_and_usage
from testkit.replaying import cassette_named, replay
from testkit.scenarios import BATCHES, COMPARISONS, SCENARIOS

from summarize import ArticleSummary, summarize
from summarize.answer.neutrality import CHECKS
from summarize.errors import SummarizeError
from summarize.model.client import forget_modes
from summarize.render import text as cli_brief
from tests.support import REPLAY_URL

QWEN_PATHS = sorted(CASSETTES.glob("*.json"))
SMOL_PATHS = sorted(CASSETTES.glob("*/*.json"))
ALL_PATHS = QWEN_PATHS + SMOL_PATHS
# Brief scenarios; the comparison cassettes are replayed in test_compare.py, the Batch
# API job at the end of this file.
CASSETTE_PATHS = [p for p in ALL_PATHS if p.stem not in COMPARISONS and p.stem not in BATCHES]
QWEN_BRIEFS = [p for p in CASSETTE_PATHS if p in QWEN_PATHS]
SMOL_BRIEFS = [p for p in CASSETTE_PATHS if p in SMOL_PATHS]


def _id(path) -> str:
    return f"{path.parent.name}/{path.stem}" if path in SMOL_PATHS else path.stem


def test_every_scenario_is_recorded() -> None:
    scenarios = sorted([*SCENARIOS, *COMPARISONS, *BATCHES])
    assert scenarios == sorted({p.stem for p in ALL_PATHS})
    assert {p.stem for p in QWEN_PATHS} <= set(scenarios)


@pytest.mark.parametrize("path", ALL_PATHS, ids=_id)
def test_cassette_says_where_it_came_from(path) -> None:
    cassette = Cassette.load(path)
    for key in ("server", "model", "model_file", "command", "date", "source"):
        assert cassette.recorded[key], key
    assert cassette.recorded["command"].startswith("python scripts/record.py")
    text = path.read_text(encoding="utf-8").lower()
    assert "authorization" not in text
    assert "bearer" not in text


@pytest.mark.parametrize("path", CASSETTE_PATHS, ids=_id)
def test_replay_matches_the_recorded_outcome(path) -> None:
    cassette = Cassette.load(path)
    outcome, transport = replay(cassette)
    transport.check_done()
    assert type(outcome).__name__ == cassette.recorded["outcome"]["result"]
    text = cassette.article_text()
    if isinstance(outcome, SummarizeError):
        assert outcome.usage is not None
        assert outcome.usage.requests == len(cassette.interactions)
        return
    # Schema-valid and JSON round-trippable.
    again = ArticleSummary.model_validate_json(outcome.model_dump_json())
    assert again == outcome
    # Grounded: every piece of evidence is the article's own text at its offsets, and
    # the cited sentence's id says which.
    assert outcome.ungrounded(text) == []
    for point in outcome.contested_points:
        assert point.evidence
    for ev in outcome.evidence():
        assert text[ev.start : ev.end] == ev.quote
        assert ev.sentence is not None
    assert outcome.summary == " ".join(s.text for s in outcome.summary_sentences)
    statements = [*outcome.summary_sentences, *outcome.key_points, *outcome.contested_points]
    cited = sum(bool(s.evidence) for s in statements) / len(statements)
    assert outcome.meta.traceability == pytest.approx(cited)
    usage = outcome.meta.usage
    assert usage.requests == len(cassette.interactions)
    assert usage.attempts == cassette.recorded["outcome"]["attempts"]
    recorded_tokens = sum(
        response_content_and_usage(i["response"]["body"])[1].get("prompt_tokens", 0)
        for i in cassette.interactions
        if i["response"]["status"] == 200
    )
    if usage.loops_cut == 0:
        assert usage.prompt_tokens == recorded_tokens
    else:
        # An answer stopped at its loop is never read to its usage event: the library
        # estimates its prompt with tiktoken, not the model's own tokenizer (close for
        # English, further off for Russian). The recording holds the server's count.
        assert usage.prompt_tokens == pytest.approx(recorded_tokens, rel=0.2)
    assert outcome.meta.prompt_version.startswith("brief.system@")
    assert outcome.summary
    assert outcome.language != ""


def test_reasks_carry_the_specific_problems() -> None:
    """In recorded runs with re-asks, the follow-up names what was wrong."""
    reasks = 0
    for path in CASSETTE_PATHS:
        for interaction in Cassette.load(path).interactions:
            messages = interaction["request"]["body"]["messages"]
            if len(messages) > 2:
                reasks += 1
                # The previous answer goes back when it fits the window; the problems always.
                followup = messages[2:]
                assert [m["role"] for m in followup] in (["assistant", "user"], ["user"])
                assert "cannot be used" in followup[-1]["content"]
                assert "\n- " in followup[-1]["content"]
    assert reasks > 0, "no recorded run exercised a re-ask"


def test_the_qwen_recordings_cite_nearly_every_statement() -> None:
    """The target for a 1.5B model: at least 95% of statements carry evidence."""
    cited = statements = 0
    for path in QWEN_BRIEFS:
        outcome, _ = replay(Cassette.load(path))
        if isinstance(outcome, ArticleSummary):
            items = [*outcome.summary_sentences, *outcome.key_points, *outcome.contested_points]
            statements += len(items)
            cited += sum(bool(item.evidence) for item in items)
    assert statements >= 20
    assert cited / statements >= 0.95


def test_the_readme_example_is_the_cli_output_of_its_recording(monkeypatch) -> None:
    """The README shows a real brief: what ``render_text`` prints for the recording it
    names, at the width it was pasted at. Re-recording the cassette means re-pasting."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert "fixtures/cassettes/xi-putin-ntv.json" in readme
    block = readme.split("```text\n", 1)[1].split("```", 1)[0].rstrip("\n")
    outcome, _ = replay(cassette_named("xi-putin-ntv"), name="xi-putin-ntv")  # as the CLI
    assert isinstance(outcome, ArticleSummary)
    monkeypatch.setattr(
        cli_brief.shutil, "get_terminal_size", lambda *_: os.terminal_size((92, 24))
    )
    assert cli_brief.render_text(outcome) == block


def test_unmatched_request_fails_loudly_naming_the_rerecord_command() -> None:
    cassette = Cassette.load(CASSETTE_PATHS[0])
    cassette.scenario = {
        **cassette.scenario,
        "options": {**cassette.scenario["options"], "language": "fr"},
    }
    with pytest.raises(AssertionError, match=r"scripts/record\.py --local"):
        replay(cassette)


def test_long_article_recorded_in_parts_and_merged() -> None:
    """The trade-war article with a 3,072-token window: parts, then one merge."""
    cassette = cassette_named("trade-war-in-parts")
    outcome, transport = replay(cassette)
    transport.check_done()
    assert isinstance(outcome, ArticleSummary)
    meta = outcome.meta
    assert meta.chunks > 1
    assert meta.depth >= 1
    assert meta.map_requests + meta.reduce_requests + meta.followup_requests == (
        meta.usage.requests
    )
    assert meta.reduce_requests >= 1
    assert "map.user" in meta.prompt_version
    bodies = [i["request"]["body"] for i in cassette.interactions]
    parts = {
        m.group(0)
        for b in bodies
        if (m := re.search(r"part \d+ of \d+", b["messages"][1]["content"]))
    }
    assert len(parts) == meta.chunks
    assert any(b["messages"][0]["content"].startswith("You merge") for b in bodies)
    assert outcome.ungrounded(cassette.article_text()) == []


def _page_cassette() -> Cassette:
    return cassette_named("emirates-boeing-page")


def test_saved_page_and_its_url_replay_the_same_recording(article_site: str) -> None:
    """summarize(page.html) and summarize(http://.../page.html) send the same requests."""
    cassette = _page_cassette()
    url = f"{article_site}/374ac9a59a85.html"
    for source in (cassette.source(), url):
        forget_modes()  # each replay starts as the recording did
        transport = ReplayTransport(cassette)
        client = openai.OpenAI(
            base_url=REPLAY_URL, api_key="sk-replay", http_client=httpx2.Client(transport=transport)
        )
        options = cassette.scenario["options"]
        brief = summarize(source, client=client, model=cassette.scenario["model"], **options)
        transport.check_done()
        assert brief.meta.title is not None
        assert "Emirates" in brief.meta.title
        # the page's own canonical address, or where it was fetched from
        canonical = "https://www.cnbc.com/2019/11/20/emirates-inks-order-for-30-boeing-787-"
        assert (brief.meta.url or "").startswith(url if source == url else canonical)
        assert brief.language == "en"
        assert brief.ungrounded(cassette.article_text()) == []


def test_cli_reads_a_page_and_a_url(article_site: str, patch_build_client, capsys) -> None:
    from summarize.cli import main

    cassette = _page_cassette()
    page = cassette.source()
    for source in (str(page), f"{article_site}/374ac9a59a85.html"):
        forget_modes()
        transport = ReplayTransport(cassette)
        patch_build_client(transport.handler)
        model = cassette.scenario["model"]
        stream = ["--stream"] if cassette.scenario["options"].get("stream") else []
        code = main(
            [source, "--base-url", REPLAY_URL, "--model", model, "--format", "json", *stream]
        )
        out = capsys.readouterr().out
        assert code == 0
        transport.check_done()
        brief = ArticleSummary.model_validate_json(out)
        assert "Emirates" in (brief.meta.title or "")


@pytest.mark.parametrize("name", sorted(BATCHES))
def test_batch_api_job_replays_phase_by_phase(name, tmp_path, monkeypatch) -> None:
    """A Batch API job through testkit/batchserver.py, every line answered from the
    completions llama.cpp gave when it was recorded: the same phases, the same
    outcome per article, every recorded completion used, every quote grounded."""
    from testkit.batchserver import FakeBatchAPI, replay_backend, run_flow
    from testkit.cassette import FIXTURES

    from summarize.many.batchapi import BatchJob

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cassette = cassette_named(name)
    transport = ReplayTransport(cassette)
    texts = {
        i: (FIXTURES / path).read_text(encoding="utf-8") for i, path in cassette.scenario["batch"]
    }
    with FakeBatchAPI(replay_backend(transport.handler, REPLAY_URL)) as api:
        job, reports = run_flow(
            api,
            list(texts.items()),
            model=cassette.scenario["model"],
            **cassette.scenario["options"],
        )
    transport.check_done()
    recorded = cassette.recorded["outcome"]
    assert len(reports) == recorded["phases"]  # re-recorded with this code (#29)
    results = {r.id: r for report in reports for r in report.results}
    assert {i: (r.error.type if r.error else "ArticleSummary") for i, r in results.items()} == (
        recorded["articles"]
    )
    for ident, result in results.items():
        if result.result is not None:
            assert result.result.ungrounded(texts[ident]) == []
            assert result.result.meta.structured_output == "json_object+schema"
            # the checks ran on the batch path too
            assert [c.name for c in result.result.meta.checks] == list(CHECKS)
    # the long article's parts went out in phase 1 and its merge in a later phase
    batches = BatchJob.load(job.id).state["batches"]
    assert [b["phase"] for b in batches] == list(range(1, len(reports) + 1))
    long_brief = results["trade-war"].result
    if long_brief is not None:  # phase 1 holds every first ask: each article's parts
        assert long_brief.meta.chunks > 1
        briefs = [r.result for r in results.values() if r.result is not None]
        assert batches[0]["requests"] == sum(b.meta.chunks for b in briefs)
    assert len(cassette.interactions) == sum(b["requests"] for b in batches)


@pytest.mark.parametrize("path", QWEN_BRIEFS, ids=_id)
def test_the_local_engine_takes_strict_json_schema_and_streams(path) -> None:
    """llama.cpp's own server (unlike llama-cpp-python's) accepts OpenAI's strict
    json_schema: no fallback, every request streamed, every answer a 200 event stream
    whose usage event the brief adds up."""
    cassette = Cassette.load(path)
    for interaction in cassette.interactions:
        body = interaction["request"]["body"]
        assert body["stream"] is True
        assert body["response_format"]["type"] == "json_schema"
        assert interaction["response"]["status"] == 200
        assert interaction["response"]["headers"]["content-type"].startswith("text/event-stream")
    outcome, _ = replay(cassette)
    if isinstance(outcome, ArticleSummary):
        assert outcome.meta.structured_output == "json_schema"
        assert not any("fell back" in w for w in outcome.meta.warnings)
        usage = outcome.meta.usage
    else:
        assert outcome.usage is not None
        usage = outcome.usage
    each = [
        response_content_and_usage(i["response"]["body"])[1]["completion_tokens"]
        for i in cassette.interactions
    ]
    if usage.loops_cut == 0:
        assert usage.completion_tokens == sum(each)
    else:  # an answer stopped at its loop counts what was read of it, not what was sent
        kept = sorted(each)[: len(each) - usage.loops_cut]  # at least the others, in full
        assert sum(kept) <= usage.completion_tokens < sum(each)
