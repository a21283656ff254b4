"""Contested points' sides from the text, and one point per dispute (answer/sides.py).

The articles are short texts written for these tests; the points are shaped the way
the recorded models (Qwen2.5-Coder-1.5B, SmolLM2) got them wrong in the held-out runs:
sides swapped, sentence ids or "X" as parties, a party from the prompt's example, the
same party on both sides, a question or a copied sentence as a point, one denial twice.
"""

from __future__ import annotations

import pytest

from summarize.answer import sides
from summarize.answer.cues import lexicon
from summarize.schema import ContestedPoint
from summarize.text.sentences import SentenceIndex
from tests.support import sentences_cited

TANF = (
    "Russian and Syrian defence ministries accused U.S. forces in al-Tanf of shielding "
    'militants. The Pentagon rejected these accusations as "patently false". Talks on '
    "the base continued in Geneva."
)
ASSANGE = (
    "Swedish prosecutors dropped their inquiry on Tuesday. Assange, who denies the "
    "accusation, has avoided extradition for seven years. The case drew wide attention.\n\n"
    "Assange was accused of rape by a woman in 2010. He has always denied the "
    "allegations, saying the sex was consensual."
)


def point(index: SentenceIndex, claim: str, ids: list[int], asserted=(), disputed=(),
          kind="disputed") -> ContestedPoint:  # fmt: skip
    return ContestedPoint(
        claim=claim, kind=kind, asserted_by=list(asserted), disputed_by=list(disputed),
        evidence=sentences_cited(index, ids),
    )  # fmt: skip


def settle(index: SentenceIndex, *points: ContestedPoint, language: str = "en", **kw):
    return sides.settle(list(points), index, lexicon(language), **kw)


def test_swapped_sides_are_put_right_and_the_denier_is_named():
    index = SentenceIndex(TANF)
    swapped = point(index, "U.S. forces in al-Tanf shielded militants, the ministries say; "
                    "the Pentagon denies it.", [1, 2], asserted=["U.S. forces in al-Tanf"],
                    disputed=["Russian and Syrian defense ministries"])  # fmt: skip
    (fixed,), warnings = settle(index, swapped)
    assert fixed.asserted_by == ["Russian and Syrian defense ministries"]
    assert "U.S. forces in al-Tanf" in fixed.disputed_by
    assert "Pentagon" in fixed.disputed_by
    assert any("sides swapped" in w for w in warnings)
    assert fixed.kind == "disputed"


def test_the_speaker_of_a_denial_fills_an_empty_side_even_through_a_pronoun():
    index = SentenceIndex(ASSANGE)
    relative = point(index, "Assange is accused of rape; he denies it.", [2])
    pronoun = point(index, "Assange denies the rape allegations as consensual sex.", [5],
                    asserted=["Assange"], disputed=["Swedish prosecutors"])  # fmt: skip
    (first, second), warnings = settle(index, relative, pronoun)
    assert first.disputed_by == ["Assange"]
    assert second.disputed_by == ["Assange"]  # "He has always denied": the one before
    assert "Assange" not in second.asserted_by
    assert sum("sides swapped" in w or "from the text" in w for w in warnings) >= 2


@pytest.mark.parametrize(
    "bad",
    [
        "S18", "X", "Ukraine", "Syrian Observatory", "",
        # the bundled SmolLM2's parties on xi-putin-ntv (4 December): sentence ids
        # listed, and a sentence of the text given as a party
        "S.13 and S.24", "S4, S5",
        "Russian and Syrian defence ministries accused U.S. forces in al-Tanf of shielding "
        "militants near the base in Syria",
        "The Russian and Syrian defence ministries have accused U.S. forces",  # a clause
    ],
)  # fmt: skip
def test_a_party_the_text_does_not_name_near_the_point_is_dropped_with_a_warning(bad):
    index = SentenceIndex(TANF)
    given = point(index, "The Pentagon denies shielding militants in al-Tanf.", [2],
                  asserted=[bad, "Russian and Syrian defence ministries"],
                  disputed=["the Pentagon"])  # fmt: skip
    (fixed,), warnings = settle(index, given)
    assert fixed.asserted_by == ["Russian and Syrian defence ministries"]
    assert fixed.disputed_by == ["the Pentagon"]  # "the Pentagon" ~ "Pentagon": kept
    assert any(f"asserted_by {bad!r} dropped" in w for w in warnings)


