"""Who the text has asserting and disputing, where the 1.5B model's sides were still
wrong after the rules of test_sides.py (answer/parties.py ``roles``, answer/sides.py).

Each text is written for these tests after a sentence of the sample articles that the
recorded Qwen2.5-Coder-1.5B runs (bench/results/quality-after-4*.jsonl) got wrong, and
each point is shaped as the model wrote it there:

- "… as US lawmakers are debating … whether a crewed mission is even feasible": the
  model had the lawmakers asserting it and NASA disputing it (swapped);
- "Но нам кажется, Поризкова слегка лукавит": an opinion of the outlet's, given to
  the woman it is about;
- "…, as one neo-bank CEO told me, …": a claim the author reports, given to the author;
- "… that the United States and China had reached …": "States" read as "states", the
  reporting verb, and "United" as a speaker;
- a one_sided point with no party at all on an article's plain account of events.
"""

from __future__ import annotations

from summarize.answer import sides
from summarize.answer.cues import lexicon
from summarize.answer.parties import roles
from summarize.text.sentences import SentenceIndex
from tests.test_sides import point

EN = lexicon("en")
MOON = (
    "NASA picked eleven companies to build a lander for its 2024 Moon mission. "
    "NASA's Office of the Inspector General released two highly critical reports last week. "
    "The reports come as US lawmakers are debating the agency's budget request, and "
    "whether a crewed 2024 moon mission is even feasible."
)
DEBATE = "US lawmakers are debating whether a crewed 2024 moon mission is even feasible."


def test_who_questions_or_doubts_it_is_on_the_disputing_side_in_each_language():
    assert roles(MOON.split(". ")[2], EN) == ("US lawmakers", None)
    assert roles("Economists questioned whether the purchases were achievable.", EN) == (
        "Economists",
        None,
    )
    assert roles("Die Ökonomen bezweifelten die Zahlen.", lexicon("de"))[0] == "Ökonomen"
    assert roles("Les syndicats mettent en doute ces chiffres.", lexicon("fr"))[0] == "syndicats"
    assert roles("Los sindicatos cuestionan las cifras.", lexicon("es"))[0] == "sindicatos"
    assert roles("Экономисты усомнились в этих цифрах.", lexicon("ru"))[0] == "Экономисты"
    assert roles("美国官员质疑该计划。", lexicon("zh"))[0] == "美国官员"


def test_a_critic_still_asserts_and_a_passive_or_a_nameless_doubt_names_no_one():
    # "criticised" is the critic's claim (the recorded Swift v. Big Machine points)
    assert roles("Unions criticised the plan on Monday.", EN)[0] is None
    assert roles("The plan was questioned by unions on Monday.", EN) == ("unions", None)
    assert roles("The plan is being debated in parliament.", EN) == (None, None)
    assert roles("该计划受到质疑。", lexicon("zh")) == (None, None)


def test_sides_swapped_by_the_model_on_a_debate_are_put_right():
    index = SentenceIndex(MOON)
    swapped = point(index, DEBATE, [3], asserted=["US lawmakers"], disputed=["NASA"])
    (fixed,), warnings = sides.settle([swapped], index, EN)
    assert (fixed.asserted_by, fixed.disputed_by) == (["NASA"], ["US lawmakers"])
    assert any("sides swapped: the text has US lawmakers deny it" in w for w in warnings)


def test_the_debate_joins_the_point_on_the_reports_as_one_dispute():
    index = SentenceIndex(MOON)
    reports = point(index, "The Inspector General's reports question NASA's 2024 plan.", [2, 3],
                    asserted=["NASA"], disputed=["Office of the Inspector General"])  # fmt: skip
    swapped = point(index, DEBATE, [3], asserted=["US lawmakers"], disputed=["NASA"])
    kept, warnings = sides.settle([reports, swapped], index, EN)
    assert len(kept) == 1
    assert kept[0].asserted_by == ["NASA"]
    assert kept[0].disputed_by == ["Office of the Inspector General", "US lawmakers"]
    assert any("merged into the point before it" in w for w in warnings)


