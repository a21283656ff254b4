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

A merge cites the ids of part points (P1, P2, ...): ``merge_points`` makes its points
from the evidence already grounded in the parts, never re-quoted. A comparison cites
each source's own sentences: ``SourceCitations`` resolves every citation in the source
it is credited to, so evidence can never be credited to the wrong source.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from summarize.answer.neutrality import Voiced
from summarize.answer.repairs import clean_links
from summarize.request.drafts import (
    DraftComparison,
    DraftMerge,
    DraftMergedPoint,
    DraftPoint,
    DraftStatement,
)
from summarize.schema import (
    Agreement,
    Conflict,
    ContestedPoint,
    Evidence,
    Framing,
    SourceQuote,
    SourceVersion,
    Statement,
    UniqueClaim,
)
from summarize.text.grounding import QuoteLocator
from summarize.text.sentences import SentenceIndex, strip_ids

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


@functools.lru_cache(maxsize=4096)
def content_words(text: str) -> frozenset[str]:
    """The words that carry content, folded: lower case, stems of five letters.
    Remembered: the same sentences are compared with every statement that cites them."""
    words: set[str] = set()
    folded = text.casefold()
    for run in _CJK.findall(folded):
        words.update(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    for token in _TOKEN.findall(_CJK.sub(" ", folded)):
        if token.isdigit() or (len(token) >= 3 and token not in _STOP):
            words.add(token[:5])
    return frozenset(words)


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
        elif check_support:
            evidence = supported(text, evidence, index, allowed, name, citations)
        statements.append(Statement(text=text, evidence=evidence))
    return statements


def cite_points(
    items: Sequence[DraftPoint],
    index: SentenceIndex,
    citations: Citations,
    *,
    allowed: range | None = None,
    check_support: bool = True,
    recite: bool = True,
) -> list[ContestedPoint]:
    """Contested points with evidence from their refs (and quote); dropped without. A
    point whose cited sentences do not say it is re-cited (``supported``), unless
    ``recite`` is off (the disputes follow-up re-cites among the sentences it named)."""
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
        if check_support:
            name = f"contested point {number + 1}"
            evidence = supported(item.claim, evidence, index, allowed, name, citations,
                                 recite=recite)  # fmt: skip
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


def supported(
    text: str,
    evidence: list[Evidence],
    index: SentenceIndex,
    allowed: range | None,
    name: str,
    citations: Citations,
    *,
    recite: bool = True,
) -> list[Evidence]:
    """``evidence``, or, when it shares no content word with ``text`` (a model's id one
    off: "Big Machine denied doing anything wrong" citing the quote after the denial),
    the sentence that holds most of ``text``'s words, re-cited with a warning; kept
    with a warning when no sentence clearly does, or ``recite`` is off."""
    if not unsupported(text, evidence):
        return evidence
    cited = ", ".join(f"S{e.sentence}" for e in evidence)
    why = f"{cited} does not say it"
    found = _recited(text, index, allowed, name, why, citations) if recite else []
    if not found:
        citations.warnings.append(_unsupported(name, evidence, text))
    return found or evidence


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
    if sum(score == best for score, _ in scored) > 1:
        return []  # two sentences hold as many: neither clearly
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


def _unsupported(name: str, evidence: Sequence[Evidence], text: str) -> str:
    cited = ", ".join(f"S{e.sentence}" for e in evidence)
    return (
        f"{name}: cited but unsupported? {cited} share(s) no content word with it: {_clip(text)!r}"
    )


def _clip(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- a merge: points cited by the ids of part points -----------------------------

_POINT_ID = re.compile(r"^\s*\[?P(\d+)\]?\s*$", re.IGNORECASE)


def _union(*lists: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for items in lists:
        for item in items:
            if item.strip() and item.strip().casefold() not in {s.casefold() for s in seen}:
                seen[item.strip()] = None
    return list(seen)


def merge_points(
    draft: DraftMerge, ids: dict[str, ContestedPoint], hidden: frozenset[str] = frozenset()
) -> tuple[list[ContestedPoint], list[str], list[str]]:
    """Merged points from the reducer's answer, with problems (for a re-ask) and warnings.

    Returns ``(points, problems, warnings)``. Points the answer leaves out, and the
    ``hidden`` ones the prompt had no room for, are appended unchanged; an id used
    twice counts for its first point only.
    """
    points: list[ContestedPoint] = []
    problems: list[str] = []
    used: set[str] = set()
    for number, merged in enumerate(draft.contested_points):
        names: list[str] = []
        for raw in merged.sources:
            match = _POINT_ID.match(raw)
            name = f"P{int(match.group(1))}" if match else raw
            if name not in ids or name in hidden:
                problems.append(
                    f"contested_points.{number}.sources: {raw!r} is not one of the ids "
                    f"P1-P{len(ids)}"
                    if ids
                    else f"contested_points.{number}: there are no "
                    "part points to merge; answer with an empty contested_points list"
                )
            elif name not in used:
                used.add(name)
                names.append(name)
        if not names:
            if not merged.sources:
                problems.append(f"contested_points.{number}.sources: list the ids it merges")
            continue
        points.append(_merged_point(merged, [ids[name] for name in names]))
    warnings = []
    if hidden:
        warnings.append(
            f"{len(hidden)} contested point(s) were kept as found in their parts, unmerged: "
            "the merge request had no room to list them"
        )
    for name, point in ids.items():
        if name in hidden:
            points.append(point)
        elif name not in used:
            points.append(point)
            warnings.append(
                f"the merge step left out contested point {name} ({point.claim[:60]!r}); "
                "kept as found in its part"
            )
    return points, problems, warnings


def _merged_point(merged: DraftMergedPoint, originals: list[ContestedPoint]) -> ContestedPoint:
    """A merged point: the reducer's wording, the union of its originals' parties and
    their already grounded evidence (never re-quoted)."""
    evidence: dict[tuple[int, int], Evidence] = {}
    for original in originals:
        for item in original.evidence:
            evidence.setdefault((item.start, item.end), item)
    return ContestedPoint(
        claim=merged.claim.strip() or originals[0].claim,
        kind=merged.kind,
        asserted_by=_union(merged.asserted_by, *(o.asserted_by for o in originals)),
        disputed_by=_union(merged.disputed_by, *(o.disputed_by for o in originals)),
        evidence=sorted(evidence.values(), key=lambda e: (e.start, e.end)),
    )


# --- a comparison: each citation in its own source ---------------------------------


@dataclass
class SourceCitations:
    """Resolves a comparison's citations, each in the source it is credited to: an id
    of another source's sentence cannot be evidence. ``problems`` are re-asked,
    ``warnings`` kept."""

    indexes: dict[str, SentenceIndex]
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def comparison(self, draft: DraftComparison) -> dict[str, Any]:
        """Every field of the comparison, grounded in its sources."""
        all_text = "".join(index.text for index in self.indexes.values())
        return {
            "summary": clean_links(draft.summary, all_text, "summary", self.warnings).strip(),
            "agreements": self.agreements(draft),
            "conflicts": self.conflicts(draft),
            "unique_claims": self.unique_claims(draft),
            "framing": self.framing(draft),
        }

    @staticmethod
    def voiced(grounded: dict[str, Any]) -> list[Voiced]:
        """What a comparison says in its own voice, with the ids it cites in each source."""

        def cites(evidence: Sequence[SourceQuote]) -> dict[str, tuple[int, ...]]:
            out: dict[str, list[int]] = {}
            for e in evidence:
                if e.sentence is not None:
                    out.setdefault(e.source, []).append(e.sentence)
            return {name: tuple(ids) for name, ids in out.items()}

        said = [Voiced("summary", grounded["summary"], {})]
        said += [
            Voiced(f"agreement {n}", a.fact, cites(a.evidence))
            for n, a in enumerate(grounded["agreements"], start=1)
        ]
        said += [
            Voiced(
                f"conflict {n} topic", c.topic, cites([e for v in c.versions for e in v.evidence])
            )
            for n, c in enumerate(grounded["conflicts"], start=1)
        ]
        return said

    def source_of(self, raw: str, where: str) -> str | None:
        by_key = {name.casefold(): name for name in self.indexes}
        name = by_key.get(raw.strip().casefold())
        if name is None:
            self.problems.append(f"{where}: {raw!r} is not one of the sources {list(self.indexes)}")
        return name

    def cite(self, source: str, refs: list[int], where: str) -> list[SourceQuote]:
        evidence, problems, _ = self.indexes[source].evidence(refs)
        for problem in problems:
            self.problems.append(f"{where}.refs: {problem} of {source}")
            self.warnings.append(f"{where}: dropped a citation of {source}: {problem}")
        return [
            SourceQuote(source=source, quote=e.quote, start=e.start, end=e.end, sentence=e.sentence)
            for e in evidence
        ]

    def ground(self, source: str, quote: str, where: str) -> SourceQuote | None:
        index = self.indexes[source]
        hit = QuoteLocator(index.text).locate(strip_ids(quote))
        if hit is None:
            self.problems.append(
                f"{where}: this quote is not in {source}'s report: {quote[:150]!r}"
            )
            self.warnings.append(f"{where}: dropped a quote not found in {source}: {quote[:80]!r}")
            return None
        return SourceQuote(
            source=source, quote=index.text[hit.start : hit.end], start=hit.start, end=hit.end
        )

    def agreements(self, draft: DraftComparison) -> list[Agreement]:
        kept = []
        for i, agreement in enumerate(draft.agreements):
            evidence: list[SourceQuote] = []
            for q in agreement.quotes:
                name = self.source_of(q.source, f"agreements.{i}")
                if name is not None:
                    evidence += self.cite(name, q.refs, f"agreements.{i}")
            if len({e.source for e in evidence}) < 2:
                self.warnings.append(
                    f"agreements.{i}: dropped, no evidence from two sources: "
                    f"{agreement.fact[:80]!r}"
                )
                continue
            sources = list(dict.fromkeys(e.source for e in evidence))  # each source once
            kept.append(Agreement(fact=agreement.fact, sources=sources, evidence=evidence))
        return kept

    def conflicts(self, draft: DraftComparison) -> list[Conflict]:
        kept = []
        for i, conflict in enumerate(draft.conflicts):
            versions = []
            for version in conflict.versions:
                name = self.source_of(version.source, f"conflicts.{i}")
                if name is None:
                    continue
                evidence = self.cite(name, version.refs, f"conflicts.{i}")
                if evidence:
                    versions.append(
                        SourceVersion(source=name, claim=version.claim, evidence=evidence)
                    )
            if len({v.source for v in versions}) < 2:
                self.warnings.append(
                    f"conflicts.{i}: dropped, left without evidence on two sides: "
                    f"{conflict.topic[:80]!r}"
                )
                continue
            kept.append(Conflict(topic=conflict.topic, versions=versions))
        return kept

    def unique_claims(self, draft: DraftComparison) -> list[UniqueClaim]:
        kept = []
        for i, claim in enumerate(draft.unique_claims):
            name = self.source_of(claim.source, f"unique_claims.{i}")
            if name is None:
                continue
            evidence = self.cite(name, claim.refs, f"unique_claims.{i}")
            if not evidence:
                self.warnings.append(
                    f"unique_claims.{i}: dropped, no evidence: {claim.claim[:80]!r}"
                )
                continue
            kept.append(UniqueClaim(source=name, claim=claim.claim, evidence=evidence))
        return kept

    def framing(self, draft: DraftComparison) -> list[Framing]:
        kept = []
        for i, item in enumerate(draft.framing):
            name = self.source_of(item.source, f"framing.{i}")
            if name is None:
                continue
            where = f"framing.{i}.loaded_terms"
            terms = [e for q in item.loaded_terms if (e := self.ground(name, q, where))]
            notes = self.cite(name, item.commentary, f"framing.{i}.commentary")
            voices = [v.strip() for v in item.voices if v.strip()]
            kept.append(Framing(source=name, voices=voices, loaded_terms=terms, commentary=notes))
        return kept