def test_names_are_matched_by_their_stems_and_in_cjk_as_substrings():
    assert sides.same_party("the Pentagon", "Pentagon")
    assert sides.same_party("Swedish prosecutors", "Swedish Prosecution Authority")
    assert not sides.same_party("Kentucky Democrats", "Democrats in the Senate")
    assert sides.same_party("外交部", "中国外交部")
    index = SentenceIndex("Министерство обороны Поризковой опровергло сообщения.")
    context = sides.Context(index, [1])
    assert sides.grounded("Поризкова", context.text, context.stems)


def test_a_disputed_point_nobody_disputes_becomes_one_sided_or_opinion():
    text = "NASA said the mission was on track. Insights: The agency is hopelessly late."
    index = SentenceIndex(text)
    news = point(index, "NASA says the mission is on track.", [1], asserted=["NASA"])
    view = point(index, "The outlet calls the agency hopelessly late.", [2], asserted=["NASA"])
    (first, second), warnings = settle(index, news, view, commentary=frozenset({2}))
    assert (first.kind, second.kind) == ("one_sided", "opinion")
    assert sum("no one disputes it" in w for w in warnings) == 2


def test_questions_fragments_and_copied_sentences_are_not_points():
    text = (
        "Must have been complicated conversations? The leaders met for three hours. "
        "The Kremlin denied that any deal was struck."
    )
    index = SentenceIndex(text)
    question = point(index, "Must have been complicated conversations?", [1], asserted=["Xi"])
    fragment = point(index, "The", [2], asserted=["Kremlin"])
    copied = point(index, "The leaders met for three hours.", [2], asserted=["Kremlin"])
    denial = point(index, "The Kremlin denied that any deal was struck.", [3])
    kept, warnings = settle(index, question, fragment, copied, denial)
    assert [p.claim for p in kept] == ["The Kremlin denied that any deal was struck."]
    assert kept[0].disputed_by == ["Kremlin"]
    assert sum("dropped" in w for w in warnings) == 3


def test_one_dispute_is_one_point_with_the_evidence_and_sides_of_both():
    index = SentenceIndex(ASSANGE)
    first = point(index, "Assange denies the rape accusation.", [2], disputed=["Assange"],
                  asserted=["Swedish prosecutors"])  # fmt: skip
    same_ids = point(index, "Julian Assange has avoided extradition for seven years.", [2],
                     asserted=["Swedish prosecutors"], disputed=["Assange"])  # fmt: skip
    same_words = point(index, "Assange denies the rape accusation strongly.", [4, 5],
                       disputed=["Assange"])  # fmt: skip
    kept, warnings = settle(index, first, same_ids, same_words)
    assert len(kept) == 1
    assert [e.sentence for e in kept[0].evidence] == [2, 4, 5]
    assert sum("merged into the point before it" in w for w in warnings) == 2


def test_a_party_on_both_sides_keeps_the_side_the_text_gives_it():
    index = SentenceIndex(ASSANGE)
    both = point(index, "Assange denies the allegations.", [5], asserted=["Assange"],
                 disputed=["Wikileaks co-founder Julian Assange"])  # fmt: skip
    (fixed,), warnings = settle(index, both)
    # Assange only disputes; who asserts is the accuser the sentence before names
    # (until #29's accusers, asserted_by was left empty here)
    assert fixed.asserted_by == ["woman"]
    assert fixed.disputed_by == ["Wikileaks co-founder Julian Assange"]
    assert fixed.kind == "disputed"
    assert "asserted_by filled from the text: woman" in " ".join(warnings)


@pytest.mark.parametrize(
    ("language", "text", "denier"),
    [
        ("de", "Das Ministerium wies die Vorwürfe am Montag zurück.", "Ministerium"),
        ("fr", "Le Kremlin a démenti toute implication.", "Kremlin"),
        ("es", "El Gobierno negó las acusaciones.", "Gobierno"),
        ("ru", "Министерство обороны России опровергло эти сообщения.",
         "Министерство обороны России"),
        ("zh", "美国国防部否认了这些指控。", "美国国防部"),
    ],
)  # fmt: skip
def test_the_denier_is_found_in_each_lexicon_language(language, text, denier):
    assert sides.roles(text, lexicon(language)) == (denier, None)


def test_settling_twice_changes_nothing_more():
    index = SentenceIndex(TANF)
    given = point(index, "U.S. forces shielded militants; the Pentagon denies it.", [1, 2],
                  asserted=["U.S. forces in al-Tanf", "S1"],
                  disputed=["Russian and Syrian defence ministries"])  # fmt: skip
    once, warnings = settle(index, given)
    assert warnings
    twice, again = settle(index, *once)
    assert twice == once
    assert again == []


