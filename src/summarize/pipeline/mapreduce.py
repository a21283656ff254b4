"""A long article: brief its parts concurrently (map), then merge the part briefs
(reduce), collapsing them in groups first when they do not fit one request.

The pure steps (numbering points, rendering part briefs, merging points by id) are
in ``summarize.pipeline.partials``; the budgets in ``summarize.pipeline.budget``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from summarize.answer.checking import Candidate, check_merge, prepare, with_checks
from summarize.errors import (
    AuthenticationError,
    ConfigurationError,
    ContextLengthError,
    DeadlineExceededError,
    NotFoundError,
    QuotaExceededError,
    SummarizeError,
)
from summarize.model.protocol import Deferred
from summarize.pipeline import budget, disputes, reask
from summarize.pipeline.partials import (
    LIMITS,
    Partial,
    group_partials,
    number_points,
    render_partials,
)
from summarize.pipeline.single import ask_brief, assemble
from summarize.request import prompts
from summarize.request.drafts import DraftDisputes, DraftMerge, request_schemas
from summarize.schema import ArticleSummary, ContestedPoint

if TYPE_CHECKING:
    from summarize.model.protocol import Message
    from summarize.pipeline.run import Run
    from summarize.text.sentences import Sentence

T = TypeVar("T")

TEMPLATES = (
    "brief.system", "map.user", "reduce.system", "reduce.user", "schema_hint", "reask",
    "disputes.user",
)  # fmt: skip
# Errors that would fail every part the same way: never covered up by allow_partial.
FATAL = (
    ConfigurationError,
    AuthenticationError,
    NotFoundError,
    QuotaExceededError,
    DeadlineExceededError,
    ContextLengthError,
)
Outcome = Partial | SummarizeError | Deferred


async def map_reduce(run: Run) -> ArticleSummary:
    """The article does not fit: brief its parts concurrently, then merge them."""
    chunks = budget.parts_of(run)
    run.chunks = len(chunks)
    run.progress.stage("briefing", f"{len(chunks)} parts", parts=len(chunks), parts_done=0)
    ahead = asyncio.ensure_future(asyncio.to_thread(prepare, run))
    try:
        outcomes = await _brief_parts(run, chunks)
    finally:
        await ahead  # a thread is not cancelled: it ends (it only fills caches)
    deferred = [o for o in outcomes.values() if isinstance(o, Deferred)]
    if deferred:  # every part's request goes into the same batch
        raise Deferred.merge(deferred)
    partials = [o for _, o in sorted(outcomes.items()) if isinstance(o, Partial)]
    for index, outcome in sorted(outcomes.items()):
        if isinstance(outcome, SummarizeError):
            if not partials:
                raise outcome
            chunk = chunks[index]
            run.warnings.append(
                f"part {index + 1} of {len(chunks)} (characters {chunk[0].start}-"
                f"{chunk[-1].end}, sentences S{chunk[0].id}-S{chunk[-1].id}) is not covered: "
                f"{type(outcome).__name__}: {outcome}"
            )
    run.coverage = len(partials) / len(chunks)
    for partial in partials:
        run.warnings += partial.warnings
    return await reduce(run, partials)


async def _brief_parts(run: Run, chunks: list[list[Sentence]]) -> dict[int, Outcome]:
    """Each part's brief, (with allow_partial) the error that lost it, or its requests
    deferred to a batch; the first other error fails the article."""
    semaphore = asyncio.Semaphore(run.concurrency)

    async def brief_part(index: int, chunk: list[Sentence]) -> Outcome:
        async with semaphore:
            try:
                outcome = await part(run, index, chunk)
                run.progress.part_done()
                return outcome
            except Deferred as deferred:
                return deferred
            except SummarizeError as exc:
                if not run.allow_partial or isinstance(exc, FATAL):
                    raise
                return exc

    outcomes: dict[int, Outcome] = {}
    if not run.client.mode_known():
        # The first part alone: it finds the structured-output mode the endpoint
        # takes, so the others do not all try (and fail) the same modes at once.
        outcomes[0] = await brief_part(0, chunks[0])
    tasks = {
        index: asyncio.ensure_future(brief_part(index, chunk))
        for index, chunk in enumerate(chunks)
        if index not in outcomes
    }
    try:
        await asyncio.gather(*tasks.values())  # the first error that fails the article
    finally:
        for task in tasks.values():
            task.cancel()
    outcomes.update((index, task.result()) for index, task in tasks.items())
    return outcomes


async def part(run: Run, index: int, sentences: list[Sentence]) -> Partial:
    """One part's brief. Its prompt numbers the part's sentences from S1 (fewer tokens
    than the article's ids: a 4-digit id costs one more); the brief cites the article's."""
    parts, offset = run.chunks, sentences[0].id - 1

    def build(with_hint: bool) -> list[Message]:
        return prompts.part(
            with_hint,
            number=index + 1,
            parts=parts,
            output_language=run.output_language(),
            hints=run.hints(within=range(sentences[0].id, sentences[-1].id + 1), offset=offset),
            boundary=run.boundary,
            article=run.sentences.render(sentences, offset=offset),
        )

    label = f"part {index + 1} of {parts}: "
    warnings: list[str] = []
    best = await ask_brief(run, build, sentences=sentences, warnings=warnings, label=label)
    run.cut += [c.model_copy(update={"field": label + c.field}) for c in best.cut]
    return Partial(
        first=index,
        last=index,
        start=sentences[0].start,
        end=sentences[-1].end,
        summary=best.summary,
        key_points=best.key_points,
        points=best.points,
        language=best.value.language,
        warnings=[label + w for w in [*warnings, *best.repairs]],
    )


async def reduce(run: Run, partials: list[Partial]) -> ArticleSummary:
    """Merge part briefs into one; collapse them in groups first if they do not fit."""
    room = budget.text_budget(run, "merge")
    semaphore = asyncio.Semaphore(run.concurrency)

    async def collapse_group(group: list[Partial]) -> Partial:
        if len(group) == 1:
            return group[0]
        async with semaphore:
            return await collapse(run, group)

    while True:
        run.depth += 1
        ids = number_points(partials)
        text = render_partials(partials, run.chunks, ids)
        hidden: frozenset[str] = frozenset()
        if run.count(text) > room:
            sizes = [run.count(render_partials([p], run.chunks, ids)) for p in partials]
            groups = group_partials(sizes, room)
            if run.depth < budget.MAX_DEPTH and len(groups) < len(partials):
                partials = await gather_deferring(
                    [collapse_group([partials[i] for i in g]) for g in groups]
                )
                continue
            # No level left (or no group to merge): list as many points as fit;
            # the rest are kept unmerged, with a warning.
            fits = budget.what_fits(run, partials, ids, room)
            if fits is None:
                raise ContextLengthError(
                    f"the briefs of {run.chunks} parts need {run.count(text)} tokens "
                    f"after {run.depth - 1} merge level(s), more than the {room} the "
                    f"context window of {run.window} leaves: pass a larger "
                    "context_window= if the model has one"
                )
            shown, limit = fits
            if limit != LIMITS[0]:
                run.warnings.append(
                    f"the merge was shown the first {limit[0]} summary sentence(s) and "
                    f"{limit[1]} key point(s) of each part: the context window of "
                    f"{run.window} leaves {room} tokens for the part briefs"
                )
            hidden = frozenset(ids) - shown
            text = render_partials(partials, run.chunks, ids, shown, limit)
        best = await _merged_and_followed_up(run, partials, ids, text, hidden)
        return assemble(run, best, TEMPLATES, fallback_language=partials[0].language or "")


async def _merged_and_followed_up(
    run: Run,
    partials: list[Partial],
    ids: dict[str, ContestedPoint],
    text: str,
    hidden: frozenset[str],
) -> Candidate[DraftMerge]:
    """The final merge, and beside it (not after it: one round less) the disputes
    follow-up on the cue sentences no part brief's contested points cite."""
    named = disputes.missing(run, (p for partial in partials for p in partial.points))
    if not named:
        return await merge(run, partials, ids, text, hidden)
    follow = asyncio.ensure_future(disputes.ask(run, named))
    try:
        both: list[Awaitable[Any]] = [merge(run, partials, ids, text, hidden), follow]
        merged = await gather_deferring(both)
    finally:
        follow.cancel()  # the merge failed: the follow-up is not waited for
    best, answer = cast("Candidate[DraftMerge]", merged[0]), merged[1]
    disputes.add(run, best, named, cast("Candidate[DraftDisputes] | str", answer))
    with_checks(run, best)
    return best


async def collapse(run: Run, group: list[Partial]) -> Partial:
    """Merge a group of part briefs into one part brief (a level of the reduce)."""
    ids = number_points(group)
    best = await merge(run, group, ids, render_partials(group, run.chunks, ids), whole=False)
    run.warnings += best.repairs
    run.cut += best.cut
    return Partial(
        first=group[0].first,
        last=group[-1].last,
        start=group[0].start,
        end=group[-1].end,
        summary=best.summary,
        key_points=best.key_points,
        points=best.points,
        language=best.value.language,
    )


async def merge(
    run: Run,
    partials: list[Partial],
    ids: dict[str, ContestedPoint],
    text: str,
    hidden: frozenset[str] = frozenset(),
    *,
    whole: bool = True,
) -> Candidate[DraftMerge]:
    """One reduce request: the merged draft, with points built from the ids it names
    (``whole``: the final merge; a group's points are weighed again)."""

    def build(with_hint: bool) -> list[Message]:
        return prompts.merge(
            with_hint,
            parts=len(partials),
            output_language=run.output_language(),
            boundary=run.boundary,
            partials=text,
        )

    schemas = request_schemas(DraftMerge, len(run.sentences))
    what = f"{len(partials)} part briefs, level {run.depth}"
    return await reask.ask(
        run,
        build,
        lambda reply: check_merge(reply, run, text, ids, hidden, whole=whole),
        schemas,
        run.reduce_usage,
        stage="merging",
        label=f"{what}: ",
    )


async def gather_deferring(coroutines: list[Awaitable[T]]) -> list[T]:
    """``asyncio.gather``, except that requests deferred to a batch are all collected
    (one Deferred) rather than the first one cancelling the rest."""

    async def settle(coroutine: Awaitable[T]) -> T | Deferred:
        try:
            return await coroutine
        except Deferred as deferred:
            return deferred

    outcomes = await asyncio.gather(*(settle(c) for c in coroutines))
    deferred = [o for o in outcomes if isinstance(o, Deferred)]
    if deferred:
        raise Deferred.merge(deferred)
    return [o for o in outcomes if not isinstance(o, Deferred)]
