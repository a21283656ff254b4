"""The typed output: what the caller receives, and the draft the model is asked for.

The model fills a ``DraftBrief`` (quotes as plain strings). The library grounds each
quote in the article and returns an ``ArticleSummary`` whose ``Evidence`` carries
character offsets computed by the library, never by the model.
"""

from __future__ import annotations

import copy
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

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            requests=self.requests + other.requests,
            attempts=self.attempts + other.attempts,
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