def test_a_party_s_spokesman_speaks_for_it_and_sets_its_side():
    text = (
        "US lawmakers are debating whether a crewed 2024 moon mission is even feasible. "
        "NASA's Administrator Jim Bridenstine said returning to the moon was necessary."
    )
    index = SentenceIndex(text)
    swapped = point(index, "Whether a 2024 moon landing is feasible.", [1, 2],
                    asserted=["US lawmakers"], disputed=["NASA"])  # fmt: skip
    (fixed,), warnings = settle(index, swapped)
    assert fixed.asserted_by == ["NASA"]
    assert fixed.disputed_by == ["US lawmakers"]
    assert any("sides swapped" in w for w in warnings)
    assert sides.same_party("NASA", "NASA’s Administrator Jim Bridenstine")
    assert sides.same_party("the Kremlin's spokesman", "Kremlin")
    assert not sides.same_party("NASA", "Jim Bridenstine")


def test_a_pronoun_with_a_contraction_is_never_a_party():
    text = (
        "\"That's it. I've tried to work this out privately through my team.\" She also "
        "accused Big Machine of holding back permission to use her music."
    )
    index = SentenceIndex(text)
    given = point(index, "Big Machine withheld permission to use her music.", [3])
    (fixed,), _ = settle(index, given)
    assert not any("I've" in name for name in [*fixed.asserted_by, *fixed.disputed_by])


def test_who_answers_a_criticism_disputes_it_and_its_source_asserts_it():
    # shaped like Qwen2.5-Coder-1.5B's answer on 156770d676ce: the governor who answers
    # the ridicule was put alone on the asserting side of the critics' point
    text = (
        "Governor Kristi Noem is defending the state's anti-drug campaign. The tagline "
        "drew a mix of criticism and ridicule across Twitter on Monday, but Noem cited "
        "the backlash as proof that the campaign was working."
    )
    index = SentenceIndex(text)
    given = point(index, "The campaign drew ridicule, but Noem says it is working.", [2],
                  asserted=["Noem"], kind="one_sided")  # fmt: skip
    (fixed,), warnings = settle(index, given)
    assert fixed.disputed_by == ["Noem"]
    assert fixed.asserted_by == ["Twitter"]
    assert any("sides swapped" in w for w in warnings)


@pytest.mark.parametrize(
    ("language", "text", "answerer", "critic"),
    [
        ("en", "The plan drew criticism from unions, but the ministry rejected it.",
         "ministry", "unions"),
        ("en", "The plan was widely criticised by economists; however, officials said it "
         "would stay.", "officials", "economists"),
        ("en", "Unions criticised the plan, but Mr. Smith said it would work.", "Mr. Smith",
         "Unions"),
        # two criticism cues, the lexicon's first of them after the contrast
        ("en", "Unions condemned the plan, but the ministry rejected the criticism.",
         "ministry", "Unions"),
        ("de", "Der Plan wurde von Gewerkschaften kritisiert, aber die Regierung wies die "
         "Vorwürfe zurück.", "Regierung", "Gewerkschaften"),
        ("fr", "Le projet a été critiqué par les syndicats, mais le gouvernement a rejeté "
         "ces critiques.", "gouvernement", "syndicats"),
        ("es", "El plan fue criticado por los sindicatos, pero el Gobierno negó las "
         "acusaciones.", "Gobierno", "sindicatos"),
        ("ru", "План подвергся критике со стороны профсоюзов, но правительство отвергло "
         "обвинения.", "правительство", "профсоюзов"),
    ],
)  # fmt: skip
def test_the_answer_to_a_criticism_is_read_in_each_lexicon_language(
    language, text, answerer, critic
):
    assert sides.roles(text, lexicon(language)) == (answerer, critic)


def test_a_criticism_with_no_one_answering_it_names_no_side():
    en = lexicon("en")
    assert sides.roles("The decision was criticised, but prices rose anyway.", en) == (
        None,
        None,
    )
    # no contrast: the criticism alone is not read as an answer
    assert sides.roles("The plan drew criticism from unions on Monday.", en) == (None, None)


