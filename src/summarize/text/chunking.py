"""Token-aware splitting of long articles into chunks that fit a token budget.

``chunk_text(text, max_tokens)`` returns ``Chunk`` objects whose ``text`` is exactly
``source[start:end]``; without overlap they tile the source with no gap. Cuts fall on
the best boundary available near an even share of the text: paragraph, then line,
then sentence (abbreviation-aware; ``。！？`` included), then clause, then word; an
unbroken run is cut between tokens.

Cost is linear: the text is tokenised once, piece by piece, on every core (tiktoken
releases the GIL). Counts add up exactly across a cut that the tokenizer's own
pre-tokenizer would make anyway -- before horizontal whitespace that follows a
non-space character, or after the last line break of a whitespace run -- because
tiktoken's BPE never merges across those places and its split pattern does not look
across them. A chunk that contains any other kind of cut (after ``。`` with no space,
or between tokens) is re-counted on its emitted text before it is returned, and
shortened if it is over. Every returned chunk therefore has
``count_tokens(chunk.text) == chunk.tokens <= max_tokens``.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from summarize.text.boundaries import CLAUSE_BYTES, CLAUSE_END, DASH_END, SEAMS
from summarize.text.tokens import encoding_for_model, get_encoding

if TYPE_CHECKING:
    import tiktoken

__all__ = ["Chunk", "Cutter", "chunk_text"]

MIN_MAX_TOKENS = 8
# Pieces longer than this are pre-split at a word so that no single tokeniser call
# (and no token list held in memory) grows with the article.
_MAX_PIECE_CHARS = 32_768
# Below this many characters, threads cost more than they save.
_PARALLEL_CHARS = 100_000

# Boundary levels, best first, and what choosing each costs (in units of the
# relative distance from an even share).
PARAGRAPH, LINE, SENTENCE, CLAUSE, WORD, TOKEN = range(6)
_LEVEL_COST = (0.0, 0.04, 0.08, 0.35, 0.6, 1.5)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A slice of the source: ``text == source[start:end]`` and ``tokens`` counts ``text``."""

    text: str
    start: int
    end: int
    tokens: int


@dataclass(slots=True)
class _Atoms:
    """The smallest units a chunk is built from, as parallel lists."""

    starts: list[int]
    ends: list[int]
    counts: list[int]
    levels: list[int]
    exact: list[bool]  # the count is the count of the atom's own text
    safe_end: list[bool]  # counts add up across the cut after this atom

    def add(self, start: int, end: int, count: int, level: int, exact: bool, safe: bool) -> None:
        self.starts.append(start)
        self.ends.append(end)
        self.counts.append(count)
        self.levels.append(level)
        self.exact.append(exact)
        self.safe_end.append(safe)

    def replace(self, index: int, subs: list[tuple[int, int, int, int, bool, bool]]) -> None:
        """Put ``subs`` in the place of atom ``index``."""
        columns = (self.starts, self.ends, self.counts, self.levels, self.exact, self.safe_end)
        for column, values in zip(columns, zip(*subs, strict=True), strict=True):
            column[index : index + 1] = values  # type: ignore[index]


Encoder = Callable[[str], Sequence[int]]


