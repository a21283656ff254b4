"""Comparing sources: hand-built runs through the scripted fake model, then recordings."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx2
import openai
import pytest
from testkit import fakemodel
from testkit.cassette import CASSETTES, Cassette, ReplayTransport
from testkit.scenarios import COMPARISONS

import summarize.errors as E
from summarize import Comparison, compare
from summarize.cli import main as cli_main
from tests.support import ARTICLES, REPLAY_URL, mock_client

NTV = (ARTICLES / "xi-putin-ntv.txt").read_text(encoding="utf-8")
FINE = (ARTICLES / "xi-putin-fine-line.txt").read_text(encoding="utf-8")
PAIR = [("NTV", NTV), ("Fine Line", FINE)]
TEXTS = dict(PAIR)


def fake(edit: Any = None) -> httpx2.MockTransport:
    """The fake model; ``edit`` may change the comparison answer."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        answer = fakemodel.completion(body)
        if edit and fakemodel.is_compare(body):
            content = json.loads(answer["choices"][0]["message"]["content"])
            edit(content)
            answer["choices"][0]["message"]["content"] = json.dumps(content)
        return httpx2.Response(200, json=answer)

    return handler  # type: ignore[return-value]


def test_comparison_shape_and_grounding_per_source():
    result = compare(PAIR, client=mock_client(fake()), model="m")
    assert isinstance(result, Comparison)
    assert list(result.sources) == ["NTV", "Fine Line"]
    assert result.sources["NTV"].summary
    assert result.sources["NTV"].meta.traceability == 1.0
    assert result.ungrounded(TEXTS) == []
    conflict = result.conflicts[0]
    assert {v.source for v in conflict.versions} == {"NTV", "Fine Line"}
    for version in conflict.versions:  # each quote found in its own source
        for q in version.evidence:
            assert TEXTS[version.source][q.start : q.end] == q.quote
    assert result.agreements[0].sources == ["NTV", "Fine Line"]
    assert result.unique_claims[0].source == "NTV"
    assert [f.source for f in result.framing] == ["NTV", "Fine Line"]
    again = Comparison.model_validate_json(result.model_dump_json())
    assert again == result
    # usage covers both briefs and the comparison request
    assert result.meta.usage.requests == 3
    assert result.meta.prompt_version.startswith("compare.system@")
    # the comparison's own voice is checked, as each source's brief is
    assert [c.name for c in result.meta.checks] == ["quoted_terms", "loaded_words", "commentary"]
    assert all(c.passed for c in result.meta.checks)
    assert len(result.sources["NTV"].meta.checks) == 5


def test_a_comparison_adopting_a_source_s_quoted_term_is_re_asked_then_warned():
    def adopt(content: dict[str, Any]) -> None:
        content["summary"] = "Both report the leaders' unbreakable ties amid harassment."

    result = compare(PAIR, client=mock_client(fake(adopt)), model="m", max_reasks=1)
    quoted = next(c for c in result.meta.checks if c.name == "quoted_terms")
    assert not quoted.passed
    assert any("(Fine Line S6)" in d for d in quoted.details)
    assert any("(NTV S8)" in d for d in quoted.details)
    assert result.meta.usage.attempts >= 2  # the first answer was re-asked
    assert any(w.startswith("check quoted_terms: summary uses") for w in result.meta.warnings)


def test_a_sentence_credited_to_the_wrong_source_is_not_evidence():
    def swap(content: dict[str, Any]) -> None:
        versions = content["conflicts"][0]["versions"]
        versions[1]["refs"] = [50]  # NTV has an S50; Fine Line, credited with it, has not

    result = compare(PAIR, client=mock_client(fake(swap)), model="m", max_reasks=0)
    assert result.conflicts == []  # one side left without evidence: dropped
    assert any("S50 is not a sentence of the article" in w for w in result.meta.warnings)
    assert any("without evidence on two sides" in w for w in result.meta.warnings)
    assert result.ungrounded(TEXTS) == []


def test_every_citation_is_a_sentence_of_the_source_it_names():
    result = compare(PAIR, client=mock_client(fake()), model="m")
    quotes = [q for c in result.conflicts for v in c.versions for q in v.evidence]
    quotes += [q for a in result.agreements for q in a.evidence]
    assert quotes
    for q in quotes:
        assert q.sentence is not None
        assert TEXTS[q.source][q.start : q.end] == q.quote


