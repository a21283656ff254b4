"""``Summarizer``: the configuration, its resources, and the route an article takes.

An article that fits one request goes to ``summarize.pipeline.single``; a longer one to
``summarize.pipeline.mapreduce``. Both ask through ``summarize.pipeline.reask`` on a ``Run``
(``summarize.pipeline.run``) that this module makes per article. Options are checked by
``summarize.options``; clients and the local engine live in ``summarize.pipeline.endpoint``.
"""

from __future__ import annotations

import functools
import os
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from typing_extensions import Unpack

from summarize.clock import Deadline
from summarize.errors import ConfigurationError, SummarizeError
from summarize.model import pricing
from summarize.model.client import ModelClient
from summarize.model.ratelimit import RateLimiter
from summarize.options import DEFAULT_MODEL, Options, SummarizeOptions, docstring
from summarize.pipeline import budget, mapreduce, single
from summarize.pipeline.endpoint import Client, Endpoint
from summarize.pipeline.run import Run
from summarize.progress import Reporter, reading
from summarize.request import prompts
from summarize.schema import SCHEMA_VERSION, ArticleSummary, Usage
from summarize.source.article import Article, Source, achecked, as_article, checked
from summarize.source.names import short_name
from summarize.sync import run_sync
from summarize.text.tokens import count_tokens, encoding_for_model

if TYPE_CHECKING:
    from summarize.model.local.catalogue import ModelChoice
    from summarize.model.local.server import LocalServer
    from summarize.model.protocol import Completer, Mode

# The 135M demo model: llama.cpp's repetition penalties (which would also penalise
# the verbatim quotes a capable model copies, so only there).
DEMO_SAMPLING = {"dry_multiplier": 0.8, "repeat_penalty": 1.1}


