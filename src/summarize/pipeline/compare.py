"""Comparing sources: several reports of one story, their agreements and conflicts.

Each article is first briefed on its own (concurrently; long ones through the
long-article path). Then one comparison request sees every report, each under its
source's name and as that source's numbered sentences: the full texts when they fit
the context window, otherwise each source's brief with the sentences it cites. Every
citation in the answer names a source and that source's sentence ids, and is resolved
in that source's text only, so evidence can never be credited to the wrong source; a
conflict without evidence on two sides, or an agreement without evidence from two
sources, is dropped with a warning. The loaded terms of framing are short quotes,
located in their source. The comparison reports that sources differ; it does not
decide who is right.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from typing_extensions import Unpack

from summarize.answer import neutrality
from summarize.answer.repairs import DraftProblems, clean_links, parse_as
from summarize.errors import ContextLengthError, InputError
from summarize.pipeline import reask
from summarize.request import prompts
from summarize.request.drafts import DraftComparison, schema_pair
from summarize.schema import (
    Agreement,
    ArticleSummary,
    Comparison,
    Conflict,
    Framing,
    Meta,
    SourceQuote,
    SourceVersion,
    UniqueClaim,
    Usage,
)
from summarize.source.article import Article
from summarize.source.files import check_article
from summarize.source.names import short_name, unique
from summarize.text.grounding import QuoteLocator
from summarize.text.sentences import SentenceIndex, strip_ids

if TYPE_CHECKING:
    from summarize.model.protocol import Reply
    from summarize.options import SummarizeOptions
    from summarize.pipeline.run import Run
    from summarize.pipeline.summarizer import Summarizer
    from summarize.progress import Reporter

_TEMPLATES = ("compare.system", "compare.user", "schema_hint", "reask")


def compare(articles: Sequence[Any], **options: Unpack[SummarizeOptions]) -> Comparison:
    """Compare several reports of one story (blocking).

    Each article is text, an ``Article``, a path, a URL, an HTML page, or a
    ``(source_name, text)`` pair. Options are those of ``summarize()``.
    """
    from summarize.pipeline.summarizer import Summarizer
    from summarize.sync import run_sync

    summarizer = Summarizer(**options)

    async def comparing() -> Comparison:
        # the async clients it builds are closed on the loop that made them
        try:
            return await acompare_with(summarizer, articles)
        finally:
            await summarizer.aclose()

    try:
        return run_sync(comparing())
    finally:
        summarizer.close()  # the local engine, if the loop never ran


async def acompare(articles: Sequence[Any], **options: Unpack[SummarizeOptions]) -> Comparison:
    """Async ``compare()``."""
    from summarize.pipeline.summarizer import Summarizer

    async with Summarizer(**options) as summarizer:
        return await acompare_with(summarizer, articles)


def _given(articles: Sequence[Any]) -> list[tuple[str | None, Any]]:
    """(name given or None, source) pairs, checked."""
    if isinstance(articles, str | bytes) or len(articles) < 2:
        raise InputError("compare needs two or more articles, as a list")
    given: list[tuple[str | None, Any]] = []
    for number, item in enumerate(articles, start=1):
        if isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[0], str):
                raise InputError(f"article {number}: a pair must be (source_name, text)")
            if not item[0].strip():
                raise InputError(f"article {number}: the source name is empty")
            given.append((item[0].strip(), item[1]))
        else:
            given.append((None, item))
    return given


async def acompare_with(summarizer: Summarizer, articles: Sequence[Any]) -> Comparison:
    """Compare ``articles`` with the settings (and client) of ``summarizer``.

    Sources are named as given in ``(name, text)`` pairs, else by their short names
    (``summarize.source.names``), repeats suffixed."""
    given = _given(articles)
    progress = summarizer.reporter()
    progress.stage("reading", f"{len(given)} sources")
    loaded = await asyncio.gather(*(asyncio.to_thread(summarizer.read, src) for _, src in given))
    names = unique(
        [
            name or short_name(source, article) or f"source {number}"
            for number, ((name, source), article) in enumerate(zip(given, loaded, strict=True), 1)
        ]
    )
    texts = {name: article.text for name, article in zip(names, loaded, strict=True)}
    for name, text in texts.items():
        try:
            check_article(text)
        except InputError as exc:
            raise InputError(f"{name}: {exc}") from exc
    briefs = await asyncio.gather(
        *(summarizer.asummarize(a, name=n) for n, a in zip(names, loaded, strict=True))
    )
    sources = dict(zip(texts, briefs, strict=True))
    progress.named(" vs ".join(texts))
    return await _compare(summarizer, loaded, texts, sources, progress)


def _report_full(name: str, index: SentenceIndex) -> str:
    return f"SOURCE: {name}\n{index.render()}"


def _report_brief(name: str, brief: ArticleSummary, index: SentenceIndex) -> str:
    """A source's brief and the sentences it cites, when the full texts do not fit."""
    lines = [f"SOURCE: {name}", "Brief:"]
    lines += [f"- {s.cited()}" for s in [*brief.summary_sentences, *brief.key_points]]
    for point in brief.contested_points:
        ids = ", ".join(f"S{e.sentence}" for e in point.evidence if e.sentence)
        lines.append(f"- Claim ({point.kind}): {point.claim} [{ids}]")
    cited = sorted({e.sentence for e in brief.evidence() if e.sentence})
    sentences = [s for n in cited if (s := index.get(n)) is not None]
    lines += ["Cited sentences:", index.render(sentences)]
    return "\n".join(lines)


