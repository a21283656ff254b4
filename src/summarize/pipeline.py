"""The summarising pipeline: check, budget, prompt, call, validate, ground, re-ask."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import os
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from typing_extensions import TypedDict, Unpack

from summarize import prompts
from summarize.articles import Article, detect_language, looks_like_source, read_article
from summarize.chunking import Chunk, chunk_text
from summarize.client import (
    PLACEHOLDER_KEY,
    Deferred,
    Message,
    Mode,
    ModelClient,
    Reply,
    build_client,
    resolve_endpoint,
)
from summarize.errors import (
    AuthenticationError,
    ConfigurationError,
    ContextLengthError,
    DeadlineExceededError,
    NotFoundError,
    OutputTruncatedError,
    QuotaExceededError,
    SummarizeError,
    ValidationFailedError,
)
from summarize.grounding import QuoteLocator
from summarize.inputs import check_article, clean_text, datamark
from summarize.local import DEFAULT_CONTEXT as DEFAULT_LOCAL_CONTEXT
from summarize.local import DEFAULT_LOCAL_OUTPUT, LocalServer
from summarize.mapreduce import (
    Partial,
    check_merge,
    group_partials,
    merge_points,
    number_points,
    point_line,
    render_partials,
)
from summarize.models import ModelChoice
from summarize.ratelimit import RateLimiter
from summarize.repetition import json_closings, loop_start
from summarize.retrying import Deadline, reask_loop
from summarize.schema import (
    SCHEMA_VERSION,
    ArticleSummary,
    ContestedPoint,
    DraftBrief,
    DraftComparison,
    DraftMerge,
    Evidence,
    Meta,
    Usage,
    strict_json_schema,
)
from summarize.tokens import (
    FALLBACK_CONTEXT_WINDOW,
    FALLBACK_MAX_OUTPUT,
    count_tokens,
    encoding_for_model,
    model_limits,
)
from summarize.validation import (
    DraftProblems,
    drop_repeated_key_points,
    echo_problems,
    ground_draft,
    marker_problems,
    missing_quote_problems,
    normalize_language,
    parse_as,
    parse_draft,
    remove_foreign_urls,
    scrub_markers,
)

if TYPE_CHECKING:
    import openai
    import tiktoken

T = TypeVar("T")

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT = 600.0
DEFAULT_MAX_OUTPUT_TOKENS = 4_096
_TEMPLATES = ("brief.system", "brief.user", "schema_hint", "reask")
_MAP_REDUCE_TEMPLATES = (
    "brief.system", "map.user", "reduce.system", "reduce.user", "schema_hint", "reask"
)  # fmt: skip
_COMPACT_TEMPLATES = ("compact.system", "compact.user", "reask")
_DEMO_SAMPLING = {"dry_multiplier": 0.8, "repeat_penalty": 1.1}
DEFAULT_CONCURRENCY = 8
# Merge levels before giving up: each level shrinks the part briefs by the group size.
MAX_DEPTH = 4
# Below this, a context window is too small to be worth splitting an article for.
_MIN_CHUNK_TOKENS = 256
# A random boundary (4 uses in a prompt) may take more tokens than the fixed one.
_BOUNDARY_MARGIN = 48
# Chat formatting adds a few tokens per message.
_MESSAGE_OVERHEAD = 8


@functools.cache
def _merge_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """The same for the reduce step's answer."""
    return strict_json_schema(DraftMerge), strict_json_schema(DraftMerge, limits=True)


