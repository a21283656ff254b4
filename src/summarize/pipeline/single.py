"""One brief from one request: the prompt, the answer's checks, and the result.

``single()`` briefs an article that fits one request, shown as numbered sentences.
``check_brief()`` is the check every brief answer goes through (a whole article's or
one part's): parse, flag echoed instructions and forged markers, drop foreign links
and repeated key points, resolve every statement's cited sentence ids into evidence
(``summarize.answer.citations``). ``assemble()`` turns a finished answer into the
``ArticleSummary``, for this path and for ``summarize.pipeline.mapreduce``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from summarize.answer import neutrality
from summarize.answer.citations import Citations, cite_points, cite_statements, traceability
from summarize.answer.repairs import (
    DraftProblems,
    drop_repeated_key_points,
    echo_problems,
    marker_problems,
    normalize_language,
    parse_draft,
    remove_foreign_urls,
    scrub_markers,
    summary_text,
)
from summarize.pipeline import disputes, reask
from summarize.request import prompts
from summarize.request.drafts import DraftBrief, DraftMerge, ranged_schema, schema_pair
from summarize.schema import ArticleSummary, Meta

if TYPE_CHECKING:
    from summarize.model.protocol import Message, Reply
    from summarize.pipeline.run import Run
    from summarize.text.sentences import Sentence

# Checks whose flags are re-asked once. A dispute left out is not: it gets the focused
# follow-up of ``summarize.pipeline.disputes`` instead of a whole brief again.
SOFT = frozenset(neutrality.CHECKS) - {"disputes"}
# Templates whose versions a one-call brief reports (the demo model's are compact).
TEMPLATES = ("brief.system", "brief.user", "schema_hint", "reask", "disputes.user")
COMPACT_TEMPLATES = ("compact.system", "compact.user", "reask", "disputes.user")


async def single(run: Run) -> ArticleSummary:
    """The article fits: one request (plus re-asks)."""
    system, template = run.templates

    def build(with_hint: bool) -> list[Message]:
        user = prompts.load(template).render(
            output_language=run.output_language(),
            schema_hint=prompts.schema_hint(schema_pair(DraftBrief)[1]) if with_hint else "",
            hints=neutrality.hints(run.cues, opinion=run.opinion),
            boundary=run.boundary,
            article=run.sentences.render(),
        )
        return prompts.messages(system, user)

    best = await ask_brief(run, build, system=system, detail="the whole article in one request")
    if await disputes.follow_up(run, best):
        with_checks(run, best)
    return assemble(run, best, COMPACT_TEMPLATES if system == "compact.system" else TEMPLATES)


async def ask_brief(
    run: Run,
    build: reask.Build,
    *,
    sentences: list[Sentence] | None = None,
    warnings: list[str] | None = None,
    label: str = "",
    system: str = "brief.system",
    detail: str | None = None,
) -> reask.Candidate[DraftBrief]:
    """``reask.ask`` for a brief of ``sentences`` (default: the whole article)."""
    shown = sentences or run.sentences.sentences
    allowed = range(shown[0].id, shown[-1].id + 1) if sentences else None
    return await reask.ask(
        run,
        build,
        lambda reply: check_brief(reply, run, allowed=allowed, system=system),
        (schema_pair(DraftBrief)[0], ranged_schema(DraftBrief, allowed or len(run.sentences))),
        run.map_usage,
        warnings=warnings,
        label=label,
        detail=detail,
    )


def check_brief(
    reply: Reply, run: Run, *, allowed: range | None = None, system: str = "brief.system"
) -> reask.Candidate[DraftBrief]:
    """Validate one brief answer; raise DraftProblems if it cannot be used at all.

    ``allowed``: the sentence ids of the part being briefed (None: the article's)."""
    if reply.finish_reason == "length":
        raise DraftProblems(
            [
                f"the answer was cut off at the limit of {run.output_tokens} tokens: write a "
                "shorter summary, fewer key points and at most 5 contested points"
            ]
        )
    index = run.sentences
    text = index.text if allowed is None else index.span(allowed)
    draft = parse_draft(reply.text)
    # Flagged, not re-asked: with the bundled 135M model a re-ask rarely helps.
    echoed = echo_problems(draft, prompts.instructions(system), text)
    problems = marker_problems(draft)
    draft, repairs = scrub_markers(draft)
    draft, repeated = drop_repeated_key_points(draft)
    repairs += repeated
    repairs += [f"warning: {line}" for line in echoed]
    draft, unlinked = remove_foreign_urls(draft, text)
    repairs += unlinked
    if not summary_text(draft):
        raise DraftProblems(
            ["summary: it only repeated the article's marker; summarise the article"]
        )
    citations = Citations()
    support = run.checks_support
    summary = cite_statements(
        draft.summary, "summary", index, citations, allowed=allowed, check_support=support
    )
    key_points = cite_statements(
        draft.key_points, "key_points", index, citations, allowed=allowed, check_support=support
    )
    points = cite_points(
        draft.contested_points, index, citations, allowed=allowed, check_support=support
    )
    candidate = reask.Candidate(
        draft,
        points,
        reply.mode,
        problems + citations.problems,
        [*repairs, *citations.warnings],
        summary=summary,
        key_points=key_points,
    )
    if allowed is None:  # a part is checked as part of the whole, after the merge
        with_checks(run, candidate)
    return candidate


def with_checks(run: Run, candidate: reask.Candidate[Any], *, soft: frozenset[str] = SOFT) -> None:
    """Run ``summarize.answer.neutrality`` on a whole-article answer: the results go to
    ``candidate.checks``; what the flagged ones named in ``soft`` ask to fix, to
    ``candidate.soft`` (re-asked once)."""
    language = run.article.language or run.language
    candidate.checks = neutrality.run_checks(
        run.sentences,
        language,
        candidate.summary,
        candidate.key_points,
        candidate.points,
        opinion=run.opinion,
    )
    candidate.soft = [
        f"{check.name}: {detail}"
        for check in candidate.checks
        if check.name in soft
        for detail in check.details
    ]


def assemble(
    run: Run,
    best: reask.Candidate[DraftBrief] | reask.Candidate[DraftMerge],
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
    return ArticleSummary(
        summary=" ".join(s.text for s in best.summary),
        summary_sentences=best.summary,
        key_points=best.key_points,
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
            traceability=traceability(best.summary, best.key_points, best.points),
            checks=best.checks,
            cut=[*run.cut, *best.cut],
            opinion=run.opinion,
            title=run.article.title,
            url=run.article.url,
        ),
    )
