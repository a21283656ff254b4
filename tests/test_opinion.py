"""Opinion writing known by its own text (answer/opinion.py): a plain-text column is
"likely" opinion, with its signs, and its verdicts are given as the author's.

The short texts are written for these tests; 04a6711caa7c is a real op-ed of the
sample articles (fixtures/articles), read as plain text, with a hand-built answer."""

from __future__ import annotations

import json

import pytest

from summarize import summarize
from summarize.answer import opinion
from summarize.answer.cues import lexicon
from summarize.text.sentences import SentenceIndex
from tests.support import ARTICLES, NTV, Recorder, good_answer, mock_client, ok

COLUMN = (
    "The minister's answers were rife with implausibilities. I have covered this ministry "
    "for ten years, and I don't see how anyone could believe him. Must have been "
    "complicated conversations? You would think so. Parliament should demand the papers. "
    "The committee must not let this go."
)
REPORT = (
    'The minister answered questions for three hours on Tuesday. "I have nothing to '
    'hide," he told reporters. "Should we believe him?" asked one lawmaker. The '
    "committee will meet again next week."
)


def test_a_column_in_plain_text_is_likely_opinion_with_its_signs():
    found = opinion.detect(SentenceIndex(COLUMN), lexicon("en"))
    assert found.likely
    joined = " ".join(found.signals)
    for sign in ("first person", "the reader addressed", "what ought to be done", "verdicts",
                 "rhetorical questions"):  # fmt: skip
        assert sign in joined
    assert found.sentences


def test_a_report_quoting_first_person_and_questions_is_not():
    found = opinion.detect(SentenceIndex(REPORT), lexicon("en"))
    assert not found.likely
    assert found.signals == []


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Opinion: Why the port deal is a mistake\n\nThe deal was signed on Monday."),
        ("en", "EDITORIAL | The budget\n\nThe budget was passed on Friday."),
        ("en", "The port deal was signed. The views expressed here are the writer's own."),
        ("de", "Kommentar: Der Hafen\n\nDer Vertrag wurde am Montag unterzeichnet."),
        ("ru", "Мнение: порт\n\nДоговор подписали в понедельник."),
    ],
)
def test_a_column_s_label_is_enough(language, text):
    assert opinion.detect(SentenceIndex(text), lexicon(language)).likely


def test_a_report_that_mentions_an_opinion_poll_is_not_labelled():
    text = "Opinion polls show the mayor ahead. The vote is on Sunday."
    assert not opinion.detect(SentenceIndex(text), lexicon("en")).likely


def _op_ed_answer() -> str:
    return json.dumps({
        "language": "en",
        "summary": [
            {"text": "Voters handed Trump an unambiguous defeat.", "refs": [29]},
            {"text": "House Democrats have limited their impeachment inquiry to the Ukraine "
                     "scandal.", "refs": [36]},
        ],
        "key_points": [
            {"text": "Democrats would have to let the inquiry move at its own pace.",
             "refs": [42]},
        ],
        "contested_points": [],
    })  # fmt: skip


def test_a_plain_text_op_ed_is_briefed_as_likely_opinion_with_verdicts_as_the_author_s():
    text = (ARTICLES / "04a6711caa7c.txt").read_text(encoding="utf-8")
    brief = summarize(text, client=mock_client(Recorder([ok(_op_ed_answer())])), model="m")
    assert brief.meta.opinion == "likely"
    assert any(s.startswith("first person: ") for s in brief.meta.opinion_signals)
    first, second = (s.text for s in brief.summary_sentences)
    assert first == "The author argues: Voters handed Trump an unambiguous defeat."
    # a fact, not a verdict: the columnist's, not the outlet's reporting (#29; until
    # then it was left unattributed, and the gold counted it as commentary stated as fact)
    assert second == (
        "The author writes: House Democrats have limited their impeachment inquiry to the "
        "Ukraine scandal."
    )
    assert brief.key_points[0].text.startswith("The author argues: Democrats would have to")
    assert brief.summary.startswith("The author argues: Voters")
    assert brief.ungrounded(text) == []
    assert sum("given as the author's" in w for w in brief.meta.warnings) == 2


def test_a_statement_resting_on_the_author_s_own_words_is_given_as_the_author_s():
    # "A long inquiry has no downside" says no verdict in its own words, but rests on
    # S44, "I don't see the downside.": the author speaking, so argued; S36 is a plain
    # statement of the column, so written
    text = (ARTICLES / "04a6711caa7c.txt").read_text(encoding="utf-8")
    answer = json.loads(_op_ed_answer())
    answer["key_points"] = [
        {"text": "A long impeachment inquiry has no downside for Democrats.", "refs": [44]},
        {"text": "House Democrats limited the inquiry to Ukraine.", "refs": [36]},
    ]
    brief = summarize(text, client=mock_client(Recorder([ok(json.dumps(answer))])), model="m")
    first, second = (s.text for s in brief.key_points)
    assert first == "The author argues: A long impeachment inquiry has no downside for Democrats."
    assert second == "The author writes: House Democrats limited the inquiry to Ukraine."
    assert any("key point 1: a verdict of a likely opinion piece" in w for w in brief.meta.warnings)


def test_a_report_is_not_opinion():
    brief = summarize(NTV, client=mock_client(Recorder([ok(good_answer())])), model="m")
    assert brief.meta.opinion is False
    assert brief.meta.opinion_signals == []


def test_a_likely_opinion_piece_says_so_in_text_and_markdown():
    from summarize.render.markdown import brief_markdown
    from summarize.render.text import render_text

    text = (ARTICLES / "04a6711caa7c.txt").read_text(encoding="utf-8")
    brief = summarize(text, client=mock_client(Recorder([ok(_op_ed_answer())])), model="m")
    assert "Opinion (likely, from its text): its views are the author's; first person" in (
        " ".join(render_text(brief).split())
    )
    assert "> **Opinion** (likely, from its text): its views are the author's;" in (
        brief_markdown(brief)
    )
