"""Comparing sources: several reports of one story, their agreements and conflicts.

Each article is first briefed on its own (concurrently; long ones through the
long-article path). Then one comparison request sees every report, each under its
source's name: the full texts when they fit the context window, otherwise each
source's brief with its verified quotes. Every quote in the answer is grounded in
the text of the source it is attributed to; a conflict without evidence on two
sides, or an agreement without evidence from two sources, is dropped with a warning.
The comparison reports that sources differ; it does not decide who is right.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from typing_extensions import Unpack

from summarize import prompts
from summarize.articles import Article
from summarize.client import Reply
from summarize.errors import ContextLengthError, InputError
from summarize.grounding import QuoteLocator
from summarize.inputs import check_article, datamark, strip_datamarks
from summarize.schema import (
    Agreement,
    ArticleSummary,
    Comparison,
    Conflict,
    DraftComparison,
    Framing,
    Meta,
    SourceQuote,
    SourceVersion,
    UniqueClaim,
    Usage,
    strict_json_schema,
)
from summarize.validation import DraftProblems, clean_links, parse_as

if TYPE_CHECKING:
    from summarize.pipeline import SummarizeOptions, Summarizer

_TEMPLATES = ("compare.system", "compare.user", "schema_hint", "reask")


@functools.cache
def _schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    return strict_json_schema(DraftComparison), strict_json_schema(DraftComparison, limits=True)


def compare(articles: Sequence[Any], **options: Unpack[SummarizeOptions]) -> Comparison:
    """Compare several reports of one story (blocking).

    Each article is text, an ``Article``, a path, a URL, an HTML page, or a
    ``(source_name, text)`` pair. Options are those of ``summarize()``.
    """
    from summarize.pipeline import Summarizer, run_sync

    with Summarizer(**options) as summarizer:
        return run_sync(acompare_with(summarizer, articles))


async def acompare(articles: Sequence[Any], **options: Unpack[SummarizeOptions]) -> Comparison:
    """Async ``compare()``."""
    from summarize.pipeline import Summarizer

    async with Summarizer(**options) as summarizer:
        return await acompare_with(summarizer, articles)


def _named(articles: Sequence[Any]) -> list[tuple[str, Any]]:
    """(name, source) pairs, with unique names."""
    if isinstance(articles, str | bytes) or len(articles) < 2:
        raise InputError("compare needs two or more articles, as a list")
    named: list[tuple[str, Any]] = []
    for number, item in enumerate(articles, start=1):
        if isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[0], str):
                raise InputError(f"article {number}: a pair must be (source_name, text)")
            name, source = item[0].strip(), item[1]
        elif isinstance(item, Article) and (item.title or item.url):
            name, source = (item.url or item.title or ""), item
        elif isinstance(item, os.PathLike):
            name, source = os.fspath(item), item
        else:
            name, source = f"source {number}", item
        if not name:
            raise InputError(f"article {number}: the source name is empty")
        if name in (n for n, _ in named):
            name = f"{name} ({number})"
        named.append((name, source))
    return named


async def acompare_with(summarizer: Summarizer, articles: Sequence[Any]) -> Comparison:
    """Compare ``articles`` with the settings (and client) of ``summarizer``."""
    from summarize.pipeline import _as_article

    named = _named(articles)
    loaded = await asyncio.gather(*(asyncio.to_thread(_as_article, src) for _, src in named))
    texts = {name: article.text for (name, _), article in zip(named, loaded, strict=True)}
    for name, text in texts.items():
        try:
            check_article(text)
        except InputError as exc:
            raise InputError(f"{name}: {exc}") from exc
    briefs = await asyncio.gather(*(summarizer.asummarize(a) for a in loaded))
    sources = dict(zip(texts, briefs, strict=True))
    return await _compare(summarizer, loaded, texts, sources)


def _report_full(name: str, text: str) -> str:
    return f"SOURCE: {name}\n{datamark(text)}"


def _report_brief(name: str, brief: ArticleSummary) -> str:
    """A source's brief, with its verified quotes, when the full texts do not fit."""
    lines = [f"SOURCE: {name}", f"Summary: {brief.summary}"]
    lines += [f"Key point: {kp}" for kp in brief.key_points]
    for point in brief.contested_points:
        lines.append(f"Claim ({point.kind}): {point.claim}")
        lines += [f"Quote: {ev.quote}" for ev in point.evidence]
    return datamark("\n".join(lines))


