"""A check's advice followed by rule (answer/mending.py), before the checks run.

The articles are short texts written for these tests; the statements are shaped the
way Qwen2.5-Coder-1.5B wrote them in the held-out runs of bench/quality.py, where its
re-asks on these checks came back still flagged (2f42: a quoted term; 374a and
xi-putin-fine-line: loaded words; 1567: attributed speech; xi-putin-ntv: commentary).
"""

from __future__ import annotations

import json

import pytest

from summarize import summarize
from summarize.answer import neutrality
from summarize.answer.mending import mend
from summarize.schema import Statement
from summarize.text.sentences import SentenceIndex
from tests.support import NTV, Recorder, good_answer, mock_client, ok, sentences_cited

TEXT = (
    'Xi Jinping and Vladimir Putin reaffirmed their support amid perceived "harassment" '
    "from the US. The campaign cost the state roughly $449,000, according to the Sioux "
    "Falls Argus Leader. Officials called the floods catastrophic. The mayor said the "
    "dam held, the governor said it did not.\n\n"
    "Insights: This alliance sustains itself through shared opposition to Western policies."
)


def statement(index: SentenceIndex, text: str, *ids: int) -> Statement:
    return Statement(text=text, evidence=sentences_cited(index, ids))


def checked(index: SentenceIndex, statements: list[Statement]) -> dict[str, list[str]]:
    results = neutrality.run_checks(index, "en", statements, [], [])
    return {c.name: c.details for c in results if not c.passed}


def test_a_quoted_term_in_the_brief_s_own_voice_is_put_in_quotation_marks():
    index = SentenceIndex(TEXT)
    given = [statement(index, "Xi and Putin stand together against US harassment.", 1)]
    assert "quoted_terms" in checked(index, given)
    (mended,), warnings = mend(given, "summary sentence", index, "en")
    assert mended.text == "Xi and Putin stand together against US “harassment”."
    assert mended.evidence == given[0].evidence
    assert warnings == [
        "summary sentence 1: 'harassment' put in quotation marks: the article's words"
    ]
    assert checked(index, [mended]) == {}


def test_a_loaded_word_is_quoted_only_where_the_cited_sentence_uses_it():
    index = SentenceIndex(TEXT)
    theirs = statement(index, "The floods were catastrophic, officials found.", 3)
    mine = statement(index, "The catastrophic campaign cost $449,000.", 2)
    (quoted, left), warnings = mend([theirs, mine], "key point", index, "en")
    assert quoted.text == "The floods were “catastrophic”, officials found."
    assert "catastrophic" in left.text  # the model's own word, left for the re-ask
    assert "“" not in left.text
    assert "loaded_words" in checked(index, [left])
    assert "loaded_words" not in checked(index, [quoted])
    assert len([w for w in warnings if "quotation marks" in w]) == 1


def test_a_statement_of_attributed_speech_names_the_one_speaker_its_sentences_give():
    index = SentenceIndex(TEXT)
    given = [statement(index, "The campaign cost the state roughly $449,000.", 2)]
    assert "attribution" in checked(index, given)
    (mended,), warnings = mend(given, "summary sentence", index, "en")
    assert mended.text == (
        "According to the Sioux Falls Argus Leader: The campaign cost the state roughly $449,000."
    )
    assert warnings == [
        "summary sentence 1: attributed to the Sioux Falls Argus Leader, the speaker of "
        "the sentences it cites"
    ]
    assert checked(index, [mended]) == {}


def test_two_speakers_or_none_are_left_for_the_re_ask():
    index = SentenceIndex(TEXT)
    given = [statement(index, "The dam held, or it did not.", 4)]
    (same,), warnings = mend(given, "summary sentence", index, "en")
    assert same.text == given[0].text
    assert warnings == []
    assert "attribution" in checked(index, [same])


def test_a_statement_of_the_outlet_s_commentary_says_so():
    index = SentenceIndex(TEXT)
    given = [statement(index, "This alliance rests on shared opposition to the West.", 5)]
    assert "commentary" in checked(index, given)
    (mended,), _ = mend(given, "summary sentence", index, "en")
    assert mended.text == (
        "The outlet's commentary says: This alliance rests on shared opposition to the West."
    )
    assert checked(index, [mended]) == {}


@pytest.mark.parametrize("language", ["en", "de", "fr", "es", "ru", "zh", "ko"])
def test_each_language_s_phrases_pass_its_own_checks(language):
    lex = neutrality.lexicon(language)
    said = lex.commentary_says[0] + "x"
    assert neutrality.found(lex.outlet, said), said
    according = lex.according_to[0].format(who="X")
    assert neutrality.found(lex.reporting, according), according


def test_a_brief_whose_only_flag_is_mended_is_not_re_asked():
    # the flagged statement of good_answer() with its quotation marks taken off: before
    # the mending this cost a second request (a re-ask) that small models rarely fixed
    answer = json.loads(good_answer())
    answer["summary"][0]["text"] = "China stands by Russia against hegemonic harassment."
    recorder = Recorder([ok(json.dumps(answer)), ok(good_answer())])
    brief = summarize(NTV, client=mock_client(recorder), model="m", max_reasks=1)
    assert len(recorder.requests) == 1
    assert brief.summary_sentences[0].text == (
        "According to Chinese President Xi Jinping: China stands by Russia against "
        "“hegemonic harassment”."
    )
    assert all(c.passed for c in brief.meta.checks if c.name != "disputes")
    assert any("put in quotation marks" in w for w in brief.meta.warnings)
