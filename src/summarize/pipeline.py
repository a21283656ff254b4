"""The summarising pipeline: check, budget, prompt, call, validate, ground, re-ask."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import os
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from typing_extensions import TypedDict, Unpack

from summarize import prompts
from summarize.client import (
    PLACEHOLDER_KEY,
    Message,
    Mode,
    ModelClient,
    Reply,
    build_client,
    resolve_endpoint,
)
from summarize.errors import (
    ConfigurationError,
    ContextLengthError,
    OutputTruncatedError,
    SummarizeError,
    ValidationFailedError,
)
from summarize.grounding import QuoteLocator
from summarize.inputs import check_article
from summarize.local import DEFAULT_CONTEXT as DEFAULT_LOCAL_CONTEXT
from summarize.local import LocalServer
from summarize.retrying import Deadline, reask_loop
from summarize.schema import ArticleSummary, DraftBrief, Meta, Usage, strict_json_schema
from summarize.tokens import (
    FALLBACK_CONTEXT_WINDOW,
    FALLBACK_MAX_OUTPUT,
    count_tokens,
    encoding_for_model,
    model_limits,
)
from summarize.validation import (
    DraftProblems,
    Grounded,
    ground_draft,
    marker_problems,
    missing_quote_problems,
    normalize_language,
    parse_draft,
    scrub_markers,
)

if TYPE_CHECKING:
    import openai

T = TypeVar("T")

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT = 600.0
DEFAULT_MAX_OUTPUT_TOKENS = 4_096
_TEMPLATES = ("brief.system", "brief.user", "schema_hint", "reask")
# Chat formatting adds a few tokens per message.
_MESSAGE_OVERHEAD = 8


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
    ) -> None:
        for name, value in (("max_retries", max_retries), ("max_reasks", max_reasks)):
            if not isinstance(value, int) or value < 0:
                raise ConfigurationError(f"{name} must be a whole number >= 0, not {value!r}")
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
                local_model, context_window=context_window or DEFAULT_LOCAL_CONTEXT
            )
            model, context_window = self._local.model, self._local.context_window
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

    def __repr__(self) -> str:
        where = self._base_url or ("<client>" if self._given_client else "<default>")
        if self._local is not None:
            where = "<local llama.cpp>"
        return f"Summarizer(model={self.model!r}, endpoint={where!r})"

    # -- clients -------------------------------------------------------------

    def _client_for(self, asynchronous: bool) -> tuple[openai.OpenAI | openai.AsyncOpenAI, str]:
        if self._given_client is not None:
            # Our retry policy replaces the client's own, so layers do not multiply.
            client = self._given_client.with_options(max_retries=0)
            return client, str(client.api_key)
        base_url: str | None
        if self._local is not None:
            api_key, base_url = PLACEHOLDER_KEY, self._local.start()
        else:
            api_key, base_url = resolve_endpoint(self._api_key, self._base_url)
        if asynchronous not in self._clients:
            self._clients[asynchronous] = build_client(
                api_key=api_key, base_url=base_url, asynchronous=asynchronous
            )
        return self._clients[asynchronous], api_key

    def close(self) -> None:
        """Close the HTTP clients this instance built (not one passed as ``client=``)
        and stop its local server, if any."""
        import openai

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

    def __call__(self, text: str) -> ArticleSummary:
        """Summarise one article (blocking)."""
        cleaned = check_article(text)
        client, key = self._client_for(asynchronous=False)
        return run_sync(self._run(text, cleaned, client, key))

    async def asummarize(self, text: str) -> ArticleSummary:
        """Summarise one article (async)."""
        cleaned = check_article(text)
        if self._local is not None and not self._local.running:
            await asyncio.to_thread(self._local.start)  # a blocking wait for start-up
        client, key = self._client_for(asynchronous=True)
        return await self._run(text, cleaned, client, key)

    def _limits(self) -> tuple[int, int]:
        known = model_limits(self.model)
        window = self.context_window or (known[0] if known else FALLBACK_CONTEXT_WINDOW)
        model_max = known[1] if known else FALLBACK_MAX_OUTPUT
        output = self.max_output_tokens or min(DEFAULT_MAX_OUTPUT_TOKENS, model_max, window // 4)
        return window, output

    def _output_language(self) -> str:
        if self.language:
            return f"the language with BCP-47 tag {self.language!r}"
        return "the article's own language"

    async def _run(
        self,
        original: str,
        cleaned: str,
        client: openai.OpenAI | openai.AsyncOpenAI,
        secret: str,
    ) -> ArticleSummary:
        window, output_tokens = self._limits()
        schema, bounded = _draft_schemas()
        boundary = prompts.new_boundary(cleaned)
        system = prompts.load("brief.system").render()
        reask = prompts.load("reask")
        hint = prompts.load("schema_hint").render(schema=json.dumps(bounded, ensure_ascii=False))

        def user_message(with_hint: bool) -> str:
            return prompts.load("brief.user").render(
                output_language=self._output_language(),
                schema_hint=hint if with_hint else "",
                boundary=boundary,
                article=cleaned,
            )

        encoding = encoding_for_model(self.model)
        needed = (
            count_tokens(system, encoding)
            + count_tokens(user_message(True), encoding)
            + 2 * _MESSAGE_OVERHEAD
        )
        if needed + output_tokens > window:
            raise ContextLengthError(
                f"the article needs about {needed} tokens with the prompt, but "
                f"{self.model}'s context window of {window} leaves {window - output_tokens} "
                f"after reserving {output_tokens} for the answer: pass context_window= "
                "(--context-window) if the model's window is larger, or shorten the article"
            )

        usage = Usage()
        warnings: list[str] = []
        model_client = ModelClient(
            client,
            model=self.model,
            max_output_tokens=output_tokens,
            temperature=self.temperature,
            max_retries=self.max_retries,
            secret=secret,
            mode=self.structured_output,
        )
        deadline = Deadline(self.timeout)
        locator = QuoteLocator(original)
        followup: list[Message] = []
        best: _Candidate | None = None
        last_raw: str | None = None
        last_problems: list[str] = []
        truncated = False

        def messages_for(mode: Mode) -> list[Message]:
            return [
                {"role": "system", "content": system},
                {"role": "user", "content": user_message(not mode.strict)},
                *followup,
            ]

        try:
            async for attempt in reask_loop(self.max_reasks):
                with attempt:
                    number = attempt.retry_state.attempt_number
                    reply = await model_client.complete(
                        messages_for,
                        schema,
                        bounded,
                        deadline=deadline,
                        usage=usage,
                        warnings=warnings,
                    )
                    usage.attempts += 1
                    last_raw = reply.text
                    truncated = reply.finish_reason == "length"
                    try:
                        candidate = _check(reply, locator, output_tokens)
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
                            followup[:] = [
                                {"role": "assistant", "content": reply.text},
                                {"role": "user", "content": reask.render(errors=errors)},
                            ]
                        raise
        except DraftProblems:
            if best is None:
                message = (
                    f"no usable answer from {self.model} after {usage.attempts} attempt(s): "
                    + "; ".join(last_problems[:3])
                )
                if truncated:
                    raise OutputTruncatedError(
                        message, attempts=usage.attempts, usage=usage, raw_output=last_raw
                    ) from None
                raise ValidationFailedError(
                    message,
                    errors=last_problems,
                    attempts=usage.attempts,
                    usage=usage,
                    raw_output=last_raw,
                ) from None
        except SummarizeError as exc:
            exc.attempts, exc.usage = usage.attempts, usage
            if exc.raw_output is None:
                exc.raw_output = last_raw
            raise

        assert best is not None  # the loop either set it or raised
        draft = best.draft
        language = normalize_language(draft.language)
        if language is None:
            warnings.append(
                f"the model gave an invalid language tag {draft.language!r}; reported as 'und'"
            )
        return ArticleSummary(
            summary=draft.summary.strip(),
            key_points=[p.strip() for p in draft.key_points if p.strip()],
            contested_points=best.grounded.points,
            language=language or "und",
            meta=Meta(
                model=self.model,
                prompt_version=prompts.version_of(*_TEMPLATES),
                structured_output=best.mode.value,
                usage=usage,
                warnings=[*warnings, *best.repairs],
            ),
        )


@dataclass
class _Candidate:
    """A parsed answer, its grounding, and what a re-ask would ask to fix."""

    draft: DraftBrief
    grounded: Grounded
    mode: Mode
    problems: list[str]
    repairs: list[str]

    @property
    def rank(self) -> tuple[int, int]:
        """Lower is better: fewest problems, then most grounded points."""
        return (len(self.problems), -len(self.grounded.points))


def _check(reply: Reply, locator: QuoteLocator, output_tokens: int) -> _Candidate:
    """Validate one answer; raise DraftProblems if it cannot be used at all."""
    if reply.finish_reason == "length":
        raise DraftProblems(
            [
                f"the answer was cut off at the limit of {output_tokens} tokens: write a "
                "shorter summary, fewer key points and at most 5 contested points"
            ]
        )
    draft = parse_draft(reply.text)
    problems = marker_problems(draft)
    draft, repairs = scrub_markers(draft)
    if not draft.summary.strip():
        raise DraftProblems(
            ["summary: it only repeated the article's marker; summarise the article"]
        )
    grounded = ground_draft(draft, locator)
    problems += missing_quote_problems(grounded.missing)
    return _Candidate(draft, grounded, reply.mode, problems, [*repairs, *grounded.warnings])


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


def summarize(text: str, **options: Unpack[SummarizeOptions]) -> ArticleSummary:
    """Summarise one news article into a neutral, grounded ``ArticleSummary``.

    Options (keyword-only): ``model`` (default ``$SUMMARIZE_MODEL`` or gpt-4o-mini),
    ``api_key`` (default ``$OPENAI_API_KEY``), ``base_url`` (default
    ``$OPENAI_BASE_URL``, or OpenAI), ``client`` (an ``openai.OpenAI`` or
    ``AsyncOpenAI`` to use instead), ``language`` (output language as a BCP-47 tag;
    default: the article's own), ``max_retries`` (transient failures, default 3),
    ``max_reasks`` (invalid answers, default 2), ``timeout`` (seconds for the whole
    call, retries included; default 600), ``context_window`` (tokens, for models
    the library does not know), ``max_output_tokens``, ``temperature``,
    ``structured_output`` (force one mode instead of detecting it), ``local`` (run
    the bundled SmolLM2 model through llama.cpp's server: no key needed),
    ``local_model`` (the same with any GGUF file).

    Raises a ``summarize.errors.SummarizeError`` subclass on failure.
    """
    with Summarizer(**options) as summarizer:
        return summarizer(text)


async def asummarize(text: str, **options: Unpack[SummarizeOptions]) -> ArticleSummary:
    """Async ``summarize()``: same options, same result."""
    async with Summarizer(**options) as summarizer:
        return await summarizer.asummarize(text)
