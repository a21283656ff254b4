"""The OpenAI Batch API: many articles as batch jobs, at half the price, collected later.

A *job* is a set of articles and a local state directory
(``$XDG_CACHE_HOME/summarize/batches/<job id>/``). Its work goes out in *phases*:

1. ``submit_batch()`` runs the ordinary pipeline on every article with no model
   answers at hand. Each request the pipeline would send is *deferred* instead and
   written to a JSONL file, which is uploaded as one batch (several past 50,000
   requests). A short article needs one request; a long one needs one per part.
2. ``collect_batch()`` downloads the answers and runs the pipeline again, replaying
   them: the same prompts, parsing, validation, grounding and merging as online.
   Articles whose requests are all answered finish. Requests the pipeline only now
   knows it needs (the merge of a long article's parts, a re-ask of an answer that
   failed validation, a retry of a line that failed with a 5xx or 429, or a request
   an expired batch never ran) are submitted as the next phase's batch, or sent
   online at once with ``online=True``.

Replaying needs the same prompts on every run, so each article's boundary marker is
derived from a random salt kept in the job (not guessable from the article), and the
structured-output mode is fixed when the job is made (``json_schema`` unless given).
A request's ``custom_id`` is a hash of its body, so identical requests (the same text
twice) are sent once, and answers are matched to requests however they are ordered.
The API key is never stored; the job keeps the model, endpoint and options.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from summarize.articles import Article
from summarize.batch import BatchError, BatchResult, item_id, price_of
from summarize.cache import BriefCache, cache_key
from summarize.client import Deferred, Message, Mode, ModelClient, Reply
from summarize.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    ConfigurationError,
    InputError,
    NotFoundError,
    RateLimitError,
    ServerError,
    SummarizeError,
)
from summarize.retrying import Deadline, TransientFailure
from summarize.schema import Usage

if TYPE_CHECKING:
    import openai

    from summarize.pipeline import Summarizer, _Job

ENDPOINT: Final = "/v1/chat/completions"
BATCH_DISCOUNT = 0.5  # OpenAI bills batch requests at half the standard price
MAX_REQUESTS = 50_000  # per batch (OpenAI's limit)
MAX_BYTES = 190 * 1024 * 1024  # per input file (OpenAI's limit is 200 MB)
TERMINAL = ("completed", "failed", "expired", "cancelled")
STATE_VERSION = 1
# Summarizer options a job keeps, so that every phase builds the same prompts.
_KEPT = (
    "model", "base_url", "language", "max_retries", "max_reasks", "context_window",
    "max_output_tokens", "temperature", "structured_output", "concurrency", "allow_partial",
    "timeout",
)  # fmt: skip


class BatchJobError(SummarizeError):
    """A Batch API job cannot go on: unknown id, a batch that failed validation, ..."""


def default_root() -> Path:
    """``$XDG_CACHE_HOME/summarize/batches`` (``~/.cache`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "summarize" / "batches"


def custom_id(body: dict[str, Any]) -> str:
    """A request's id in a batch: a hash of its body (at most 64 characters)."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "r-" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def request_body(params: dict[str, Any]) -> dict[str, Any]:
    """The JSON body the SDK would send for ``params`` (``extra_body`` merged in)."""
    body = {k: v for k, v in params.items() if k != "extra_body"}
    body.update(params.get("extra_body") or {})
    return body


def _line_ok(line: dict[str, Any]) -> bool:
    response = line.get("response") or {}
    return line.get("error") is None and response.get("status_code") == 200


# -- the model client that answers from batch output -----------------------------------


@dataclass
class _Costs:
    """One article's usage, split by how it was billed."""

    batch: Usage = field(default_factory=Usage)
    online: Usage = field(default_factory=Usage)


_costs: contextvars.ContextVar[_Costs | None] = contextvars.ContextVar("costs", default=None)


class BatchClient:
    """Stands in for ``ModelClient``: answers come from the batch output lines.

    A request with a successful line gets its answer (through the same checks as an
    online reply). One whose lines all failed is retried in the next batch up to
    ``max_retries`` times, unless the failure is final (a 400, a refusal, ...). One
    with no line is deferred, or sent online when ``online`` is set.
    """

    def __init__(
        self, base: ModelClient, answers: dict[str, list[dict[str, Any]]], *, online: bool
    ) -> None:
        self.base = base
        self.answers = answers
        self.online = online
        self._asked: dict[str, int] = {}  # custom_id -> times asked in this run

    def mode_known(self) -> bool:
        return True  # fixed when the job was made

    async def complete(
        self,
        messages_for: Callable[[Mode], list[Message]],
        schema: dict[str, Any],
        bounded_schema: dict[str, Any],
        *,
        deadline: Deadline,
        usage: Usage,
        warnings: list[str],
    ) -> Reply:
        mode = self.base.start_mode()
        body = request_body(self.base._params(messages_for(mode), schema, bounded_schema, mode))
        key = custom_id(body)
        costs = _costs.get()
        failures, success = self._lines_for(key)
        usage.requests += len(failures)
        if costs is not None:
            costs.batch.requests += len(failures)
        if success is not None:
            return self._answer(success, mode, usage, costs)
        if failures:
            failure = self._failure(failures[-1], mode)
            if not isinstance(failure, TransientFailure):
                raise failure
            if len(failures) > self.base.max_retries:
                raise failure.final
        if self.online:
            before = Usage(**usage.model_dump())
            reply = await self.base.complete(
                messages_for, schema, bounded_schema,
                deadline=deadline, usage=usage, warnings=warnings,
            )  # fmt: skip
            if costs is not None:
                costs.online += Usage(
                    prompt_tokens=usage.prompt_tokens - before.prompt_tokens,
                    completion_tokens=usage.completion_tokens - before.completion_tokens,
                    requests=usage.requests - before.requests,
                )
            return reply
        raise Deferred({key: body})

    def _lines_for(self, key: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """This ask's failed lines and its answer (None: not answered yet).

        Asking the same body again (a re-ask whose messages repeat the last one's) is a
        new request, as it would be online: the k-th ask gets the k-th answer.
        """
        earlier = self._asked.get(key, 0)
        self._asked[key] = earlier + 1
        lines = self.answers.get(key, [])
        position = 0
        while earlier and position < len(lines):
            earlier -= _line_ok(lines[position])
            position += 1
        if earlier:
            return [], None  # an earlier ask of the same body is still unanswered
        failures: list[dict[str, Any]] = []
        for line in lines[position:]:
            if _line_ok(line):
                return failures, line
            failures.append(line)
        return failures, None

    def _answer(
        self, line: dict[str, Any], mode: Mode, usage: Usage, costs: _Costs | None
    ) -> Reply:
        from openai.types.chat import ChatCompletion
        from pydantic import ValidationError

        usage.requests += 1
        try:
            completion = ChatCompletion.model_validate(line["response"]["body"])
        except (ValidationError, TypeError, KeyError) as exc:
            raise ServerError(
                f"batch line {line.get('custom_id')} is not a chat completion: {exc}"
            ) from exc
        before = (usage.prompt_tokens, usage.completion_tokens)
        reply = self.base.reply_from(completion, mode, usage)
        if costs is not None:
            costs.batch += Usage(
                prompt_tokens=usage.prompt_tokens - before[0],
                completion_tokens=usage.completion_tokens - before[1],
                requests=1,
            )
        return reply

    def _failure(self, line: dict[str, Any], mode: Mode) -> Exception:
        """The typed error of a failed line: a TransientFailure if worth retrying."""
        import httpx2
        import openai

        response = line.get("response") or {}
        error = line.get("error") or {}
        status = int(response.get("status_code") or 0)
        if not status:  # no HTTP answer at all (expired, or the batch lost it)
            message = error.get("message") or error.get("code") or "no answer"
            return TransientFailure(ServerError(f"batch request not answered: {message}"))
        body = response.get("body")
        detail = body.get("error") if isinstance(body, dict) else None
        http = httpx2.Response(
            status, json=body, request=httpx2.Request("POST", self.base.endpoint + ENDPOINT)
        )
        exc = openai.APIStatusError(
            str((detail or {}).get("message") or status), response=http, body=detail
        )
        return self.base._status_error(exc, mode)


# -- the job and its state ----------------------------------------------------------


@dataclass
class BatchStatus:
    """Where a job stands: its phase, its batches and their counts."""

    job: str
    phase: int
    batches: list[dict[str, Any]]
    articles: int
    finished: bool

    @property
    def ready(self) -> bool:
        """Every batch of the current phase has ended (completed, failed, expired...)."""
        return all(b.get("ended") for b in self.batches if b["phase"] == self.phase)


class BatchJob:
    """A job's state directory: ``job.json``, ``articles.jsonl``, ``answers.jsonl``."""

    def __init__(self, directory: Path, state: dict[str, Any]) -> None:
        self.directory = directory
        self.state = state

    @property
    def id(self) -> str:
        return str(self.state["id"])

    @classmethod
    def create(
        cls, root: Path, options: dict[str, Any], articles: Iterable[dict[str, Any]]
    ) -> BatchJob:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
        job_id = f"sb-{stamp}-{secrets.token_hex(3)}"
        directory = root / job_id
        try:
            directory.mkdir(parents=True)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot make the batch job directory {directory} ({exc.strerror or exc}): "
                "pass --state-dir (state_dir=) or set XDG_CACHE_HOME"
            ) from exc
        count = 0
        with (directory / "articles.jsonl").open("w", encoding="utf-8") as handle:
            for row in articles:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
        job = cls(
            directory,
            {
                "version": STATE_VERSION,
                "id": job_id,
                "created": stamp,
                "options": options,
                "salt": secrets.token_hex(16),
                "articles": count,
                "phase": 0,
                "batches": [],
            },
        )
        job.save()
        return job

    @classmethod
    def load(cls, job_or_batch_id: str, root: Path | None = None) -> BatchJob:
        root = root or default_root()
        candidates = [root / job_or_batch_id] if "/" not in job_or_batch_id else []
        if not (candidates and (candidates[0] / "job.json").exists()) and root.is_dir():
            # a batch id: find the job that sent it
            candidates = [
                path.parent
                for path in sorted(root.glob("*/job.json"))
                if job_or_batch_id in path.read_text(encoding="utf-8")
            ]
        for directory in candidates:
            path = directory / "job.json"
            if path.exists():
                state = json.loads(path.read_text(encoding="utf-8"))
                if state.get("version") != STATE_VERSION:
                    raise BatchJobError(
                        f"{path} was written by another version of summarize "
                        f"(state version {state.get('version')}, this one reads {STATE_VERSION})"
                    )
                return cls(directory, state)
        raise BatchJobError(
            f"no batch job {job_or_batch_id!r} under {root}: pass the id that "
            "'summarize batch submit' printed, and the same --state-dir if you gave one"
        )

    def save(self) -> None:
        path = self.directory / "job.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.state, indent=1), encoding="utf-8")
        os.replace(temporary, path)  # atomic: a crash leaves the old state or the new

    def articles(self) -> Iterator[dict[str, Any]]:
        with (self.directory / "articles.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                yield json.loads(line)

    def answers(self) -> dict[str, list[dict[str, Any]]]:
        """Every downloaded output and error line, by custom_id, each line once."""
        found: dict[str, list[dict[str, Any]]] = {}
        seen: set[str] = set()
        path = self.directory / "answers.jsonl"
        if not path.exists():
            return found
        with path.open(encoding="utf-8") as handle:
            for raw in handle:
                if not raw.endswith("\n"):
                    break  # a torn last line: its batch is downloaded again
                line = json.loads(raw)
                if line["id"] in seen:
                    continue
                seen.add(line["id"])
                found.setdefault(line["custom_id"], []).append(line)
        return found

    def add_answers(self, lines: list[dict[str, Any]]) -> None:
        """Append lines; a torn last line (a crash mid-write) is cut off first. The batch
        stays marked not downloaded until this returns, so it is fetched again."""
        path = self.directory / "answers.jsonl"
        if path.exists():
            with path.open("r+b") as torn:
                data = torn.read()
                if data and not data.endswith(b"\n"):
                    torn.truncate(data.rfind(b"\n") + 1)
        text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    def status(self) -> BatchStatus:
        return BatchStatus(
            job=self.id,
            phase=self.state["phase"],
            batches=self.state["batches"],
            articles=self.state["articles"],
            finished=bool(self.state.get("finished")),
        )


# -- the runs -------------------------------------------------------------------------


def _summarizer(job: BatchJob, answers: dict[str, list[dict[str, Any]]], online: bool,
                client: openai.AsyncOpenAI | None, api_key: str | None) -> Summarizer:  # fmt: skip
    from summarize.pipeline import Summarizer

    salt = job.state["salt"].encode()

    class _Replaying(Summarizer):
        def new_job(self, *args: Any, **kwargs: Any) -> _Job:
            run = super().new_job(*args, **kwargs)
            assert isinstance(run.client, ModelClient)
            run.client = BatchClient(run.client, answers, online=online)  # type: ignore[assignment]
            run.boundary = _boundary(salt, run.article.text)
            return run

    options = dict(job.state["options"])
    if client is not None:
        options.pop("base_url", None)
    return _Replaying(client=client, api_key=api_key, **options)


def _boundary(salt: bytes, text: str) -> str:
    """The same boundary for the same article on every run; not guessable from it."""
    digest = hmac.new(salt, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    for start in range(0, len(digest) - 16):
        boundary = f"ARTICLE-{digest[start : start + 16]}"
        if boundary not in text:
            return boundary
    raise InputError("the article contains every boundary marker derived for it")


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
    """Run every article not in ``skip`` against the answers downloaded so far."""
    answers = job.answers()
    outcome = _Round(on_result)
    summarizer = _summarizer(job, answers, online, client, api_key)
    settings = summarizer.cache_settings()
    cache = job.state.get("cache")
    store = BriefCache(None if cache is True else cache) if cache else None
    # Replays are CPU work; online requests are bounded like a batch run's articles.
    width = (job.state["options"].get("concurrency") or 8) if online else 16

    async def one(row: dict[str, Any]) -> None:
        ident = row["id"]
        if "error" in row:
            error = BatchError(type="InputError", message=row["error"])
            outcome.add(BatchResult(id=ident, error=error, cost_usd=0.0))
            return
        costs = _Costs()
        _costs.set(costs)
        article = Article(**row["article"])
        key = cache_key(article.text, settings)
        if store is not None and (hit := store.get(key)) is not None:
            outcome.add(BatchResult(id=ident, result=hit, cached=True, cost_usd=0.0))
            return
        try:
            brief = await summarizer.asummarize(article)
        except Deferred as deferred:
            outcome.pending.update(deferred.requests)
            outcome.waiting += 1
            return
        except SummarizeError as exc:
            usage = exc.usage or Usage()
            outcome.add(
                BatchResult(
                    id=ident,
                    error=BatchError(type=type(exc).__name__, message=str(exc)),
                    usage=usage,
                    cost_usd=_cost(summarizer.model, costs, prices),
                )
            )
            return
        if store is not None:
            store.put(key, brief)  # the same pipeline as online: the same cache entry
        outcome.add(
            BatchResult(
                id=ident,
                result=brief,
                usage=brief.meta.usage,
                cost_usd=_cost(summarizer.model, costs, prices),
            )
        )

    rows = (row for row in job.articles() if row["id"] not in skip)  # read lazily

    async def worker() -> None:
        for row in rows:  # one shared iterator: each row goes to one worker
            await asyncio.create_task(one(row))  # a task: its own context for _costs

    try:
        async with summarizer:
            await asyncio.gather(*(worker() for _ in range(width)))
    finally:
        if store is not None:
            store.close()
    return outcome


def _cost(model: str, costs: _Costs, prices: dict[str, tuple[float, float]] | None) -> float | None:
    batch = price_of(model, costs.batch, prices)
    online = price_of(model, costs.online, prices)
    if batch is None or online is None:
        return None
    return batch * BATCH_DISCOUNT + online


def _split(pending: dict[str, dict[str, Any]]) -> list[bytes]:
    """Input files of at most MAX_REQUESTS lines and MAX_BYTES each."""
    files: list[bytes] = []
    lines: list[bytes] = []
    size = 0
    for key in sorted(pending):
        line = (
            json.dumps(
                {"custom_id": key, "method": "POST", "url": ENDPOINT, "body": pending[key]},
                ensure_ascii=False,
            ).encode("utf-8")
            + b"\n"
        )
        if lines and (len(lines) >= MAX_REQUESTS or size + len(line) > MAX_BYTES):
            files.append(b"".join(lines))
            lines, size = [], 0
        lines.append(line)
        size += len(line)
    if lines:
        files.append(b"".join(lines))
    return files


async def _send_phase(
    job: BatchJob, api: openai.AsyncOpenAI, pending: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Upload the pending requests as the next phase's batch(es)."""
    phase = job.state["phase"] + 1
    sent = []
    for number, data in enumerate(_split(pending), start=1):
        name = f"{job.id}-phase{phase}-{number}.jsonl"
        (job.directory / name).write_bytes(data)
        uploaded = await api.files.create(file=(name, data, "application/jsonl"), purpose="batch")
        batch = await api.batches.create(
            input_file_id=uploaded.id,
            endpoint=ENDPOINT,
            completion_window="24h",
            metadata={"summarize_job": job.id, "phase": str(phase)},
        )
        record = {
            "id": batch.id,
            "phase": phase,
            "requests": data.count(b"\n"),
            "input_file_id": uploaded.id,
            "status": batch.status,
            "downloaded": False,
        }
        job.state["batches"].append(record)
        sent.append(record)
        job.save()  # after each batch: a crash never loses a created batch's id
    job.state["phase"] = phase
    job.save()
    return sent


def _api(
    job: BatchJob, client: openai.AsyncOpenAI | None, api_key: str | None
) -> openai.AsyncOpenAI:
    from summarize.client import build_client, resolve_endpoint

    if client is not None:
        return client.with_options(max_retries=3)  # file and batch calls: SDK retries
    key, base_url = resolve_endpoint(api_key, job.state["options"].get("base_url"))
    api = build_client(api_key=key, base_url=base_url, asynchronous=True)
    return api.with_options(max_retries=3)  # type: ignore[return-value]


@contextlib.asynccontextmanager
async def _session(
    job: BatchJob, client: openai.AsyncOpenAI | None, api_key: str | None
) -> AsyncIterator[openai.AsyncOpenAI]:
    """The files and batches API of the job's endpoint; its errors as SummarizeErrors."""
    import openai

    api = _api(job, client, api_key)
    try:
        yield api
    except openai.OpenAIError as exc:
        raise _map_api_error(exc, job, str(api.api_key)) from exc
    finally:
        if client is None:  # built here: closed here
            await api.close()


def _map_api_error(exc: Exception, job: BatchJob, secret: str) -> SummarizeError:
    """A typed error for a failed files or batches call, without the key in it."""
    import openai

    from summarize.client import _redact

    if not isinstance(exc, openai.APIStatusError):
        detail = _redact(str(exc), secret)
        return APIConnectionError(f"the Batch API could not be reached: {detail} (job {job.id})")
    status = exc.status_code
    where = f"{status} from the Batch API: {_redact(str(exc.message), secret)} (job {job.id})"
    kinds: dict[int, type[APIError]] = {
        401: AuthenticationError, 403: AuthenticationError, 404: NotFoundError, 429: RateLimitError
    }  # fmt: skip
    kind = kinds.get(status, ServerError if status >= 500 else APIError)
    hint = " (check OPENAI_API_KEY and that the endpoint offers /v1/batches)" if status in (
        401, 403, 404
    ) else ""  # fmt: skip
    return kind(where + hint, status_code=status)


async def asubmit_batch(
    items: Iterable[Any],
    *,
    state_dir: str | os.PathLike[str] | None = None,
    client: openai.AsyncOpenAI | None = None,
    api_key: str | None = None,
    cache: bool | str | os.PathLike[str] = True,
    **options: Any,
) -> BatchJob:
    """Make a job from ``items`` (as ``summarize_many`` takes them) and send phase 1.

    ``options`` are those of ``summarize()`` (not ``local``: llama.cpp has no Batch API).
    ``structured_output`` defaults to ``json_schema``. ``cache`` (as in
    ``summarize_many``): articles already in the brief cache need no request, and
    every brief the job finishes is added to it.
    """

    from summarize.pipeline import _as_article

    if options.get("local") or options.get("local_model"):
        raise ConfigurationError(
            "the Batch API needs an OpenAI(-compatible) endpoint with /v1/batches, not --local"
        )
    unknown = set(options) - set(_KEPT)
    if unknown:
        raise ConfigurationError(f"unknown option(s) for a batch job: {sorted(unknown)}")
    options.setdefault("structured_output", Mode.JSON_SCHEMA.value)
    if client is not None:
        options["base_url"] = str(client.base_url)

    def rows() -> Iterator[dict[str, Any]]:
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
                article = _as_article(source)
            except InputError as exc:
                yield {"id": ident, "error": str(exc)}
                continue
            yield {"id": ident, "article": article.model_dump()}

    root = Path(state_dir) if state_dir else default_root()
    job = await asyncio.to_thread(BatchJob.create, root, options, rows())
    job.state["cache"] = cache if isinstance(cache, bool) else os.fspath(cache)
    job.save()
    outcome = await _advance(
        job, online=False, skip=set(), client=client, api_key=api_key, prices=None
    )
    if not outcome.pending:
        job.state["finished"] = True
        job.save()
        return job
    async with _session(job, client, api_key) as api:
        await _send_phase(job, api, outcome.pending)
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
    async with _session(job, client, api_key) as api:
        for record in job.state["batches"]:
            if record["phase"] == job.state["phase"] and not record.get("ended"):
                batch = await api.batches.retrieve(record["id"])
                record["ended"] = batch.status in TERMINAL
                record["status"] = batch.status
                counts = batch.request_counts
                if counts is not None:
                    record["counts"] = counts.model_dump()
                record["output_file_id"] = batch.output_file_id
                record["error_file_id"] = batch.error_file_id
                if batch.errors and batch.errors.data:
                    record["errors"] = [
                        f"line {e.line}: {e.code}: {e.message}" for e in batch.errors.data
                    ]
        job.save()
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
    async with _session(job, client, api_key) as api:
        for record in job.state["batches"]:
            if record["phase"] == job.state["phase"] and not record["downloaded"]:
                await _download(job, api, record)
        outcome = await _advance(
            job, online=online, skip=set(skip), client=client, api_key=api_key,
            prices=prices, on_result=on_result,
        )  # fmt: skip
        sent: list[dict[str, Any]] = []
        if outcome.pending:
            sent = await _send_phase(job, api, outcome.pending)
        else:
            job.state["finished"] = True
            job.save()
    return CollectReport(job.status(), outcome.results, sent, outcome.waiting, outcome.finished)


async def _download(job: BatchJob, api: openai.AsyncOpenAI, record: dict[str, Any]) -> None:
    """Keep a finished batch's output and error lines; lines it never ran become failures."""
    if record["status"] == "failed":
        errors = "; ".join(record.get("errors", [])[:5]) or "no reason given"
        raise BatchJobError(
            f"batch {record['id']} of job {job.id} failed validation: {errors}. The "
            f"requests are in {job.directory}/{job.id}-phase{record['phase']}-*.jsonl"
        )
    lines: list[dict[str, Any]] = []
    for file_id in (record.get("output_file_id"), record.get("error_file_id")):
        if file_id:
            content = await api.files.content(file_id)
            for number, raw in enumerate(content.text.splitlines(), start=1):
                if not raw.strip():
                    continue
                try:
                    line = json.loads(raw)
                    if not isinstance(line, dict) or not {"id", "custom_id"} <= line.keys():
                        raise ValueError("no id or custom_id")
                except ValueError as exc:
                    raise BatchJobError(
                        f"line {number} of file {file_id} (batch {record['id']}) is not a "
                        f"batch output line ({exc}); nothing of this batch was kept: run "
                        "collect again, or report it to the endpoint's provider"
                    ) from exc
                lines.append(line)
    answered = {line["custom_id"] for line in lines}
    name_prefix = f"{job.id}-phase{record['phase']}-"
    for path in sorted(job.directory.glob(name_prefix + "*.jsonl")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            key = json.loads(raw)["custom_id"]
            if key not in answered:  # expired or cancelled before it ran
                lines.append(
                    {
                        "id": f"missing-{record['id']}-{key}",
                        "custom_id": key,
                        "response": None,
                        "error": {
                            "code": f"batch_{record['status']}",
                            "message": f"batch {record['id']} ended {record['status']} "
                            "before this request ran",
                        },
                    }
                )
    job.add_answers(lines)
    record["downloaded"] = True
    record["downloaded_at"] = time.time()
    job.save()


# -- blocking wrappers ------------------------------------------------------------------


def submit_batch(items: Iterable[Any], **options: Any) -> BatchJob:
    """Blocking ``asubmit_batch``."""
    from summarize.pipeline import run_sync

    return run_sync(asubmit_batch(items, **options))


def batch_status(job_id: str, **options: Any) -> BatchStatus:
    """Blocking ``abatch_status``."""
    from summarize.pipeline import run_sync

    return run_sync(abatch_status(job_id, **options))


def collect_batch(job_id: str, **options: Any) -> CollectReport:
    """Blocking ``acollect_batch``."""
    from summarize.pipeline import run_sync

    return run_sync(acollect_batch(job_id, **options))


__all__ = [
    "BatchClient",
    "BatchJob",
    "BatchJobError",
    "BatchStatus",
    "CollectReport",
    "abatch_status",
    "acollect_batch",
    "asubmit_batch",
    "batch_status",
    "collect_batch",
    "submit_batch",
]
