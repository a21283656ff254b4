"""The gold annotations (fixtures/gold/, made by reading the 12 sample articles) are
consistent with the articles: every evidence and commentary span is the article's
exact text, every quoted term is quoted in it, kinds and importance are known."""

from __future__ import annotations

import json

import pytest

from summarize.schema import ContestedPoint
from tests.support import ARTICLES

GOLD = ARTICLES.parent / "gold"
GOLD_FILES = sorted(p for p in GOLD.glob("*.json") if not p.name.startswith("conflicts-"))


def test_every_sample_article_has_gold() -> None:
    articles = {p.stem for p in ARTICLES.glob("*.txt")}
    assert {p.stem for p in GOLD_FILES} == articles


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda p: p.stem)
def test_gold_spans_are_the_article_s_own_text(path) -> None:
    gold = json.loads(path.read_text(encoding="utf-8"))
    text = (ARTICLES.parent.parent / gold["article"]).read_text(encoding="utf-8")
    kinds = set(ContestedPoint.model_fields["kind"].annotation.__args__)  # type: ignore[union-attr]
    assert gold["uncontested"] == (not gold["contested_points"])
    for point in gold["contested_points"]:
        assert point["kind"] in kinds
        assert point["importance"] in ("core", "minor")
        assert point["evidence"]
        for span in point["evidence"]:
            assert span["text"] in text
    for span in gold["commentary"]:
        assert span["text"] in text
    for term in gold["quoted_terms"]:
        assert any(f"{q[0]}{term}" in text for q in ('""', "“”", "‘’", "«»")), term


def test_the_two_xi_putin_reports_conflict_on_the_number_of_visits() -> None:
    conflicts = json.loads((GOLD / "conflicts-xi-putin.json").read_text(encoding="utf-8"))
    (visits,) = conflicts["conflicts"]
    ntv, fine = visits["versions"]["xi-putin-ntv.txt"], visits["versions"]["xi-putin-fine-line.txt"]
    assert "sixth time" in ntv[0]["text"]
    assert "11th visit" in fine[0]["text"]


def test_one_article_is_uncontested_and_the_others_have_a_core_point() -> None:
    golds = [json.loads(p.read_text(encoding="utf-8")) for p in GOLD_FILES]
    uncontested = [g["article"] for g in golds if g["uncontested"]]
    assert uncontested == ["fixtures/articles/374ac9a59a85.txt"]  # the Emirates order
    for gold in golds:  # every contested article has a core point to find
        if not gold["uncontested"]:
            assert any(p["importance"] == "core" for p in gold["contested_points"])


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda p: p.stem)
def test_gold_sides_are_parties_the_text_names_near_the_point(path) -> None:
    from summarize.answer import sides
    from summarize.text.sentences import SentenceIndex

    gold = json.loads(path.read_text(encoding="utf-8"))
    index = SentenceIndex((ARTICLES.parent.parent / gold["article"]).read_text(encoding="utf-8"))
    for point in gold["contested_points"]:
        assert point["asserted_by"] or point["disputed_by"], point["claim"]
        context = sides.Context(index, [e["sentence"] for e in point["evidence"]])
        for name in [*point["asserted_by"], *point["disputed_by"]]:
            if name in ("the author", "the outlet"):
                continue
            assert sides.grounded(name, context.text, context.stems), (name, point["claim"])
        if point["kind"] == "disputed":
            assert point["disputed_by"], point["claim"]