@functools.cache
def _draft_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """The strict schema and the one with list limits; built once, never mutated."""
    return strict_json_schema(DraftBrief), strict_json_schema(DraftBrief, limits=True)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # A loop is running here (Jupyter, an async framework): use a private one.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class Summarizer:
    """Holds the configuration; call it (or ``await .asummarize()``) on article texts.

    Reuse one instance for many articles: the HTTP client is built once, lazily, on
    first use. Options are keyword-only; see ``summarize()`` for their meaning.
    """

    def __init__(
        self,
        *,
        model: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        client: openai.OpenAI | openai.AsyncOpenAI | None = None,
        language: str | None = None,
        max_retries: int = 3,
        max_reasks: int = 2,
        timeout: float = DEFAULT_TIMEOUT,
        context_window: int | None = None,
        max_output_tokens: int | None = None,
        temperature: float | None = 0.0,
        structured_output: str | None = None,
        local: bool = False,
        local_model: str | os.PathLike[str] | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        allow_partial: bool = False,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        rate_limiter: RateLimiter | None = None,
        stream: bool | None = None,
    ) -> None:
        for name, value in (("max_retries", max_retries), ("max_reasks", max_reasks)):
            if not isinstance(value, int) or value < 0:
                raise ConfigurationError(f"{name} must be a whole number >= 0, not {value!r}")
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ConfigurationError(
                f"concurrency must be a whole number >= 1, not {concurrency!r}"
            )
        for name, number in (
            ("context_window", context_window),
            ("max_output_tokens", max_output_tokens),
        ):
            if number is not None and (not isinstance(number, int) or number <= 0):
                raise ConfigurationError(f"{name} must be a whole number > 0, not {number!r}")
        if not timeout or timeout <= 0:
            raise ConfigurationError(f"timeout must be a number of seconds > 0, not {timeout!r}")
        modes = [m.value for m in Mode]
        if structured_output is not None and structured_output not in modes:
            raise ConfigurationError(
                f"structured_output must be one of {modes} or None (automatic), "
                f"not {structured_output!r}"
            )
        self._local: LocalServer | None = None
        if local or local_model:
            if base_url or client:
                raise ConfigurationError(
                    "local=True runs its own server: do not pass base_url= or client= with it"
                )
            self._local = LocalServer(
                local_model,
                context_window=context_window or DEFAULT_LOCAL_CONTEXT,
                slots=concurrency,
                api_key=secrets.token_urlsafe(24),
            )
            model, context_window = self._local.model, self._local.context_window
            max_output_tokens = max_output_tokens or min(DEFAULT_LOCAL_OUTPUT, context_window // 4)
            # llama.cpp turns the bounded schema (maxItems) into its grammar.
            structured_output = structured_output or Mode.JSON_OBJECT_SCHEMA.value
        # Streaming lets a looping answer be stopped at once; on by default where small
        # models run (the local engine), and for any endpoint with stream=True.
        self.stream = (self._local is not None) if stream is None else bool(stream)
        # The 135M demo model echoes a long prompt back; it gets a compact one, and
        # llama.cpp's repetition penalties (which would also penalise the verbatim
        # quotes a capable model copies, so only here).
        demo = self._local is not None and self._local.choice.is_demo
        self._brief_templates = _COMPACT_TEMPLATES if demo else _TEMPLATES
        self._sampling: dict[str, Any] = dict(_DEMO_SAMPLING) if demo else {}
        self.model = model or os.environ.get("SUMMARIZE_MODEL") or DEFAULT_MODEL
        self.language = language
        self.max_retries = max_retries
        self.max_reasks = max_reasks
        self.timeout = float(timeout)
        self.context_window = context_window
        self.max_output_tokens = max_output_tokens
        self.temperature = temperature
        self.structured_output = Mode(structured_output) if structured_output else None
        self._api_key = api_key
        self._base_url = base_url
        self._given_client = client
        self._clients: dict[bool, openai.OpenAI | openai.AsyncOpenAI] = {}
        self.concurrency = concurrency
        self.allow_partial = allow_partial
        if rate_limiter is not None and (requests_per_minute or tokens_per_minute):
            raise ConfigurationError(
                "pass the per-minute limits to the shared RateLimiter, not beside it"
            )
        self.rate_limiter = rate_limiter or RateLimiter(requests_per_minute, tokens_per_minute)
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    def __repr__(self) -> str:
        where = self._base_url or ("<client>" if self._given_client else "<default>")
        if self._local is not None:
            where = f"<local llama.cpp: {self._local.model_path}>"
        return f"Summarizer(model={self.model!r}, endpoint={where!r})"

    # -- clients -------------------------------------------------------------

    def _client_for(self, asynchronous: bool) -> tuple[openai.OpenAI | openai.AsyncOpenAI, str]:
        if self._given_client is not None:
            # Our retry policy replaces the client's own, so layers do not multiply.
            client = self._given_client.with_options(max_retries=0)
            return client, str(client.api_key)
        base_url: str | None
        if self._local is not None:
            base_url = self._local.start()
            api_key = self._local.api_key or PLACEHOLDER_KEY
        else:
            api_key, base_url = resolve_endpoint(self._api_key, self._base_url)
        if asynchronous not in self._clients:
            self._clients[asynchronous] = build_client(
                api_key=api_key, base_url=base_url, asynchronous=asynchronous
            )
        return self._clients[asynchronous], api_key

    @property
    def local_model_choice(self) -> ModelChoice | None:
        """The local model this instance runs (name, file, source), or None."""
        return self._local.choice if self._local is not None else None

    def _check_local(self) -> None:
        """Raise ``LocalModelError`` if this instance's local engine has died."""
        if self._local is not None:
            self._local.check(grace=1.0)

    def _executor_for(
        self, client: openai.OpenAI | openai.AsyncOpenAI
    ) -> concurrent.futures.ThreadPoolExecutor | None:
        """Threads for a blocking client's requests, as many as ``concurrency``."""
        import openai

        if isinstance(client, openai.AsyncOpenAI):
            return None
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.concurrency, thread_name_prefix="summarize"
            )
        return self._executor

    def close(self) -> None:
        """Close the HTTP clients this instance built (not one passed as ``client=``)
        and stop its local server, if any."""
        import openai

        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        try:
            for client in self._clients.values():
                if isinstance(client, openai.OpenAI):
                    client.close()
        finally:
            self._clients.clear()
            if self._local is not None:
                self._local.stop()

    async def aclose(self) -> None:
        """``close()`` from async code."""
        import openai

        try:
            for client in self._clients.values():
                if isinstance(client, openai.AsyncOpenAI):
                    await client.close()
        finally:
            self.close()

    def __enter__(self) -> Summarizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Summarizer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- summarising ---------------------------------------------------------

    def __call__(self, source: Source) -> ArticleSummary:
        """Summarise one article (blocking): text, an ``Article``, a path, HTML or a URL."""
        article = _as_article(source)
        cleaned = check_article(article.text)
        client, key = self._client_for(asynchronous=False)
        return run_sync(self._run(article, cleaned, client, key))

    async def asummarize(self, source: Source) -> ArticleSummary:
        """Summarise one article (async); the same sources as calling the instance."""
        if isinstance(source, str) and not looks_like_source(source):
            article = _as_article(source)
        else:  # a file or a download: blocking I/O off the event loop
            article = await asyncio.to_thread(_as_article, source)
        cleaned = check_article(article.text)
        if self._local is not None and not self._local.running:
            await asyncio.to_thread(self._local.start)  # a blocking wait for start-up
        client, key = self._client_for(asynchronous=True)
        return await self._run(article, cleaned, client, key)

    def cache_settings(self) -> dict[str, Any]:
        """Everything besides the article that decides the brief (for cache keys)."""
        if self._local is not None:
            endpoint = f"local:{self._local.model}"
        elif self._given_client is not None:
            endpoint = str(self._given_client.base_url)
        else:
            endpoint = self._base_url or os.environ.get("OPENAI_BASE_URL") or "openai"
        templates = sorted({*self._brief_templates, *_MAP_REDUCE_TEMPLATES})
        return {
            "model": self.model,
            "endpoint": endpoint,
            "prompts": prompts.version_of(*templates),
            "schema": SCHEMA_VERSION,
            "language": self.language,
            "limits": self._limits(),
            "temperature": self.temperature,
            "structured_output": self.structured_output and self.structured_output.value,
            "max_reasks": self.max_reasks,
        }

    def _limits(self) -> tuple[int, int]:
        known = model_limits(self.model)
        window = self.context_window or (known[0] if known else FALLBACK_CONTEXT_WINDOW)
        model_max = known[1] if known else FALLBACK_MAX_OUTPUT
        output = self.max_output_tokens or min(DEFAULT_MAX_OUTPUT_TOKENS, model_max, window // 4)
        return window, output

    def _output_language(self, job: _Job) -> str:
        if self.language:
            return f"the language with BCP-47 tag {self.language!r}"
        if job.article.language:
            return f"the article's language (BCP-47 tag {job.article.language!r})"
        return "the article's own language"

    async def _run(
        self,
        article: Article,
        cleaned: str,
        client: openai.OpenAI | openai.AsyncOpenAI,
        secret: str,
    ) -> ArticleSummary:
        original = article.text
        job = self.new_job(article, cleaned, client, secret)
        budget = job.window - job.output_tokens - job.prompt_overhead(self._brief_templates[1])
        needed = job.count(datamark(cleaned))
        try:
            if needed <= budget:
                return await self._single(job, original, cleaned)
            return await self._map_reduce(job, original)
        except SummarizeError as exc:
            exc.usage = job.total_usage()
            exc.attempts = exc.usage.attempts
            raise

    def new_job(
        self,
        article: Article,
        cleaned: str,
        client: openai.OpenAI | openai.AsyncOpenAI | None = None,
        secret: str | None = None,
    ) -> _Job:
        """The shared state of one article's (or one comparison's) requests."""
        if client is None:
            client, secret = self._client_for(asynchronous=True)
        window, output_tokens = self._limits()
        encoding = encoding_for_model(self.model)
        return _Job(
            client=ModelClient(
                client,
                model=self.model,
                max_output_tokens=output_tokens,
                temperature=self.temperature,
                max_retries=self.max_retries,
                secret=secret,
                mode=self.structured_output,
                executor=self._executor_for(client),
                limiter=self.rate_limiter,
                count_tokens=functools.partial(count_tokens, encoding=encoding),
                stream=self.stream,
                check_endpoint=self._check_local,
                extra_params=self._sampling,
            ),
            deadline=Deadline(self.timeout),
            encoding=encoding,
            window=window,
            output_tokens=output_tokens,
            boundary=prompts.new_boundary(cleaned),
            article=article,
        )

    async def _single(self, job: _Job, original: str, cleaned: str) -> ArticleSummary:
        """The article fits: one request (plus re-asks)."""
        locator = QuoteLocator(original)

        def build(with_hint: bool) -> list[Message]:
            system, template = self._brief_templates[:2]
            user = prompts.load(template).render(
                output_language=self._output_language(job),
                schema_hint=job.hint(bounded=_draft_schemas()[1]) if with_hint else "",
                boundary=job.boundary,
                article=datamark(cleaned),
            )
            return _messages(system, user)

        draft, best = await self._ask_brief(job, build, locator, system=self._brief_templates[0])
        return self._result(
            job,
            summary=draft.summary,
            key_points=draft.key_points,
            points=best.points,
            language=draft.language,
            mode=best.mode,
            warnings=[*job.warnings, *best.repairs],
            templates=self._brief_templates,
        )

    async def _map_reduce(self, job: _Job, original: str) -> ArticleSummary:
        """The article does not fit: brief its parts concurrently, then merge them."""
        budget = job.window - job.output_tokens - job.prompt_overhead("map.user")
        if budget < _MIN_CHUNK_TOKENS:
            raise ContextLengthError(
                f"{self.model}'s context window of {job.window} tokens leaves only {budget} "
                f"for article text after the prompt and {job.output_tokens} tokens reserved "
                "for the answer: pass a larger context_window= if the model has one, or a "
                "smaller max_output_tokens="
            )
        # Chunks are cut on the original text; the line marks the model sees add a
        # token or two per line, so leave room and check.
        size = budget
        while True:
            chunks = chunk_text(original, size, encoding=job.encoding)
            marked = max(job.count(datamark(clean_text(c.text))) for c in chunks)
            if marked <= budget or size <= _MIN_CHUNK_TOKENS:
                break
            size = max(_MIN_CHUNK_TOKENS, size - (marked - budget) - size // 50)
        job.chunks = len(chunks)
        semaphore = asyncio.Semaphore(self.concurrency)

        async def brief_part(index: int, chunk: Chunk) -> Partial | SummarizeError | Deferred:
            """The part's brief, (with allow_partial) the error that lost it, or its
            requests deferred to a batch."""
            async with semaphore:
                try:
                    return await self._brief_part(job, index, chunk)
                except Deferred as deferred:
                    return deferred
                except SummarizeError as exc:
                    if not self.allow_partial or isinstance(exc, _FATAL):
                        raise
                    return exc

        outcomes: dict[int, Partial | SummarizeError | Deferred] = {}
        if not job.client.mode_known():
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
        deferred = [o for o in outcomes.values() if isinstance(o, Deferred)]
        if deferred:  # every part's request goes into the same batch
            raise Deferred.merge(deferred)
        partials = [o for _, o in sorted(outcomes.items()) if isinstance(o, Partial)]
        for index, outcome in sorted(outcomes.items()):
            if isinstance(outcome, SummarizeError):
                if not partials:
                    raise outcome
                chunk = chunks[index]
                job.warnings.append(
                    f"part {index + 1} of {len(chunks)} (characters {chunk.start}-{chunk.end}) "
                    f"is not covered: {type(outcome).__name__}: {outcome}"
                )
        job.coverage = len(partials) / len(chunks)
        for partial in partials:
            job.warnings += partial.warnings
        return await self._reduce(job, partials)

    async def _brief_part(self, job: _Job, index: int, chunk: Chunk) -> Partial:
        parts = job.chunks
        locator = QuoteLocator(chunk.text)

        def build(with_hint: bool) -> list[Message]:
            user = prompts.load("map.user").render(
                part=str(index + 1),
                parts=str(parts),
                output_language=self._output_language(job),
                schema_hint=job.hint(bounded=_draft_schemas()[1]) if with_hint else "",
                boundary=job.boundary,
                article=datamark(clean_text(chunk.text)),
            )
            return _messages("brief.system", user)

        label = f"part {index + 1} of {parts}: "
        warnings: list[str] = []
        draft, best = await self._ask_brief(job, build, locator, warnings=warnings, label=label)
        return Partial(
            first=index,
            last=index,
            start=chunk.start,
            end=chunk.end,
            summary=draft.summary.strip(),
            key_points=[kp.strip() for kp in draft.key_points if kp.strip()],
            points=[_shifted(point, chunk.start) for point in best.points],
            language=draft.language,
            warnings=[label + w for w in [*warnings, *best.repairs]],
        )

    async def _reduce(self, job: _Job, partials: list[Partial]) -> ArticleSummary:
        """Merge part briefs into one; collapse them in groups first if they do not fit."""
        budget = job.window - job.output_tokens - job.prompt_overhead("reduce.user")
        semaphore = asyncio.Semaphore(self.concurrency)

        async def collapse(group: list[Partial]) -> Partial:
            if len(group) == 1:
                return group[0]
            async with semaphore:
                return await self._collapse(job, group)

        while True:
            job.depth += 1
            ids = number_points(partials)
            text = render_partials(partials, job.chunks, ids)
            hidden: frozenset[str] = frozenset()
            if job.count(text) > budget:
                sizes = [job.count(render_partials([p], job.chunks, ids)) for p in partials]
                groups = group_partials(sizes, budget)
                if job.depth < MAX_DEPTH and len(groups) < len(partials):
                    partials = await _gather_deferring(
                        [collapse([partials[i] for i in g]) for g in groups]
                    )
                    continue
                # No level left (or no group to merge): list as many points as fit;
                # the rest are kept unmerged, with a warning.
                shown = self._points_that_fit(job, partials, ids, budget)
                if shown is None:
                    raise ContextLengthError(
                        f"the briefs of {job.chunks} parts need {job.count(text)} tokens "
                        f"after {job.depth - 1} merge level(s), more than the {budget} the "
                        f"context window of {job.window} leaves: pass a larger "
                        "context_window= if the model has one"
                    )
                hidden = frozenset(ids) - shown
                text = render_partials(partials, job.chunks, ids, shown)
            merged, points, mode, repairs = await self._merge(job, partials, ids, text, hidden)
            return self._result(
                job,
                summary=merged.summary,
                key_points=merged.key_points,
                points=points,
                language=merged.language or (partials[0].language or ""),
                mode=mode,
                warnings=[*job.warnings, *repairs],
                templates=_MAP_REDUCE_TEMPLATES,
            )

    @staticmethod
    def _points_that_fit(
        job: _Job, partials: list[Partial], ids: dict[str, ContestedPoint], budget: int
    ) -> frozenset[str] | None:
        """Ids of the points that fit beside the summaries, in order; None if nothing fits."""
        room = budget - job.count(render_partials(partials, job.chunks, ids, set()))
        if room < 0:
            return None
        shown: set[str] = set()
        for name, point in ids.items():
            cost = job.count(point_line(name, point)) + 1
            if cost > room:
                break
            room -= cost
            shown.add(name)
        return frozenset(shown)

    async def _collapse(self, job: _Job, group: list[Partial]) -> Partial:
        ids = number_points(group)
        merged, points, _, repairs = await self._merge(
            job, group, ids, render_partials(group, job.chunks, ids)
        )
        job.warnings += repairs
        return Partial(
            first=group[0].first,
            last=group[-1].last,
            start=group[0].start,
            end=group[-1].end,
            summary=merged.summary.strip(),
            key_points=[kp.strip() for kp in merged.key_points if kp.strip()],
            points=points,
            language=merged.language,
        )

    async def _merge(
        self,
        job: _Job,
        partials: list[Partial],
        ids: dict[str, ContestedPoint],
        text: str,
        hidden: frozenset[str] = frozenset(),
    ) -> tuple[DraftMerge, list[ContestedPoint], Mode, list[str]]:
        def build(with_hint: bool) -> list[Message]:
            user = prompts.load("reduce.user").render(
                parts=str(len(partials)),
                output_language=self._output_language(job),
                schema_hint=job.hint(bounded=_merge_schemas()[1]) if with_hint else "",
                boundary=job.boundary,
                partials=text,
            )
            return _messages("reduce.system", user)

        def check(reply: Reply) -> _Candidate:
            if reply.finish_reason == "length":
                raise DraftProblems(
                    [
                        f"the answer was cut off at the limit of {job.output_tokens} tokens: "
                        "write a shorter summary and fewer key points"
                    ]
                )
            draft = parse_as(reply.text, DraftMerge)
            echoed = echo_problems(draft, _instructions("reduce.system"), text)
            problems = marker_problems(draft)
            draft, repairs = scrub_markers(draft)
            repairs += [f"warning: {line}" for line in echoed]
            draft, unlinked = remove_foreign_urls(draft, job.article.text)
            repairs += unlinked
            check_merge(draft)
            points, id_problems, warnings = merge_points(draft, ids, hidden)
            return _Candidate(
                draft, points, reply.mode, problems + id_problems, [*repairs, *warnings]
            )

        best = await self._ask(job, build, check, _merge_schemas(), job.reduce_usage)
        merged = best.value
        assert isinstance(merged, DraftMerge)
        return merged, best.points, best.mode, best.repairs

    async def _ask_brief(
        self,
        job: _Job,
        build: Callable[[bool], list[Message]],
        locator: QuoteLocator,
        *,
        warnings: list[str] | None = None,
        label: str = "",
        system: str = "brief.system",
    ) -> tuple[DraftBrief, _Candidate]:
        """``_ask`` for a brief whose quotes are grounded with ``locator``."""
        best = await self._ask(
            job,
            build,
            lambda reply: _check(reply, locator, job.output_tokens, system),
            _draft_schemas(),
            job.map_usage,
            warnings=warnings,
            label=label,
        )
        assert isinstance(best.value, DraftBrief)
        return best.value, best

    async def _ask(
        self,
        job: _Job,
        build: Callable[[bool], list[Message]],
        check: Callable[[Reply], _Candidate],
        schemas: tuple[dict[str, Any], dict[str, Any]],
        usage: Usage,
        *,
        warnings: list[str] | None = None,
        label: str = "",
    ) -> _Candidate:
        """One request and its re-asks: the best usable answer, or a typed error."""
        warnings = job.warnings if warnings is None else warnings
        reask = prompts.load("reask")
        followup: list[Message] = []
        best: _Candidate | None = None
        last_raw: str | None = None
        last_problems: list[str] = []
        truncated = False

        def messages_for(mode: Mode) -> list[Message]:
            return [*build(not mode.strict), *followup]

        try:
            async for attempt in reask_loop(self.max_reasks):
                with attempt:
                    number = attempt.retry_state.attempt_number
                    reply = await job.client.complete(
                        messages_for,
                        *schemas,
                        deadline=job.deadline,
                        usage=usage,
                        warnings=warnings,
                    )
                    usage.attempts += 1
                    last_raw = reply.text
                    truncated = reply.finish_reason in ("length", "loop")
                    try:
                        candidate = (
                            _salvage(reply, check)
                            if reply.finish_reason == "loop"
                            else check(reply)
                        )
                        if best is None or candidate.rank <= best.rank:
                            best = candidate
                        if candidate.problems and number <= self.max_reasks:
                            raise DraftProblems(candidate.problems)
                    except DraftProblems as exc:
                        last_problems = exc.problems
                        if number <= self.max_reasks:
                            warnings.append(
                                f"attempt {number} re-asked: {len(exc.problems)} "
                                f"problem(s), first: {exc.problems[0]}"
                            )
                            errors = "\n".join(f"- {p}" for p in exc.problems)
                            again: Message = {
                                "role": "user",
                                "content": reask.render(errors=errors),
                            }
                            answer: Message = {"role": "assistant", "content": reply.text}
                            # The previous answer goes back only if it still fits the window.
                            extra = job.count_messages([answer, again])
                            # (counted only here: most answers need no re-ask)
                            prompt = job.count_messages(build(True))
                            fits = prompt + extra + job.output_tokens <= job.window
                            # A loop sent back is a loop continued: small models pick
                            # up where they stopped.
                            looped = reply.finish_reason == "loop"
                            followup[:] = [answer, again] if fits and not looped else [again]
                        raise
        except DraftProblems:
            if best is None:
                message = (
                    f"{label}no usable answer from {self.model} after {usage.attempts} "
                    "attempt(s): " + "; ".join(last_problems[:3])
                )
                if truncated:
                    raise OutputTruncatedError(message, raw_output=last_raw) from None
                raise ValidationFailedError(
                    message, errors=last_problems, raw_output=last_raw
                ) from None
        except SummarizeError as exc:
            if exc.raw_output is None:
                exc.raw_output = last_raw
            if label and not exc.message.startswith(label):
                exc.message = label + exc.message
                exc.args = (exc.message, *exc.args[1:])
            raise
        assert best is not None  # the loop either set it or raised
        return best

    def _result(
        self,
        job: _Job,
        *,
        summary: str,
        key_points: list[str],
        points: list[ContestedPoint],
        language: str,
        mode: Mode,
        warnings: list[str],
        templates: tuple[str, ...],
    ) -> ArticleSummary:
        detected = job.article.language and normalize_language(job.article.language)
        tag = detected or normalize_language(language)
        if tag is None:
            warnings.append(
                f"the model gave an invalid language tag {language!r}; reported as 'und'"
            )
        usage = job.total_usage()
        return ArticleSummary(
            summary=summary.strip(),
            key_points=[p.strip() for p in key_points if p.strip()],
            contested_points=points,
            language=tag or "und",
            meta=Meta(
                model=self.model,
                prompt_version=prompts.version_of(*templates),
                structured_output=mode.value,
                usage=usage,
                warnings=warnings,
                chunks=job.chunks,
                map_requests=job.map_usage.requests if job.chunks > 1 else 0,
                reduce_requests=job.reduce_usage.requests,
                depth=job.depth,
                coverage=job.coverage,
                title=job.article.title,
                url=job.article.url,
            ),
        )


async def _gather_deferring(coroutines: list[Coroutine[Any, Any, T]]) -> list[T]:
    """``asyncio.gather``, except that requests deferred to a batch are all collected
    (one Deferred) rather than the first one cancelling the rest."""

    async def settle(coroutine: Coroutine[Any, Any, T]) -> T | Deferred:
        try:
            return await coroutine
        except Deferred as deferred:
            return deferred

    outcomes = await asyncio.gather(*(settle(c) for c in coroutines))
    deferred = [o for o in outcomes if isinstance(o, Deferred)]
    if deferred:
        raise Deferred.merge(deferred)
    return [o for o in outcomes if not isinstance(o, Deferred)]


# Errors that would fail every part the same way: never covered up by allow_partial.
_FATAL = (
    ConfigurationError,
    AuthenticationError,
    NotFoundError,
    QuotaExceededError,
    DeadlineExceededError,
    ContextLengthError,
)


@dataclass
class _Job:
    """Everything one article's calls share: client, deadline, limits, accounting."""

    client: ModelClient
    deadline: Deadline
    encoding: tiktoken.Encoding
    window: int
    output_tokens: int
    boundary: str
    article: Article
    warnings: list[str] = field(default_factory=list)
    map_usage: Usage = field(default_factory=Usage)
    reduce_usage: Usage = field(default_factory=Usage)
    chunks: int = 1
    depth: int = 0
    coverage: float = 1.0

    def count(self, text: str) -> int:
        return count_tokens(text, self.encoding)

    def count_messages(self, messages: list[Message]) -> int:
        return sum(self.count(m["content"]) + _MESSAGE_OVERHEAD for m in messages)

    def hint(self, *, bounded: dict[str, Any]) -> str:
        return prompts.load("schema_hint").render(schema=json.dumps(bounded, ensure_ascii=False))

    def prompt_overhead(self, template: str) -> int:
        """Tokens of the prompt around the article text, schema hint included."""
        system = {"reduce.user": "reduce.system", "compact.user": "compact.system"}.get(
            template, "brief.system"
        )
        bounded = (_merge_schemas() if template == "reduce.user" else _draft_schemas())[1]
        values = {
            "output_language": "the language with BCP-47 tag 'zh-Hant-TW'",
            "schema_hint": self.hint(bounded=bounded),
            # Fixed, not the random boundary: the budget (and so the parts) must not
            # change from run to run; the margin covers any boundary's tokens.
            "boundary": "ARTICLE-0123456789abcdef",
            "article": "",
            "partials": "",
            "part": "999",
            "parts": "999",
        }
        user = prompts.load(template).render(**values)
        return self.count_messages(_messages(system, user)) + _BOUNDARY_MARGIN

    def total_usage(self) -> Usage:
        return self.map_usage + self.reduce_usage


@dataclass
class _Candidate:
    """A parsed answer, what it yields, and what a re-ask would ask to fix."""

    value: DraftBrief | DraftMerge | DraftComparison
    points: list[ContestedPoint]
    mode: Mode
    problems: list[str]
    repairs: list[str]
    extra: Any = None  # what the caller's check derived (a comparison's grounding)

    @property
    def rank(self) -> tuple[int, int]:
        """Lower is better: fewest problems, then most grounded points."""
        return (len(self.problems), -len(self.points))


def _salvage(reply: Reply, check: Callable[[Reply], _Candidate]) -> _Candidate:
    """A looping answer: what came before the loop, closed as JSON and checked like any
    answer, with the loop as a problem (re-asked; kept only if nothing better comes).

    The longest closing that passes the check wins; a shorter one drops an unfinished
    last item. A brief's lists the loop never reached are read as empty, and said so."""
    loop = (
        f"the answer started repeating itself and was stopped after {len(reply.text)} "
        "characters: write each point once, then close the JSON object"
    )
    first_problems: list[str] = []
    for closed in json_closings(reply.text[: loop_start(reply.text)]):
        data = json.loads(closed)
        missing = [k for k in ("key_points", "contested_points") if k not in data]
        tries: list[tuple[dict[str, Any], list[str]]] = [(data, [])]
        if missing and "summary" in data:
            tries.append(({**data, **{key: [] for key in missing}}, missing))
        for answer, filled in tries:
            try:
                candidate = check(
                    Reply(text=json.dumps(answer), finish_reason="stop", mode=reply.mode)
                )
            except DraftProblems as exc:
                first_problems = first_problems or exc.problems
                continue
            note = "the answer repeated itself and was stopped; kept what came before the loop"
            if filled:
                note += f" (it never reached {' or '.join(filled)})"
            candidate.problems.insert(0, loop)
            candidate.repairs.append(note)
            return candidate
    raise DraftProblems([loop, *first_problems])


def _check(
    reply: Reply, locator: QuoteLocator, output_tokens: int, system: str = "brief.system"
) -> _Candidate:
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
    echoed = echo_problems(draft, _instructions(system), locator.text)
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
    return _Candidate(draft, grounded.points, reply.mode, problems, [*repairs, *grounded.warnings])


Source = str | os.PathLike[str] | Article


def _as_article(source: Source) -> Article:
    """Plain text as it is; a URL, HTML page or path read with ``read_article``."""
    if isinstance(source, str) and not looks_like_source(source):
        return Article(text=source, language=detect_language(source))
    return read_article(source)


@functools.cache
def _instructions(system: str) -> str:
    """A system prompt with the user-message templates: what a model must not echo."""
    return prompts.load(system).render() + "\n" + prompts.load("schema_hint").body


def _messages(system: str, user: str) -> list[Message]:
    """A system message from the named template, then the user message."""
    return [
        {"role": "system", "content": prompts.load(system).render()},
        {"role": "user", "content": user},
    ]


def _shifted(point: ContestedPoint, offset: int) -> ContestedPoint:
    """The point with its evidence offsets moved from the chunk to the whole article."""
    evidence = [
        Evidence(quote=e.quote, start=e.start + offset, end=e.end + offset) for e in point.evidence
    ]
    return point.model_copy(update={"evidence": evidence})


class SummarizeOptions(TypedDict, total=False):
    """The keyword options of ``summarize()``, ``asummarize()`` and ``Summarizer``."""

    model: str | None
    api_key: str | None
    base_url: str | None
    client: openai.OpenAI | openai.AsyncOpenAI | None
    language: str | None
    max_retries: int
    max_reasks: int
    timeout: float
    context_window: int | None
    max_output_tokens: int | None
    temperature: float | None
    structured_output: str | None
    local: bool
    local_model: str | os.PathLike[str] | None
    concurrency: int
    allow_partial: bool
    requests_per_minute: float | None
    tokens_per_minute: float | None
    rate_limiter: RateLimiter | None
    stream: bool | None


def summarize(source: Source, **options: Unpack[SummarizeOptions]) -> ArticleSummary:
    """Summarise one news article into a neutral, grounded ``ArticleSummary``.

    ``source`` is the article's text, or an ``Article``, a ``pathlib.Path`` to a
    ``.txt`` / ``.html`` file, an ``http(s)://`` URL, or a whole HTML page (see
    ``read_article``). Evidence offsets refer to the text that was summarised
    (``read_article(source).text`` for a page).

    Options (keyword-only): ``model`` (default ``$SUMMARIZE_MODEL`` or gpt-4o-mini),
    ``api_key`` (default ``$OPENAI_API_KEY``), ``base_url`` (default
    ``$OPENAI_BASE_URL``, or OpenAI), ``client`` (an ``openai.OpenAI`` or
    ``AsyncOpenAI`` to use instead), ``language`` (output language as a BCP-47 tag;
    default: the article's own), ``max_retries`` (transient failures, default 3),
    ``max_reasks`` (invalid answers, default 2), ``timeout`` (seconds for the whole
    call, retries included; default 600), ``context_window`` (tokens, for models
    the library does not know), ``max_output_tokens``, ``temperature``,
    ``structured_output`` (force one mode instead of detecting it), ``local`` (run
    a local model through llama.cpp's server: the best one pulled with ``summarize
    models pull``, else the bundled SmolLM2; no key needed), ``local_model`` (the same
    with a catalogue name or any GGUF file), ``stream`` (stream answers and stop one
    that repeats itself; default: on for the local engine), ``concurrency`` (parts of a long
    article briefed at once, default 8), ``allow_partial`` (a long article whose part
    failed for good still gets a brief of the rest, with ``meta.coverage`` < 1 and a
    warning per missing part; default: the article fails with that part's error),
    ``requests_per_minute`` / ``tokens_per_minute`` (pace requests to these limits;
    limits the server announces in ``x-ratelimit-*`` headers are followed anyway, and
    a 429 slows every request down, see ``summarize.ratelimit``), ``rate_limiter`` (a
    ``RateLimiter`` to share between Summarizers on one account).

    An article longer than the context window is split into parts (see
    ``summarize.chunking``), each part briefed concurrently, and the part briefs merged.

    Raises a ``summarize.errors.SummarizeError`` subclass on failure.
    """
    with Summarizer(**options) as summarizer:
        return summarizer(source)


async def asummarize(source: Source, **options: Unpack[SummarizeOptions]) -> ArticleSummary:
    """Async ``summarize()``: same sources, same options, same result."""
    async with Summarizer(**options) as summarizer:
        return await summarizer.asummarize(source)
