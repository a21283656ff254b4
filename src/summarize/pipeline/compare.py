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
from typing import TYPE_CHECKING, Any

from typing_extensions import Unpack

from summarize.answer.checking import check_comparison
from summarize.errors import ContextLengthError, InputError
from summarize.pipeline import reask
from summarize.request import prompts
from summarize.request.drafts import DraftComparison, schema_pair
from summarize.schema import ArticleSummary, Comparison, Meta, Usage
from summarize.source.article import Article
from summarize.source.files import check_article
from summarize.source.names import short_name, unique
from summarize.text.sentences import SentenceIndex

if TYPE_CHECKING:
    from summarize.model.protocol import Message
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

    best = await reask.ask(
        run,
        build,
        lambda reply: check_comparison(reply, indexes, language, run.output_tokens),
        schema_pair(DraftComparison),
        run.reduce_usage,
        stage="comparing",
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


def _prompt(
    run: Run, indexes: dict[str, SentenceIndex], sources: dict[str, ArticleSummary]
) -> reask.Build:
    """The comparison prompt: the full texts if they fit, else the sources' briefs."""
    names = list(indexes)
    language = run.language or run.article.language
    output_language = (
        f"the language with BCP-47 tag {language!r}" if language else "the first report's language"
    )

    def build_with(reports: str) -> reask.Build:
        def build(with_hint: bool) -> list[Message]:
            return prompts.comparison(
                with_hint,
                names=names,
                output_language=output_language,
                boundary=run.boundary,
                reports=reports,
            )

        return build

    room = run.window - run.output_tokens
    full = (prompts.report(n, i.render()) for n, i in indexes.items())
    build = build_with("\n\n".join(full))
    if run.count_messages(build(True)) <= room:
        return build
    run.warnings.append(
        "the full texts do not fit one request: compared the sources' briefs and "
        "the sentences they cite instead"
    )
    briefs = (prompts.report(n, prompts.source_brief(b, indexes[n])) for n, b in sources.items())
    build = build_with("\n\n".join(briefs))
    if run.count_messages(build(True)) > room:
        raise ContextLengthError(
            f"even the briefs of {len(names)} sources do not fit {run.model}'s "
            f"context window of {run.window}: compare fewer sources or pass a larger "
            "context_window="
        )
    return build