async def _compare(
    summarizer: Summarizer,
    articles: list[Article],
    texts: dict[str, str],
    sources: dict[str, ArticleSummary],
) -> Comparison:
    from summarize.pipeline import _messages

    job = summarizer.new_job(articles[0], "".join(texts.values()))
    names = list(texts)
    hint = job.hint(bounded=_schemas()[1])
    language = summarizer.language or articles[0].language
    output_language = (
        f"the language with BCP-47 tag {language!r}" if language else "the first report's language"
    )

    def user(reports: str, with_hint: bool) -> str:
        return prompts.load("compare.user").render(
            count=str(len(names)),
            names=", ".join(names),
            output_language=output_language,
            schema_hint=hint if with_hint else "",
            boundary=job.boundary,
            reports=reports,
        )

    budget = job.window - job.output_tokens
    reports = "\n\n".join(_report_full(n, t) for n, t in texts.items())
    if job.count_messages(_messages("compare.system", user(reports, True))) > budget:
        job.warnings.append(
            "the full texts do not fit one request: compared the sources' briefs and "
            "their verified quotes instead"
        )
        reports = "\n\n".join(_report_brief(n, b) for n, b in sources.items())
        if job.count_messages(_messages("compare.system", user(reports, True))) > budget:
            raise ContextLengthError(
                f"even the briefs of {len(names)} sources do not fit {summarizer.model}'s "
                f"context window of {job.window}: compare fewer sources or pass a larger "
                "context_window="
            )
    locators = {name: QuoteLocator(text) for name, text in texts.items()}

    def check(reply: Reply) -> Any:
        from summarize.pipeline import _Candidate

        if reply.finish_reason == "length":
            raise DraftProblems(
                [f"the answer was cut off at {job.output_tokens} tokens: be shorter"]
            )
        draft = parse_as(reply.text, DraftComparison)
        if not draft.summary.strip():
            raise DraftProblems(["summary: it is empty; write the joint account"])
        result, problems, warnings = _ground(draft, locators, "".join(texts.values()))
        return _Candidate(draft, [], reply.mode, problems, warnings, extra=result)

    best = await summarizer._ask(
        job,
        lambda with_hint: _messages("compare.system", user(reports, with_hint)),
        check,
        _schemas(),
        job.reduce_usage,
    )
    grounded: dict[str, Any] = best.extra
    usage = Usage()
    for brief in sources.values():
        usage = usage + brief.meta.usage
    usage = usage + job.total_usage()
    return Comparison(
        summary=grounded["summary"],
        agreements=grounded["agreements"],
        conflicts=grounded["conflicts"],
        unique_claims=grounded["unique_claims"],
        framing=grounded["framing"],
        sources=sources,
        meta=Meta(
            model=summarizer.model,
            prompt_version=prompts.version_of(*_TEMPLATES),
            structured_output=best.mode.value,
            usage=usage,
            warnings=[*job.warnings, *best.repairs],
        ),
    )


def _ground(
    draft: DraftComparison, locators: dict[str, QuoteLocator], all_text: str
) -> tuple[dict[str, Any], list[str], list[str]]:
    """Ground every quote in its own source; return the result, re-ask problems, warnings."""
    warnings: list[str] = []
    summary = clean_links(draft.summary, all_text, "summary", warnings).strip()
    problems: list[str] = []
    by_key = {name.casefold(): name for name in locators}

    def source_of(raw: str, where: str) -> str | None:
        name = by_key.get(raw.strip().casefold())
        if name is None:
            problems.append(f"{where}: {raw!r} is not one of the sources {list(locators)}")
        return name

    def ground(source: str, quote: str, where: str) -> SourceQuote | None:
        hit = locators[source].locate(strip_datamarks(quote))
        if hit is None:
            problems.append(f"{where}: this quote is not in {source}'s report: {quote[:150]!r}")
            warnings.append(f"{where}: dropped a quote not found in {source}: {quote[:80]!r}")
            return None
        text = locators[source].text
        return SourceQuote(
            source=source, quote=text[hit.start : hit.end], start=hit.start, end=hit.end
        )

    agreements = []
    for i, agreement in enumerate(draft.agreements):
        evidence: list[SourceQuote] = []
        for q in agreement.quotes:
            name = source_of(q.source, f"agreements.{i}")
            found = ground(name, q.quote, f"agreements.{i}") if name else None
            if found and found.source not in {e.source for e in evidence}:
                evidence.append(found)
        if len({e.source for e in evidence}) < 2:
            warnings.append(
                f"agreements.{i}: dropped, no evidence from two sources: {agreement.fact[:80]!r}"
            )
            continue
        agreements.append(
            Agreement(fact=agreement.fact, sources=[e.source for e in evidence], evidence=evidence)
        )

    conflicts = []
    for i, conflict in enumerate(draft.conflicts):
        versions = []
        for version in conflict.versions:
            name = source_of(version.source, f"conflicts.{i}")
            if name is None:
                continue
            evidence = [e for q in version.quotes if (e := ground(name, q, f"conflicts.{i}"))]
            if evidence:
                versions.append(SourceVersion(source=name, claim=version.claim, evidence=evidence))
        if len({v.source for v in versions}) < 2:
            warnings.append(
                f"conflicts.{i}: dropped, left without evidence on two sides: "
                f"{conflict.topic[:80]!r}"
            )
            continue
        conflicts.append(Conflict(topic=conflict.topic, versions=versions))

    unique = []
    for i, claim in enumerate(draft.unique_claims):
        name = source_of(claim.source, f"unique_claims.{i}")
        if name is None:
            continue
        evidence = [e for q in claim.quotes if (e := ground(name, q, f"unique_claims.{i}"))]
        if not evidence:
            warnings.append(f"unique_claims.{i}: dropped, no evidence: {claim.claim[:80]!r}")
            continue
        unique.append(UniqueClaim(source=name, claim=claim.claim, evidence=evidence))

    framing = []
    for i, item in enumerate(draft.framing):
        name = source_of(item.source, f"framing.{i}")
        if name is None:
            continue
        terms = [
            e for q in item.loaded_terms if (e := ground(name, q, f"framing.{i}.loaded_terms"))
        ]
        notes = [e for q in item.commentary if (e := ground(name, q, f"framing.{i}.commentary"))]
        voices = [v.strip() for v in item.voices if v.strip()]
        framing.append(Framing(source=name, voices=voices, loaded_terms=terms, commentary=notes))

    result = {
        "summary": summary,
        "agreements": agreements,
        "conflicts": conflicts,
        "unique_claims": unique,
        "framing": framing,
    }
    return result, problems, warnings
