"""The chunker: invariants over a corpus and random text, boundaries, balance, cost."""

from __future__ import annotations

import itertools
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import summarize.text.chunking as chunking
from summarize.text.chunking import Chunk, chunk_text
from summarize.text.tokens import get_encoding
from tests.support import ARTICLES

ENC = get_encoding("o200k_base")
CORPUS = {p.name: p.read_text(encoding="utf-8") for p in sorted(ARTICLES.glob("*.txt"))}
_CJK = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工"


def _chinese(rng: random.Random, sentences: int) -> str:
    return "".join(
        "".join(rng.choice(_CJK) for _ in range(rng.randint(5, 40))) + rng.choice("。！？，")
        for _ in range(sentences)
    )


def _generated() -> dict[str, str]:
    rng = random.Random(7)
    words = re.sub(r"[^\w\s]", " ", CORPUS["xi-putin-ntv.txt"]).split()
    return {
        "no-punctuation": " ".join(rng.choice(words) for _ in range(6_000)),
        "no-spaces": "".join(rng.choice(words) for _ in range(2_000)),
        "chinese": _chinese(rng, 300),
        "chinese-russian": "\n\n".join(
            [_chinese(rng, 20), CORPUS["c82b3d1d540b.txt"][:1500], _chinese(rng, 20)]
        ),
        "special-tokens": ("Text <|endoftext|> more <|fim_prefix|> text. " * 300),
        "crlf-and-odd-space": CORPUS["xi-putin-ntv.txt"]
        .replace("\n", "\r\n")
        .replace(" ", "\u00a0", 50)
        + "\x1c\n\n/path\t\tend.\u2028next",
        "long-paragraph": " ".join(CORPUS["xi-putin-fine-line.txt"].split()),
        "emoji": "🙂👍🏽 " * 2_000,
    }


TEXTS = {**CORPUS, **_generated()}


def check_invariants(text: str, chunks: list[Chunk], limit: int, overlap: int = 0) -> None:
    """Exact offsets, exact counts within the limit, and the whole text covered."""
    if not text:
        assert chunks == []
        return
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text
        assert len(ENC.encode_ordinary(chunk.text)) == chunk.tokens <= limit
    if overlap == 0:
        assert "".join(c.text for c in chunks) == text
        return
    assert chunks[0].start == 0
    assert chunks[-1].end == len(text)
    for before, after in itertools.pairwise(chunks):
        assert after.start <= before.end < after.end  # overlapping or touching, never a gap
        assert after.start >= before.start


@pytest.mark.parametrize("limit", [8, 50, 512])
@pytest.mark.parametrize("name", sorted(TEXTS))
def test_corpus_invariants(name: str, limit: int):
    text = TEXTS[name]
    check_invariants(text, chunk_text(text, limit), limit)


@pytest.mark.parametrize("name", ["xi-putin-ntv.txt", "chinese-russian", "no-punctuation"])
def test_overlap_repeats_the_end_of_the_previous_chunk_within_the_limit(name: str):
    text = TEXTS[name]
    chunks = chunk_text(text, 200, overlap=40)
    check_invariants(text, chunks, 200, overlap=40)
    repeated = [b.end - a.start for b, a in itertools.pairwise(chunks)]
    assert max(repeated) > 0
    for before, after in itertools.pairwise(chunks):
        assert len(ENC.encode_ordinary(text[after.start : before.end])) <= 40


_PARTS = [
    *"ab Z.,;:!?。，\n\r\t/\"”'-—",
    *("\u00a0", "\x1c", "\u3000", "\u2028", "中", "ё", "🙂", "\ud800"),
    *("<|endoftext|>", "Mr.", "U.S.", " the", ". The", "\n\n", "。我"),
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(st.sampled_from(_PARTS), max_size=200),
    limit=st.integers(8, 60),
    overlap=st.integers(0, 3),
)
def test_random_text_invariants(parts: list[str], limit: int, overlap: int):
    text = "".join(parts)
    chunks = chunk_text(text, limit, overlap=overlap)
    check_invariants(text, chunks, limit, overlap)


def test_model_and_encoding_choose_the_tokenizer():
    text = CORPUS["702d1da63b8e.txt"]
    cl100k = get_encoding("cl100k_base")
    for chunks in (chunk_text(text, 100, model="gpt-4"), chunk_text(text, 100, encoding=cl100k)):
        assert all(len(cl100k.encode_ordinary(c.text)) == c.tokens <= 100 for c in chunks)
    assert chunk_text(text, 100, encoding="cl100k_base") == chunk_text(text, 100, model="gpt-4")


