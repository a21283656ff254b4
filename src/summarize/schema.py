"""The typed output: what the caller receives, and the draft the model is asked for.

The model fills a ``DraftBrief`` (quotes as plain strings). The library grounds each
quote in the article and returns an ``ArticleSummary`` whose ``Evidence`` carries
character offsets computed by the library, never by the model.
"""

from __future__ import annotations

import copy
import functools
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "2"

ContestedKind = Literal["disputed", "one_sided", "opinion", "inconsistent"]

_KIND_HELP = (
    "disputed: a party named in the article denies or contradicts the claim; "
    "one_sided: asserted by one party only and not independently confirmed in the article; "
    "opinion: commentary or analysis by the outlet or a quoted expert, presented as such; "
    "inconsistent: the article itself states contradicting things."
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Draft(BaseModel):
    # Weak models add stray keys; ignoring them beats spending a re-ask on them.
    model_config = ConfigDict(extra="ignore")


class Usage(_Model):
    """Tokens and requests spent, summed over every attempt, retries included."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = Field(0, description="HTTP requests sent, failed ones included.")
    attempts: int = Field(0, description="Model answers received and validated (1 + re-asks).")
    loops_cut: int = Field(
        0, description="Streamed answers stopped early because they repeated themselves."
    )

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            requests=self.requests + other.requests,
            attempts=self.attempts + other.attempts,
            loops_cut=self.loops_cut + other.loops_cut,
        )


class Evidence(_Model):
    """A verbatim quote from the article; ``text[start:end] == quote`` always holds."""

    quote: str
    start: int = Field(ge=0, description="Character offset of the quote in the input text.")
    end: int = Field(ge=0, description="Character offset just past the quote.")


class ContestedPoint(_Model):
    """A claim that someone disputes, that only one side asserts, or that is opinion."""

    claim: str = Field(description="Neutral statement of what is contested.")
    kind: ContestedKind = Field(description=_KIND_HELP)
    asserted_by: list[str] = Field(default_factory=list)
    disputed_by: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)

    def shifted(self, offset: int) -> ContestedPoint:
        """The point with its evidence offsets moved by ``offset`` (a part's start)."""
        evidence = [
            Evidence(quote=e.quote, start=e.start + offset, end=e.end + offset)
            for e in self.evidence
        ]
        return self.model_copy(update={"evidence": evidence})


class Meta(_Model):
    """How the brief was made."""

    model: str
    prompt_version: str
    schema_version: str = SCHEMA_VERSION
    structured_output: str = Field(
        "", description="Structured-output mode that produced the answer."
    )
    usage: Usage = Field(default_factory=Usage)
    warnings: list[str] = Field(
        default_factory=list, description="Everything dropped or repaired, in order."
    )
    chunks: int = Field(1, description="Parts the article was split into (1: it fitted).")
    map_requests: int = Field(0, description="HTTP requests spent on the parts (map step).")
    reduce_requests: int = Field(0, description="HTTP requests spent merging the parts.")
    depth: int = Field(
        0, description="Merge levels: 0 for one call, 1 for map then reduce, more if collapsed."
    )
    coverage: float = Field(
        1.0, ge=0, le=1, description="Share of the parts that contributed to the result."
    )
    title: str | None = Field(None, description="The article's title, when read from a page.")
    url: str | None = Field(None, description="Where the article was read from, if a URL.")


class ArticleSummary(_Model):
    """A neutral, grounded brief of one article."""

    summary: str
    key_points: list[str] = Field(default_factory=list)
    contested_points: list[ContestedPoint] = Field(default_factory=list)
    language: str = Field(description="BCP-47 tag of the article's language.")
    meta: Meta

    def ungrounded(self, text: str) -> list[Evidence]:
        """Return every evidence item whose offsets do not reproduce its quote in ``text``."""
        return [
            ev
            for point in self.contested_points
            for ev in point.evidence
            if text[ev.start : ev.end] != ev.quote
        ]


# --- what the model is asked to produce -------------------------------------------


class _DraftClaim(_Draft):
    claim: str = Field(
        max_length=400,
        description="Neutral, attributed statement of what is contested: who claims what, "
        "and who denies it.",
    )
    kind: ContestedKind = Field(description=_KIND_HELP)
    asserted_by: list[str] = Field(
        max_length=5, description="Who asserts the claim, as named in the article."
    )
    disputed_by: list[str] = Field(
        max_length=5,
        description="Who denies or contradicts it, as named in the article; [] if nobody.",
    )


class DraftPoint(_DraftClaim):
    """One contested point as the model writes it."""

    quotes: list[str] = Field(
        max_length=3,
        description="1-3 short passages copied character for character from the article "
        "that show the claim and, if any, the dispute.",
    )


class DraftBrief(_Draft):
    """The brief as the model writes it."""

    language: str = Field(
        max_length=20, description="Language code of the article: en, de, ru, zh, pt-BR ..."
    )
    summary: str = Field(
        max_length=2000,
        description="Neutral summary in 3-6 sentences. Attribute every claim to its source "
        "('X said', 'Y reported', 'Z denied'); keep loaded words inside quotation marks; "
        "mark the outlet's own commentary or analysis as such.",
    )
    key_points: list[str] = Field(max_length=8, description="3-7 short, attributed key facts.")
    contested_points: list[DraftPoint] = Field(
        max_length=8, description="Contested points; [] when the article contains none."
    )


class DraftMergedPoint(_DraftClaim):
    """A contested point of the whole article, made from points found in its parts."""

    sources: list[str] = Field(
        max_length=64,
        description="Ids of the part points (P1, P2, ...) that state this same claim; "
        "every id at most once in the whole answer.",
    )


class DraftMerge(_Draft):
    """One brief made from the briefs of an article's parts."""

    language: str = Field(
        max_length=20, description="Language code of the article: en, de, ru, zh, pt-BR ..."
    )
    summary: str = Field(
        max_length=3000,
        description="Neutral summary of the whole article in 4-8 sentences, built only from "
        "the part briefs. Attribute every claim; keep loaded words inside quotation marks.",
    )
    key_points: list[str] = Field(
        max_length=10, description="3-8 short, attributed key facts of the whole article."
    )
    contested_points: list[DraftMergedPoint] = Field(
        max_length=64,
        description="The contested points, with the same claim from several parts merged "
        "into one; [] when the parts list none.",
    )


_ITEM_LIMITS = ("maxItems", "minItems")
# String lengths are checked by pydantic only: llama.cpp expands maxLength into a
# grammar rule per character, and a 2,000-character limit crashes its server.
_LENGTH_LIMITS = ("maxLength", "minLength")


def strict_json_schema(model: type[BaseModel], *, limits: bool = False) -> dict[str, Any]:
    """Return the JSON schema of ``model`` inside OpenAI's strict structured-output subset.

    Every property is required, every object has ``additionalProperties: false``, and
    defaults and titles are removed. List limits (``maxItems``) are kept only with
    ``limits=True``: grammar-constrained servers such as llama.cpp use them to stop a
    weak model's runaway lists; strict mode does not need them.
    """
    schema = copy.deepcopy(model.model_json_schema())

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            node.pop("title", None)
            node.pop("default", None)
            for keyword in _LENGTH_LIMITS + (() if limits else _ITEM_LIMITS):
                node.pop(keyword, None)
            if node.get("type") == "object" and "properties" in node:
                node["required"] = list(node["properties"])
                node["additionalProperties"] = False
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(schema)
    return schema


# --- comparing sources ----------------------------------------------------------------


@functools.cache
def schema_pair(model: type[BaseModel]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The strict schema and the one with list limits; built once, never mutated."""
    return strict_json_schema(model), strict_json_schema(model, limits=True)


class SourceQuote(_Model):
    """A verbatim quote from one source: ``texts[source][start:end] == quote``."""

    source: str = Field(description="Name of the source the quote is from.")
    quote: str
    start: int = Field(ge=0, description="Character offset in that source's text.")
    end: int = Field(ge=0)


class Agreement(_Model):
    """A fact that two or more sources report consistently."""

    fact: str
    sources: list[str] = Field(description="The sources that report it.")
    evidence: list[SourceQuote] = Field(description="A supporting quote from each of them.")


class SourceVersion(_Model):
    """One source's version of a fact in conflict."""

    source: str
    claim: str
    evidence: list[SourceQuote]


class Conflict(_Model):
    """A fact the sources state differently; each side with its own quotes."""

    topic: str = Field(description="What is in conflict, neutrally stated.")
    versions: list[SourceVersion] = Field(description="Each source's version, two or more.")


class UniqueClaim(_Model):
    """A claim only one of the sources makes."""

    source: str
    claim: str
    evidence: list[SourceQuote]


class Framing(_Model):
    """How one source frames the story."""

    source: str
    voices: list[str] = Field(default_factory=list, description="Whose voices it quotes.")
    loaded_terms: list[SourceQuote] = Field(
        default_factory=list, description="Words that carry a judgement, as the source uses them."
    )
    commentary: list[SourceQuote] = Field(
        default_factory=list, description="Passages of commentary presented as analysis."
    )


class Comparison(_Model):
    """Several reports of one story, compared: a neutral joint account and the differences."""

    summary: str
    agreements: list[Agreement] = Field(default_factory=list)
    conflicts: list[Conflict] = Field(default_factory=list)
    unique_claims: list[UniqueClaim] = Field(default_factory=list)
    framing: list[Framing] = Field(default_factory=list)
    sources: dict[str, ArticleSummary] = Field(
        description="Each source's own brief, by source name, in the order given."
    )
    meta: Meta

    def ungrounded(self, texts: dict[str, str]) -> list[SourceQuote]:
        """Every quote whose offsets do not reproduce it in its source's text."""
        quotes = [q for a in self.agreements for q in a.evidence]
        quotes += [q for c in self.conflicts for v in c.versions for q in v.evidence]
        quotes += [q for u in self.unique_claims for q in u.evidence]
        quotes += [q for f in self.framing for q in (*f.loaded_terms, *f.commentary)]
        return [q for q in quotes if texts.get(q.source, "")[q.start : q.end] != q.quote]


class _DraftSourceQuote(_Draft):
    source: str = Field(max_length=200, description="Source name, exactly as given.")
    quote: str = Field(max_length=600, description="Copied character for character.")


class _DraftAgreement(_Draft):
    fact: str = Field(max_length=400)
    quotes: list[_DraftSourceQuote] = Field(
        max_length=6, description="One supporting quote from each source that reports it."
    )


class _DraftVersion(_Draft):
    source: str = Field(max_length=200)
    claim: str = Field(max_length=400, description="This source's version, attributed.")
    quotes: list[str] = Field(max_length=3, description="Quotes from this source only.")


class _DraftConflict(_Draft):
    topic: str = Field(max_length=300, description="What is in conflict, neutrally.")
    versions: list[_DraftVersion] = Field(max_length=6)


class _DraftUnique(_Draft):
    source: str = Field(max_length=200)
    claim: str = Field(max_length=400)
    quotes: list[str] = Field(max_length=3)


class _DraftFraming(_Draft):
    source: str = Field(max_length=200)
    voices: list[str] = Field(max_length=10, description="People or bodies it quotes.")
    loaded_terms: list[str] = Field(
        max_length=10, description="Judgement-laden words or phrases, copied from the source."
    )
    commentary: list[str] = Field(
        max_length=5, description="Passages of the outlet's own analysis, copied verbatim."
    )


class DraftComparison(_Draft):
    """The comparison as the model writes it."""

    summary: str = Field(
        max_length=3000,
        description="Neutral joint account of the story in 3-6 sentences, saying where the "
        "sources differ without deciding who is right.",
    )
    agreements: list[_DraftAgreement] = Field(max_length=10)
    conflicts: list[_DraftConflict] = Field(
        max_length=10, description="Facts the sources state differently (numbers, dates, who)."
    )
    unique_claims: list[_DraftUnique] = Field(max_length=12)
    framing: list[_DraftFraming] = Field(max_length=6, description="One entry per source.")
