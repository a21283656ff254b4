"""The phases of a Batch API job: submit, status, collect (and the replay between)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from summarize.errors import ConfigurationError, InputError, SummarizeError
from summarize.many.batchapi.remote import TERMINAL, create_queued, download, send_phase, session
from summarize.many.batchapi.replay import COSTS, Costs, replaying_summarizer
from summarize.many.batchapi.state import BatchCancelledError, BatchJob, BatchStatus, default_root
from summarize.many.cache import BriefCache, cache_key
from summarize.many.live import BatchResult, item_id, open_cache
from summarize.model.pricing import price_of
from summarize.model.protocol import Deferred, Mode
from summarize.options import BATCH_KEPT
from summarize.source.article import Article, as_article

if TYPE_CHECKING:
    import openai

    from summarize.pipeline.summarizer import Summarizer

BATCH_DISCOUNT = 0.5  # OpenAI bills batch requests at half the standard price
REPLAY_WIDTH = 16  # articles replayed at once when no request goes online (CPU work)


@dataclass
class _Round:
    """One pass over the unfinished articles."""

    on_result: Callable[[BatchResult], None] | None = None
    results: list[BatchResult] = field(default_factory=list)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    waiting: int = 0  # articles with requests still out
    finished: int = 0

    def add(self, result: BatchResult) -> None:
        self.finished += 1
        if self.on_result is not None:
            self.on_result(result)  # streamed: memory stays flat in the number of articles
        else:
            self.results.append(result)


async def _advance(
    job: BatchJob,
    *,
    online: bool,
    skip: set[str],
    client: openai.AsyncOpenAI | None,
    api_key: str | None,
    prices: dict[str, tuple[float, float]] | None,
    on_result: Callable[[BatchResult], None] | None = None,
) -> _Round:
    """Run every article not in ``skip`` against the answers downloaded so far (never
    online once the job is cancelled)."""
    online = online and not job.state.get("cancelled")
    summarizer = replaying_summarizer(job, job.answers(), online, client, api_key)
    cache = job.state.get("cache")
    store, _unusable = open_cache(cache)  # a cache that cannot be used: none
    replay = _Replay(
        summarizer, store, prices, _Round(on_result), cancelled=bool(job.state.get("cancelled"))
    )
    # Replays are CPU work; online requests are bounded like a batch run's articles.
    width = summarizer.concurrency if online else REPLAY_WIDTH
    rows = (row for row in job.articles() if row["id"] not in skip)  # read lazily

    async def worker() -> None:
        for row in rows:  # one shared iterator: each row goes to one worker
            await asyncio.create_task(replay(row))  # a task: its own context for COSTS

    try:
        async with summarizer:
            await asyncio.gather(*(worker() for _ in range(width)))
    finally:
        if store is not None:
            store.close()
    return replay.outcome


@dataclass
class _Replay:
    """One article of a job, replayed: from the cache, finished, failed or waiting."""

    summarizer: Summarizer
    store: BriefCache | None
    prices: dict[str, tuple[float, float]] | None
    outcome: _Round
    cancelled: bool = False  # the job was cancelled: nothing more is sent

    def __post_init__(self) -> None:
        self.settings = self.summarizer.cache_settings()

    async def __call__(self, row: dict[str, Any]) -> None:
        ident, outcome = row["id"], self.outcome
        if "error" in row:
            outcome.add(BatchResult.failed(ident, InputError(row["error"]), 0.0))
            return
        costs = Costs()
        COSTS.set(costs)
        article = Article(**row["article"])
        key = cache_key(article.text, self.settings)
        if self.store is not None and (hit := self.store.get(key, article.text)) is not None:
            outcome.add(BatchResult(id=ident, result=hit, cached=True, cost_usd=0.0))
            return
        model = self.summarizer.model
        try:
            brief = await self.summarizer.asummarize(article)
        except Deferred as deferred:
            if self.cancelled:
                error = BatchCancelledError(
                    f"the job was cancelled before this article's next {len(deferred.requests)} "
                    "request(s) went out; summarize it again to finish it"
                )
                outcome.add(BatchResult.failed(ident, error, _cost(model, costs, self.prices)))
                return
            outcome.pending.update(deferred.requests)
            outcome.waiting += 1
            return
        except SummarizeError as exc:
            outcome.add(BatchResult.failed(ident, exc, _cost(model, costs, self.prices)))
            return
        if self.store is not None:
            self.store.put(key, brief)  # the same pipeline as online: the same cache entry
        cost = _cost(model, costs, self.prices)
        outcome.add(BatchResult(id=ident, result=brief, usage=brief.meta.usage, cost_usd=cost))


def _cost(model: str, costs: Costs, prices: dict[str, tuple[float, float]] | None) -> float | None:
    batch = price_of(model, costs.batch, prices)
    online = price_of(model, costs.online, prices)
    if batch is None or online is None:
        return None
    return batch * BATCH_DISCOUNT + online


async def asubmit_batch(
    items: Iterable[Any],
    *,
    state_dir: str | os.PathLike[str] | None = None,
    client: openai.AsyncOpenAI | None = None,
    api_key: str | None = None,
    cache: bool | str | os.PathLike[str] = True,
    batch_tokens: int | None = None,
    **options: Any,
) -> BatchJob:
    """Make a job from ``items`` (as ``summarize_many`` takes them) and send phase 1.

    ``options`` are those of ``summarize()`` (not ``local``: llama.cpp has no Batch API).
    ``structured_output`` defaults to ``json_schema``. ``cache`` (as in
    ``summarize_many``): articles already in the brief cache need no request, and
    every brief the job finishes is added to it. ``batch_tokens``: at most this many
    (estimated) prompt tokens enqueued at once, the model's batch queue limit; batches
    beyond it wait for earlier ones to end, and a batch refused with
    ``token_limit_exceeded`` halves it and goes again.
    """
    if options.get("local") or options.get("local_model"):
        raise ConfigurationError(
            "the Batch API needs an OpenAI(-compatible) endpoint with /v1/batches, not --local"
        )
    unknown = set(options) - set(BATCH_KEPT)
    if unknown:
        raise ConfigurationError(f"unknown option(s) for a batch job: {sorted(unknown)}")
    options.setdefault("structured_output", Mode.JSON_SCHEMA.value)
    if client is not None:
        options["base_url"] = str(client.base_url)

    root = Path(state_dir) if state_dir else default_root()
    reading = {k: options[k] for k in ("max_input_bytes", "encoding") if k in options}
    job = await asyncio.to_thread(BatchJob.create, root, options, _rows(items, **reading))
    job.state["cache"] = cache if isinstance(cache, bool) else os.fspath(cache)
    if batch_tokens is not None:
        if batch_tokens < 1:
            raise ConfigurationError(f"batch_tokens must be >= 1, not {batch_tokens}")
        job.state["batch_tokens"] = batch_tokens
    job.save()
    outcome = await _advance(
        job, online=False, skip=set(), client=client, api_key=api_key, prices=None
    )
    if not outcome.pending:
        job.state["finished"] = True
        job.save()
        return job
    async with session(job, client, api_key) as api:
        await send_phase(job, api, outcome.pending)
    return job


async def abatch_status(
    job_id: str,
    *,
    state_dir: str | os.PathLike[str] | None = None,
    client: openai.AsyncOpenAI | None = None,
    api_key: str | None = None,
) -> BatchStatus:
    """Ask the API where the current phase's batches are; the job's state is updated."""

    job = BatchJob.load(job_id, Path(state_dir) if state_dir else None)
    async with session(job, client, api_key) as api:
        await _refresh(job, api)
        if not job.state.get("cancelled"):
            await create_queued(job, api)  # those a failure or the token budget held back
    return job.status()


async def _refresh(job: BatchJob, api: openai.AsyncOpenAI) -> None:
    """Ask where each created batch of the current phase stands; saved."""
    for record in job.state["batches"]:
        if record["phase"] != job.state["phase"] or record.get("ended") or not record.get("id"):
            continue
        batch = await api.batches.retrieve(record["id"])
        record["ended"] = batch.status in TERMINAL
        record["status"] = batch.status
        counts = batch.request_counts
        if counts is not None:
            record["counts"] = counts.model_dump()
        record["output_file_id"] = batch.output_file_id
        record["error_file_id"] = batch.error_file_id
        if batch.errors and batch.errors.data:
            record["codes"] = sorted({str(e.code) for e in batch.errors.data})
            record["errors"] = [f"line {e.line}: {e.code}: {e.message}" for e in batch.errors.data]
    job.save()


async def acancel_batch(
    job_id: str,
    *,
    state_dir: str | os.PathLike[str] | None = None,
    client: openai.AsyncOpenAI | None = None,
    api_key: str | None = None,
) -> BatchStatus:
    """Cancel a job: its running batches are cancelled, its queued ones never created,
    and nothing of it is sent again. A later collect keeps what the batches answered
    before they stopped; the other articles end with ``BatchCancelledError``."""
    job = BatchJob.load(job_id, Path(state_dir) if state_dir else None)
    job.state["cancelled"] = True
    job.save()  # first: whatever happens next, nothing more is sent
    async with session(job, client, api_key) as api:
        for record in job.state["batches"]:
            if record["phase"] != job.state["phase"] or record.get("ended"):
                continue
            if not record.get("id"):  # queued: never created
                record.update(status="cancelled", ended=True)
                continue
            batch = await api.batches.cancel(record["id"])
            record["status"] = batch.status
        job.save()
        await _refresh(job, api)
    return job.status()


@dataclass
class CollectReport:
    """What one ``collect`` did."""

    status: BatchStatus
    results: list[BatchResult]  # empty when they went to ``on_result``
    next_batches: list[dict[str, Any]]
    waiting: int  # articles not finished yet (-1: the phase has not ended)
    finished: int = 0  # articles finished in this collect

    @property
    def done(self) -> bool:
        return self.waiting == 0


async def acollect_batch(
    job_id: str,
    *,
    state_dir: str | os.PathLike[str] | None = None,
    client: openai.AsyncOpenAI | None = None,
    api_key: str | None = None,
    online: bool = False,
    wait: bool = False,
    poll: float = 30.0,
    skip: Iterable[str] = (),
    prices: dict[str, tuple[float, float]] | None = None,
    on_result: Callable[[BatchResult], None] | None = None,
) -> CollectReport:
    """Download what the current phase answered and finish every article it can.

    Returns the finished articles' results (not those in ``skip``), or hands each to
    ``on_result`` as it finishes (memory then stays flat in the number of articles),
    and sends the next phase's batch for the others unless ``online``. When the phase's batches are
    still running, returns no results (or, with ``wait``, polls every ``poll`` s).
    """

    status = await abatch_status(job_id, state_dir=state_dir, client=client, api_key=api_key)
    while wait and not status.ready:
        await asyncio.sleep(poll)
        status = await abatch_status(job_id, state_dir=state_dir, client=client, api_key=api_key)
    job = BatchJob.load(status.job, Path(state_dir) if state_dir else None)
    if not status.ready:
        return CollectReport(status, [], [], waiting=-1)
    async with session(job, client, api_key) as api:
        for record in job.state["batches"]:
            if record["phase"] == job.state["phase"] and not record["downloaded"]:
                await download(job, api, record)
        outcome = await _advance(
            job, online=online, skip=set(skip), client=client, api_key=api_key,
            prices=prices, on_result=on_result,
        )  # fmt: skip
        sent: list[dict[str, Any]] = []
        if outcome.pending:
            sent = await send_phase(job, api, outcome.pending)
        else:
            job.state["finished"] = True
            job.save()
    return CollectReport(job.status(), outcome.results, sent, outcome.waiting, outcome.finished)


def _rows(items: Iterable[Any], **reading: Any) -> Iterator[dict[str, Any]]:
    """A job's article rows: ``{"id", "article"}``, or ``{"id", "error"}`` for an item
    that cannot be read; each id once. ``reading``: ``max_input_bytes``, ``encoding``."""
    seen: set[str] = set()
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict) and "error" in item:
            yield {"id": str(item["id"]), "error": str(item["error"])}
            continue
        try:
            ident, source = item_id(item, number)
        except InputError as exc:
            given = item.get("id") if isinstance(item, dict) else None
            yield {"id": str(given or f"item-{number}"), "error": str(exc)}
            continue
        if ident in seen:
            continue
        seen.add(ident)
        try:
            article = as_article(source, **reading)
        except InputError as exc:
            yield {"id": ident, "error": str(exc)}
            continue
        yield {"id": ident, "article": article.model_dump()}