def chunk_text(
    text: str,
    max_tokens: int,
    *,
    model: str | None = None,
    encoding: str | tiktoken.Encoding | None = None,
    overlap: int = 0,
) -> list[Chunk]:
    """Split ``text`` into chunks of at most ``max_tokens`` tokens each.

    ``encoding`` (a tiktoken encoding or its name) or ``model`` chooses the tokenizer;
    the default is ``o200k_base``. Special-token strings such as ``<|endoftext|>`` are
    counted as ordinary text. With ``overlap`` > 0, each chunk after the first also
    repeats up to that many tokens of whole sentences (or smaller units) from the end
    of the one before; ``overlap`` must be less than half of ``max_tokens``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    return Cutter(text, model=model, encoding=encoding).chunks(max_tokens, overlap=overlap)


class Cutter:
    """One text, cut at one budget or several: its pieces are found and counted once,
    so cutting it again at a smaller budget (to leave room for something added to each
    chunk) re-counts only the pieces over that budget. ``chunks`` gives exactly what
    ``chunk_text`` gives for the same arguments."""

    def __init__(
        self,
        text: str,
        *,
        model: str | None = None,
        encoding: str | tiktoken.Encoding | None = None,
    ) -> None:
        self.text = text
        self._enc = _resolve_encoding(model, encoding)
        self._encode = _encoder(self._enc)
        self._pieces: tuple[list[int], list[int], list[bool], list[str]] | None = None
        self._entries: list[_Entry] = []

    def chunks(self, max_tokens: int, *, overlap: int = 0) -> list[Chunk]:
        """The text in chunks of at most ``max_tokens`` tokens (see ``chunk_text``)."""
        if not isinstance(max_tokens, int) or max_tokens < MIN_MAX_TOKENS:
            raise ValueError(
                f"max_tokens must be a whole number >= {MIN_MAX_TOKENS}, not {max_tokens!r} "
                "(one character can take up to 4 tokens)"
            )
        if not isinstance(overlap, int) or overlap < 0 or 2 * overlap >= max_tokens:
            raise ValueError(
                f"overlap must be a whole number >= 0 and below max_tokens / 2, not {overlap!r}"
            )
        if not self.text:
            return []
        budget = max_tokens - overlap
        atoms = self._atoms(budget)
        chunks = _pack(self.text, atoms, budget, max_tokens, self._encode)
        if overlap:
            chunks = _add_overlap(self.text, atoms, chunks, overlap, max_tokens, self._encode)
        return chunks

    def _atoms(self, budget: int) -> _Atoms:
        if self._pieces is None:
            ends, levels, safe = _pieces(self.text)
            starts = [0, *ends[:-1]]
            pieces = [self.text[a:b] for a, b in zip(starts, ends, strict=True)]
            self._pieces = (starts, ends, safe, pieces)
            self._levels = levels
        starts, ends, safe, pieces = self._pieces
        entries = self._entries
        again = [i for i, e in enumerate(entries) if type(e) is not int or e > budget]
        splitter = _Splitter(self._enc, self._encode)
        if not entries:
            entries = _measure_all(pieces, starts, budget, splitter)
        elif again:  # counted before, under a larger budget or split under another
            fresh = _measure_all([pieces[i] for i in again], [starts[i] for i in again],
                                 budget, splitter)  # fmt: skip
            entries = list(entries)
            for i, entry in zip(again, fresh, strict=True):
                entries[i] = entry
        self._entries = entries
        return _assemble(starts, ends, self._levels, safe, entries)


def _assemble(
    starts: list[int], ends: list[int], levels: list[int], safe: list[bool], entries: list[_Entry]
) -> _Atoms:
    """The atoms of pieces measured as ``entries``: fresh lists (``_pack`` edits them)."""
    atoms = _Atoms([], [], [], [], [], [])
    if all(type(entry) is int for entry in entries):
        atoms.starts, atoms.ends, atoms.levels = list(starts), list(ends), list(levels)
        atoms.safe_end, atoms.counts = list(safe), list(entries)  # type: ignore[arg-type]
        atoms.exact = [True] * len(ends)
        return atoms
    for index, entry in enumerate(entries):
        if isinstance(entry, int):
            atoms.add(starts[index], ends[index], entry, levels[index], True, safe[index])
        else:
            for sub in entry:
                atoms.add(*sub)
            atoms.levels[-1], atoms.safe_end[-1] = levels[index], safe[index]
    return atoms


def _resolve_encoding(
    model: str | None, encoding: str | tiktoken.Encoding | None
) -> tiktoken.Encoding:
    if encoding is None:
        return encoding_for_model(model)
    if isinstance(encoding, str):
        return get_encoding(encoding)
    return encoding


def _encoder(enc: tiktoken.Encoding) -> Encoder:
    """Ordinary encoding (special tokens as text), skipping the wrapper when possible."""
    core = getattr(enc, "_core_bpe", None)
    if core is None:  # pragma: no cover - another tiktoken layout
        return enc.encode_ordinary
    fast = core.encode_ordinary

    def encode(text: str) -> Sequence[int]:
        try:
            return fast(text)  # type: ignore[no-any-return]
        except UnicodeEncodeError:  # lone surrogates: tiktoken's wrapper repairs them
            return enc.encode_ordinary(text)

    return encode


# --- splitting into atoms -----------------------------------------------------------


def _pieces(text: str) -> tuple[list[int], list[int], list[bool]]:
    """Cut positions after each piece, the boundary level there, and whether it is safe."""
    ends: list[int] = []
    levels: list[int] = []
    safe: list[bool] = []
    for match in SEAMS.finditer(text):
        end = match.end()
        if end == 0 or (ends and end == ends[-1]):
            continue
        kind = match.lastgroup
        if kind == "nl":
            newlines = match.group().count("\n") + match.group().count("\r")
            newlines -= match.group().count("\r\n")
            level = PARAGRAPH if newlines >= 2 else LINE
            # tiktoken's punctuation pattern runs on through line breaks into a "/"
            is_safe = end == len(text) or text[end] != "/"
        else:
            level = SENTENCE
            is_safe = end < len(text) and text[end] in " \t\xa0\u3000"
        ends.append(end)
        levels.append(level)
        safe.append(is_safe)
    if not ends or ends[-1] != len(text):
        ends.append(len(text))
        levels.append(PARAGRAPH)
        safe.append(True)
    else:
        levels[-1] = PARAGRAPH
    return _split_giants(text, ends, levels, safe)


_LAST_SPACE = re.compile(r"\S[ \t](?=\S)")


def _split_giants(
    text: str, ends: list[int], levels: list[int], safe: list[bool]
) -> tuple[list[int], list[int], list[bool]]:
    """Cut pieces longer than ``_MAX_PIECE_CHARS`` at a word near that length."""
    if all(b - a <= _MAX_PIECE_CHARS for a, b in zip([0, *ends[:-1]], ends, strict=True)):
        return ends, levels, safe
    out_ends: list[int] = []
    out_levels: list[int] = []
    out_safe: list[bool] = []
    start = 0
    for end, level, is_safe in zip(ends, levels, safe, strict=True):
        while end - start > _MAX_PIECE_CHARS:
            limit = start + _MAX_PIECE_CHARS
            cut, cut_level, cut_safe = limit, TOKEN, False
            window_start = max(start + 1, limit - 2_000)
            spaces = list(_LAST_SPACE.finditer(text, window_start, limit + 1))
            if spaces:
                cut, cut_level, cut_safe = spaces[-1].start() + 1, WORD, True
            elif 0xD800 <= ord(text[cut - 1]) <= 0xDBFF:
                cut -= 1  # never separate a surrogate pair
            out_ends.append(cut)
            out_levels.append(cut_level)
            out_safe.append(cut_safe)
            start = cut
        out_ends.append(end)
        out_levels.append(level)
        out_safe.append(is_safe)
        start = end
    return out_ends, out_levels, out_safe


_Entry = int | list[tuple[int, int, int, int, bool, bool]]


def _measure_all(
    pieces: list[str], starts: list[int], budget: int, splitter: _Splitter
) -> list[_Entry]:
    """Each piece's token count, or its sub-atoms if it is over budget; on every core."""
    step = budget // 8 if budget >= 64 else max(budget // 2, 1)

    def run(first: int, last: int) -> list[_Entry]:
        out: list[_Entry] = []
        encode = splitter.encode
        for index in range(first, last):
            tokens = encode(pieces[index])
            if len(tokens) <= budget:
                out.append(len(tokens))
            else:  # split now, so no token list outlives its piece
                out.append(splitter.split(pieces[index], starts[index], tokens, step))
        return out

    total_chars = sum(map(len, pieces))
    workers = min(os.cpu_count() or 1, 4)
    if workers == 1 or total_chars < _PARALLEL_CHARS or len(pieces) < 2 * workers:
        return run(0, len(pieces))
    bounds = [0]
    share, acc = total_chars / workers, 0
    for index, piece in enumerate(pieces):
        acc += len(piece)
        if acc >= share * len(bounds) and len(bounds) < workers:
            bounds.append(index + 1)
    bounds.append(len(pieces))
    with ThreadPoolExecutor(workers) as pool:
        return [entry for part in pool.map(run, bounds[:-1], bounds[1:]) for entry in part]


