"""What the model is asked to fill: the drafts of a brief, a merge and a comparison,
and their JSON schemas.

Every statement cites sentence ids (``refs``); weak models' ways of writing them
(``"S3"``, ``"[S3]"``, a bare string for a statement) are read leniently, and what is
missing becomes a re-ask problem rather than a parse failure.
"""

from __future__ import annotations

import copy
import functools
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from summarize.request.caps import Cap, Fitting, chars
from summarize.schema import KIND_HELP, ContestedKind

# The sizes asked for (summarize.request.caps: longer is kept with a warning, runaway is cut)
STATEMENT_CHARS = 500
CLAIM_CHARS = 400
QUOTE_CHARS = 400
PARTIES = 5
BRIEF_ITEMS = 8
MERGE_ITEMS = 10


class _Draft(BaseModel):
    # Weak models add stray keys; ignoring them beats spending a re-ask on them.
    model_config = ConfigDict(extra="ignore")
    _fitting: Fitting | None = PrivateAttr(default=None)

    @property
    def fitting(self) -> Fitting:
        """What ``summarize.request.caps.fit`` found long or cut in the answer."""
        if self._fitting is None:
            self._fitting = Fitting()
        return self._fitting

    def fitted(self, fitting: Fitting) -> None:
        """Keep what fitting the answer found (``summarize.answer.repairs.parse_as``)."""
        self._fitting = fitting


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

    text: Annotated[str, Cap(STATEMENT_CHARS)] = Field(
        description=chars("One sentence, neutral and attributed.", STATEMENT_CHARS)
    )
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
    claim: Annotated[str, Cap(CLAIM_CHARS)] = Field(
        description=chars(
            "Neutral, attributed statement of what is contested: who claims what, "
            "and who denies it.",
            CLAIM_CHARS,
        ),
    )
    kind: ContestedKind = Field(description=KIND_HELP)
    asserted_by: Annotated[list[str], Cap(PARTIES)] = Field(
        json_schema_extra={"maxItems": PARTIES},
        description=f"Who asserts the claim, as named in the article; at most {PARTIES}.",
    )
    disputed_by: Annotated[list[str], Cap(PARTIES)] = Field(
        json_schema_extra={"maxItems": PARTIES},
        description="Who denies or contradicts it, as named in the article; [] if nobody; "
        f"at most {PARTIES}.",
    )

    @field_validator("asserted_by", "disputed_by", mode="before")
    @classmethod
    def _distinct(cls, names: Any) -> Any:
        """Without blanks and repeats (small models list a party twice over)."""
        if not isinstance(names, list):
            return names
        seen: dict[str, Any] = {}
        for name in names:
            tidy = " ".join(name.split()) if isinstance(name, str) else name
            key = tidy.casefold() if isinstance(tidy, str) else repr(tidy)
            if tidy != "" and key not in seen:
                seen[key] = tidy
        return list(seen.values())


