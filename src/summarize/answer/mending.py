"""What a check asks, done by rule where the text says how: the brief's statements
mended before they are checked, so a small model is not re-asked for a fix it rarely
makes (#29: of the 1.5B model's re-asks on these checks, most came back still flagged).

Each mend follows the check's own advice, to the letter, and says so in a warning:

- ``quoted_terms``: a term the article quotes, used in the statement's own voice, is
  put in quotation marks (“harassment”): the article's word, marked as such.
- ``loaded_words``: a loaded word the statement's cited sentences use themselves is
  quoted the same way; a loaded word of the model's own is left for the re-ask.
- ``commentary``: a statement resting only on the outlet's commentary opens with the
  lexicon's ``commentary_says`` ("The outlet's commentary says: "); in an article that
  is wholly opinion, with the author's phrase (``summarize.answer.opinion``).
- ``attribution``: a statement resting only on attributed speech, naming no one, opens
  with the lexicon's ``according_to`` and the speaker every cited sentence gives
  ("According to the Sioux Falls Argus Leader: "); where they give none, or several,
  it is left for the re-ask.

A statement that names the outlet, or reports someone's words, gets no prefix; nor
does one that keeps a loaded word of the model's own, which a prefix would pass off
as the speaker's ("According to X: the catastrophic …").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from summarize.answer.cues import Lexicon, found, lexicon, pattern
from summarize.answer.neutrality import (
    commentary_sentences,
    own_words,
    quoted_terms,
    sentence_classes,
    terms_in_own_voice,
    unquoted,
)
from summarize.answer.opinion import as_the_authors
from summarize.answer.parties import as_written, namelike, same_party, speaker

if TYPE_CHECKING:
    from summarize.schema import Statement
    from summarize.text.sentences import SentenceIndex

OPEN, CLOSE = "“", "”"


def mend(
    statements: Sequence[Statement],
    where: str,
    index: SentenceIndex,
    language: str | None,
    *,
    opinion: bool = False,
) -> tuple[list[Statement], list[str]]:
    """``statements`` (the summary's, or the key points': ``where`` names them) with
    each mend of the module's docstring made, and a warning for each."""
    lex = lexicon(language)
    commentary = commentary_sentences(index, lex, opinion=opinion)
    out: list[Statement] = []
    warnings: list[str] = []
    for number, statement in enumerate(statements, start=1):
        name = f"{where} {number}"
        text = _quoted(statement, index, lex, name, warnings)
        cites = [e.sentence for e in statement.evidence if e.sentence is not None]
        if found(lex.loaded, own_words(unquoted(text), lex)):
            pass  # the model's own loaded word: no prefix may pass it off as someone's
        elif found(lex.outlet, text):
            pass  # the outlet's, said so
        elif cites and set(cites) <= commentary:
            text = _as_commentary(statement, text, lex, opinion, index, name, warnings)
        elif found(lex.reporting, text):
            pass  # someone's words, said so
        elif (who := _speaker(cites, index, lex)) is not None and not _names(text, who):
            text = lex.according_to[0].format(who=who) + text
            warnings.append(f"{name}: attributed to {who}, the speaker of the sentences it cites")
        changed = text != statement.text
        out.append(statement.model_copy(update={"text": text}) if changed else statement)
    return out, warnings


def _quoted(
    statement: Statement, index: SentenceIndex, lex: Lexicon, name: str, warnings: list[str]
) -> str:
    """The statement's text with the article's quoted terms, and the loaded words its
    cited sentences use themselves, in quotation marks where it says them unquoted."""
    text = statement.text
    own = unquoted(text)
    spans: list[tuple[int, int]] = []
    marked: list[str] = []
    for _, hits in terms_in_own_voice(text, quoted_terms(index), lex):
        spans += hits
        marked.append(repr(text[hits[0][0] : hits[0][1]]))
    voiced = own_words(own, lex)
    if own[: len(voiced)] != voiced:
        voiced = ""  # a link blanked: its positions are not the text's
    cited = " ".join(
        index.original(s) for e in statement.evidence if e.sentence and (s := index.get(e.sentence))
    )
    for word in found(lex.loaded, voiced):
        hits = [m.span() for m in pattern(word).finditer(voiced)]
        if hits and pattern(word).search(cited):
            spans += hits
            marked.append(repr(word))
    if not spans:
        return text
    for start, end in sorted(_merged(spans, text), reverse=True):
        text = text[:start] + OPEN + text[start:end] + CLOSE + text[end:]
    warnings.append(f"{name}: {', '.join(marked)} put in quotation marks: the article's words")
    return text


def _merged(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """The spans, those that overlap or only a space apart made one ("hegemonic" and
    "harassment": “hegemonic harassment”)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and (start <= merged[-1][1] or not text[merged[-1][1] : start].strip()):
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _as_commentary(
    statement: Statement,
    text: str,
    lex: Lexicon,
    opinion: bool,
    index: SentenceIndex,
    name: str,
    warnings: list[str],
) -> str:
    if opinion:  # every sentence is the author's: a verdict argued, the rest written
        (voiced,), said = as_the_authors(
            [statement.model_copy(update={"text": text})], lex, "", index
        )
        if said:
            warnings.append(f"{name}: said to be the author's (the article is opinion)")
        return voiced.text
    warnings.append(f"{name}: said to be the outlet's commentary, which it cites only")
    return lex.commentary_says[0] + text


def _speaker(cites: list[int], index: SentenceIndex, lex: Lexicon) -> str | None:
    """The one speaker that every cited sentence (each of attributed speech) gives."""
    if not cites:
        return None
    classes = sentence_classes(index, lex)
    who: str | None = None
    for n in cites:
        sentence = index.get(n)
        if sentence is None or "claiming" not in classes[n - 1]:
            return None
        said = _said_by(index.original(sentence), lex)
        if said is None or (who is not None and not same_party(who, said)):
            return None
        who = who or said
    return who


def _said_by(sentence: str, lex: Lexicon) -> str | None:
    """Who the claiming cues of ``sentence`` are said of, if they name one party only."""
    own = unquoted(sentence)
    named: list[str] = []
    for match in (m for cue in lex.claiming for m in pattern(cue).finditer(own)):
        who = speaker(own, match.start(), match.end(), match.group())
        if who is None or not namelike(who):
            return None
        if not any(same_party(who, other) for other in named):
            named.append(who)
    return as_written(named[0], own) if len(named) == 1 else None


def _names(text: str, who: str) -> bool:
    """Whether ``text`` names ``who`` (any of its capitalised words, or all of it)."""
    words = [w for w in re.findall(r"\w+", who) if w[:1].isupper()] or [who]
    return any(pattern(w).search(text) for w in words)