async def _compare(
    summarizer: Summarizer,
    articles: list[Article],
    texts: dict[str, str],
    sources: dict[str, ArticleSummary],
    progress: Reporter,
) -> Comparison:
    run = summarizer.new_run(articles[0], "".join(texts.values()), progress=progress)
    indexes = {name: SentenceIndex(text) for name, text in texts.items()}
    # the cues of the sources' language; of every language if they differ
    languages = {a.language for a in articles}
    language = languages.pop() if len(languages) == 1 else None
    build = _prompt(run, indexes, sources)

    def check(reply: Reply) -> reask.Candidate[DraftComparison]:
        if reply.finish_reason == "length":
            raise DraftProblems(
                [f"the answer was cut off at {run.output_tokens} tokens: be shorter"]
            )
        draft = parse_as(reply.text, DraftComparison)
        if not draft.summary.strip():
            raise DraftProblems(["summary: it is empty; write the joint account"])
        result, problems, warnings = _ground(draft, indexes, "".join(texts.values()))
        candidate = reask.Candidate(draft, [], reply.mode, problems, warnings, extra=result)
        candidate.checks = neutrality.check_comparison(_voiced(result), indexes, language)
        candidate.soft = [f"{c.name}: {d}" for c in candidate.checks for d in c.details]
        return candidate

    best = await reask.ask(
        run, build, check, schema_pair(DraftComparison), run.reduce_usage, stage="comparing"
    )
    grounded: dict[str, Any] = best.extra
    usage = Usage()
    for brief in sources.values():
        usage = usage + brief.meta.usage
    progress.done(usage + run.total_usage(), summarizer.cost(usage + run.total_usage()))
    if progress.failure:
        run.warnings.append(progress.failure)
    return Comparison(
        **grounded,
        sources=sources,
        meta=Meta(
            model=summarizer.model,
            prompt_version=prompts.version_of(*_TEMPLATES),
            structured_output=best.mode.value,
            usage=usage + run.total_usage(),
            warnings=[
                *run.warnings,
                *best.repairs,
                *(f"check {c.name}: {d}" for c in best.checks for d in c.details),
            ],
            checks=best.checks,
            cut=[*run.cut, *best.cut],
            endpoint=summarizer.endpoint.label(),
        ),
    )


def _voiced(grounded: dict[str, Any]) -> list[neutrality.Voiced]:
    """What a comparison says in its own voice, with the ids it cites in each source."""

    def cites(evidence: Sequence[SourceQuote]) -> dict[str, tuple[int, ...]]:
        out: dict[str, list[int]] = {}
        for e in evidence:
            if e.sentence is not None:
                out.setdefault(e.source, []).append(e.sentence)
        return {name: tuple(ids) for name, ids in out.items()}

    said = [neutrality.Voiced("summary", grounded["summary"], {})]
    said += [
        neutrality.Voiced(f"agreement {n}", a.fact, cites(a.evidence))
        for n, a in enumerate(grounded["agreements"], start=1)
    ]
    said += [
        neutrality.Voiced(
            f"conflict {n} topic", c.topic, cites([e for v in c.versions for e in v.evidence])
        )
        for n, c in enumerate(grounded["conflicts"], start=1)
    ]
    return said


def _prompt(
    run: Run, indexes: dict[str, SentenceIndex], sources: dict[str, ArticleSummary]
) -> reask.Build:
    """The comparison prompt: the full texts if they fit, else the sources' briefs."""
    names = list(indexes)
    hint = prompts.schema_hint(schema_pair(DraftComparison)[1])
    language = run.language or run.article.language
    output_language = (
        f"the language with BCP-47 tag {language!r}" if language else "the first report's language"
    )

    def build_with(reports: str) -> reask.Build:
        def build(with_hint: bool) -> list[dict[str, str]]:
            user = prompts.load("compare.user").render(
                count=str(len(names)),
                names=", ".join(names),
                output_language=output_language,
                schema_hint=hint if with_hint else "",
                boundary=run.boundary,
                reports=reports,
            )
            return prompts.messages("compare.system", user)

        return build

    room = run.window - run.output_tokens
    build = build_with("\n\n".join(_report_full(n, i) for n, i in indexes.items()))
    if run.count_messages(build(True)) <= room:
        return build
    run.warnings.append(
        "the full texts do not fit one request: compared the sources' briefs and "
        "the sentences they cite instead"
    )
    build = build_with("\n\n".join(_report_brief(n, b, indexes[n]) for n, b in sources.items()))
    if run.count_messages(build(True)) > room:
        raise ContextLengthError(
            f"even the briefs of {len(names)} sources do not fit {run.model}'s "
            f"context window of {run.window}: compare fewer sources or pass a larger "
            "context_window="
        )
    return build


def _ground(
    draft: DraftComparison, indexes: dict[str, SentenceIndex], all_text: str
) -> tuple[dict[str, Any], list[str], list[str]]:
    """Ground every citation in its own source; return the result, re-ask problems,
    warnings."""
    grounder = _Grounder(indexes)
    summary = clean_links(draft.summary, all_text, "summary", grounder.warnings).strip()
    result = {
        "summary": summary,
        "agreements": grounder.agreements(draft),
        "conflicts": grounder.conflicts(draft),
        "unique_claims": grounder.unique_claims(draft),
        "framing": grounder.framing(draft),
    }
    return result, grounder.problems, grounder.warnings


@dataclass
class _Grounder:
    """Resolves a comparison's citations, each in the source it is credited to: an id
    of another source's sentence cannot be evidence."""

    indexes: dict[str, SentenceIndex]
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

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
