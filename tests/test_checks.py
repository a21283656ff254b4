"""The deterministic checks (summarize.answer.neutrality) on real sentences of the sample articles
in English (xi-putin-ntv), Russian (c82b3d1d540b) and Korean (0ec95c7261d1), each
with a failing and a passing statement; German, French, Spanish and Chinese on
sentences written for these tests (translations of NTV's, marked as such)."""

from __future__ import annotations

import pytest

from summarize.answer.neutrality import (
    MAX_HINTS,
    Voiced,
    check_attribution,
    check_commentary,
    check_comparison,
    check_disputes,
    check_loaded_words,
    check_quoted_terms,
    commentary_sentences,
    cue_sentences,
    describe,
    dispute_sentences,
    first_cues,
    hints,
    is_opinion,
    lexicon,
    quoted_terms,
    run_checks,
    statements_of,
)
from summarize.schema import ContestedPoint, Statement
from summarize.text.sentences import SentenceIndex
from tests.support import ARTICLES, NTV

RUSSIAN = (ARTICLES / "c82b3d1d540b.txt").read_text(encoding="utf-8")
KOREAN = (ARTICLES / "0ec95c7261d1.txt").read_text(encoding="utf-8")
NTV_INDEX = SentenceIndex(NTV)


def cited(index: SentenceIndex, text: str, *ids: int) -> Statement:
    """A statement citing the sentences ``ids`` of ``index``."""
    evidence, problems, _ = index.evidence(list(ids))
    assert not problems
    return Statement(text=text, evidence=evidence)


def point(index: SentenceIndex, *ids: int) -> ContestedPoint:
    evidence, _, _ = index.evidence(list(ids))
    return ContestedPoint(claim="c", kind="disputed", evidence=evidence)


def test_the_article_s_quoted_terms_are_found():
    terms = quoted_terms(NTV_INDEX)
    assert terms["harassment"] == 8
    assert terms["no-limits partnership"] == 15
    assert "mutually beneficial" in terms
    # a long quotation is speech, not a characterisation
    assert not any(len(t.split()) > 4 for t in terms)


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("They reaffirmed their support amid perceived harassment from the US.", True),
        ('They reaffirmed their support amid what they see as US "harassment".', False),
        ("Xi said China faces harassment from the US.", False),  # attributed
        ("The no-limits partnership has deepened.", True),
        ("The 'no-limits partnership,' as it is known, has deepened.", False),
    ],
)
def test_a_quoted_term_in_the_brief_s_own_voice_is_flagged(text: str, flagged: bool):
    said = statements_of([cited(NTV_INDEX, text, 8)], [])
    check = check_quoted_terms(said, quoted_terms(NTV_INDEX), lexicon("en"))
    assert check.passed is not flagged
    if flagged:
        assert "in its own voice" in check.details[0]
        assert check.sentences


@pytest.mark.parametrize(
    ("own_voice", "quoted"),
    [
        ("The minister's brilliant plan cut waiting times.",
         'The minister called the plan "brilliant".'),
        ("The ruthless campaign ended on Friday.", "Critics said the campaign was ruthless."),
        ("Officials described a horrific scene.", 'Officials described a "horrific" scene.'),
        # attributed speech, unquoted: what follows the reporting verb is the source's
        ("The regime cut waiting times.", "Exiles say the regime cut waiting times."),
        # a word of a web address is no word of the brief's
        ("An evil plan was approved.", "The plan is at https://evil.example/claim now."),
    ],
)  # fmt: skip
def test_loaded_words_of_the_published_lexicon_and_attributed_speech(own_voice, quoted):
    lex = lexicon("en")
    assert not check_loaded_words(statements_of([Statement(text=own_voice)], []), lex).passed
    assert check_loaded_words(statements_of([Statement(text=quoted)], []), lex).passed


def test_loaded_words_in_english_german_french_spanish_russian_chinese():
    cases = [  # (language, own voice: flagged, quoted or neutral: passes)
        ("en", "On a historic visit, Xi met Putin.", 'Xi called the visit "historic".'),
        ("de", "Bei einem historischen Besuch traf Xi Putin.", "Xi besuchte Moskau."),
        ("fr", "Lors d'une visite historique, Xi a rencontré Poutine.", "Xi a visité Moscou."),
        ("es", "En una visita histórica, Xi se reunió con Putin.", "Xi visitó Moscú."),
        ("ru", "Во время исторического визита Си встретился с Путиным.", "Си посетил Москву."),
        ("zh", "习近平对莫斯科进行了历史性访问。", "习近平访问了莫斯科。"),
    ]
    for language, loaded, neutral in cases:
        lex = lexicon(language)
        bad = check_loaded_words(statements_of([Statement(text=loaded)], []), lex)
        good = check_loaded_words(statements_of([Statement(text=neutral)], []), lex)
        assert not bad.passed, language
        assert good.passed, language