class _Splitter:
    """Cuts one over-long piece into runs of about ``step`` tokens at clauses or words."""

    def __init__(self, enc: tiktoken.Encoding, encode: Encoder) -> None:
        self._enc = enc
        self.encode = encode
        self._edges: dict[int, tuple[int, int, bool]] = {}

    def _edge(self, token: int) -> tuple[int, int, bool]:
        """(first byte, last byte, ends with a dash) of a token's bytes."""
        edge = self._edges.get(token)
        if edge is None:
            raw = self._enc.decode_single_token_bytes(token)
            edge = (raw[0], raw[-1], raw.endswith(DASH_END)) if raw else (0, 0, False)
            self._edges[token] = edge
        return edge

    def _cut(self, tokens: Sequence[int], low: int, high: int) -> tuple[int, int]:
        """Best cut in ``tokens[low:high+1]``: the last clause, else the last word, else high."""
        # One C-level look at the bytes tells whether a clause end is there at all.
        look_for_clause = CLAUSE_BYTES.search(self._enc.decode_bytes(tokens[low - 1 : high]))
        word = -1
        for j in range(high, low - 1, -1):
            if self._edge(tokens[j])[0] != 0x20:
                continue
            _, last, dash = self._edge(tokens[j - 1])
            if last in b" \t\r\n":
                continue
            if last in CLAUSE_END or dash:
                return j, CLAUSE
            if word < 0:
                word = j
                if not look_for_clause:
                    break
        return (word, WORD) if word >= 0 else (high, TOKEN)

    def split(
        self, piece: str, base: int, tokens: Sequence[int], step: int
    ) -> list[tuple[int, int, int, int, bool, bool]]:
        """Sub-atoms ``(start, end, count, level, exact, safe_end)`` of an over-long piece."""
        try:
            raw = piece.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: no byte view, split by counting
            return _split_by_counting(self.encode, piece, base, step)
        ascii_only = len(raw) == len(piece)
        out = []
        n = len(tokens)
        i = byte_pos = 0
        char_pos = base
        start_safe = True
        while i < n:
            if n - i <= step:
                j, level = n, TOKEN
            else:
                j, level = self._cut(tokens, i + max(step // 2, 1), i + step)
            size, chars, j = self._measure(raw, byte_pos, tokens, i, j, ascii_only)
            if j != n and chars < 0:  # pragma: no cover - decode_bytes is lossless
                raise AssertionError("token bytes do not match the text")
            end_safe = level in (CLAUSE, WORD) and j < n
            exact = start_safe and (end_safe or j == n)
            out.append((char_pos, char_pos + chars, j - i, level, exact, end_safe))
            i, byte_pos, char_pos, start_safe = j, byte_pos + size, char_pos + chars, end_safe
        return out

    def _measure(
        self, raw: bytes, byte_pos: int, tokens: Sequence[int], i: int, j: int, ascii_only: bool
    ) -> tuple[int, int, int]:
        """(bytes, characters, j) of tokens[i:j], moving j off the middle of a character."""
        for cut in itertools.chain((j,), range(j - 1, i, -1), range(j + 1, len(tokens) + 1)):
            size = len(self._enc.decode_bytes(tokens[i:cut]))
            if ascii_only:
                return size, size, cut
            try:
                return size, len(raw[byte_pos : byte_pos + size].decode("utf-8")), cut
            except UnicodeDecodeError:
                continue
        return len(raw) - byte_pos, -1, len(tokens)  # pragma: no cover


def _split_by_counting(
    encode: Encoder, piece: str, base: int, limit: int
) -> list[tuple[int, int, int, int, bool, bool]]:
    """Exact sub-atoms by binary search on counts: the slow path for rare text."""
    out = []
    start = 0
    while start < len(piece):
        low, high = start + 1, len(piece)
        while low < high:  # the longest prefix that fits
            mid = (low + high + 1) // 2
            if len(encode(piece[start:mid])) <= limit:
                low = mid
            else:
                high = mid - 1
        end = low
        if 0xD800 <= ord(piece[end - 1]) <= 0xDBFF and end - 1 > start:
            end -= 1  # keep a surrogate pair together
        count = len(encode(piece[start:end]))
        out.append((base + start, base + end, count, TOKEN, True, False))
        start = end
    return out


# --- packing atoms into chunks ------------------------------------------------------


def _pack(text: str, atoms: _Atoms, budget: int, max_tokens: int, encode: Encoder) -> list[Chunk]:
    counts, levels = atoms.counts, atoms.levels
    chunks: list[Chunk] = []
    remaining = sum(counts)
    i, n = 0, len(counts)
    while i < n:
        if remaining <= budget:
            j, total = n - 1, remaining
        else:
            target = remaining / math.ceil(remaining / budget)
            j, total, best = i, counts[i], math.inf
            acc = 0
            for k in range(i, n):
                acc += counts[k]
                if acc > budget:
                    break
                score = _LEVEL_COST[levels[k]] + abs(acc - target) / target
                if score < best:
                    j, total, best = k, acc, score
        chunk, j = _checked(text, atoms, i, j, total, max_tokens, encode)
        if chunk.tokens > max_tokens:  # one atom counted short: split it exactly
            subs = _split_by_counting(encode, chunk.text, chunk.start, budget)
            subs[-1] = (*subs[-1][:3], levels[i], True, atoms.safe_end[i])
            remaining += sum(sub[2] for sub in subs) - counts[i]
            atoms.replace(i, subs)
            n = len(counts)
            continue
        chunks.append(chunk)
        remaining -= sum(counts[i : j + 1])
        i = j + 1
    return chunks


def _checked(
    text: str, atoms: _Atoms, i: int, j: int, total: int, limit: int, encode: Encoder
) -> tuple[Chunk, int]:
    """The chunk of atoms i..j, re-counted when its count is not provably exact."""
    start = atoms.starts[i]
    while True:
        end = atoms.ends[j]
        exact = all(atoms.exact[i : j + 1]) and all(atoms.safe_end[i:j])
        if exact:
            return Chunk(text[start:end], start, end, total), j
        count = len(encode(text[start:end]))
        if count <= limit or j == i:
            return Chunk(text[start:end], start, end, count), j
        total -= atoms.counts[j]
        j -= 1


def _add_overlap(
    text: str,
    atoms: _Atoms,
    chunks: list[Chunk],
    overlap: int,
    limit: int,
    encode: Encoder,
) -> list[Chunk]:
    """Prepend whole atoms from the end of the previous chunk, up to ``overlap`` tokens."""
    index_of_start = {start: k for k, start in enumerate(atoms.starts)}
    out = [chunks[0]]
    for chunk in chunks[1:]:
        j = index_of_start[chunk.start]
        i, extra = j, 0
        while i > 0 and extra + atoms.counts[i - 1] <= overlap:
            i -= 1
            extra += atoms.counts[i]
        last = index_of_start.get(chunk.end, len(atoms.starts)) - 1
        widened, _ = _checked(text, atoms, i, last, chunk.tokens + extra, limit, encode)
        while widened.end != chunk.end:  # a re-count was over: take less overlap
            i += 1
            widened, _ = _checked(
                text, atoms, i, last, sum(atoms.counts[i : last + 1]), limit, encode
            )
        out.append(widened)
    return out
