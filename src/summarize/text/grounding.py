"""Find the model's quotes in the article and compute their character offsets.

Three steps, first match wins: exact; normalised (NFKC, case, whitespace, quote marks,
dashes, invisible characters); fuzzy alignment with rapidfuzz. Offsets always point
into the original text, and the quote reported is the original substring.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from typing import Literal

FUZZY_THRESHOLD = 95.0
# Short quotes match fuzzily almost anywhere; below this they must match exactly.
FUZZY_MIN_CHARS = 20

Method = Literal["exact", "normalized", "fuzzy"]

_FOLD = {
    **dict.fromkeys("‘’‚‛′`´", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
}


@functools.lru_cache(maxsize=8192)  # articles reuse a small alphabet
def _fold_char(ch: str) -> str:
    """Normalise one character; '' drops it, ' ' marks whitespace."""
    if ch.isspace():
        return " "
    category = unicodedata.category(ch)
    if category in ("Cc", "Cf"):  # controls, zero-width, bidi and tag characters
        return ""
    out = []
    for c in unicodedata.normalize("NFKC", ch).casefold():
        out.append(_FOLD.get(c, c))
    return "".join(out)


def normalize(text: str) -> tuple[str, list[int]]:
    """Return the normalised text and, per normalised character, its original index."""
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        folded = _fold_char(ch)
        for c in folded:
            if c == " " and (not chars or chars[-1] == " "):
                continue
            chars.append(c)
            index.append(i)
    while chars and chars[-1] == " ":
        chars.pop()
        index.pop()
    return "".join(chars), index


def normalize_text(text: str) -> str:
    """The normalised form alone (used for comparing quotes)."""
    return normalize(text)[0]


@dataclass(frozen=True)
class Located:
    """Where a quote was found: ``text[start:end]`` is the original substring."""

    start: int
    end: int
    method: Method


class QuoteLocator:
    """Locates quotes in one source text; the normalised form is built once."""

    def __init__(self, text: str) -> None:
        self.text = text

    @functools.cached_property
    def _normalized(self) -> tuple[str, list[int]]:
        return normalize(self.text)

    def locate(self, quote: str, *, fuzzy_threshold: float = FUZZY_THRESHOLD) -> Located | None:
        """Return where ``quote`` occurs in the text, or None if it cannot be found."""
        stripped = quote.strip()
        if not stripped:
            return None
        pos = self.text.find(stripped)
        if pos >= 0:
            return Located(pos, pos + len(stripped), "exact")

        norm_text = self._normalized[0]
        norm_quote = normalize_text(stripped)
        if not norm_quote or not norm_text:
            return None
        pos = norm_text.find(norm_quote)
        if pos >= 0:
            return self._span(pos, pos + len(norm_quote), "normalized")

        if len(norm_quote) < FUZZY_MIN_CHARS:
            return None
        from rapidfuzz import fuzz

        hit = fuzz.partial_ratio_alignment(norm_quote, norm_text, score_cutoff=fuzzy_threshold)
        if hit is None:
            return None
        # partial_ratio aligns a window as long as the quote; widen it to whole words.
        start, end = hit.dest_start, hit.dest_end
        while start > 0 and norm_text[start - 1] != " ":
            start -= 1
        while end < len(norm_text) and norm_text[end] != " ":
            end += 1
        while start < end and norm_text[start] == " ":
            start += 1
        while end > start and norm_text[end - 1] == " ":
            end -= 1
        if start >= end:
            return None
        return self._span(start, end, "fuzzy")

    def _span(self, norm_start: int, norm_end: int, method: Method) -> Located:
        index = self._normalized[1]
        return Located(index[norm_start], index[norm_end - 1] + 1, method)
