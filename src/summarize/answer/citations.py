"""A draft's citations resolved into evidence, and checked.

Every summary sentence, key point and contested point of a draft cites sentence ids
(``refs``). ``cite_statements`` and ``cite_points`` resolve them through the article's
``SentenceIndex``: an id that is not a sentence (of the article, or of the part being
briefed) and a statement citing nothing are re-ask problems, and a warning when the
answer is kept anyway. A contested point without evidence is dropped, with a
warning; a summary sentence or key point without evidence is kept and counted
(``meta.traceability``). Nothing ungrounded is returned silently.

``unsupported`` is the misattribution check: a statement whose cited sentences share
no content word with it (stop words aside) is cited but probably not supported.
Deterministic, no model call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from summarize.request.drafts import DraftPoint, DraftStatement
from summarize.schema import ContestedPoint, Evidence, Statement
from summarize.text.sentences import SentenceIndex

_TOKEN = re.compile(r"\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
# Function words of the languages the samples are in; a content word is anything else
# of three letters or more (cut to five, a crude stem), any number, any CJK bigram.
_STOP_WORDS = {
    "en": "the and for that this with from was were are has have had not but its his her "
    "their they them she him who whom which what when where will would could should than "
    "then there also into onto over after before about said says such been being very more "
    "most",
    "de": "der die das und ein eine einer eines dem den des mit von für auf ist sind war "
    "wurde nicht auch sich als aus bei nach noch wie oder aber zum zur dass sie ihr ihre",
    "fr": "les des une est sont pour dans par sur avec pas que qui mais ses leur aux ont été",
    "es": "los las una por con para del que como pero sus fue son está han sobre entre",
    "ru": "для что как его это она они при был была были или так уже все её их также",
    "pt": "dos das uma com para não por mais como foi são pelo pela",
}
_STOP = frozenset(word for words in _STOP_WORDS.values() for word in words.split())


def content_words(text: str) -> set[str]:
    """The words that carry content, folded: lower case, stems of five letters."""
    words: set[str] = set()
    folded = text.casefold()
    for run in _CJK.findall(folded):
        words.update(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    for token in _TOKEN.findall(_CJK.sub(" ", folded)):
        if token.isdigit() or (len(token) >= 3 and token not in _STOP):
            words.add(token[:5])
    return words


MAX_REFS = 3
# A statement re-cited by its words shares at least this many content words, and most
# of its own, with the sentence.
MIN_SHARED = 3


def narrowed(text: str, evidence: list[Evidence]) -> list[Evidence]:
    """At most ``MAX_REFS`` of the cited sentences: those sharing most content words with
    the statement (earlier first on a tie), in article order. A statement citing the
    whole article is not traceable; this keeps what it most likely rests on."""
    if len(evidence) <= MAX_REFS:
        return evidence
    own = content_words(text)
    ranked = sorted(
        range(len(evidence)), key=lambda i: (-len(own & content_words(evidence[i].quote)), i)
    )
    return [evidence[i] for i in sorted(ranked[:MAX_REFS])]


def unsupported(text: str, evidence: Sequence[Evidence]) -> bool:
    """Whether cited evidence shares no content word with the statement citing it."""
    if not evidence:
        return False
    own = content_words(text)
    cited = set().union(*(content_words(e.quote) for e in evidence))
    return bool(own) and not own & cited


@dataclass
class Citations:
    """What resolving a draft's refs yielded: problems to re-ask, warnings to keep."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def cite_statements(
    items: Sequence[DraftStatement],
    where: str,
    index: SentenceIndex,
    citations: Citations,
    *,
    allowed: range | None = None,
    check_support: bool = True,
) -> list[Statement]:
    """Statements with evidence from their refs (kept without, when they cite nothing
    that exists)."""
    label = "summary sentence" if where == "summary" else "key point"
    statements = []
    for number, item in enumerate(items):
        text = item.text.strip()
        if not text:
            continue
        evidence, problems, repairs = index.evidence(item.refs, allowed=allowed)
        citations.problems += [f"{where}.{number}.refs: {p}" for p in problems]
        citations.warnings += [f"{label} {number + 1}: {r}" for r in repairs]
        evidence = _at_most_three(text, evidence, f"{label} {number + 1}", citations)
        name = f"{label} {number + 1}"
        if check_support:
            evidence = _pruned(text, evidence, name, citations)
        if not evidence:
            citations.problems.append(
                f"{where}.{number}.refs: cite the 1-3 sentence ids [S..] it rests on"
            )
            evidence = _recited(text, index, allowed, name, "it cites no sentence", citations)
            if not evidence:
                citations.warnings.append(
                    f"{name}: kept without evidence, it cites no sentence of the "
                    f"article: {_clip(text)!r}"
                )
        elif check_support and unsupported(text, evidence):
            cited = ", ".join(f"S{e.sentence}" for e in evidence)
            found = _recited(text, index, allowed, name, f"{cited} does not say it", citations)
            if found:
                evidence = found
            else:
                citations.warnings.append(_unsupported(label, number, evidence, text))
        statements.append(Statement(text=text, evidence=evidence))
    return statements