def test_a_one_sided_point_on_sentences_that_report_no_one_is_the_article_s_own_account():
    # shaped like Qwen2.5-Coder-1.5B's points on c7e39ac49fa1 and 42aad16bde92: plain
    # events given as one_sided contested points
    text = (
        "Swedish prosecutors dropped the investigation on Tuesday. The case began in 2010. "
        "Assange's lawyer said the decision came far too late."
    )
    index = SentenceIndex(text)
    event = point(index, "Swedish prosecutors dropped the investigation.", [1],
                  asserted=["Swedish prosecutors"], kind="one_sided")  # fmt: skip
    claim = point(index, "The lawyer says the decision came too late.", [3],
                  asserted=["Assange's lawyer"], kind="one_sided")  # fmt: skip
    kept, warnings = settle(index, event, claim)
    assert [p.claim for p in kept] == [claim.claim]
    assert any("the article's own account" in w and "Swedish prosecutors" in w for w in warnings)
    # a part's points are weighed again by the merge: kept there
    kept, _ = settle(index, event, claim, whole=False)
    assert len(kept) == 2


def test_a_korean_denial_with_its_subject_dropped_goes_on_from_the_sentence_before():
    # 0ec95c7261d1, as Qwen2.5-Coder-1.5B cited it: LJ rebuts (엘제이 역시 반박하고), then
    # the next sentence, with no subject, calls it all lies; the model had LJ asserting
    ko = lexicon("ko")
    rebuts = "하지만 이러한 류화영의 폭로에 대해 엘제이 역시 반박하고 나섰다."
    lies = "그것이 전부 거짓말이라며 그 증거들을 제시했다."
    assert sides.roles(rebuts, ko) == ("엘제이", "류화영")  # whose 폭로 (revelation) it rebuts
    assert sides.roles(lies, ko, rebuts) == ("엘제이", None)
    index = SentenceIndex(f"류화영은 엘제이의 폭력을 폭로했다. {rebuts} {lies}")
    given = point(index, "엘제이는 류화영의 폭로에 대해 반박하고 나섰다.", [3],
                  asserted=["엘제이"], kind="one_sided")  # fmt: skip
    (fixed,), warnings = settle(index, given, language="ko")
    assert fixed.disputed_by == ["엘제이"]
    assert any("sides swapped" in w for w in warnings)


def test_a_denier_who_then_says_so_stays_on_the_disputing_side():
    # 70cb2d5bca75, as Qwen2.5-Coder-1.5B answered it in the live run of 4 December:
    # the label that denies was put on the asserting side, the singer on the other
    text = (
        "Taylor Swift accused Big Machine of trying to stop her performing her old songs. "
        'Big Machine have twice denied doing anything wrong. "At no point did we say '
        'Taylor could not perform," they said in a statement.'
    )
    index = SentenceIndex(text)
    swapped = point(index, "Big Machine have twice denied doing anything wrong.", [2, 3],
                    asserted=["Big Machine"], disputed=["Taylor Swift"])  # fmt: skip
    (fixed,), warnings = settle(index, swapped)
    assert fixed.asserted_by == ["Taylor Swift"]
    assert fixed.disputed_by == ["Big Machine"]
    assert any("sides swapped" in w for w in warnings)


def test_a_party_merely_named_where_no_one_disagrees_is_not_a_disputer():
    # Qwen2.5-Coder-1.5B on the op-ed 04a6711caa7c: "House Democrats have limited
    # their inquiry to the Ukraine scandal", disputed by "Ukraine"
    text = (
        "House Democrats have limited their impeachment inquiry to the Ukraine scandal. "
        "The White House denied any wrongdoing in the call."
    )
    index = SentenceIndex(text)
    topic = point(index, "House Democrats limit the inquiry to Ukraine.", [1],
                  asserted=["House Democrats"], disputed=["Ukraine"])  # fmt: skip
    denial = point(index, "Democrats say the call was wrong; the White House denies it.",
                   [2], asserted=["Democrats"], disputed=["White House"])  # fmt: skip
    (first, second), warnings = settle(index, topic, denial, whole=False)
    assert (first.disputed_by, first.kind) == ([], "one_sided")
    assert any("'Ukraine'" not in w and "Ukraine dropped" in w for w in warnings)
    assert (second.disputed_by, second.kind) == (["White House"], "disputed")