def test_commentary_under_a_label_is_found_with_its_section():
    ids = commentary_sentences(NTV_INDEX, lexicon("en"))
    assert {15, 16} <= ids  # "Insights: ..." and the rest of its paragraph
    assert {39, 43, 47, 49} <= ids  # the second "Insights:" and its numbered items
    assert not ids & {14, 17, 28, 29, 50}  # reporting, and "Read also:"


def test_commentary_stated_as_fact_is_flagged_and_attributed_commentary_passes():
    lex = lexicon("en")
    commentary = commentary_sentences(NTV_INDEX, lex)
    as_fact = cited(NTV_INDEX, "The alliance has been solidified by intense interactions.", 15)
    attributed = cited(
        NTV_INDEX, "The outlet's commentary says the alliance has been solidified.", 15
    )
    reporting = cited(NTV_INDEX, "Ukraine reported ceasefire violations.", 28)
    check = check_commentary(statements_of([], [as_fact, attributed, reporting]), commentary, lex)
    assert not check.passed
    assert len(check.details) == 1
    assert check.details[0].startswith("key point 1 states the outlet's commentary (S15)")


def test_the_outlet_s_own_voice_in_russian_is_commentary():
    index = SentenceIndex(RUSSIAN)
    lex = lexicon("ru")
    ids = commentary_sentences(index, lex)
    assert 17 in ids  # «Но нам кажется, Поризкова слегка лукавит.»
    assert 15 not in ids  # reported: «Бывшая супермодель призналась, что боится ...»
    as_fact = cited(index, "Поризкова слегка лукавит.", 17)
    attributed = cited(index, "Издание считает, что Поризкова слегка лукавит.", 17)
    assert not check_commentary(statements_of([as_fact], []), ids, lex).passed
    assert check_commentary(statements_of([attributed], []), ids, lex).passed


def test_a_denial_no_contested_point_cites_is_flagged():
    disputes = dispute_sentences(NTV_INDEX, lexicon("en"))
    assert disputes[29] == "denial"  # "The Russian Ministry of Defense denied these accusations"
    assert disputes[24] == "accusation"  # "Western countries have repeatedly accused China"
    missed = check_disputes([], disputes)
    assert not missed.passed
    assert missed.sentences == [29]
    assert check_disputes([point(NTV_INDEX, 28, 29)], disputes).passed


def test_denials_in_korean_are_found_and_flagged_until_cited():
    index = SentenceIndex(KOREAN)
    disputes = dispute_sentences(index, lexicon("ko"))
    # S16: 류화영은 ... 엘제이와의 관계를 전면 부정했다. S20: 엘제이 역시 반박하고 나섰다.
    assert disputes[16] == "denial"
    assert disputes[20] == "denial"
    assert disputes[18] == "accusation"  # 엘제이의 폭력성향과 협박을 폭로했다
    denials = [n for n, kind in disputes.items() if kind == "denial"]
    assert not check_disputes([point(index, 16, 18)], disputes).passed
    assert check_disputes([point(index, *denials[:3]), point(index, *denials[3:6]),
                           point(index, *denials[6:])], disputes).passed  # fmt: skip


def test_quoted_terms_in_korean():
    index = SentenceIndex(KOREAN)
    terms = quoted_terms(index)
    assert "가택침입" in terms  # ‘가택침입’ (S24, S38), never in the column's own voice
    assert "데이트 폭력" not in terms  # quoted in S19, but the column also says it (S12)
    lex = lexicon("ko")
    own = statements_of([cited(index, "엘제이는 가택침입을 했다.", 24)], [])
    quoted = statements_of([cited(index, "류화영은 이를 ‘가택침입’이라고 했다.", 24)], [])
    assert not check_quoted_terms(own, terms, lex).passed
    assert check_quoted_terms(quoted, terms, lex).passed


@pytest.mark.parametrize(
    ("language", "sentence"),
    [  # written for this test: NTV's S29 ("The Russian Ministry of Defense denied ...")
        ("de", "Das russische Verteidigungsministerium wies diese Vorwürfe zurück."),
        ("fr", "Le ministère russe de la Défense a démenti ces accusations."),
        ("es", "El Ministerio de Defensa ruso negó estas acusaciones."),
        ("ru", "Министерство обороны России опровергло эти обвинения."),
        ("zh", "俄罗斯国防部否认了这些指控。"),
    ],
)
def test_denials_in_other_languages(language: str, sentence: str):
    index = SentenceIndex(f"Die Ukraine meldete Verstöße. {sentence}")
    assert dispute_sentences(index, lexicon(language)).get(2) == "denial"


