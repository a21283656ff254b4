"""One brief from one request: the prompt, the answer's checks, and the result.

``single()`` briefs an article that fits one request. ``check_brief()`` is the check
every brief answer goes through (a whole article's or one part's): parse, flag echoed
instructions and forged markers, drop foreign links and repeated key points, ground
every quote. ``assemble()`` turns a finished draft into the ``ArticleSummary``, for
this path and for ``summarize.mapreduce``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from summarize import prompts, reask
from summarize.grounding import QuoteLocator
from summarize.inputs import datamark
from summarize.schema import ArticleSummary, DraftBrief, DraftMerge, Meta, schema_pair
from summarize.validation import (
    DraftProblems,
    drop_repeated_key_points,
    echo_problems,
    ground_draft,
    marker_problems,
    missing_quote_problems,
    normalize_language,
    parse_draft,
    remove_foreign_urls,
    scrub_markers,
)

if TYPE_CHECKING:
    from summarize.model import Message, Reply
    from summarize.run import Run

# Templates whose versions a one-call brief reports (the demo model's are compact).
TEMPLATES = ("brief.system", "brief.user", "schema_hint", "reask")
COMPACT_TEMPLATES = ("compact.system", "compact.user", "reask")


async def single(run: Run, original: str, cleaned: str) -> ArticleSummary:
    """The article fits: one request (plus re-asks)."""
    locator = QuoteLocator(original)
    system, template = run.templates

    def build(with_hint: bool) -> list[Message]:
        user = prompts.load(template).render(
            output_language=run.output_language(),
            schema_hint=prompts.schema_hint(schema_pair(DraftBrief)[1]) if with_hint else "",
            boundary=run.boundary,
            article=datamark(cleaned),
        )
        return prompts.messages(system, user)

    best = await ask_brief(run, build, locator, system=system)
    return assemble(run, best, COMPACT_TEMPLATES if system == "compact.system" else TEMPLATES)


async def ask_brief(
    run: Run,
    build: reask.Build,
    locator: QuoteLocator,
    *,
    warnings: list[str] | None = None,
    label: str = "",
    system: str = "brief.system",
) -> reask.Candidate[DraftBrief]:
    """``reask.ask`` for a brief whose quotes are grounded with ``locator``."""
    return await reask.ask(
        run,
        build,
        lambda reply: check_brief(reply, locator, run.output_tokens, system),
        schema_pair(DraftBrief),
        run.map_usage,
        warnings=warnings,
        label=label,
    )


def check_brief(
    reply: Reply, locator: QuoteLocator, output_tokens: int, system: str = "brief.system"
) -> reask.Candidate[DraftBrief]:
    """Validate one brief answer; raise DraftProblems if it cannot be used at all."""
    if reply.finish_reason == "length":
        raise DraftProblems(
            [
                f"the answer was cut off at the limit of {output_tokens} tokens: write a "
                "shorter summary, fewer key points and at most 5 contested points"
            ]
        )
    draft = parse_draft(reply.text)
    # Flagged, not re-asked: with the bundled 135M model a re-ask rarely helps.
    echoed = echo_problems(draft, prompts.instructions(system), locator.text)
    problems = marker_problems(draft)
    draft, repairs = scrub_markers(draft)
    draft, repeated = drop_repeated_key_points(draft)
    repairs += repeated
    repairs += [f"warning: {line}" for line in echoed]
    draft, unlinked = remove_foreign_urls(draft, locator.text)
    repairs += unlinked
    if not draft.summary.strip():
        raise DraftProblems(
            ["summary: it only repeated the article's marker; summarise the article"]
        )
    grounded = ground_draft(draft, locator)
    problems += missing_quote_problems(grounded.missing)
    return reask.Candidate(
        draft, grounded.points, reply.mode, problems, [*repairs, *grounded.warnings]
    )


def assemble(
    run: Run,
    best: reask.Candidate[DraftBrief] | reask.Candidate[DraftMerge],
    templates: tuple[str, ...],
    *,
    fallback_language: str = "",
) -> ArticleSummary:
    """The ``ArticleSummary`` of a finished run: its best answer, the templates whose
    versions it reports, and the language to fall back on if the answer gives none."""
    draft = best.value
    language = draft.language or fallback_language
    warnings = [*run.warnings, *best.repairs]
    detected = run.article.language and normalize_language(run.article.language)
    tag = detected or normalize_language(language)
    if tag is None:
        warnings.append(f"the model gave an invalid language tag {language!r}; reported as 'und'")
    return ArticleSummary(
        summary=draft.summary.strip(),
        key_points=[p.strip() for p in draft.key_points if p.strip()],
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
            depth=run.depth,
            coverage=run.coverage,
            title=run.article.title,
            url=run.article.url,
        ),
    )