def test_one_dispute_told_from_both_sides_on_one_sentence_is_one_point():
    text = (
        "Taylor Swift criticised Big Machine over her songs and Scooter Braun over years "
        "of bullying. Big Machine has twice denied it."
    )
    index = SentenceIndex(text)
    accusation = point(index, "Swift says Big Machine blocks her songs; it denies it.", [1, 2],
                       asserted=["Taylor Swift"], disputed=["Big Machine"])  # fmt: skip
    mirrored = point(index, "Big Machine is criticised over Swift's songs.", [1],
                     asserted=["Big Machine"], disputed=["Swift"])  # fmt: skip
    other = point(index, "Swift says Braun bullied her.", [1], asserted=["Taylor Swift"],
                  disputed=["Scooter Braun"])  # fmt: skip
    kept, warnings = settle(index, accusation, mirrored, other, whole=False)
    assert len(kept) == 2  # Swift v. Big Machine once; Swift v. Braun is another dispute
    assert kept[0].asserted_by == ["Taylor Swift"]
    assert kept[0].disputed_by == ["Big Machine"]
    assert kept[1].disputed_by == ["Scooter Braun"]
    assert any("its sides the other way round" in w for w in warnings)


def test_a_party_merely_named_in_an_accusation_gives_way_to_its_accuser():
    text = (
        "Assange was accused of rape by a woman following a Wikileaks conference in 2010. "
        "He has always denied the allegations.\n\n"
        "SpaceX and Blue Origin won contracts. The companies said they wanted to carry "
        "passengers, a claim critics disputed."
    )
    index = SentenceIndex(text)
    named = point(index, "Assange was accused of rape; he denies it.", [1, 2],
                  asserted=["Wikileaks"], disputed=["Assange"])  # fmt: skip
    resolved = point(index, "The companies say they will carry passengers.", [4],
                     asserted=["SpaceX", "Blue Origin"], disputed=["critics"])  # fmt: skip
    (first, second), warnings = settle(index, named, resolved, whole=False)
    assert first.asserted_by == ["woman"]
    assert "Assange" in first.disputed_by
    assert any("asserted_by Wikileaks replaced by woman" in w for w in warnings)
    assert second.asserted_by == ["SpaceX", "Blue Origin"]  # what "the companies" are


@pytest.mark.parametrize(
    ("language", "text", "denier", "claimant"),
    [
        ("en", "The Pentagon rejected Russia's accusations as false.", "Pentagon", "Russia"),
        ("en", "Braun denied Taylor Swift's latest claims.", "Braun", "Taylor Swift"),
        ("ko", "엘제이는 류화영의 폭로에 대해 반박하고 나섰다.", "엘제이", "류화영"),
    ],
)
def test_a_denial_of_someone_s_claim_names_who_asserts_it(language, text, denier, claimant):
    # Qwen2.5-Coder-1.5B left asserted_by empty on the Korean column's rebuttal, and
    # the author was put there for it
    index = SentenceIndex(text)
    rebuttal = point(index, text, [1], disputed=[denier], kind="one_sided")
    (settled,), warnings = settle(index, rebuttal, language=language, opinion_piece=True)
    assert settled.asserted_by == [claimant]
    assert settled.disputed_by == [denier]
    assert settled.kind == "disputed"
    assert any("kind is disputed" in w for w in warnings)


def test_an_adverb_left_of_a_comma_is_never_a_party():
    # the bundled SmolLM2 on the README's first command (xi-putin-ntv, S13): the brief
    # said "asserted by particularly"
    text = (
        "The bond between China and Russia has been strengthened during recent strains "
        "with the West, particularly accused US unilateralism and its stance on the "
        "Ukrainian crisis."
    )
    index = SentenceIndex(text)
    given = point(index, "The article highlights the conflict.", [1], kind="one_sided")
    (settled,), _ = settle(index, given, whole=False)
    assert "particularly" not in settled.asserted_by
    assert sides.roles(text, lexicon("en"))[1] is None


def test_one_before_a_noun_is_a_speaker_s_number_not_a_pronoun():
    # Qwen2.5-Coder-1.5B on the held-out neo-bank column (2f42, S10) left asserted_by
    # empty; as an opinion piece's, the point went to the author, who disputes it
    text = (
        "Neo-banks are focused on their customers' financial health, as one neo-bank CEO "
        "told me, and easing the pain that people feel around their money."
    )
    index = SentenceIndex(text)
    given = point(index, "Neo-banks say they ease their customers' financial pain.", [1],
                  kind="one_sided")  # fmt: skip
    (settled,), warnings = settle(index, given, opinion_piece=True)
    assert settled.asserted_by == ["one neo-bank CEO"]
    assert not any("the outlet's own voice" in w for w in warnings)
    assert sides.roles("One said nothing about it, he told me.", lexicon("en")) == (None, None)