def test_a_weak_cue_counts_only_in_reported_speech():
    lex = lexicon("en")
    weak = SentenceIndex("The rumour was false. The ministry said the report was false.")
    assert dispute_sentences(weak, lex) == {2: "denial"}


def test_a_claim_repeated_without_its_speaker_is_flagged():
    lex = lexicon("en")
    # S14: 'Chinese President Xi Jinping stated that China stands by Russia ...'
    bare = cited(NTV_INDEX, "China stands by Russia against unilateralism.", 14)
    attributed = cited(NTV_INDEX, "Xi said China stands by Russia against unilateralism.", 14)
    outlet = cited(NTV_INDEX, "Xi and Putin met in Moscow.", 11)  # S11: no one is quoted
    check = check_attribution(statements_of([bare, attributed, outlet], []), NTV_INDEX, lex)
    assert not check.passed
    assert len(check.details) == 1
    assert check.details[0].startswith("summary sentence 1 repeats what the article attributes")


def test_hints_name_the_dispute_sentences_and_an_article_without_cues_gets_none():
    ntv = hints(cue_sentences(NTV_INDEX, lexicon("en")))
    assert "S29 reports a denial" in ntv
    assert "S13 and S24 report accusations" in ntv
    assert "S43 and S45 report criticism" in ntv  # "has been criticized", "criticism"
    emirates = SentenceIndex((ARTICLES / "374ac9a59a85.txt").read_text(encoding="utf-8"))
    assert cue_sentences(emirates, lexicon("en")) == {}
    assert hints({}) == ""
    # "Но нам кажется, Поризкова слегка лукавит." is the outlet speaking
    russian = cue_sentences(SentenceIndex(RUSSIAN), lexicon("ru"))
    assert russian[17] == "view"
    assert "S17 is the outlet's own view" in hints(russian)
    assert "S13 reports an accusation" in hints(russian)
    assert "S13" not in hints(russian, within=range(14, 30))


def test_hints_name_at_most_eight_sentences_denials_first():
    cues = dict.fromkeys(range(1, 11), "criticism") | {20: "denial", 30: "accusation"}
    kept = first_cues(cues)
    assert len(kept) == MAX_HINTS == 8
    assert kept[20] == "denial"
    assert kept[30] == "accusation"
    assert list(kept) == sorted(kept)  # in article order
    assert describe(kept) == (
        "S20 reports a denial; S30 reports an accusation; S1, S2, S3, S4, S5 and S6 report "
        "criticism"
    )


def test_run_checks_reports_every_check_in_order():
    summary = [cited(NTV_INDEX, "On a historic visit, Xi backed Russia amid harassment.", 8)]
    checks = run_checks(NTV_INDEX, "en", summary, [], [])
    assert [c.name for c in checks] == [
        "quoted_terms", "loaded_words", "commentary", "disputes", "attribution",
    ]  # fmt: skip
    by_name = {c.name: c for c in checks}
    assert not by_name["quoted_terms"].passed
    assert not by_name["loaded_words"].passed
    assert not by_name["disputes"].passed  # S29 is cited by no contested point
    assert by_name["commentary"].passed


FINE_LINE = (ARTICLES / "xi-putin-fine-line.txt").read_text(encoding="utf-8")
PAIR = {"NTV": NTV_INDEX, "Fine Line": SentenceIndex(FINE_LINE)}


def test_a_comparison_s_own_voice_is_checked_against_every_source():
    said = [
        Voiced("summary", "Xi and Putin praised their unbreakable ties amid harassment.", {}),
        Voiced(
            "agreement 1",
            "The partnership is a significant geopolitical axis.",
            {"NTV": (39,), "Fine Line": ()},
        ),
        Voiced("agreement 2", "Xi visited Moscow.", {"NTV": (1,), "Fine Line": (1,)}),
        Voiced("conflict 1 topic", "How many times Xi has visited Russia.", {"NTV": (1,)}),
    ]
    quoted, loaded, commentary = check_comparison(said, PAIR, "en")
    assert not quoted.passed
    assert quoted.details == [
        "summary uses 'harassment' in its own voice; the article quotes it (NTV S8): "
        "keep it in quotation marks or say whose word it is",
        "summary uses 'unbreakable' in its own voice; the article quotes it (Fine Line S6): "
        "keep it in quotation marks or say whose word it is",
    ]
    assert commentary.details == [
        "agreement 1 states the outlets' commentary (NTV S39) as fact: say whose view it is"
    ]
    attributed = [
        Voiced("summary", 'Xi spoke of "harassment"; Fine Line says "unbreakable".', {}),
        Voiced("agreement 1", "NTV's commentary says the partnership is an axis.", {"NTV": (39,)}),
    ]
    assert all(c.passed for c in check_comparison(attributed, PAIR, "en"))
    assert loaded.name == "loaded_words"