def _ends(text: str, chunks: list[Chunk]) -> list[str]:
    return [text[: c.end].rstrip()[-25:] for c in chunks[:-1]]


def test_abbreviations_and_initials_do_not_end_sentences():
    sentence = (
        "Mr. Smith met Gov. Newsom and Sen. J. Doe at 5 p.m. in the U.S. capital on Jan. 5 "
        "and they talked for a long time about the budget."
    )
    text = " ".join([sentence] * 40)
    chunks = chunk_text(text, 80)
    assert len(chunks) > 5
    assert all(end.endswith("about the budget.") for end in _ends(text, chunks))


def test_cuts_prefer_paragraphs_then_sentences_then_clauses_then_words():
    paragraph = "One short sentence here. " * 6
    text = "\n\n".join([paragraph.strip()] * 30)
    assert all(e.endswith("sentence here.") for e in _ends(text, chunk_text(text, 64)))
    assert all(
        text[c.end - 2 : c.end] == "\n\n" for c in chunk_text(text, 500)[:-1]
    )  # whole paragraphs fit: cut between them
    clauses = "alpha beta gamma delta, " * 200
    assert all(e.endswith(",") for e in _ends(clauses, chunk_text(clauses, 40)))
    words = "alpha beta gamma delta " * 200
    assert all(re.search(r"\w$", e) for e in _ends(words, chunk_text(words, 40)))


def test_chinese_sentence_ends_count_as_sentence_ends():
    text = _chinese(random.Random(3), 200).replace("，", "")
    chunks = chunk_text(text, 100)
    assert all(e[-1] in "。！？" for e in _ends(text, chunks))


def test_chunks_are_balanced_without_a_tiny_tail():
    text = " ".join(CORPUS["702d1da63b8e.txt"].split())
    total = len(ENC.encode_ordinary(text))
    limit = int(total / 2.1)  # three chunks needed
    sizes = [c.tokens for c in chunk_text(text, limit)]
    assert len(sizes) == 3
    assert min(sizes) >= 0.8 * total / 3


def test_fill_on_long_paragraphs_is_high():
    text = "\n\n".join(" ".join(CORPUS[name].split()) for name in sorted(CORPUS))
    for limit in (128, 512):
        chunks = chunk_text(text, limit)
        assert sum(c.tokens for c in chunks) / (len(chunks) * limit) >= 0.85


def test_each_character_is_tokenised_about_once(monkeypatch: pytest.MonkeyPatch):
    """Linear cost: candidates are never re-tokenised; only unprovable chunks are re-counted."""
    encoded: list[int] = []
    real = chunking._encoder

    def counting(enc):  # type: ignore[no-untyped-def]
        encode = real(enc)

        def wrapped(text: str):  # type: ignore[no-untyped-def]
            encoded.append(len(text))
            return encode(text)

        return wrapped

    monkeypatch.setattr(chunking, "_encoder", counting)
    text = "\n\n".join(TEXTS[name] for name in sorted(CORPUS)) * 3
    chunk_text(text, 256)
    assert sum(encoded) == len(text)  # spaced text: every cut is provably exact
    encoded.clear()
    cjk = TEXTS["chinese"] * 3
    chunk_text(cjk, 256)
    assert sum(encoded) <= 2.1 * len(cjk)  # each chunk re-counted once at most


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_tokens": 7}, "max_tokens"),
        ({"max_tokens": 100, "overlap": 50}, "overlap"),
        ({"max_tokens": 100, "overlap": -1}, "overlap"),
        ({"max_tokens": 100.0}, "max_tokens"),
    ],
)
def test_bad_arguments_name_the_problem(kwargs: dict[str, object], message: str):
    with pytest.raises(ValueError, match=message):
        chunk_text("text", **kwargs)  # type: ignore[arg-type]


def test_empty_text_and_non_strings():
    assert chunk_text("", 100) == []
    with pytest.raises(TypeError, match="str"):
        chunk_text(b"bytes", 100)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["xi-putin-ntv.txt", "no-spaces", "chinese-russian"])
def test_one_cutter_cut_at_several_budgets_gives_what_chunk_text_gives(name):
    text = {**CORPUS, **_generated()}[name]
    cutter = chunking.Cutter(text)
    # larger, then smaller (parts_of cuts again to leave room for sentence ids), then
    # larger again: pieces counted under one budget and split under another
    for budget in (900, 300, 37, 300, 2_000):
        assert cutter.chunks(budget) == chunk_text(text, budget), budget
    assert cutter.chunks(300, overlap=40) == chunk_text(text, 300, overlap=40)