class DraftPoint(_DraftClaim):
    """One contested point as the model writes it."""

    refs: list[int] = Field(
        description="1-3 ids of the sentences that show the claim and, if any, the dispute: "
        "12 for [S12].",
        json_schema_extra={"maxItems": 3},
    )
    quote: Annotated[str, Cap(QUOTE_CHARS)] = Field(
        description=chars(
            'Optional: the exact words of the claim, copied from one cited sentence; "" for none.',
            QUOTE_CHARS,
        )
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

    language: str = Field(description="Language code of the article: en, de, ru, zh, pt-BR ...")
    summary: Annotated[list[DraftStatement], Cap(BRIEF_ITEMS)] = Field(
        json_schema_extra={"maxItems": BRIEF_ITEMS},
        description="Neutral summary in 3-6 sentences, one object each. Attribute every "
        "claim to its source ('X said', 'Y reported', 'Z denied'); keep loaded words inside "
        "quotation marks; mark the outlet's own commentary or analysis as such.",
    )
    key_points: Annotated[list[DraftStatement], Cap(BRIEF_ITEMS)] = Field(
        json_schema_extra={"maxItems": BRIEF_ITEMS},
        description="3-7 short, attributed key facts.",
    )
    contested_points: Annotated[list[DraftPoint], Cap(BRIEF_ITEMS)] = Field(
        json_schema_extra={"maxItems": BRIEF_ITEMS},
        description=f"Contested points, at most {BRIEF_ITEMS}; [] when the article contains none.",
    )

    _summary = field_validator("summary", mode="before")(_statements)


def shift_refs(draft: DraftBrief, offset: int) -> DraftBrief:
    """A part's draft, cited as its prompt numbered the part (from S1), in the article's
    ids: every ref of 1 or more raised by ``offset`` (in place). A ref below 1 stays
    what it was, never a sentence."""
    if offset:
        items: list[DraftStatement | DraftPoint] = [*draft.summary, *draft.key_points]
        for item in [*items, *draft.contested_points]:
            item.refs = [ref + offset if ref >= 1 else ref for ref in item.refs]
    return draft


class DraftDisputes(_Draft):
    """The answer to the follow-up on disputes a brief left out (``summarize.disputes``)."""

    contested_points: Annotated[list[DraftPoint], Cap(BRIEF_ITEMS)] = Field(
        json_schema_extra={"maxItems": BRIEF_ITEMS},
        description=f"Contested points, at most {BRIEF_ITEMS}; [] when the sentences show none.",
    )


class DraftMergedPoint(_DraftClaim):
    """A contested point of the whole article, made from points found in its parts."""

    sources: Annotated[list[str], Cap(256)] = Field(
        json_schema_extra={"maxItems": 256},
        description="Ids of the part points (P1, P2, ...) that state this same claim; "
        "every id at most once in the whole answer.",
    )


class DraftMerge(_Draft):
    """One brief made from the briefs of an article's parts."""

    language: str = Field(description="Language code of the article: en, de, ru, zh, pt-BR ...")
    summary: Annotated[list[DraftStatement], Cap(MERGE_ITEMS)] = Field(
        json_schema_extra={"maxItems": MERGE_ITEMS},
        description="Neutral summary of the whole article in 4-8 sentences, built only from "
        "the part briefs, each citing the sentence ids the briefs give. Attribute every "
        "claim; keep loaded words inside quotation marks.",
    )
    key_points: Annotated[list[DraftStatement], Cap(MERGE_ITEMS)] = Field(
        json_schema_extra={"maxItems": MERGE_ITEMS},
        description="3-8 short, attributed key facts of the whole article.",
    )
    contested_points: Annotated[list[DraftMergedPoint], Cap(256)] = Field(
        json_schema_extra={"maxItems": 256},
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


@functools.cache
def schema_text(model: type[BaseModel]) -> str:
    """Every description and docstring of ``model``'s schema, one per line: what the
    model is shown of it, and must not hand back as its answer."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            text = node.get("description")
            if isinstance(text, str):
                found.append(text)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema_pair(model)[1])
    return "\n".join(dict.fromkeys(found))


@functools.cache
def schema_pair(model: type[BaseModel]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The strict schema and the one with list limits; built once, never mutated."""
    return strict_json_schema(model), strict_json_schema(model, limits=True)


def ranged_schema(model: type[BaseModel], ids: range | int) -> dict[str, Any]:
    """The bounded schema with every ``refs`` item limited to the sentence ids ``ids``
    (``n``: S1-Sn), so a grammar-constrained server cannot cite a sentence that does
    not exist. Only for such servers: the strict schema stays the same per article.
    Built once per model and range; never mutated."""
    ids = range(1, ids + 1) if isinstance(ids, int) else ids
    return _ranged(model, ids.start, ids.stop)


def request_schemas(
    model: type[BaseModel], ids: range | int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a request of ``model`` sends: the strict schema, and the bounded one with
    its ``refs`` limited to the sentence ids ``ids`` (``ranged_schema``)."""
    return schema_pair(model)[0], ranged_schema(model, ids)


@functools.lru_cache(maxsize=256)
def _ranged(model: type[BaseModel], start: int, stop: int) -> dict[str, Any]:
    ids = range(start, stop)
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


# --- comparing sources ----------------------------------------------------------------


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


SOURCE_CHARS = 200
FACT_CHARS = 400
TOPIC_CHARS = 300
COMPARISON_CHARS = 3000


class _DraftSourceQuote(_Cites):
    source: Annotated[str, Cap(SOURCE_CHARS)] = Field(description="Source name, exactly as given.")
    refs: list[int] = Field(description=_SOURCE_REFS, json_schema_extra={"maxItems": 3})


class _DraftAgreement(_Draft):
    fact: Annotated[str, Cap(FACT_CHARS)] = Field(
        description=chars("The fact, neutrally.", FACT_CHARS)
    )
    quotes: Annotated[list[_DraftSourceQuote], Cap(6)] = Field(
        json_schema_extra={"maxItems": 6},
        description="The supporting sentences of each source that reports it.",
    )


class _DraftVersion(_Cites):
    source: Annotated[str, Cap(SOURCE_CHARS)]
    claim: Annotated[str, Cap(CLAIM_CHARS)] = Field(
        description=chars("This source's version, attributed.", CLAIM_CHARS)
    )
    refs: list[int] = Field(description=_SOURCE_REFS, json_schema_extra={"maxItems": 3})


class _DraftConflict(_Draft):
    topic: Annotated[str, Cap(TOPIC_CHARS)] = Field(
        description=chars("What is in conflict, neutrally.", TOPIC_CHARS)
    )
    versions: Annotated[list[_DraftVersion], Cap(6)] = Field(json_schema_extra={"maxItems": 6})


class _DraftUnique(_Cites):
    source: Annotated[str, Cap(SOURCE_CHARS)]
    claim: Annotated[str, Cap(CLAIM_CHARS)] = Field(
        description=chars("The claim, attributed.", CLAIM_CHARS)
    )
    refs: list[int] = Field(description=_SOURCE_REFS, json_schema_extra={"maxItems": 3})


class _DraftFraming(_Cites):
    source: Annotated[str, Cap(SOURCE_CHARS)]
    voices: Annotated[list[str], Cap(10)] = Field(
        json_schema_extra={"maxItems": 10}, description="People or bodies it quotes; at most 10."
    )
    loaded_terms: Annotated[list[str], Cap(10)] = Field(
        json_schema_extra={"maxItems": 10},
        description="Judgement-laden words or phrases, copied from the source; at most 10.",
    )
    commentary: Annotated[list[int], Cap(5)] = Field(
        json_schema_extra={"maxItems": 5},
        description="Ids of that source's sentences of the outlet's own analysis; at most 5.",
    )


class DraftComparison(_Draft):
    """The comparison as the model writes it."""

    summary: Annotated[str, Cap(COMPARISON_CHARS)] = Field(
        description=chars(
            "Neutral joint account of the story in 3-6 sentences, saying where the "
            "sources differ without deciding who is right.",
            COMPARISON_CHARS,
        ),
    )
    agreements: Annotated[list[_DraftAgreement], Cap(10)] = Field(
        json_schema_extra={"maxItems": 10}, description="At most 10."
    )
    conflicts: Annotated[list[_DraftConflict], Cap(10)] = Field(
        json_schema_extra={"maxItems": 10},
        description="Facts the sources state differently (numbers, dates, who); at most 10.",
    )
    unique_claims: Annotated[list[_DraftUnique], Cap(12)] = Field(
        json_schema_extra={"maxItems": 12}, description="At most 12."
    )
    framing: Annotated[list[_DraftFraming], Cap(6)] = Field(
        json_schema_extra={"maxItems": 6}, description="One entry per source."
    )