@pytest.mark.parametrize(
    ("page", "section", "opinion"),
    [("04a6711caa7c", "Opinion", True), ("2f42ef1d3ea0", "ideas", True),
     ("374ac9a59a85", "Business News", False)],
)  # fmt: skip
def test_an_opinion_page_is_known_by_its_section_or_url(page: str, section: str, opinion: bool):
    """The saved pages of the NYT opinion column, Wired's "ideas" and CNBC's news."""
    from summarize.source.article import read_article

    article = read_article((ARTICLES / f"{page}.html").read_text(encoding="utf-8"))
    assert article.section == section
    assert is_opinion(article.url, article.section) is opinion
    assert is_opinion("https://www.spiegel.de/meinung/kolumne-a-1.html")
    assert not is_opinion("https://example.com/news/opinion-poll-shows.html", "Politics")


def test_an_opinion_page_is_said_to_be_one_and_its_views_must_be_attributed():
    from summarize import summarize
    from summarize.render.markdown import brief_markdown
    from summarize.render.text import render_text
    from tests.support import Recorder, good_answer, mock_client, ok

    page = (ARTICLES / "04a6711caa7c.html").read_text(encoding="utf-8")
    answer = good_answer(
        summary=[{"text": "Democrats won races in Kentucky and Louisiana.", "refs": [2]},
                 {"text": "The author argues Democrats should widen the inquiry.", "refs": [38]}],
        key_points=[], contested_points=[],
    )  # fmt: skip
    recorder = Recorder([ok(answer)])
    brief = summarize(page, client=mock_client(recorder), model="m", max_reasks=0)
    assert brief.meta.opinion
    assert (
        "the article is an opinion piece: say so" in recorder.requests[0]["messages"][1]["content"]
    )
    commentary = next(c for c in brief.meta.checks if c.name == "commentary")
    # every sentence of an opinion page is commentary: the first summary sentence stated
    # it as fact and is now said to be the author's (answer/mending.py), the second
    # said whose view it is
    assert [s.text for s in brief.summary_sentences] == [
        "The author writes: Democrats won races in Kentucky and Louisiana.",
        "The author argues Democrats should widen the inquiry.",
    ]
    assert "summary sentence 1: said to be the author's (the article is opinion)" in (
        brief.meta.warnings
    )
    assert commentary.passed
    assert "Opinion: the page is an opinion piece" in render_text(brief)
    assert "> **Opinion**: the page is an opinion piece" in brief_markdown(brief)
    assert "**Checks**: quoted terms passed · loaded words passed · commentary passed" in (
        brief_markdown(brief)
    )


def _by_each_cue(lex: object, text: str) -> set[str]:
    """What one ``re.search`` per cue finds: the slow, plain reading of a lexicon."""
    from dataclasses import fields

    from summarize.answer.cues import Lexicon, pattern

    classes = {f.name: getattr(lex, f.name) for f in fields(Lexicon)}
    return {name for name, cues in classes.items() if any(pattern(c).search(text) for c in cues)}


@pytest.mark.parametrize("language", [None, "en", "de", "fr", "es", "ru", "zh", "ko"])
def test_the_one_pass_matcher_finds_what_one_search_per_cue_finds(language: str | None) -> None:
    from summarize.answer.cues import matcher_of

    lex = lexicon(language)
    # every sentence of every sample article, and each cue written as it would stand in
    # a sentence (so that every cue, prefix and gap form is met at least once)
    texts = [
        SentenceIndex(path.read_text(encoding="utf-8")).original(s)
        for path in sorted(ARTICLES.glob("*.txt"))
        for s in SentenceIndex(path.read_text(encoding="utf-8")).sentences
    ]
    from dataclasses import fields

    for f in fields(lex):
        for cue in getattr(lex, f.name):
            written = cue.rstrip("*").replace("…", "nicht mehr")
            texts += [f"They {written}ed it.", f"«{written.upper()}», he said.", f"x{written}"]
    for text in texts:
        assert matcher_of(lex).holds(text) == _by_each_cue(lex, text), text
