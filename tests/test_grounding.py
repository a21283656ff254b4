"""Quote grounding: exact, normalised and fuzzy matches, always mapped to original offsets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from summarize.text.grounding import QuoteLocator, normalize
from tests.support import ARTICLES

CORPUS = {p.name: p.read_text(encoding="utf-8") for p in sorted(ARTICLES.glob("*.txt"))}
FINE_LINE = CORPUS["xi-putin-fine-line.txt"]


def test_exact_match():
    hit = QuoteLocator(FINE_LINE).locate("calling them “friends of steel.”")
    assert hit
    assert hit.method == "exact"
    assert FINE_LINE[hit.start : hit.end] == "calling them “friends of steel.”"


def test_straight_quotes_case_and_whitespace_normalise_to_the_curly_original():
    hit = QuoteLocator(FINE_LINE).locate('CALLING them   "friends of steel."')
    assert hit
    assert hit.method == "normalized"
    assert FINE_LINE[hit.start : hit.end] == "calling them “friends of steel.”"


def test_dashes_and_invisible_characters():
    text = "The vote \u2014 held on\u00a0Tuesday \u2014 was\u200b close."
    hit = QuoteLocator(text).locate("The vote - held on Tuesday - was close.")
    assert hit
    assert text[hit.start : hit.end] == text


def test_fuzzy_match_maps_back_to_whole_words_of_the_original():
    # A model's quote with one word changed and one dropped.
    quote = "experts warn that this relationship is more nuanced than it appears"
    hit = QuoteLocator(FINE_LINE).locate(quote, fuzzy_threshold=90)
    assert hit
    assert hit.method == "fuzzy"
    found = FINE_LINE[hit.start : hit.end]
    assert "relationship is more nuanced than it appears" in found
    assert found[0].isalnum()
    assert found[-1] not in " \n"


def test_unrelated_and_short_quotes_are_not_found():
    locator = QuoteLocator(FINE_LINE)
    assert locator.locate("Putin announced a full withdrawal from Ukraine today") is None
    assert locator.locate("Xi said hello") is None
    assert locator.locate("   ") is None


def test_non_latin_articles():
    russian = CORPUS["c82b3d1d540b.txt"]
    sentence = russian.split("\n")[2].strip()[:60]
    hit = QuoteLocator(russian).locate(sentence.upper())
    assert hit
    assert russian[hit.start : hit.end].lower() == sentence.lower()


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_sentence_of_every_article_grounds_to_itself(name):
    text = CORPUS[name]
    locator = QuoteLocator(text)
    for line in text.splitlines():
        quote = line.strip()[:120].strip()
        if len(quote) < 25:
            continue
        hit = locator.locate(quote)
        assert hit is not None
        assert text[hit.start : hit.end] == quote


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(sorted(CORPUS)),
    start=st.integers(min_value=0, max_value=10_000),
    length=st.integers(min_value=1, max_value=200),
    mangle=st.sampled_from(["none", "upper", "spaces", "quotes"]),
)
def test_any_substring_grounds_to_original_offsets(name, start, length, mangle):
    text = CORPUS[name]
    start %= len(text)
    quote = text[start : start + length].strip()
    if not quote:
        return
    asked = {
        "none": quote,
        "upper": quote.upper(),
        "spaces": " ".join(quote.split()),
        "quotes": quote.replace("“", '"').replace("”", '"').replace("’", "'"),
    }[mangle]
    hit = QuoteLocator(text).locate(asked)
    if mangle == "none":
        assert hit is not None
    if hit is not None:
        found = text[hit.start : hit.end]
        # Whatever matched is a real substring, equal to the request after normalisation.
        assert 0 <= hit.start < hit.end <= len(text)
        if hit.method != "fuzzy":
            assert normalize(found)[0] == normalize(asked)[0]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_normalize_index_always_points_into_the_original(text):
    norm, index = normalize(text)
    assert len(norm) == len(index)
    assert all(0 <= i < len(text) for i in index)
    assert index == sorted(index)
