"""Opinion writing found in the text itself, when no URL or page says so.

A plain-text article (a file, stdin, a JSONL row) carries no section or URL, so
``neutrality.is_opinion`` cannot know a column from a report. ``detect`` reads the
article's own voice (every sentence with no quotation in it) for what columns do and
reports do not, with the cues of the article's lexicon (``lexicons/*.json``):

- a column's label: "Opinion:", "Editorial", "Kommentar" opening the article, or "the
  views expressed …" anywhere;
- first-person argument ("I don't see the downside") and addressing the reader ("your
  pain");
- what ought to be done ("Democrats should …") and the writer's verdicts ("rife with
  implausibilities", "absurd");
- rhetorical questions, counted only beside the first or second person.

The article is *likely* opinion with a label, or when these signs (an ought counts
twice) add up to ``SCORE`` and to ``DENSITY`` per sentence. The two were set on the 12
sample articles, where the 3 opinion pieces score 5, 6 and 31 and the 9 reports at most
3: a margin of two signs, on text we chose it on. A column written without these signs
is missed; a report with many of them in its own voice would be taken for one.
A brief of a likely opinion piece says so in ``meta.opinion`` ("likely", with the
signs in ``meta.opinion_signals``), and each summary sentence or key point that states
a verdict in its own voice is given as the author's ("The author argues: …").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from summarize.answer.cues import Lexicon, found, matcher_of
from summarize.answer.neutrality import own_voice, sentence_classes

if TYPE_CHECKING:
    from summarize.schema import Statement
    from summarize.text.sentences import SentenceIndex

_QUOTE_MARKS = re.compile('["“”«»„「」『』]')
SCORE = 5  # signs in all
DENSITY = 0.08  # signs per sentence
OPENING = 2  # sentences where a column's label counts
WEIGHTS = {"first person": 1, "the reader addressed": 1, "what ought to be done": 2,
           "verdicts": 1, "rhetorical questions": 1}  # fmt: skip
_SIGNS_BY_NAME = (("first person", "first_person"), ("the reader addressed", "reader_address"),
                  ("what ought to be done", "normative"), ("verdicts", "verdicts"))  # fmt: skip
_SIGNS = frozenset(field for _, field in _SIGNS_BY_NAME)  # the Lexicon's fields


@dataclass(frozen=True)
class Opinion:
    """What ``detect`` found: whether the article is likely opinion, and why."""

    likely: bool
    signals: list[str] = field(default_factory=list)  # "first person: S12, S44"
    sentences: list[int] = field(default_factory=list)


def detect(index: SentenceIndex, lex: Lexicon) -> Opinion:
    """Whether ``index``'s article is likely opinion writing, with the signs found."""
    signs: dict[str, list[int]] = {name: [] for name in WEIGHTS}
    labels: list[int] = []
    holds = matcher_of(lex).holds
    views = tuple(cue for cue in lex.column_labels if "views expressed" in cue)
    classes = sentence_classes(index, lex)  # the article's one pass, shared with the checks
    for sentence, held in zip(index.sentences, classes, strict=True):
        text = index.original(sentence)
        if (sentence.id <= OPENING and _labelled(text, lex)) or (
            views and "column_labels" in held and found(views, text)
        ):
            labels.append(sentence.id)
        if _QUOTE_MARKS.search(text):
            continue  # speech, or a quoted word: not the writer's own voice
        own = own_voice(text)
        if own != text:  # a quotation blanked out (‘single marks’): look again
            held = holds(own, _SIGNS)
        for name, field_name in _SIGNS_BY_NAME:
            if field_name in held:
                signs[name].append(sentence.id)
        if own.rstrip().endswith(("?", "？")):
            signs["rhetorical questions"].append(sentence.id)
    if not (signs["first person"] or signs["the reader addressed"]):
        signs["rhetorical questions"] = []  # a report's questions are its sources'
    score = sum(WEIGHTS[name] * len(ids) for name, ids in signs.items())
    signals = [f"{name}: {_ids(ids)}" for name, ids in signs.items() if ids]
    if labels:
        signals.insert(0, f"a column's label: {_ids(labels)}")
    likely = bool(labels) or (score >= SCORE and score >= DENSITY * max(len(index), 1))
    evidence = sorted({n for ids in signs.values() for n in ids} | set(labels))
    return Opinion(likely, signals if likely else [], evidence if likely else [])


def detected(index: SentenceIndex, lex: Lexicon) -> Opinion:
    """``detect``, once per article and lexicon (every answer of a run reads it)."""
    key = ("opinion", lex)
    if key not in index.memo:
        index.memo[key] = detect(index, lex)
    return index.memo[key]  # type: ignore[no-any-return]


def _labelled(text: str, lex: Lexicon) -> bool:
    """Whether ``text`` opens with a column's label ("Opinion:", "EDITORIAL |")."""
    head = text.strip()[:40]
    for cue in lex.column_labels:
        match = found((cue,), head)
        if match and head.casefold().startswith(match[0].casefold()):
            rest = head[len(match[0]) :].lstrip()
            if not rest or rest[0] in ":|—–-·\n" or text.strip() == match[0]:
                return True
    return False


def _ids(ids: list[int]) -> str:
    shown = ", ".join(f"S{n}" for n in ids[:6])
    return shown + (f" and {len(ids) - 6} more" if len(ids) > 6 else "")


def as_the_authors(
    statements: list[Statement], lex: Lexicon, where: str, index: SentenceIndex | None = None
) -> tuple[list[Statement], list[str]]:
    """``statements`` of a likely opinion piece, each in the author's voice (no
    attribution, no one's report) said to be the author's, with a warning for each:
    a verdict or an ought as the author argues it, any other statement as the author
    writes it (a columnist's facts are the columnist's, not the outlet's reporting). A
    verdict is the statement's own, or, with ``index``, that of a sentence it cites
    where the author speaks ("I think", a verdict or an ought outside quotation marks)."""
    argues = lex.author_argues[0] if lex.author_argues else "The author argues: "
    writes = lex.author_writes[0] if lex.author_writes else "The author writes: "
    out: list[Statement] = []
    warnings: list[str] = []
    for number, statement in enumerate(statements, start=1):
        attributed = found(lex.outlet, statement.text) or found(lex.reporting, statement.text)
        if attributed or statement.text.startswith((argues.strip(), writes.strip())):
            out.append(statement)
            continue
        own = own_voice(statement.text)
        verdict = found(lex.verdicts, own) or found(lex.normative, own) or found(lex.loaded, own)
        if not verdict and index is not None:
            verdict = _cited_verdict(statement, index, lex)
        prefix = argues if verdict else writes
        out.append(statement.model_copy(update={"text": prefix + statement.text}))
        warnings.append(
            f"{where} {number}: a verdict of a likely opinion piece ({verdict[0]!r}), "
            "given as the author's"
            if verdict
            else f"{where} {number}: stated in a likely opinion piece, attributed to its author"
        )
    return out, warnings


def _cited_verdict(statement: Statement, index: SentenceIndex, lex: Lexicon) -> list[str]:
    """The author's verdict in a sentence ``statement`` cites: a verdict, an ought or
    the first person, in the sentence's own voice, where it reports no one's words."""
    for evidence in statement.evidence:
        sentence = index.get(evidence.sentence) if evidence.sentence else None
        if sentence is None:
            continue
        own = own_voice(index.original(sentence))
        if found(lex.reporting, own) or found(lex.claiming, own):
            continue
        verdict = found(lex.verdicts, own) or found(lex.normative, own)
        verdict = verdict or found(lex.first_person, own)
        if verdict:
            return verdict
    return []