class Summarizer:
    """Holds the configuration; call it (or ``await .asummarize()``) on article texts.

    Reuse one instance for many articles: the HTTP client is built once, lazily, on
    first use. Options are keyword-only; see ``summarize()`` for their meaning.

    ``wrap_completer`` and ``boundary`` are for callers that replay answers (the Batch
    API's ``BatchClient``): the first wraps each run's ``ModelClient``, the second
    gives the marker around an article's text (default: a random one per run).
    """

    def __init__(
        self,
        *,
        wrap_completer: Callable[[ModelClient], Completer] | None = None,
        boundary: Callable[[Article], str] | None = None,
        **options: Unpack[SummarizeOptions],
    ) -> None:
        self.endpoint, self.options = Endpoint.open(Options.of(**options))
        settled = self.options
        local = self.endpoint.local
        # Streaming lets a looping answer be stopped at once; on by default where small
        # models run (the local engine), and for any endpoint with stream=True.
        self.stream = (local is not None) if settled.stream is None else bool(settled.stream)
        demo = local is not None and local.choice.is_demo
        # The demo model echoes a long prompt back; it gets a compact one.
        self.templates = single.COMPACT_TEMPLATES if demo else single.TEMPLATES
        self._sampling: dict[str, Any] = dict(DEMO_SAMPLING) if demo else {}
        self.model = settled.model or os.environ.get("SUMMARIZE_MODEL") or DEFAULT_MODEL
        limiter = settled.rate_limiter
        if limiter is not None and (settled.requests_per_minute or settled.tokens_per_minute):
            raise ConfigurationError(
                "pass the per-minute limits to the shared RateLimiter, not beside it"
            )
        self.rate_limiter: RateLimiter = limiter or RateLimiter(
            settled.requests_per_minute, settled.tokens_per_minute
        )
        if (settled.price_in is None) != (settled.price_out is None):
            raise ConfigurationError(
                "pass both price_in= and price_out= (--price-in, --price-out: USD per "
                "million prompt and answer tokens), or neither"
            )
        self._wrap = wrap_completer
        self._boundary = boundary

    def __repr__(self) -> str:
        return f"Summarizer(model={self.model!r}, endpoint={self.endpoint.describe()!r})"

    # -- configuration, read-only --------------------------------------------------

    @property
    def language(self) -> str | None:
        return self.options.language

    @property
    def concurrency(self) -> int:
        return self.options.concurrency

    @property
    def timeout(self) -> float:
        return float(self.options.timeout)

    @property
    def structured_output(self) -> Mode | None:
        return self.options.mode

    @property
    def local_model_choice(self) -> ModelChoice | None:
        """The local model this instance runs (name, file, source), or None."""
        return self.endpoint.model_choice

    @property
    def local_server(self) -> LocalServer | None:
        """The local engine this instance runs, or None."""
        return self.endpoint.local

    def limits(self) -> tuple[int, int]:
        """(context window, tokens reserved for each answer)."""
        return budget.limits(
            self.model, self.options.context_window, self.options.max_output_tokens
        )

    def cost(
        self, usage: Usage, prices: dict[str, tuple[float, float]] | None = None
    ) -> float | None:
        """What ``usage`` cost in USD: at ``price_in`` / ``price_out`` when given, else at
        ``prices`` (a table by model prefix), else at OpenAI's list prices for OpenAI's
        own API; None when unknown (any other endpoint), 0 for the local engine."""
        options = self.options
        if options.price_in is not None and options.price_out is not None:
            return pricing.at(usage, options.price_in, options.price_out)
        if prices is not None or self.endpoint.is_openai:
            return pricing.price_of(self.model, usage, prices)
        return 0.0 if self.endpoint.local is not None else None

    def cache_settings(self) -> dict[str, Any]:
        """Everything besides the article that decides the brief (for cache keys)."""
        templates = sorted({*self.templates, *mapreduce.TEMPLATES})
        return {
            "model": self.model,
            "endpoint": self.endpoint.identity(),
            "prompts": prompts.version_of(*templates),
            "schema": SCHEMA_VERSION,
            "language": self.options.language,
            "limits": self.limits(),
            "temperature": self.options.temperature,
            "structured_output": self.options.structured_output,
            "max_reasks": self.options.max_reasks,
        }

    # -- lifecycle -----------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP clients this instance built (not one passed as ``client=``)
        and stop its local server, if any."""
        self.endpoint.close()

    async def aclose(self) -> None:
        """``close()`` from async code."""
        await self.endpoint.aclose()

    def __enter__(self) -> Summarizer:
        return self

    def __exit__(self, *exc: object) -> None:
        kind = exc[0]
        if isinstance(kind, type) and not issubclass(kind, Exception):
            self.endpoint.abort()  # Ctrl-C, exit: no request in flight may keep it waiting
        self.close()

    async def __aenter__(self) -> Summarizer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- summarising -----------------------------------------------------------------

    def read(self, source: Source) -> Article:
        """The article ``source`` names, read with this instance's ``max_input_bytes``
        and ``encoding`` (blocking I/O for a path or URL)."""
        return as_article(source, **self._reading())

    def _reading(self) -> dict[str, Any]:
        """How this instance reads a source (``summarize.source.article.as_article``)."""
        options = self.options
        return {
            "max_input_bytes": options.max_input_bytes,
            "encoding": options.encoding,
            "timeout": min(options.timeout, URL_TIMEOUT),
            "allow_private_urls": options.allow_private_urls,
        }

    def reporter(self, source: Source | None = None) -> Reporter:
        """The progress events of one article's run (silent without ``on_progress``)."""
        return Reporter(
            self.options.on_progress,
            model=self.model,
            endpoint=self.endpoint.label(),
            source=None if source is None else short_name(source),
        )

    def __call__(self, source: Source, *, name: str | None = None) -> ArticleSummary:
        """Summarise one article (blocking): text, an ``Article``, a path, HTML or a URL.

        ``name``: the source's short name in ``meta.source`` and the progress events
        (default: a file's stem, a URL's site and title, an ``Article``'s title)."""
        progress = self.reporter(source)
        deadline = Deadline(self.timeout)  # the whole call: reading and preparing too
        if not isinstance(source, Article):
            progress.stage("reading", reading(source))
        article, cleaned = checked(source, **self._reading())
        self._say_start(progress)
        client, key = self.endpoint.client_for(asynchronous=False)
        run = self.new_run(article, cleaned, client, key, progress=progress, deadline=deadline)
        return run_sync(self._route(run, name or short_name(source, article)))

    async def asummarize(self, source: Source, *, name: str | None = None) -> ArticleSummary:
        """Summarise one article (async); the same arguments as calling the instance."""
        progress = self.reporter(source)
        deadline = Deadline(self.timeout)  # the whole call: reading and preparing too
        if not isinstance(source, Article):
            progress.stage("reading", reading(source))
        article, cleaned = await achecked(source, **self._reading())
        self._say_start(progress)
        await self.endpoint.astart()  # a blocking wait for the local engine's start-up
        client, key = self.endpoint.client_for(asynchronous=True)
        run = self.new_run(article, cleaned, client, key, progress=progress, deadline=deadline)
        return await self._route(run, name or short_name(source, article))

    def _say_start(self, progress: Reporter) -> None:
        local = self.endpoint.local
        if local is not None and not local.running:
            progress.stage("starting", f"the local model {local.model_path.name}")

    async def _route(self, run: Run, name: str | None) -> ArticleSummary:
        """One call when the article fits, else its parts and a merge."""
        progress = run.progress
        progress.named(name)
        try:
            budget.check_estimate(run)  # a huge article refused before it is indexed
            text = run.article.text
            if len(text) >= budget.PREPARING_SHOWN:  # seconds of work: say so, as it goes
                progress.preparing(0, len(text), len(text.encode("utf-8", "surrogatepass")))
            one_call = budget.fits_one_call(run)
            run.deadline.check()  # --timeout covers preparing too
            if one_call:
                result = await single.single(run)
            else:
                result = await mapreduce.map_reduce(run)
        except SummarizeError as exc:
            exc.usage = run.total_usage()
            exc.attempts = exc.usage.attempts
            raise
        result.meta.source = name
        result.meta.endpoint = self.endpoint.label()
        progress.done(result.meta.usage, self.cost(result.meta.usage))
        if progress.failure:
            result.meta.warnings.append(progress.failure)
        return result

    def new_run(
        self,
        article: Article,
        cleaned: str,
        client: Client | None = None,
        secret: str | None = None,
        *,
        progress: Reporter | None = None,
        deadline: Deadline | None = None,
    ) -> Run:
        """The shared state of one article's (or one comparison's) requests."""
        if client is None:
            client, secret = self.endpoint.client_for(asynchronous=True)
        progress = progress or self.reporter()
        window, output_tokens = self.limits()
        encoding = encoding_for_model(self.model)
        options = self.options
        model_client = ModelClient(
            client,
            model=self.model,
            max_output_tokens=output_tokens,
            temperature=options.temperature,
            max_retries=options.max_retries,
            secret=secret,
            mode=options.mode,
            executor=self.endpoint.executor_for(client),
            limiter=self.rate_limiter,
            count_tokens=functools.partial(count_tokens, encoding=encoding),
            stream=self.stream,
            check_endpoint=self.endpoint.check,
            extra_params=self._sampling,
            progress=progress,
            context_window=window,
        )
        completer: Completer = self._wrap(model_client) if self._wrap else model_client
        marker = self._boundary(article) if self._boundary else prompts.new_boundary(cleaned)
        return Run(
            client=completer,
            deadline=deadline or Deadline(self.timeout),
            encoding=encoding,
            window=window,
            output_tokens=output_tokens,
            boundary=marker,
            article=article,
            model=self.model,
            language=options.language,
            max_reasks=options.max_reasks,
            max_requests=options.max_requests,
            cost=self.cost,
            concurrency=options.concurrency,
            allow_partial=options.allow_partial,
            templates=(self.templates[0], self.templates[1]),
            progress=progress,
        )


URL_TIMEOUT = 60.0  # seconds for fetching a page at most, within the run's timeout


def summarize(source: Source, **options: Unpack[SummarizeOptions]) -> ArticleSummary:
    """Summarise one news article into a neutral, grounded ``ArticleSummary``.

    ``source`` is the article's text, or an ``Article``, a ``pathlib.Path`` to a
    ``.txt`` / ``.html`` file, an ``http(s)://`` URL, or a whole HTML page (see
    ``read_article``). Evidence offsets refer to the text that was summarised
    (``read_article(source).text`` for a page).

    An article longer than the context window is split into parts (see
    ``summarize.text.chunking``), each part briefed concurrently, and the part briefs merged.

    Raises a ``summarize.errors.SummarizeError`` subclass on failure.
    """
    with Summarizer(**options) as summarizer:
        return summarizer(source)


async def asummarize(source: Source, **options: Unpack[SummarizeOptions]) -> ArticleSummary:
    """Async ``summarize()``: same sources, same options, same result."""
    async with Summarizer(**options) as summarizer:
        return await summarizer.asummarize(source)


summarize.__doc__ = f"{summarize.__doc__}\n{textwrap.indent(docstring(), '    ')}\n"
