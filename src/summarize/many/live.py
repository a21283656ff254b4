"""Many articles: bounded concurrency, streaming results, a cache, cost and a budget.

``summarize_many(items)`` yields one ``BatchResult`` per article as each finishes:
its id and either the brief or the typed error (one failure never stops the batch).
Items are pulled from the input only as slots free up, so memory stays flat in the
number of articles. A cached brief (see ``summarize.many.cache``) costs no request.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import queue
import threading
from collections.abc import AsyncGenerator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from summarize.errors import ConfigurationError, InputError, SummarizeError
from summarize.many.cache import BriefCache, cache_key
from summarize.options import DEFAULT_CONCURRENCY
from summarize.schema import ArticleSummary, Usage
from summarize.source.article import Article, detect_language
from summarize.source.names import short_name

if TYPE_CHECKING:
    from summarize.pipeline.summarizer import Summarizer


class BatchError(BaseModel):
    """What went wrong with one article."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="The SummarizeError subclass, e.g. 'RateLimitError'.")
    message: str


class BatchResult(BaseModel):
    """One article's outcome: exactly one of ``result`` and ``error`` is set."""

    model_config = ConfigDict(extra="forbid")

    id: str
    result: ArticleSummary | None = None
    error: BatchError | None = None
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float | None = Field(None, description="From the price table; None if unknown.")
    cached: bool = False

    @classmethod
    def failed(cls, ident: str, exc: SummarizeError, cost_usd: float | None) -> BatchResult:
        """The result of an article lost to ``exc`` (its usage so far kept)."""
        return cls(
            id=ident,
            error=BatchError(type=type(exc).__name__, message=str(exc)),
            usage=exc.usage or Usage(),
            cost_usd=cost_usd,
        )

    def record(self) -> dict[str, Any]:
        """The JSON Lines record of this result: ``{"id", "result" | "error", "usage",
        "cost_usd", "cached"}`` (the CLI writes exactly this)."""
        line: dict[str, Any] = {"id": self.id}
        if self.result is not None:
            line["result"] = self.result.model_dump(mode="json")
        else:
            error = self.error or BatchError(type="SummarizeError", message="unknown")
            line["error"] = error.model_dump()
        line["usage"] = self.usage.model_dump()
        line["cost_usd"] = self.cost_usd
        line["cached"] = self.cached
        return line


def item_id(item: Any, number: int) -> tuple[str, Any]:
    """The id and the source of one input item."""
    if isinstance(item, tuple) and len(item) == 2:
        return str(item[0]), item[1]
    if isinstance(item, dict):
        if "id" not in item:
            raise InputError(f"item {number}: a dict needs an 'id'")
        ident = item["id"]
        if isinstance(ident, bool) or not isinstance(ident, (str, int)) or ident == "":
            raise InputError(
                f"item {number}: 'id' must be a non-empty string or a number, not "
                f"{type(ident).__name__} {ident!r:.40}"
            )
        for key in ("text", "path", "url"):
            if key in item and not isinstance(item[key], str):
                raise InputError(
                    f"item {number} (id {ident!r}): {key!r} must be a string, not "
                    f"{type(item[key]).__name__}; fix the row and run again (the other "
                    "rows are not affected)"
                )
        for key in ("text", "path", "url"):
            if item.get(key):
                value = item[key]
                if key == "text":  # always text: never read as a path, a page or a URL
                    return str(ident), Article(text=value, language=detect_language(value))
                return str(ident), Path(value) if key == "path" else value
        raise InputError(f"item {number} (id {ident!r}): has no 'text', 'path' or 'url'")
    if isinstance(item, os.PathLike):
        return os.fspath(item), item
    if isinstance(item, Article):
        return item.url or hashlib.sha256(item.text.encode()).hexdigest()[:16], item
    if isinstance(item, str):
        return hashlib.sha256(item.encode("utf-8", "surrogatepass")).hexdigest()[:16], item
    raise InputError(f"item {number}: cannot summarise a {type(item).__name__}")


@dataclass
class _Budget:
    limit: float | None
    spent: float = 0.0
    stopped: bool = False

    def allows(self) -> bool:
        if self.limit is not None and self.spent >= self.limit:
            self.stopped = True
        return not self.stopped


async def asummarize_many(
    items: Iterable[Any],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    cache: bool | str | os.PathLike[str] = True,
    max_cost: float | None = None,
    prices: dict[str, tuple[float, float]] | None = None,
    skip: Iterable[str] = (),
    **options: Any,
) -> AsyncGenerator[BatchResult, None]:
    """Summarise many articles; yield each ``BatchResult`` as it finishes.

    ``items``: texts, paths, ``Article`` objects, ``(id, text)`` pairs or dicts with
    ``id`` and one of ``text``, ``path``, ``url``. ``concurrency``: articles in flight.
    ``cache``: True (the default file), False, or a path. ``max_cost`` (USD): no new
    article starts once the spent total reaches it. ``skip``: ids to leave out
    (resume). Other options are those of ``summarize()``, among them
    ``requests_per_minute`` and ``tokens_per_minute``: every request of the batch goes
    through one ``RateLimiter``, so limits, learned ones and 429s hold for the whole
    batch. ``concurrency`` inside one long article stays the Summarizer's.
    """
    from summarize.pipeline.summarizer import Summarizer

    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigurationError(f"concurrency must be a whole number >= 1, not {concurrency!r}")
    store, unusable = open_cache(cache)
    budget = _Budget(max_cost)
    feed = _feed(items, set(skip))
    pending: set[asyncio.Task[BatchResult]] = set()
    try:
        async with Summarizer(**options) as summarizer:
            if max_cost is not None and summarizer.cost(Usage(), prices) is None:
                raise ConfigurationError(
                    f"max_cost (--max-cost) needs prices: {summarizer.endpoint.label()} is "
                    f"not OpenAI's API, or {summarizer.model!r} has no list price; pass "
                    "price_in= and price_out= (--price-in, --price-out, USD per million "
                    "tokens)"
                )
            one = OneArticle(summarizer, store, prices, unusable)
            while True:
                while len(pending) < concurrency and budget.allows():
                    item = next(feed, None)
                    if item is None:
                        break
                    if isinstance(item, BatchResult):
                        yield item
                        continue
                    pending.add(asyncio.ensure_future(one(*item)))
                if not pending:
                    break
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    result = task.result()
                    budget.spent += result.cost_usd or 0.0
                    yield result
    finally:
        for task in pending:
            task.cancel()
        if store is not None:
            store.close()


