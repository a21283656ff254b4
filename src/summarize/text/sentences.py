"""The article as numbered sentences: what the model sees, and what it cites.

The article is split once into sentences at the chunker's seams (line breaks and
sentence ends, abbreviation- and CJK-aware; ``summarize.text.boundaries``); a sentence
longer than ``MAX_SENTENCE_CHARS`` is split at clause ends, then at spaces. Each
sentence gets an id, ``S1``, ``S2``, ..., global to the article, and its offsets in
the caller's text. The prompt shows one sentence per line, ``[S12] text``: the ids are
the data marking (a line posing as a system message still starts with one) and what
every statement of the brief cites. Text that looks like an id is neutralised in
what the model sees (``[S3]`` becomes ``(S3)``), so an article cannot forge one.

``SentenceIndex.evidence(refs, quote)`` turns cited ids into ``Evidence`` whose
``quote`` is the cited sentence, or the given sub-quote when it is found inside it;
either way ``text[start:end] == quote``. No search of the whole article is needed.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from summarize.schema import Evidence
from summarize.text.boundaries import SEAMS
from summarize.text.grounding import QuoteLocator

# Longer "sentences" (lists run together, tables, a paragraph with no full stop) are
# split, so a citation stays precise and a line stays readable.
MAX_SENTENCE_CHARS = 400
_CLAUSE = re.compile(r"[,;:)](?=\s)|\s[\u2014\u2013-]\s")
# a sentence id in any bracket a reader takes for one: [S3], ［S3］, 【S3】, 〔S3〕, ⟦S3⟧,
# with full-width letters and digits too
_FORGED_ID = re.compile(r"[\[［【〔〖〘⟦⦋]\s*([SsＳｓ])\s*([\d０-９]+)\s*[\]］】〕〗〙⟧⦌]")
# The control text of chat templates: ChatML / Qwen / Phi / Llama 3 (<|im_start|>,
# <|eot_id|>, <|start_header_id|>, <|user|>), DeepSeek (<｜User｜>, with full-width
# bars), Llama 2 / Mistral ([INST], [/INST], <<SYS>>, [SYSTEM_PROMPT], [TOOL_CALLS]),
# Gemma (<start_of_turn>, <end_of_turn>, <bos>), and <s> / </s>. Shown with look-alike
# brackets (‹|im_start|›, ⟦INST⟧, ‹‹SYS››), visibly and reversibly: a tokenizer never
# reads them as the special token, and a reader still sees what the article said.
_CONTROL = re.compile(
    r"<[|｜][^<>|｜\n]{1,48}[|｜]>"
    r"|\[/?(?:INST|SYS|SYSTEM_PROMPT|AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS|/?TOOL_CONTENT)\]"
    r"|<</?SYS>>"
    r"|</?(?:s|bos|eos|pad|unk|start_of_turn|end_of_turn|start_of_image|end_of_image)>",
    re.IGNORECASE,
)
_LOOK_ALIKE = str.maketrans({"<": "‹", ">": "›", "[": "⟦", "]": "⟧", "|": "¦", "｜": "¦"})
_ID_IN_QUOTE = re.compile(r"(?:^|(?<=\n))[ \t]*\[S\d+\] ?")
_SPACES = re.compile(r"\s+")

# Control characters other than tab and newlines, zero-width and bidi controls, the
# byte-order mark, soft hyphen and Unicode tag characters: invisible to a reader,
# but able to hide text from one or to smuggle instructions to a model.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)


def neutral(text: str) -> str:
    """``text`` as it may stand in a prompt: invisible characters removed, chat-template
    control text shown with look-alike brackets, and text that looks like a sentence id
    shown in parentheses (``[S3]`` as ``(S3)``). Offsets always refer to the caller's
    text: what the model sees is never what evidence points into."""
    text = _CONTROL.sub(lambda m: m.group().translate(_LOOK_ALIKE), clean_text(text))
    return _FORGED_ID.sub(r"(\1\2)", text)


def neutral_line(text: str) -> str:
    """``neutral`` on one line: newlines and runs of spaces as one space, so that a
    name, a title or a field of an answer cannot start a line of a prompt."""
    if _SUSPECT.search(text) is None:  # most sentences: nothing to neutralise
        return " ".join(text.split())  # the same as _SPACES.sub(" ", text).strip()
    return _SPACES.sub(" ", neutral(text)).strip()


# What any of _INVISIBLE, _CONTROL or _FORGED_ID can match begins with: without one
# of these, ``neutral`` leaves a text as it is.
_SUSPECT = re.compile("[<\\[［【〔〖〘⟦⦋" + _INVISIBLE.pattern[1:])


def clean_text(text: str) -> str:
    """The article as it is shown to the model: invisible characters removed.

    Offsets in the result always refer to the caller's original text; grounding maps
    quotes from the cleaned text back to it.
    """
    return _INVISIBLE.sub("", text)


@dataclass(frozen=True)
class Sentence:
    """One sentence: its id (1-based) and its offsets in the article text."""

    id: int
    start: int
    end: int
    paragraph: bool  # the first sentence of a paragraph


class SentenceIndex:
    """The article's sentences, with ids S1..Sn; built once per article."""

    def __init__(self, text: str) -> None:
        self.text = text
        # what other stages find once per article and read again (the cues of
        # summarize.answer.neutrality): derived from the text, so never stale
        self.memo: dict[Any, Any] = {}
        self.sentences = [
            Sentence(number, start, end, paragraph)
            for number, (start, end, paragraph) in enumerate(_split(text), start=1)
        ]

    def __len__(self) -> int:
        return len(self.sentences)

    def get(self, sentence_id: int) -> Sentence | None:
        if 1 <= sentence_id <= len(self.sentences):
            return self.sentences[sentence_id - 1]
        return None

    def original(self, sentence: Sentence) -> str:
        return self.text[sentence.start : sentence.end]

    def shown(self, sentence: Sentence) -> str:
        """The sentence as the model sees it: ``neutral_line`` (one line, invisible
        characters removed, control text and id-like text neutralised), worked out once
        per sentence."""
        shown: dict[int, str] = self.memo.setdefault("shown", {})
        if (line := shown.get(sentence.id)) is None:
            line = shown[sentence.id] = neutral_line(self.original(sentence))
        return line

    def within(self, start: int = 0, end: int | None = None) -> list[Sentence]:
        """The sentences that start in ``[start, end)`` (a part of a long article)."""
        stop = len(self.text) if end is None else end
        starts = self.memo.get("starts")
        if starts is None:  # sentences are in text order: found by bisection
            starts = self.memo["starts"] = [s.start for s in self.sentences]
        return self.sentences[bisect.bisect_left(starts, start) : bisect.bisect_left(starts, stop)]

    def span(self, ids: range) -> str:
        """The article text from sentence ``ids.start`` to the end of ``ids.stop - 1``."""
        first, last = self.sentences[ids.start - 1], self.sentences[ids.stop - 2]
        return self.text[first.start : last.end]

    def render(self, sentences: list[Sentence] | None = None, *, offset: int = 0) -> str:
        """``[S1] ...`` lines, a blank line between paragraphs. ``offset``: shown ids are
        ``id - offset`` (a part of a long article numbered from S1, ``local_ids``)."""
        lines: list[str] = []
        for sentence in self.sentences if sentences is None else sentences:
            if sentence.paragraph and lines:
                lines.append("")
            lines.append(f"[S{sentence.id - offset}] {self.shown(sentence)}")
        return "\n".join(lines)

    def evidence(
        self, refs: list[int], quote: str = "", allowed: range | None = None
    ) -> tuple[list[Evidence], list[str], list[str]]:
        """Evidence for cited ids: ``(evidence, problems, repairs)``.

        ``problems`` name ids that are not sentences of the article (or not in
        ``allowed``, a part's range); ``repairs`` say when a sub-quote was not found in
        the cited sentences, which are cited whole instead."""
        allowed = allowed or range(1, len(self.sentences) + 1)
        evidence: list[Evidence] = []
        problems: list[str] = []
        found_quote = not quote.strip()
        for sentence_id in dict.fromkeys(refs):
            sentence = self.get(sentence_id) if sentence_id in allowed else None
            if sentence is None:
                problems.append(
                    f"S{sentence_id} is not a sentence of the "
                    f"{'article' if len(allowed) == len(self) else 'part'} "
                    f"(S{allowed.start}-S{allowed.stop - 1})"
                )
                continue
            item = self._sub_quote(sentence, quote) if quote.strip() else None
            found_quote = found_quote or item is not None
            evidence.append(item or self._whole(sentence))
        repairs = []
        if evidence and not found_quote:
            repairs.append(
                f"the quote {_clip(quote)!r} is not in the cited sentence(s) "
                f"{', '.join(f'S{e.sentence}' for e in evidence)}; they are cited whole"
            )
        return evidence, problems, repairs

    def _whole(self, sentence: Sentence) -> Evidence:
        return Evidence(
            quote=self.original(sentence),
            start=sentence.start,
            end=sentence.end,
            sentence=sentence.id,
        )

    def _sub_quote(self, sentence: Sentence, quote: str) -> Evidence | None:
        hit = QuoteLocator(self.original(sentence)).locate(quote)
        if hit is None:
            return None
        start, end = sentence.start + hit.start, sentence.start + hit.end
        return Evidence(quote=self.text[start:end], start=start, end=end, sentence=sentence.id)


