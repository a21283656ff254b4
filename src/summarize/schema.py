"""The typed output: what the caller receives, and the draft the model is asked for.

The model fills a ``DraftBrief`` (quotes as plain strings). The library grounds each
quote in the article and returns an ``ArticleSummary`` whose ``Evidence`` carries
character offsets computed by the library, never by the model.
"""

from __future__ import annotations

import copy
import functools
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = "3"

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
    sentence: int | None = Field(
        None, description="The id of the article sentence it is from (12 for S12)."
    )


class Statement(_Model):
    """A sentence of the summary, or a key point, with the article text it rests on."""

    text: str
    evidence: list[Evidence] = Field(
        default_factory=list,
        description="The cited sentences (or a quote inside them); [] only when the model "
        "cited none that exist, which meta.warnings says.",
    )

    def cited(self) -> str:
        """The text with the ids of the sentences it cites: ``text [S3, S4]``."""
        ids = [f"S{e.sentence}" for e in self.evidence if e.sentence is not None]
        return f"{self.text} [{', '.join(ids)}]" if ids else self.text


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
    traceability: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Share of the summary sentences, key points and contested points that "
        "carry evidence.",
    )
    title: str | None = Field(None, description="The article's title, when read from a page.")
    url: str | None = Field(None, description="Where the article was read from, if a URL.")


class ArticleSummary(_Model):
    """A neutral, grounded brief of one article."""

    summary: str = Field(description="The summary sentences, joined.")
    summary_sentences: list[Statement] = Field(default_factory=list)
    key_points: list[Statement] = Field(default_factory=list)
    contested_points: list[ContestedPoint] = Field(default_factory=list)
    language: str = Field(description="BCP-47 tag of the article's language.")
    meta: Meta

    def evidence(self) -> list[Evidence]:
        """Every evidence item of the brief: summary sentences, key points, points."""
        items = [e for s in [*self.summary_sentences, *self.key_points] for e in s.evidence]
        return items + [e for point in self.contested_points for e in point.evidence]

    def ungrounded(self, text: str) -> list[Evidence]:
        """Return every evidence item whose offsets do not reproduce its quote in ``text``."""
        return [ev for ev in self.evidence() if text[ev.start : ev.end] != ev.quote]


# --- what the model is asked to produce -------------------------------------------


_REFS_HELP = "1-3 ids of the article sentences this rests on: 12 for the sentence marked [S12]."


