"""The follow-up on disputes a brief left out (summarize.pipeline.disputes).

The answers here are HAND-BUILT (tests.support.good_answer and the fake model of
testkit/fakemodel.py), shaped like a small model's: a point citing a sentence shown
only for context, an unknown id, an answer that is not JSON.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
from testkit import fakemodel

from summarize import summarize
from tests.support import ARTICLES, NTV, Recorder, chat_body, good_answer, mock_client, ok

# NTV's denial point only (S28, S29): the accusations (S13, S24) and the criticism
# (S43, S45) that the hints name are left out.
DENIAL_ONLY = json.loads(good_answer())["contested_points"][:1]
FOLLOWUP = "Their wording suggests disputes"


def is_followup(body: dict[str, Any]) -> bool:
    return FOLLOWUP in body["messages"][1]["content"]


def scripted(followup: str, brief: str | None = None) -> Recorder:
    """The brief answer (default: the denial point only), then ``followup``."""
    answer = brief or good_answer(contested_points=DENIAL_ONLY)

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        return ok(followup if is_followup(body) else answer)

    return Recorder(handler)


def test_sentences_the_brief_left_out_get_one_focused_request_and_its_points_are_added():
    followup = json.dumps(
        {
            "contested_points": [
                {
                    "claim": "Western countries accuse China of supporting Russia economically "
                    "and diplomatically.",
                    "kind": "one_sided",
                    "asserted_by": ["Western countries"],
                    "disputed_by": [],
                    "refs": ["S24"],  # as small models write ids
                    "quote": "",
                },
                {  # S12 was shown as a neighbour of S13, not named
                    "claim": "China and Russia deepened cooperation.",
                    "kind": "disputed",
                    "asserted_by": [],
                    "disputed_by": [],
                    "refs": [12],
                    "quote": "",
                },
                {  # an id past the article's end
                    "claim": "The EU has been criticised for supporting Russia.",
                    "kind": "one_sided",
                    "asserted_by": [],
                    "disputed_by": [],
                    "refs": [43, 400],
                    "quote": "",
                },
            ]
        }
    )
    recorder = scripted(followup)
    brief = summarize(NTV, client=mock_client(recorder), model="m")
    assert len(recorder.requests) == 2
    sent = recorder.requests[1]["messages"][1]["content"]
    # only the named sentences and their neighbours, never the whole article
    assert "S13 and S24 report accusations; S43 and S45 report criticism" in sent
    block = fakemodel.block_of(recorder.requests[1])
    shown = [n for n, _ in fakemodel.sentences_of(block, shortest=0)]
    assert shown == [12, 13, 14, 23, 24, 25, 42, 43, 44, 45, 46]
    claims = [p.claim for p in brief.contested_points]
    assert claims[0] == "Ukraine says Russia broke the ceasefire; Russia denies it."
    assert claims[1:] == [
        "Western countries accuse China of supporting Russia economically and diplomatically.",
        "The EU has been criticised for supporting Russia.",
    ]
    assert [e.sentence for e in brief.contested_points[1].evidence] == [24]
    assert [e.sentence for e in brief.contested_points[2].evidence] == [43]
    for point in brief.contested_points:
        for ev in point.evidence:
            assert NTV[ev.start : ev.end] == ev.quote
    warnings = "\n".join(brief.meta.warnings)
    assert "dropped point 2, it cites none of S13, S24, S43, S45" in warnings
    assert "400" in warnings  # the unknown id, dropped with a warning
    assert "added 2 contested point(s)" in warnings
    assert brief.meta.followup_requests == 1
    assert brief.meta.usage.requests == 2
    # the checks are those of the brief with its added points
    disputes = next(c for c in brief.meta.checks if c.name == "disputes")
    assert disputes.passed


def test_a_brief_citing_every_named_sentence_gets_no_followup():
    recorder = scripted("never sent", brief=good_answer())
    brief = summarize(NTV, client=mock_client(recorder), model="m")
    assert len(recorder.requests) == 1
    assert brief.meta.followup_requests == 0


def test_an_article_without_cues_gets_no_followup_even_with_no_contested_point():
    emirates = (ARTICLES / "374ac9a59a85.txt").read_text(encoding="utf-8")
    answer = good_answer(
        summary=[{"text": "Emirates finalized a deal to buy 30 Boeing 787-9 jets.", "refs": [1]}],
        key_points=[],
        contested_points=[],
    )
    recorder = scripted("never sent", brief=answer)
    brief = summarize(emirates, client=mock_client(recorder), model="m")
    assert len(recorder.requests) == 1
    assert brief.contested_points == []


def test_an_unusable_followup_leaves_the_brief_as_it_was_with_a_warning_and_no_reask():
    recorder = scripted('{"contested_points": [{"claim": "cut off here')
    brief = summarize(NTV, client=mock_client(recorder), model="m")
    assert len(recorder.requests) == 2  # the brief, the follow-up: not re-asked
    assert [p.claim for p in brief.contested_points] == [DENIAL_ONLY[0]["claim"]]
    assert any("disputes follow-up on S13, S24, S43, S45: no usable answer" in w
               for w in brief.meta.warnings)  # fmt: skip
    assert brief.meta.followup_requests == 1


def test_a_followup_that_is_cut_off_at_the_limit_is_not_reasked():
    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        if is_followup(body):
            return httpx2.Response(
                200, json=chat_body('{"contested_points": [', finish_reason="length")
            )
        return ok(good_answer(contested_points=DENIAL_ONLY))

    recorder = Recorder(handler)
    brief = summarize(NTV, client=mock_client(recorder), model="m")
    assert len(recorder.requests) == 2
    assert len(brief.contested_points) == 1


def test_the_fake_model_answers_the_followup_as_a_small_model_does():
    """Through testkit's fake model: a point per named sentence, and one citing a
    context sentence, which the library drops."""
    answers = {"brief": good_answer(contested_points=DENIAL_ONLY)}

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        if fakemodel.is_disputes(body):
            return httpx2.Response(200, json=fakemodel.completion(body))
        return ok(answers["brief"])

    recorder = Recorder(handler)
    brief = summarize(NTV, client=mock_client(recorder), model="m")
    cited = [e.sentence for p in brief.contested_points for e in p.evidence]
    assert {13, 24, 43, 45} <= set(cited)
    assert 12 not in cited
    assert any("dropped point 5" in w for w in brief.meta.warnings)


def test_a_point_copying_a_named_sentence_but_citing_its_neighbour_is_re_cited():
    """Qwen2.5-Coder-1.5B on the Russian article (bench/quality.py): the claim is S17's
    words ("Но нам кажется, Поризкова слегка лукавит."), cited as another id."""
    russian = (ARTICLES / "c82b3d1d540b.txt").read_text(encoding="utf-8")
    brief_answer = good_answer(
        language="ru",
        summary=[{"text": "Поризкова рассказала о страхе старости.", "refs": [12]}],
        key_points=[],
        contested_points=[],
    )
    point = {"claim": "Поризкова слегка лукавит.", "kind": "opinion", "asserted_by": [],
             "disputed_by": [], "refs": [16], "quote": ""}  # fmt: skip
    repeat = {**point, "refs": [17]}
    recorder = scripted(json.dumps({"contested_points": [point, repeat]}), brief=brief_answer)
    brief = summarize(russian, client=mock_client(recorder), model="m")
    assert len(recorder.requests) == 2
    [added] = brief.contested_points
    assert [e.sentence for e in added.evidence] == [17]
    assert russian[added.evidence[0].start : added.evidence[0].end] == added.evidence[0].quote
    warnings = "\n".join(brief.meta.warnings)
    assert "point 1 cited S16; re-cited S17, which holds its words" in warnings
    assert "dropped point 2, a repeat" in warnings


def test_the_followup_s_echoes_and_repeats_are_dropped_and_its_sides_settled():
    """The follow-up's points go through the same settling as the brief's: an echo of
    the schema dropped, a repeat of the brief's denial point merged into it, and the
    accused of S24 ("accused China of …") named as the disputing side."""
    denial = DENIAL_ONLY[0]
    followup = json.dumps({"contested_points": [
        {"claim": "One contested point as the model writes it.", "kind": "disputed",
         "asserted_by": ["X"], "disputed_by": [], "refs": [13], "quote": ""},
        {"claim": "Western countries accuse China of supporting Russia.", "kind": "disputed",
         "asserted_by": ["Western countries"], "disputed_by": [], "refs": [24], "quote": ""},
        {**denial, "claim": denial["claim"].replace("denies it", "denies it firmly"),
         "refs": [28, 29, 13]},  # the brief's own point again, reworded, one more id
    ]})  # fmt: skip
    recorder = scripted(followup)
    brief = summarize(NTV, client=mock_client(recorder), model="m")
    assert len(recorder.requests) == 2
    claims = [p.claim for p in brief.contested_points]
    assert "One contested point as the model writes it." not in claims
    assert claims.count(denial["claim"]) == 1
    assert not any(c.endswith("denies it firmly.") for c in claims)
    merged = next(p for p in brief.contested_points if p.claim == denial["claim"])
    assert [e.sentence for e in merged.evidence] == [13, 28, 29]
    accusation = next(p for p in brief.contested_points if p.claim.startswith("Western"))
    assert accusation.disputed_by == ["China"]
    assert accusation.kind == "disputed"
    warnings = brief.meta.warnings
    assert any("repeats the instructions or the schema" in w for w in warnings)
    assert any("merged into the point before it" in w for w in warnings)