def open_cache(cache: Any) -> tuple[BriefCache | None, str | None]:
    """The brief cache ``cache`` names (True: the default file; a path; falsy: none),
    or (None, why) when it cannot be opened: a run goes on without it."""
    if not cache:
        return None, None
    try:
        return BriefCache(None if cache is True else cache), None
    except ConfigurationError as exc:
        return None, f"{exc}; this run goes on without it"


def _feed(items: Iterable[Any], skipped: set[str]) -> Iterator[tuple[str, Any] | BatchResult]:
    """(id, source) for each item to summarise, once per id; an unusable item is its
    error result. Pulled lazily, as slots free up."""
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict) and str(item.get("id")) in skipped:
            continue
        try:
            ident, source = item_id(item, number)
        except InputError as exc:
            given = item.get("id") if isinstance(item, dict) else None
            yield BatchResult.failed(str(given or f"item-{number}"), exc, None)
            continue
        if ident in skipped:
            continue
        skipped.add(ident)  # each id once, even if the input repeats it
        yield ident, source


@dataclass
class OneArticle:
    """One article of a batch: from the cache, or summarised (and then cached)."""

    summarizer: Summarizer
    store: BriefCache | None
    prices: dict[str, tuple[float, float]] | None

    unusable: str | None = None  # why the cache could not be opened
    said: bool = False

    def __post_init__(self) -> None:
        self.settings = self.summarizer.cache_settings()

    def _say_problem(self, brief: ArticleSummary) -> None:
        """The cache's trouble, once: in the first brief after it, and in the log."""
        problem = self.unusable or (self.store.problem if self.store is not None else None)
        if problem and not self.said:
            self.said = True
            brief.meta.warnings.append(problem)
            logging.getLogger("summarize").warning(problem)

    async def __call__(self, ident: str, source: Any) -> BatchResult:
        try:
            article = await asyncio.to_thread(self.summarizer.read, source)
        except SummarizeError as exc:
            return BatchResult.failed(
                ident, exc, self.summarizer.cost(exc.usage or Usage(), self.prices)
            )
        return await self.brief(ident, article, short_name(source, article) or ident)

    async def brief(self, ident: str, article: Article, name: str) -> BatchResult:
        """The brief of an ``article`` read already: from the cache, or summarised."""
        settings, cost = self.settings, self.summarizer.cost
        try:
            key = cache_key(article.text, settings)
            refused = self.store.refused if self.store is not None else 0
            if self.store is not None and (hit := self.store.get(key, article.text)) is not None:
                hit.meta.source = name  # the same text may come from another file
                return BatchResult(id=ident, result=hit, cached=True, cost_usd=0.0)
            brief = await self.summarizer.asummarize(article, name=name)
        except SummarizeError as exc:
            return BatchResult.failed(ident, exc, cost(exc.usage or Usage(), self.prices))
        if self.store is not None:
            if self.store.refused > refused:
                brief.meta.warnings.append(
                    "the cached brief of this text did not ground in it (a quote not at its "
                    "offsets): it was not served, and the article was briefed again"
                )
            self.store.put(key, brief)
        self._say_problem(brief)
        usage = brief.meta.usage
        return BatchResult(id=ident, result=brief, usage=usage, cost_usd=cost(usage, self.prices))


def summarize_many(items: Iterable[Any], **options: Any) -> Iterator[BatchResult]:
    """Blocking ``asummarize_many``: results stream out as they finish.

    Leaving the loop early (a ``break``, Ctrl-C) cancels the articles in flight at once."""
    results: queue.Queue[BatchResult | BaseException | None] = queue.Queue(maxsize=64)
    stop = threading.Event()
    running: list[tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = []

    async def pump() -> None:
        task = asyncio.current_task()
        if task is not None:
            running.append((asyncio.get_running_loop(), task))
        generator = asummarize_many(items, **options)
        try:
            async for result in generator:
                while True:
                    try:
                        results.put(result, timeout=0.1)
                        break
                    except queue.Full:
                        if stop.is_set():
                            return
                if stop.is_set():
                    return
        finally:
            await generator.aclose()

    def run() -> None:
        try:
            asyncio.run(pump())
            results.put(None)
        except asyncio.CancelledError:
            pass  # the consumer left
        except BaseException as exc:  # handed to the consumer, raised there
            results.put(exc)

    worker = threading.Thread(target=run, name="summarize-many", daemon=True)
    worker.start()
    try:
        while True:
            got = results.get()
            if got is None:
                return
            if isinstance(got, BaseException):
                raise got
            yield got
    finally:
        stop.set()
        for loop, task in running:
            with contextlib.suppress(RuntimeError):  # the loop has closed already
                loop.call_soon_threadsafe(task.cancel)
        worker.join(timeout=5)
