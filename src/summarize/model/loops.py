"""Spotting a model answer that has started to repeat itself.

Small models, and grammar-constrained decoding, fall into loops: the same item, the
same phrase or the same whitespace over and over until the token limit. At 12 tokens/s
a loop to 4,096 tokens costs six minutes. ``RepetitionGuard`` is fed the answer as it
streams in and says as soon as its tail is a loop, so the request can be stopped.

Two signs, both on the tail of the text:

- a period: the last ``max(3 * p, MIN_RUN)`` characters equal the same number of
  characters ``p`` earlier (the answer is one unit of ``p`` characters, repeated);
- a recurring window: the last ``WINDOW`` characters already occur ``MAX_REPEATS``
  times earlier (a loop with something between its repeats);
- low novelty: in the last ``NOVELTY_SPAN`` characters, under ``MIN_NOVELTY`` of the
  word 5-grams are distinct (the same sentences again with a word or two changed).

Digits are folded first, so items that differ only by a counter repeat too.

Real briefs do neither: a key point is not written four times, and no JSON field holds
hundreds of characters that repeat with a short period.
"""

from __future__ import annotations

import re

MIN_RUN = 240
MAX_PERIOD = 600
WINDOW = 120
MAX_REPEATS = 3
NOVELTY_SPAN = 1500
MIN_NOVELTY = 0.4
_GRAM = 5
_CHECK_EVERY = 32
_PROBE = 16
_DIGITS = re.compile(r"\d+")


class RepetitionGuard:
    """Feed it the streamed text; ``looping`` turns True once the answer loops."""

    def __init__(self) -> None:
        self.text = ""
        self.looping = False
        self._checked = 0

    def feed(self, piece: str) -> bool:
        """Add a streamed piece; return True if the answer now loops."""
        if self.looping or not piece:
            return self.looping
        self.text += piece
        if len(self.text) - self._checked >= _CHECK_EVERY:
            self._checked = len(self.text)
            self.looping = is_looping(self.text)
        return self.looping


def is_looping(text: str) -> bool:
    """Whether the tail of ``text`` repeats (see the module docstring)."""
    text = _DIGITS.sub("0", text)  # items that differ only by a counter repeat too
    n = len(text)
    for period in range(1, MAX_PERIOD + 1):
        run = max(3 * period, MIN_RUN)
        if run + period > n:
            break
        # A cheap look at the last characters first; the full run only for candidates.
        if text[n - _PROBE :] != text[n - _PROBE - period : n - period]:
            continue
        if text[n - run :] == text[n - run - period : n - period]:
            return True
    if n >= WINDOW * (MAX_REPEATS + 1):
        window = text[n - WINDOW :]
        if text.count(window, 0, n - WINDOW) >= MAX_REPEATS:
            return True
    return n >= NOVELTY_SPAN and _novelty(text[n - NOVELTY_SPAN :]) < MIN_NOVELTY


def _novelty(span: str) -> float:
    """The share of distinct word n-grams in ``span`` (1.0: nothing repeats)."""
    words = span.lower().split()[1:]  # the first word may be cut
    grams = [tuple(words[i : i + _GRAM]) for i in range(len(words) - _GRAM + 1)]
    return len(set(grams)) / len(grams) if grams else 1.0


def loop_start(text: str) -> int:
    """Where the repeating tail of a looping ``text`` begins (roughly: the first
    repetitions are kept, the rest cut)."""
    text = _DIGITS.sub(lambda m: "0" * len(m.group(0)), text)  # same length, same offsets
    n = len(text)
    for period in range(1, MAX_PERIOD + 1):
        run = max(3 * period, MIN_RUN)
        if run + period > n:
            break
        if text[n - run :] == text[n - run - period : n - period]:
            # walk back to where the period starts
            i = n - run - period
            while i > 0 and text[i - 1] == text[i - 1 + period]:
                i -= 1
            return min(n, i + 2 * period)  # at least one whole instance is kept
    return max(0, n - WINDOW * MAX_REPEATS)