def cite_points(
    items: Sequence[DraftPoint],
    index: SentenceIndex,
    citations: Citations,
    *,
    allowed: range | None = None,
    check_support: bool = True,
) -> list[ContestedPoint]:
    """Contested points with evidence from their refs (and quote); dropped without."""
    points = []
    for number, item in enumerate(items):
        evidence, problems, repairs = index.evidence(item.refs, item.quote, allowed)
        citations.problems += [f"contested_points.{number}.refs: {p}" for p in problems]
        citations.warnings += [f"contested point {number + 1}: {r}" for r in repairs]
        evidence = _at_most_three(item.claim, evidence, f"contested point {number + 1}", citations)
        if not evidence:
            citations.problems.append(
                f"contested_points.{number}.refs: cite the 1-3 sentence ids [S..] that show "
                "the claim"
            )
            words = f"{item.claim} {item.quote}"
            name = f"contested point {number + 1}"
            evidence = _recited(words, index, allowed, name, "it cites no sentence", citations)
        if not evidence:
            citations.warnings.append(
                f"contested point {number + 1}: dropped, it cites no sentence of the "
                f"article: {_clip(item.claim)!r}"
            )
            continue
        if check_support and unsupported(item.claim, evidence):
            citations.warnings.append(_unsupported("contested point", number, evidence, item.claim))
        points.append(
            ContestedPoint(
                claim=item.claim,
                kind=item.kind,
                asserted_by=item.asserted_by,
                disputed_by=item.disputed_by,
                evidence=evidence,
            )
        )
    return points


def _at_most_three(
    text: str, evidence: list[Evidence], label: str, citations: Citations
) -> list[Evidence]:
    """The evidence narrowed to the ``MAX_REFS`` sentences sharing most words with the
    statement: a repair said in a warning, not a re-ask (a whole answer again would
    cost more than the library's choice, which the warning shows)."""
    kept = narrowed(text, evidence)
    if len(kept) < len(evidence):
        ids = ", ".join(f"S{e.sentence}" for e in kept)
        citations.warnings.append(
            f"{label}: cited {len(evidence)} sentences; kept {ids}, those sharing most "
            "words with it"
        )
    return kept


def _pruned(text: str, evidence: list[Evidence], name: str, citations: Citations) -> list[Evidence]:
    """The cited sentences that share a content word with the statement, when some do
    and some do not (``[S1, S2, S3]`` written out of habit); all of them otherwise."""
    own = content_words(text)
    kept = [e for e in evidence if own & content_words(e.quote)]
    if not kept or len(kept) == len(evidence):
        return evidence
    dropped = ", ".join(f"S{e.sentence}" for e in evidence if e not in kept)
    citations.warnings.append(f"{name}: dropped {dropped} from its citations: no word in common")
    return kept


def _recited(
    text: str,
    index: SentenceIndex,
    allowed: range | None,
    name: str,
    why: str,
    citations: Citations,
) -> list[Evidence]:
    """The sentence a statement's own words come from, when the model's citation fails
    and one sentence clearly holds them: most of the statement's content words, and at
    least ``MIN_SHARED``. A repair, said in a warning; [] when no sentence is clear."""
    own = content_words(text)
    if len(own) < MIN_SHARED:
        return []
    candidates = index.sentences if allowed is None else [
        s for s in index.sentences if s.id in allowed
    ]  # fmt: skip
    scored = [(len(own & content_words(index.original(s))), s) for s in candidates]
    best, sentence = max(scored, key=lambda pair: pair[0], default=(0, None))
    if sentence is None or best < max(MIN_SHARED, len(own) / 2):
        return []
    evidence, _, _ = index.evidence([sentence.id])
    citations.warnings.append(
        f"{name}: re-cited S{sentence.id}, which holds {best} of its {len(own)} content "
        f"words ({why}): {_clip(text)!r}"
    )
    return evidence


def traceability(*groups: Sequence[Statement | ContestedPoint]) -> float:
    """The share of statements that carry evidence (1.0 for none at all)."""
    items = [item for group in groups for item in group]
    if not items:
        return 1.0
    return sum(1 for item in items if item.evidence) / len(items)


def _unsupported(label: str, number: int, evidence: Sequence[Evidence], text: str) -> str:
    cited = ", ".join(f"S{e.sentence}" for e in evidence)
    return (
        f"{label} {number + 1}: cited but unsupported? {cited} share(s) no content word "
        f"with it: {_clip(text)!r}"
    )


def _clip(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