def test_unknown_source_names_are_reasked():
    calls = {"n": 0}

    def rename(content: dict[str, Any]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            content["unique_claims"][0]["source"] = "CNN"

    result = compare(PAIR, client=mock_client(fake(rename)), model="m")
    assert calls["n"] == 2
    assert any("'CNN' is not one of the sources" in w for w in result.meta.warnings)
    assert result.unique_claims[0].source == "NTV"


def test_compare_needs_two_articles_and_names_a_bad_one():
    with pytest.raises(E.InputError, match="two or more"):
        compare([NTV], client=mock_client(fake()), model="m")
    with pytest.raises(E.InputError, match="b: the article is only whitespace"):
        compare([("a", NTV), ("b", "   ")], client=mock_client(fake()), model="m")


def test_cli_compare_names_sources_by_their_short_names(tmp_path, patch_build_client, capsys):
    a, b = tmp_path / "ntv.txt", tmp_path / "fine.txt"
    a.write_text(NTV, encoding="utf-8")
    b.write_text(FINE, encoding="utf-8")
    patch_build_client(fake())
    assert cli_main(["compare", str(a), str(b), "--base-url", REPLAY_URL, "--model", "m"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Sources: ntv, fine\n")
    assert "Conflicts" in out
    assert str(tmp_path) not in out  # no path anywhere: "(ntv S4 [320:427])"
    assert re.search(r"\((ntv|fine) S\d+ \[\d+:\d+\]\)", out)
    code = cli_main(
        ["compare", str(a), str(b), "--base-url", REPLAY_URL, "--model", "m", "--format=json"]
    )
    assert code == 0
    parsed = Comparison.model_validate_json(capsys.readouterr().out)
    assert list(parsed.sources) == ["ntv", "fine"]
    assert parsed.sources["ntv"].meta.source == "ntv"
    assert parsed.ungrounded({"ntv": NTV, "fine": FINE}) == []
    assert cli_main(["compare", str(a)]) == 2


def test_cli_compare_names_given_and_repeated_stems(tmp_path, patch_build_client, capsys):
    (tmp_path / "x").mkdir()
    a, b = tmp_path / "story.txt", tmp_path / "x" / "story.txt"
    a.write_text(NTV, encoding="utf-8")
    b.write_text(FINE, encoding="utf-8")
    patch_build_client(fake())
    base = ["--base-url", REPLAY_URL, "--model", "m", "--format=json"]
    assert cli_main(["compare", str(a), str(b), *base]) == 0
    assert list(Comparison.model_validate_json(capsys.readouterr().out).sources) == [
        "story",
        "story (2)",
    ]
    assert cli_main(["compare", str(a), str(b), *base, "--name", f"NTV={a}"]) == 0
    assert list(Comparison.model_validate_json(capsys.readouterr().out).sources) == [
        "NTV",
        "story",
    ]
    assert cli_main(["compare", str(a), str(b), *base, "--name", "NTV"]) == 2
    assert "write it as NAME=SOURCE" in capsys.readouterr().err
    assert cli_main(["compare", str(a), str(b), *base, "--name", "NTV=elsewhere.txt"]) == 2
    assert "is not one of the sources given" in capsys.readouterr().err


# --- recorded ------------------------------------------------------------------------


COMPARISON_PATHS = [
    path
    for name in sorted(COMPARISONS)
    for path in (CASSETTES / f"{name}.json", CASSETTES / "smollm2" / f"{name}.json")
    if path.exists()
]


@pytest.mark.parametrize("path", COMPARISON_PATHS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_recorded_comparisons_replay(path):
    cassette = Cassette.load(path)
    transport = ReplayTransport(cassette)
    client = openai.OpenAI(
        base_url=REPLAY_URL, api_key="sk-replay", http_client=httpx2.Client(transport=transport)
    )
    try:
        outcome: Comparison | E.SummarizeError = compare(
            cassette.sources(), client=client, model=cassette.scenario["model"],
            **cassette.scenario["options"],
        )  # fmt: skip
    except E.SummarizeError as exc:
        outcome = exc
    transport.check_done()
    assert type(outcome).__name__ == cassette.recorded["outcome"]["result"]
    if isinstance(outcome, Comparison):
        texts = dict(cassette.sources())
        assert outcome.ungrounded(texts) == []
        assert list(outcome.sources) == list(texts)
        assert outcome.summary
        assert outcome.meta.usage.requests == len(cassette.interactions)


def test_an_agreement_names_each_source_once_however_many_sentences_it_cites():
    """As Qwen2.5-Coder-1.5B answered once (compare-xi-putin, an earlier recording): one
    agreement citing two sentences of each report listed its sources as NTV, NTV, Fine
    Line, Fine Line. Hand-built here on the fake model's answer."""

    def twice(content: dict[str, Any]) -> None:
        content["agreements"] = [
            {
                "fact": "Xi and Putin met in Moscow.",
                "quotes": [
                    {"source": "NTV", "refs": [4]},
                    {"source": "NTV", "refs": [8]},
                    {"source": "Fine Line", "refs": [1]},
                    {"source": "Fine Line", "refs": [2]},
                ],
            }
        ]

    result = compare(PAIR, client=mock_client(fake(twice)), model="m")
    [agreement] = result.agreements
    assert [e.source for e in agreement.evidence] == ["NTV", "NTV", "Fine Line", "Fine Line"]
    assert agreement.sources == ["NTV", "Fine Line"]


def test_the_qwen_comparison_holds_grounded_claims_the_model_really_made():
    """compare-xi-putin, recorded from Qwen2.5-Coder-1.5B: each claim comes back citing
    its own report's sentences, at exact offsets in it (an agreement: two reports'); the
    counts are the recording's. (Re-recorded on 7 December: llama.cpp's answers to the
    same prompt differ from one recording to the next, and this one has two agreements
    and no claim of one report only, where the last had one such claim.)"""
    cassette = Cassette.load(CASSETTES / "compare-xi-putin.json")
    transport = ReplayTransport(cassette)
    client = openai.OpenAI(
        base_url=REPLAY_URL, api_key="sk-replay", http_client=httpx2.Client(transport=transport)
    )
    try:
        outcome = compare(
            cassette.sources(), client=client, model=cassette.scenario["model"],
            **cassette.scenario["options"],
        )  # fmt: skip
    finally:
        client.close()
    texts = dict(cassette.sources())
    recorded = cassette.recorded["outcome"]
    assert len(outcome.unique_claims) == recorded["unique_claims"]
    assert len(outcome.agreements) == recorded["agreements"]
    assert len(outcome.conflicts) == recorded["conflicts"]
    assert outcome.unique_claims or outcome.agreements  # the model made some claim
    for agreement in outcome.agreements:
        assert len({q.source for q in agreement.evidence}) >= 2
        for quote in agreement.evidence:
            assert quote.source in agreement.sources
            assert texts[quote.source][quote.start : quote.end] == quote.quote
    for claim in outcome.unique_claims:
        assert claim.evidence
        for quote in claim.evidence:
            assert quote.source == claim.source
            assert quote.sentence is not None
            assert texts[quote.source][quote.start : quote.end] == quote.quote
    framing_quotes = [q for f in outcome.framing for q in (*f.loaded_terms, *f.commentary)]
    assert all(texts[q.source][q.start : q.end] == q.quote for q in framing_quotes)


def test_a_comparison_that_loops_inside_its_conflicts_keeps_what_came_before():
    """Recorded with Qwen2.5-Coder-1.5B (compare-xi-putin): the answer repeated its
    conflicts until it was stopped, so it never reached unique_claims or framing; all
    three attempts failed as OutputTruncatedError. What came before the loop is a
    usable comparison. The stream is hand-built here, shaped like llama.cpp's."""
    from tests.support.streams import CountingStream, pieces, stream_response

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        answer = fakemodel.completion(body)["choices"][0]["message"]["content"]
        if not fakemodel.is_compare(body):
            return stream_response(CountingStream(pieces(answer)))
        data = json.loads(answer)
        head = json.dumps({k: data[k] for k in ("summary", "agreements", "conflicts")})
        conflict = json.dumps(data["conflicts"][0])
        looping = head[: -len("]}")] + "".join(f", {conflict}" for _ in range(200))
        return stream_response(CountingStream(pieces(looping, 20)))

    result = compare(PAIR, client=mock_client(handler), model="m", stream=True, max_reasks=0)
    assert isinstance(result, Comparison)
    assert result.conflicts
    assert result.unique_claims == []
    assert any("never reached unique_claims or framing" in w for w in result.meta.warnings)
    assert result.ungrounded(TEXTS) == []