def _as_refs(value: Any) -> Any:
    """Ids as weak models write them: 12, "12", "S12", "[S12]", "S3, S4" -> [12, ...]."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    refs: list[Any] = []
    for item in items:
        if isinstance(item, str):
            found = re.findall(r"\d+", item)
            refs += [int(n) for n in found] if found else [0]
        else:
            refs.append(item)
    return refs


class DraftStatement(_Draft):
    """A summary sentence or key point as the model writes it."""

    text: str = Field(description="One sentence, neutral and attributed.")
    refs: list[int] = Field(description=_REFS_HELP, json_schema_extra={"maxItems": 3})

    @model_validator(mode="before")
    @classmethod
    def _lenient(cls, data: Any) -> Any:
        if isinstance(data, str):  # a bare sentence: no refs (a re-ask problem)
            return {"text": data, "refs": []}
        if isinstance(data, dict):
            data = {**data, "refs": _as_refs(data.get("refs"))}
        return data


def _statements(value: Any) -> Any:
    """A summary written as one string becomes one statement without refs."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    return value


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

    refs: list[int] = Field(
        description="1-3 ids of the sentences that show the claim and, if any, the dispute: "
        "12 for [S12].",
        json_schema_extra={"maxItems": 3},
    )
    quote: str = Field(
        description="Optional: the exact words of the claim, copied from one cited "
        'sentence; "" for none.'
    )

    @model_validator(mode="before")
    @classmethod
    def _lenient(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {**data, "refs": _as_refs(data.get("refs"))}
            data.setdefault("quote", "")
            if data["quote"] is None:
                data["quote"] = ""
        return data


class DraftBrief(_Draft):
    """The brief as the model writes it."""

    language: str = Field(
        max_length=20, description="Language code of the article: en, de, ru, zh, pt-BR ..."
    )
    summary: list[DraftStatement] = Field(
        max_length=8,
        description="Neutral summary in 3-6 sentences, one object each. Attribute every "
        "claim to its source ('X said', 'Y reported', 'Z denied'); keep loaded words inside "
        "quotation marks; mark the outlet's own commentary or analysis as such.",
    )
    key_points: list[DraftStatement] = Field(
        max_length=8, description="3-7 short, attributed key facts."
    )
    contested_points: list[DraftPoint] = Field(
        max_length=8, description="Contested points; [] when the article contains none."
    )

    _summary = field_validator("summary", mode="before")(_statements)


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
    summary: list[DraftStatement] = Field(
        max_length=10,
        description="Neutral summary of the whole article in 4-8 sentences, built only from "
        "the part briefs, each citing the sentence ids the briefs give. Attribute every "
        "claim; keep loaded words inside quotation marks.",
    )
    key_points: list[DraftStatement] = Field(
        max_length=10, description="3-8 short, attributed key facts of the whole article."
    )
    contested_points: list[DraftMergedPoint] = Field(
        max_length=64,
        description="The contested points, with the same claim from several parts merged "
        "into one; [] when the parts list none.",
    )

    _summary = field_validator("summary", mode="before")(_statements)


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


def ranged_schema(model: type[BaseModel], ids: range | int) -> dict[str, Any]:
    """The bounded schema with every ``refs`` item limited to the sentence ids ``ids``
    (``n``: S1-Sn), so a grammar-constrained server cannot cite a sentence that does
    not exist. Only for such servers: the strict schema stays the same per article."""
    ids = range(1, ids + 1) if isinstance(ids, int) else ids
    schema = copy.deepcopy(schema_pair(model)[1])

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            refs = node.get("properties", {}).get("refs")
            if isinstance(refs, dict):
                refs["items"] = {"type": "integer", "minimum": ids.start, "maximum": ids.stop - 1}
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(schema)
    return schema


class SourceQuote(_Model):
    """A verbatim quote from one source: ``texts[source][start:end] == quote``."""

    source: str = Field(description="Name of the source the quote is from.")
    quote: str
    start: int = Field(ge=0, description="Character offset in that source's text.")
    end: int = Field(ge=0)
    sentence: int | None = Field(None, description="The id of that source's sentence.")


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


class _Cites(_Draft):
    """A draft item that cites sentence ids, read leniently (``"S3"``, ``"[S3]"``)."""

    @model_validator(mode="before")
    @classmethod
    def _lenient(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("refs", "commentary"):
                if key in data and key in cls.model_fields:
                    data[key] = _as_refs(data[key])
        return data


_SOURCE_REFS = "1-3 ids of that source's sentences: 3 for its [S3]."


class _DraftSourceQuote(_Cites):
    source: str = Field(max_length=200, description="Source name, exactly as given.")
    refs: list[int] = Field(description=_SOURCE_REFS, json_schema_extra={"maxItems": 3})


class _DraftAgreement(_Draft):
    fact: str = Field(max_length=400)
    quotes: list[_DraftSourceQuote] = Field(
        max_length=6, description="The supporting sentences of each source that reports it."
    )


class _DraftVersion(_Cites):
    source: str = Field(max_length=200)
    claim: str = Field(max_length=400, description="This source's version, attributed.")
    refs: list[int] = Field(description=_SOURCE_REFS, json_schema_extra={"maxItems": 3})


class _DraftConflict(_Draft):
    topic: str = Field(max_length=300, description="What is in conflict, neutrally.")
    versions: list[_DraftVersion] = Field(max_length=6)


class _DraftUnique(_Cites):
    source: str = Field(max_length=200)
    claim: str = Field(max_length=400)
    refs: list[int] = Field(description=_SOURCE_REFS, json_schema_extra={"maxItems": 3})


class _DraftFraming(_Cites):
    source: str = Field(max_length=200)
    voices: list[str] = Field(max_length=10, description="People or bodies it quotes.")
    loaded_terms: list[str] = Field(
        max_length=10, description="Judgement-laden words or phrases, copied from the source."
    )
    commentary: list[int] = Field(
        max_length=5, description="Ids of that source's sentences of the outlet's own analysis."
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