def test_an_alleged_role_is_not_the_one_accused():
    # the same run on the Assange article (c7e3, S8): "his alleged role in the release"
    # put "role in the release" on the disputing side
    text = (
        "Separately, the US is seeking Assange's extradition from the UK over his alleged "
        "role in the release of classified military and diplomatic material by Wikileaks."
    )
    index = SentenceIndex(text)
    given = point(index, "The US accuses Assange of releasing classified material.", [1],
                  asserted=["US government"], disputed=["Swedish prosecutors"])  # fmt: skip
    (settled,), _ = settle(index, given)
    assert not any("role" in name for name in settled.disputed_by)
    assert sides.roles(text, lexicon("en"))[0] is None
    accused = "Russia accused the Pentagon of shielding militants."
    assert sides.roles(accused, lexicon("en")) == ("Pentagon", "Russia")


def test_given_that_opens_a_clause_it_is_not_its_subject():
    # the live 1.5B run of 7 December on 702d1da63b8e (S44): asserted by "given"
    text = (
        "The lack of resolution has been discouraging, given that many analysts believe "
        "that the administration is tackling only the easiest issues in its Phase 1 deal."
    )
    index = SentenceIndex(text)
    given = point(index, "Analysts believe the deal tackles only the easiest issues.", [1],
                  kind="one_sided")  # fmt: skip
    (settled,), _ = settle(index, given)
    assert settled.asserted_by == ["many analysts"]


def test_an_inconsistent_point_on_one_sentence_with_no_contrast_is_no_self_contradiction():
    """Qwen2.5-Coder-1.5B, in four live runs of 156770d676ce, gave "The campaign, which
    includes both digital and TV ads, cost the state roughly $449,000." as an
    inconsistent point asserted by Noem: one plain sentence sets nothing against
    anything. A sentence with a contrast, or two sentences, still can."""
    text = (
        "The campaign, which includes both digital and TV ads, cost the state roughly "
        "$449,000. Noem said she opposed new spending, but she signed the budget. "
        "Critics accused her of waste. She had promised to cut costs."
    )
    index = SentenceIndex(text)
    plain = point(index, "The campaign cost the state roughly $449,000.", [1],
                  asserted=["Noem"], kind="inconsistent")  # fmt: skip
    contrast = point(index, "Noem opposed spending but signed the budget.", [2],
                     asserted=["Noem"], kind="inconsistent")  # fmt: skip
    two = point(index, "Noem promised to cut costs, yet the campaign cost $449,000.", [1, 4],
                asserted=["Noem"], kind="inconsistent")  # fmt: skip
    assert [p.kind for p in settle(index, contrast, two)[0]] == ["inconsistent"] * 2
    kept, warnings = settle(index, plain, contrast)
    assert [p.claim for p in kept] == [contrast.claim]
    # the plain one is one_sided, then the article's own account: dropped
    assert any("no self-contradiction; kind is one_sided" in w for w in warnings)
    assert any("the article's own account" in w and "$449,000" in w for w in warnings)
    # one sentence with a disputer shown disputing it is a dispute
    accused = point(index, "Critics accused Noem of waste.", [3], asserted=["Critics"],
                    disputed=["Noem"], kind="inconsistent")  # fmt: skip
    (settled,), _ = settle(index, accused)
    assert settled.kind in ("disputed", "one_sided")
    assert settled.kind != "inconsistent"


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("de", "Er lehnte neue Ausgaben ab, unterschrieb aber den Haushalt."),
        ("fr", "Il refuse toute dépense, mais il a signé le budget."),
        ("es", "Rechazó el gasto, pero firmó el presupuesto."),
        ("ru", "Он выступал против расходов, но подписал бюджет."),
        ("zh", "他反对新的开支，却签署了预算。"),
        ("ko", "그는 지출에 반대했지만 예산안에 서명했다."),
    ],
)
def test_a_contrast_keeps_a_one_sentence_inconsistency_in_each_lexicon_language(language, text):
    index = SentenceIndex(text)
    claim = point(
        index, "He opposed spending and then signed the budget.", [1], kind="inconsistent"
    )
    kept, _ = settle(index, claim, language=language, whole=False)
    assert [p.kind for p in kept] == ["inconsistent"]
    plain = SentenceIndex(
        "这项活动花费了该州大约四十四万美元。" if language == "zh" else "1 2 3 4."
    )
    assert sides._no_contrast([plain.original(plain.get(1))], lexicon(language))
