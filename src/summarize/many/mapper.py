"""One brief per row, as a map step of a cluster engine (Ray Data, Spark) or any loop.

``BriefMapper(**options)`` is built on the driver (its options are checked there, so a
bad option fails at once) and pickled to the workers. On its first batch a worker
builds what it keeps for every later batch: a ``Summarizer`` (its client and rate
limiter; with ``local=True`` its own local engine), the brief cache, and an event loop
on a thread of its own that runs up to ``concurrency`` articles at once. One worker
process holds one of each per set of options, however often the engine unpickles the
mapper (Spark does, once per task).

A batch is a ``pyarrow.Table``, a pandas ``DataFrame`` or a dict of columns, with an
id column and a ``text``, ``url`` or ``path`` column (or ``text_column=``). The same
kind comes back, every input column kept, with the columns of ``OUTPUT_COLUMNS``
added: the brief as JSON, or the typed error of a row that failed. A failure is a row,
never an exception that fails the engine's task: a bad row (no id, no text, a path
outside ``paths_under``), a typed error of the library, and even a bug of ours (its
type and message) each cost their row only.

``text_sha256`` is the SHA-256 of the row's text as given (of the text read, for a
``url`` or ``path`` row): with the id, what ``resume_from=`` of the engines compares.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import json
import threading
from collections import deque
from collections.abc import Coroutine, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from summarize.errors import ConfigurationError, InputError, SummarizeError
from summarize.many.live import BatchResult, OneArticle, open_cache
from summarize.options import DEFAULT_CONCURRENCY
from summarize.schema import Usage
from summarize.source.article import Article, detect_language

if TYPE_CHECKING:
    from summarize.pipeline.summarizer import Summarizer

T = TypeVar("T")

# name -> Arrow type, in order: what every output row has, exactly
OUTPUT_COLUMNS: dict[str, str] = {
    "brief": "string",  # ArticleSummary JSON; null for a failed row
    "error_type": "string",  # the SummarizeError subclass (or InputError); null if briefed
    "error": "string",  # its message
    "prompt_tokens": "int64",
    "completion_tokens": "int64",
    "requests": "int64",  # HTTP requests this row cost (0: cached, or failed before one)
    "cost_usd": "double",  # null when the endpoint has no known price
    "cached": "bool",  # served from the brief cache
    "text_sha256": "string",  # of the text as given (a url/path row: as read)
}
SOURCE_COLUMNS = ("text", "url", "path")
LIMITS = ("requests_per_minute", "tokens_per_minute")


def file_format(path: str | Path) -> str:
    """ "parquet" or "json" for an output path: by its suffix, or, for a folder, by the
    files in it (as engines write them)."""
    path = Path(path)
    names = [p.name for p in path.iterdir()] if path.is_dir() else [path.name]
    parquet = any(n.endswith((".parquet", ".pq")) for n in names)
    return "parquet" if parquet else "json"


def split_limits(options: dict[str, Any], workers: int) -> dict[str, Any]:
    """``options`` with each rate limit given (``requests_per_minute``,
    ``tokens_per_minute``) split evenly over ``workers``: the cluster keeps the limit."""
    return {k: (v / workers if k in LIMITS and v is not None else v) for k, v in options.items()}


@dataclass(frozen=True)
class Outcome:
    """One row's output columns."""

    brief: str | None
    error_type: str | None
    error: str | None
    prompt_tokens: int
    completion_tokens: int
    requests: int
    cost_usd: float | None
    cached: bool
    text_sha256: str | None

    @classmethod
    def of(cls, result: BatchResult, sha: str | None) -> Outcome:
        usage = result.usage or Usage()
        brief = result.result.model_dump_json() if result.result is not None else None
        error = result.error
        return cls(
            brief,
            error.type if error else None,
            error.message if error else None,
            usage.prompt_tokens,
            usage.completion_tokens,
            0 if result.cached else usage.requests,
            result.cost_usd,
            result.cached,
            sha,
        )

    @classmethod
    def failed(cls, kind: str, message: str, sha: str | None = None) -> Outcome:
        return cls(None, kind, message, 0, 0, 0, None, False, sha)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class BriefMapper:
    """Briefs each row of a batch (see the module's docstring). ``concurrency``:
    articles in flight in one worker; ``cache``: False (default), True (the default
    cache file: one per machine) or a path all workers reach; ``paths_under``: the
    folder a ``path`` row may be read from (None: path rows are refused); ``prices``
    as for ``summarize_many``; the other options are ``summarize()``'s."""

    def __init__(
        self,
        *,
        id_column: str = "id",
        text_column: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        cache: bool | str | Path = False,
        paths_under: str | Path | None = None,
        prices: dict[str, tuple[float, float]] | None = None,
        **options: Any,
    ) -> None:
        from summarize.pipeline.summarizer import Summarizer

        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ConfigurationError(
                f"concurrency must be a whole number >= 1, not {concurrency!r}"
            )
        if text_column is not None and text_column in (id_column, *OUTPUT_COLUMNS):
            raise ConfigurationError(f"text_column={text_column!r} is the id or an output column")
        Summarizer(**options).close()  # a bad option fails here, on the driver
        self.id_column, self.text_column = id_column, text_column
        self.concurrency, self.cache, self.prices = concurrency, cache, prices
        self.paths_under = Path(paths_under).resolve() if paths_under is not None else None
        self.options = options
        self._worker: _Worker | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_worker"] = None  # built again where it is unpickled
        return state

    def __call__(self, batch: Any) -> Any:
        """``batch`` with the output columns added (replacing any of the same names)."""
        return self._finish(batch, self._start(batch).result())

    def stream(self, batches: Iterable[Any], ahead: int = 2) -> Iterator[Any]:
        """Each of ``batches`` with its output columns, in order, the next ``ahead``
        started before one is finished: the worker's slots stay full across batches (a
        batch's last rows no longer hold up the next one's)."""
        pending: deque[tuple[Any, concurrent.futures.Future[list[Outcome]]]] = deque()
        for batch in batches:
            pending.append((batch, self._start(batch)))
            if len(pending) > ahead:
                done, future = pending.popleft()
                yield self._finish(done, future.result())
        while pending:
            done, future = pending.popleft()
            yield self._finish(done, future.result())

    def _start(self, batch: Any) -> concurrent.futures.Future[list[Outcome]]:
        columns = _columns(batch)
        rows = len(next(iter(columns.values()), []))
        if self.id_column not in columns:
            failed: concurrent.futures.Future[list[Outcome]] = concurrent.futures.Future()
            failed.set_result([Outcome.failed("InputError", self._no_id(columns))] * rows)
            return failed
        return self.worker().start([self._row(columns, i) for i in range(rows)])

    def _finish(self, batch: Any, outcomes: list[Outcome]) -> Any:
        added = {name: [getattr(o, name) for o in outcomes] for name in OUTPUT_COLUMNS}
        return _with_columns(batch, added)

    def worker(self) -> _Worker:
        """This process's worker for these options (built on first use)."""
        if self._worker is None:
            self._worker = _Worker.shared(self)
        return self._worker

    def close(self) -> None:
        """Stop this process's worker for these options (its loop, client and engine)."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def _no_id(self, columns: dict[str, list[Any]]) -> str:
        return (
            f"the batch has no id column {self.id_column!r} (it has {sorted(columns)}): "
            "pass id_column= the name of the column that identifies each row"
        )

    def _row(self, columns: dict[str, list[Any]], i: int) -> tuple[Any, str, Any]:
        """(id, source kind, value) of row ``i``: its text (``text_column``, default
        ``text``), else its ``url``, else its ``path``, whichever is not empty first."""
        names = {self.text_column or "text": "text", "url": "url", "path": "path"}
        for name, kind in names.items():
            value = columns[name][i] if name in columns else None
            if value is not None and value != "":
                return columns[self.id_column][i], kind, value
        return columns[self.id_column][i], "", None


class _Worker:
    """What one worker process keeps for one set of options: a loop on its own thread,
    the Summarizer and the cache, opened in that loop."""

    _shared: ClassVar[dict[str, _Worker]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def shared(cls, mapper: BriefMapper) -> _Worker:
        key = json.dumps(
            [mapper.options, mapper.concurrency, str(mapper.cache), str(mapper.paths_under),
             mapper.prices], sort_keys=True, default=repr,
        )  # fmt: skip
        with cls._lock:
            worker = cls._shared.get(key)
            if worker is None or worker.closed:
                worker = cls._shared[key] = cls(mapper)
            return worker

    def __init__(self, mapper: BriefMapper) -> None:
        self.mapper = mapper
        self.closed = False
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                       name="summarize-mapper")  # fmt: skip
        self.thread.start()
        self.summarizer, self.one = self._call(self._open())

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    async def _open(self) -> tuple[Summarizer, OneArticle]:
        from summarize.pipeline.summarizer import Summarizer

        self.slots = asyncio.Semaphore(self.mapper.concurrency)  # shared by the batches
        summarizer = Summarizer(**self.mapper.options)
        await summarizer.__aenter__()
        store, unusable = open_cache(self.mapper.cache)
        return summarizer, OneArticle(summarizer, store, self.mapper.prices, unusable)

    def start(self, rows: list[tuple[Any, str, Any]]) -> concurrent.futures.Future[list[Outcome]]:
        """Brief ``rows`` on the worker's loop; at most ``concurrency`` rows of all the
        batches started are in flight at once."""
        return asyncio.run_coroutine_threadsafe(self._all(rows), self.loop)

    async def _all(self, rows: list[tuple[Any, str, Any]]) -> list[Outcome]:
        slots = self.slots

        async def one(row: tuple[Any, str, Any]) -> Outcome:
            async with slots:
                try:
                    return await self._one(*row)
                except Exception as exc:  # a bug of ours costs its row, not the task
                    return Outcome.failed(type(exc).__name__, f"unexpected: {exc}")

        return list(await asyncio.gather(*(one(row) for row in rows)))

    async def _one(self, ident: Any, kind: str, value: Any) -> Outcome:
        given = sha256(value) if kind == "text" and isinstance(value, str) else None
        try:
            name = _identity(ident)
            source = self._source(name, kind, value)
            # a text is read too: its size cap, its cleaning, as summarize_many reads it
            article = await asyncio.to_thread(self.summarizer.read, source)
        except SummarizeError as exc:
            return Outcome.failed(type(exc).__name__, str(exc), given)
        result = await self.one.brief(name, article, name)
        return Outcome.of(result, given or sha256(article.text))

    def _source(self, ident: str, kind: str, value: Any) -> Article | Path | str:
        if not kind:
            raise InputError(
                f"row {ident!r}: no text, url or path (or text_column=); fix the row and "
                "run again (the other rows are not affected)"
            )
        if not isinstance(value, str):
            raise InputError(f"row {ident!r}: {kind} must be a string, not {type(value).__name__}")
        if kind == "text":
            return Article(text=value, language=detect_language(value))
        if kind == "url":
            return value
        root = self.mapper.paths_under
        path = Path(value)
        if root is None:
            raise InputError(
                f"row {ident!r}: a path row is read only under paths_under= (the folder "
                "the batch's files are in); none was given"
            )
        resolved = (root / path).resolve()
        if not resolved.is_relative_to(root):
            raise InputError(f"row {ident!r}: {value!r} is outside paths_under={str(root)!r}")
        return resolved

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            self._call(self.summarizer.aclose())
        if self.one.store is not None:
            self.one.store.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


def _identity(ident: Any) -> str:
    if ident is None or isinstance(ident, bool) or ident == "" or isinstance(ident, float):
        raise InputError(f"a row's id must be a non-empty string or a whole number, not {ident!r}")
    return str(ident)


# --- batches: Arrow tables, pandas frames, dicts of columns ---------------------------


def _columns(batch: Any) -> dict[str, list[Any]]:
    """The batch's columns as Python lists."""
    if isinstance(batch, dict):
        return {str(k): list(v) for k, v in batch.items()}
    if hasattr(batch, "to_pydict"):  # pyarrow.Table / RecordBatch
        return {str(k): v for k, v in batch.to_pydict().items()}
    if hasattr(batch, "to_dict") and hasattr(batch, "columns"):  # pandas.DataFrame
        return {str(k): batch[k].tolist() for k in batch.columns}
    raise InputError(
        f"a batch must be a pyarrow.Table, a pandas DataFrame or a dict of columns, not "
        f"{type(batch).__name__}"
    )


def _with_columns(batch: Any, added: dict[str, list[Any]]) -> Any:
    if isinstance(batch, dict):
        return {**{k: v for k, v in batch.items() if k not in added}, **added}
    if hasattr(batch, "to_pydict"):
        import pyarrow as pa

        table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
        table = table.drop_columns([n for n in added if n in table.column_names])
        for name, values in added.items():
            table = table.append_column(
                pa.field(name, arrow_type(name)), pa.array(values, arrow_type(name))
            )
        return table
    frame = batch.drop(columns=[n for n in added if n in batch.columns])
    return frame.assign(**{name: _pandas(name, values) for name, values in added.items()})


def arrow_type(name: str) -> Any:
    import pyarrow as pa

    return {"string": pa.string(), "int64": pa.int64(), "double": pa.float64(),
            "bool": pa.bool_()}[OUTPUT_COLUMNS[name]]  # fmt: skip


def _pandas(name: str, values: list[Any]) -> Any:
    import pandas as pd

    dtype = {"string": "object", "int64": "int64", "double": "float64", "bool": "bool"}
    return pd.Series(values, dtype=dtype[OUTPUT_COLUMNS[name]])