_ID = re.compile(r"\bS(\d+)\b")


def local_ids(text: str, offset: int) -> str:
    """``text`` (a re-ask problem) with the article's ids ``S{n}`` written as a part
    numbered from S1 shows them, ``S{n - offset}``; ids at or below ``offset`` (never
    the part's) are left as they are."""
    if not offset:
        return text
    return _ID.sub(lambda m: f"S{n - offset}" if (n := int(m[1])) > offset else m[0], text)


def strip_ids(quote: str) -> str:
    """A quote without the ``[S12]`` line ids a model copied into it."""
    return _ID_IN_QUOTE.sub("", quote)


def _split(text: str) -> Iterator[tuple[int, int, bool]]:
    """(start, end, starts a paragraph) of every sentence, whitespace trimmed."""
    cuts = [0, *(m.end() for m in SEAMS.finditer(text)), len(text)]
    previous_end = 0
    for a, b in itertools.pairwise(cuts):
        start, end = _trim(text, a, b)
        if start >= end:
            continue
        paragraph = previous_end == 0 or text.count("\n", previous_end, start) >= 2
        for number, (s, e) in enumerate(_pieces(text, start, end)):
            yield s, e, paragraph and number == 0
        previous_end = end


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _pieces(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """A long sentence cut at clause ends, else at the last space, else hard."""
    while end - start > MAX_SENTENCE_CHARS:
        limit = start + MAX_SENTENCE_CHARS
        window = text[start:limit]
        clauses = [m.end() for m in _CLAUSE.finditer(window) if m.end() > MAX_SENTENCE_CHARS // 3]
        cut = start + clauses[-1] if clauses else None
        if cut is None:
            space = window.rfind(" ", MAX_SENTENCE_CHARS // 3)
            cut = start + space if space > 0 else limit
        piece = _trim(text, start, cut)
        if piece[0] < piece[1]:
            yield piece
        start, end = _trim(text, cut, end)
    if start < end:
        yield start, end


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
