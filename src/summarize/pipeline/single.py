"""One brief from one request, and the result of any brief.

``single()`` briefs an article that fits one request, shown as numbered sentences;
``ask_brief()`` asks for the brief of the article or of one part, checked by
``summarize.answer.checking.check_brief``. ``assemble()`` turns a finished answer into
the ``ArticleSummary``, for this path and for ``summarize.pipeline.mapreduce``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from summarize.answer import opinion
from summarize.answer.checking import Candidate, check_brief, with_checks
from summarize.answer.citations import traceability
from summarize.answer.cues import lexicon
from summarize.answer.repairs import normalize_language, said_once
from summarize.pipeline import disputes, reask
from summarize.request import prompts
from summarize.request.drafts import DraftBrief, DraftMerge, request_schemas
from summarize.schema import ArticleSummary, Meta, Statement
from summarize.text.sentences import local_ids

if TYPE_CHECKING:
    from summarize.model.protocol import Message
    from summarize.pipeline.run import Run
    from summarize.text.sentences import Sentence

# Templates whose versions a one-call brief reports (the demo model's are compact).
TEMPLATES = ("brief.system", "brief.user", "schema_hint", "reask", "disputes.user")
COMPACT_TEMPLATES = ("compact.system", "compact.user", "reask", "disputes.user")


async def single(run: Run) -> ArticleSummary:
    """The article fits: one request (plus re-asks)."""
    system = run.templates[0]
    compact = system == "compact.system"

    def build(with_hint: bool) -> list[Message]:
        return prompts.brief(
            with_hint,
            compact=compact,
            output_language=run.output_language(),
            hints=run.hints(),
            boundary=run.boundary,
            article=run.sentences.render(),
        )

    best = await ask_brief(run, build, system=system, detail="the whole article in one request")
    if await disputes.follow_up(run, best):
        with_checks(run, best)
    return assemble(run, best, COMPACT_TEMPLATES if compact else TEMPLATES)


async def ask_brief(
    run: Run,
    build: reask.Build,
    *,
    sentences: list[Sentence] | None = None,
    warnings: list[str] | None = None,
    label: str = "",
    system: str = "brief.system",
    detail: str | None = None,
) -> Candidate[DraftBrief]:
    """``reask.ask`` for a brief of ``sentences`` (default: the whole article). A part's
    prompt numbers its sentences from S1 (``offset``: its first id less one); its answer
    is read back into the article's ids, and re-ask problems are written in the part's."""
    shown = sentences or run.sentences.sentences
    ids = range(shown[0].id, shown[-1].id + 1)  # of the whole article: S1-Sn
    allowed = ids if sentences else None
    offset = ids.start - 1
    return await reask.ask(
        run,
        build,
        lambda reply: check_brief(reply, run, allowed=allowed, offset=offset, system=system),
        request_schemas(DraftBrief, range(1, len(ids) + 1)),
        run.map_usage,
        warnings=warnings,
        label=label,
        detail=detail,
        shown=lambda problem: local_ids(problem, offset),
    )


def assemble(
    run: Run,
    best: Candidate[DraftBrief] | Candidate[DraftMerge],
    templates: tuple[str, ...],
    *,
    fallback_language: str = "",
) -> ArticleSummary:
    """The ``ArticleSummary`` of a finished run: its best answer, the templates whose
    versions it reports, and the language to fall back on if the answer gives none."""
    language = best.value.language or fallback_language
    warnings = [*run.warnings, *best.repairs]
    warnings += [f"check {c.name}: {d}" for c in best.checks for d in c.details]
    detected = run.article.language and normalize_language(run.article.language)
    tag = detected or normalize_language(language)
    if tag is None:
        warnings.append(f"the model gave an invalid language tag {language!r}; reported as 'und'")
    stated, signals = _opinion(run, best, warnings)
    summary, key_points, repeated = said_once(*stated)
    warnings += repeated
    return ArticleSummary(
        summary=" ".join(s.text for s in summary),
        summary_sentences=summary,
        key_points=key_points,
        contested_points=best.points,
        language=tag or "und",
        meta=Meta(
            model=run.model,
            prompt_version=prompts.version_of(*templates),
            structured_output=best.mode.value,
            usage=run.total_usage(),
            warnings=warnings,
            chunks=run.chunks,
            map_requests=run.map_usage.requests if run.chunks > 1 else 0,
            reduce_requests=run.reduce_usage.requests,
            followup_requests=run.followup_usage.requests,
            depth=run.depth,
            coverage=run.coverage,
            traceability=traceability(summary, key_points, best.points),
            checks=best.checks,
            cut=[*run.cut, *best.cut],
            opinion=True if run.opinion else ("likely" if signals else False),
            opinion_signals=signals,
            title=run.article.title,
            url=run.article.url,
        ),
    )


def _opinion(
    run: Run, best: Candidate[Any], warnings: list[str]
) -> tuple[tuple[list[Statement], list[Statement]], list[str]]:
    """The summary and key points, with a likely opinion piece's verdicts given as the
    author's (``summarize.answer.opinion``), and the signs it was known by (none for a
    page known as opinion by its URL, or for a report)."""
    if run.opinion:
        return (best.summary, best.key_points), []
    lex = lexicon(run.checks_language)
    found = opinion.detected(run.sentences, lex)
    if not found.likely:
        return (best.summary, best.key_points), []
    summary, said = opinion.as_the_authors(best.summary, lex, "summary sentence", run.sentences)
    key_points, listed = opinion.as_the_authors(best.key_points, lex, "key point", run.sentences)
    warnings += [f"the text reads as opinion ({'; '.join(found.signals)})", *said, *listed]
    return (summary, key_points), found.signals