def test_an_opinion_in_the_outlets_own_words_is_the_outlets():
    text = (
        "Полина Поризкова рассказала о своих страхах. «Кто-то скажет: посмотри на эту "
        "старуху». Но нам кажется, Поризкова слегка лукавит."
    )
    index = SentenceIndex(text)
    given_to_her = point(index, "Поризкова слегка лукавит.", [2, 3], asserted=["Поризкова"],
                         kind="opinion")  # fmt: skip
    (fixed,), warnings = sides.settle([given_to_her], index, lexicon("ru"))
    assert fixed.asserted_by[0] == lexicon("ru").author[0]
    assert "Поризкова" in fixed.asserted_by
    assert any("the outlet's own voice" in w for w in warnings)
    # her own view, in a quotation, stays hers
    quoted = SentenceIndex("Она сказала: «Нам кажется, это неправда». Её слушали.")
    hers = point(quoted, "Она считает, что это неправда.", [1], asserted=["Она"], kind="opinion")
    (kept,), _ = sides.settle([hers], quoted, lexicon("ru"), whole=False)
    assert lexicon("ru").author[0] not in kept.asserted_by


def test_a_claim_the_author_reports_is_the_speakers_not_the_authors():
    text = (
        "Neo-banks are everywhere. Better yet, they’re focused on their customers’ "
        "“financial health,” as one neo-bank CEO told me, and easing the “pain” people "
        "feel. I doubt any of them can fix what made them necessary."
    )
    index = SentenceIndex(text)
    assert roles(index.original(index.get(2)), EN) == (None, "one neo-bank CEO")
    reported = point(index, "Neo-banks are focused on their customers' financial health.", [2],
                     asserted=["the author"], kind="one_sided")  # fmt: skip
    (fixed,), warnings = sides.settle([reported], index, EN, opinion_piece=True)
    assert fixed.asserted_by == ["one neo-bank CEO"]
    assert any("the outlet only reports it" in w for w in warnings)


def test_a_word_of_a_name_is_no_reporting_verb():
    sentence = (
        "Despite Mr. Trump’s announcement that the United States and China had reached a "
        "deal, signing it has proved elusive."
    )
    assert roles(sentence, EN) == (None, None)
    assert roles("States bordering the river said the dam was safe.", EN) == (None, "States")


def test_a_one_sided_point_no_one_asserts_on_a_plain_account_is_dropped():
    text = (
        "The trade war has lasted a year and a half. Despite the announcement, a deal has "
        "proved elusive. The two sides continue to negotiate. The allegations, which were "
        "denied, were not tested in court."
    )
    index = SentenceIndex(text)
    account = point(index, "The trade war has lasted a year and a half with no end in sight.",
                    [1, 2, 3], kind="one_sided")  # fmt: skip
    unnamed = point(index, "The allegations were denied.", [4], kind="one_sided")
    kept, warnings = sides.settle([account, unnamed], index, EN)
    assert [p.claim for p in kept] == ["The allegations were denied."]
    assert any("no one in the text asserts" in w for w in warnings)
    # a part's points are weighed again by the merge: kept there
    kept, _ = sides.settle([account], index, EN, whole=False)
    assert len(kept) == 1


def test_a_clause_opening_with_a_pronoun_is_no_speaker():
    # 70cb2d5bca75 (quality-after-44.jsonl): '"…," it says.' after "Now they've put out
    # another statement", whose subject came out as "they've put out another statement"
    said = '"[We] have agreed to grant all licenses of our artists\' performances," it says.'
    before = "Now they've put out another statement - directly to the organisers of the AMAs."
    assert roles(said, EN, before) == (None, None)
    assert roles("O'Brien said the plan was safe.", EN) == (None, "O'Brien")
