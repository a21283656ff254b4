"""The typed output: what the caller receives.

The model fills a draft (``summarize.request.drafts``) that cites sentence ids. The library
resolves them and returns an ``ArticleSummary`` (or a ``Comparison``) whose
``Evidence`` carries character offsets computed by the library, never by the model.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "3"

ContestedKind = Literal["disputed", "one_sided", "opinion", "inconsistent"]


KIND_HELP = (
    "disputed: a party named in the article denies or contradicts the claim; "
    "one_sided: asserted by one party only and not independently confirmed in the article; "
    "opinion: commentary or analysis by the outlet or a quoted expert, presented as such; "
    "inconsistent: the article itself states contradicting things."
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Usage(_Model):
    """Tokens and requests spent, summed over every attempt, retries included."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = Field(0, description="HTTP requests sent, failed ones included.")
    attempts: int = Field(0, description="Model answers received and validated (1 + re-asks).")
    loops_cut: int = Field(
        0, description="Streamed answers stopped early because they repeated themselves."
    )
    reasoning_tokens: int = Field(
        0, description="Of the completion tokens, those a reasoning model spent thinking."
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
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
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
    kind: ContestedKind = Field(description=KIND_HELP)
    asserted_by: list[str] = Field(default_factory=list)
    disputed_by: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)


class Check(_Model):
    """One deterministic check of the brief (``summarize.answer.neutrality``)."""

    name: str = Field(
        description="quoted_terms, loaded_words, commentary, disputes or attribution."
    )
    passed: bool
    details: list[str] = Field(default_factory=list, description="What was flagged, and the fix.")
    sentences: list[int] = Field(
        default_factory=list, description="The article's sentence ids the details concern."
    )


class CutText(_Model):
    """A field of the model's answer that ran away (many times its cap) and was cut:
    ``text`` is all of it as the model wrote it (a list: its JSON)."""

    field: str = Field(description="Where it was, e.g. contested_points.0.claim.")
    length: int = Field(description="Its length: characters, or items of a list.")
    cap: int = Field(description="The length asked for; the brief keeps this much.")
    text: str


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
    followup_requests: int = Field(
        0, description="HTTP requests of the follow-up on disputes the brief left out (0 or 1)."
    )
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
    checks: list[Check] = Field(
        default_factory=list,
        description="The deterministic checks of neutrality and completeness, and what "
        "they flagged.",
    )
    cut: list[CutText] = Field(
        default_factory=list,
        description="Fields of the answer cut for running away, with their full text.",
    )
    opinion: bool | Literal["likely"] = Field(
        False,
        description="The article is wholly opinion: true for an opinion page or section "
        "(its URL or metadata), 'likely' when its own text reads as a column (see "
        "opinion_signals), false otherwise.",
    )
    opinion_signals: list[str] = Field(
        default_factory=list,
        description="Why the text reads as opinion: a column's label, first person, "
        "oughts, verdicts, rhetorical questions, with the sentence ids.",
    )
    title: str | None = Field(None, description="The article's title, when read from a page.")
    url: str | None = Field(None, description="Where the article was read from, if a URL.")
    source: str | None = Field(
        None,
        description="The source's short name: a file's stem, a URL's site and title, an "
        "Article's title (None for plain text).",
    )
    endpoint: str | None = Field(
        None,
        description="Where the requests went: the endpoint's host (from base_url=, the "
        "client given, or OPENAI_BASE_URL), or 'local llama.cpp'.",
    )


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


# --- comparing sources ----------------------------------------------------------------


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
