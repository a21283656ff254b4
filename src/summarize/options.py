"""Every option of ``summarize()``, ``Summarizer``, ``compare()`` and the batch paths,
defined once: its default, its check, its documentation, and whether it enters the
cache key or is kept by a Batch API job.

The ``SummarizeOptions`` TypedDict (for type checkers), the ``summarize()``
docstring, the CLI's defaults and the README's table are made from ``Options`` or
tested against it (``tests/test_options.py``).
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator
from typing_extensions import TypedDict

from summarize.errors import ConfigurationError
from summarize.model.httperrors import base_url_problem
from summarize.model.protocol import Mode

if TYPE_CHECKING:
    import openai

    from summarize.model.ratelimit import RateLimiter
    from summarize.progress import ProgressEvent

DEFAULT_MODEL = "gpt-4o-mini"
# Large enough for any article or book chapter; a guard against /dev/zero and the like.
DEFAULT_MAX_INPUT_BYTES = 50 * 1024 * 1024
DEFAULT_TIMEOUT = 600.0
DEFAULT_MAX_REQUESTS = 200
MAX_TIMEOUT = 7 * 24 * 3600.0
_BCP47 = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4}")


# Parts of one long article briefed at once, and articles in flight in a batch.
DEFAULT_CONCURRENCY = 8


def _option(default: Any, doc: str, shown: str | None = None, **flags: bool) -> Any:
    """A field with its documentation: ``shown`` is the default as the docs say it;
    ``batch``: a Batch API job keeps it; ``cache``: it enters the cache key."""
    extra: dict[str, JsonValue] = {"shown": shown if shown is not None else str(default), **flags}
    return Field(default, description=doc, json_schema_extra=extra)


class Options(BaseModel):
    """The keyword options, checked. ``Options.of(**kwargs)`` raises
    ``ConfigurationError`` naming the option and the fix."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)

    model: str | None = _option(
        None, "model name", "`$SUMMARIZE_MODEL` or `gpt-4o-mini`", batch=True
    )
    api_key: str | None = _option(
        None,
        "key; a `base_url` without a key gets a placeholder (local servers ignore it)",
        "`$OPENAI_API_KEY`",
    )
    base_url: str | None = _option(
        None, "any OpenAI-compatible endpoint", "`$OPENAI_BASE_URL`, else OpenAI", batch=True
    )
    client: Any = _option(
        None,
        "an `openai.OpenAI` / `AsyncOpenAI` (or `AzureOpenAI`) used as given, except that "
        "its own retries are turned off: summarize's retry policy replaces them",
        "built lazily",
    )
    language: str | None = _option(
        None,
        "output language, a BCP-47 tag (quotes stay in the article's language)",
        "the article's",
        batch=True,
        cache=True,
    )
    max_retries: int = _option(
        3,
        "retries of transient failures (connection errors, timeouts, 408, 409, 5xx); "
        "429s are retried until the timeout, not counted here",
        batch=True,
    )
    max_reasks: int = _option(
        2,
        "re-asks of an answer that is invalid or quotes text not in the article",
        batch=True,
        cache=True,
    )
    timeout: float = _option(
        DEFAULT_TIMEOUT,
        "seconds for the **whole call**, retries and re-asks included",
        "600",
        batch=True,
    )
    context_window: int | None = _option(
        None, "tokens; set it for other models", "known for OpenAI models, else 8192", batch=True
    )
    allow_private_urls: bool = _option(
        False,
        "fetch URLs that resolve to this machine or a private network (loopback, private, "
        "link-local, CGNAT); off, a stranger's URL cannot reach them",
        "off",
        batch=True,
    )
    max_requests: int = _option(
        DEFAULT_MAX_REQUESTS,
        "requests one article may need; a longer plan is refused before the first request, "
        "with its parts, tokens and cost",
        batch=True,
    )
    max_output_tokens: int | None = _option(
        None, "answer budget", "min(4096, model max, window/4)", batch=True
    )
    temperature: float | None = _option(
        0.0, "dropped once an endpoint refuses it (reasoning models)", "0", batch=True, cache=True
    )
    structured_output: str | None = _option(
        None,
        "force `json_schema`, `json_object+schema`, `json_object` or `text`",
        "automatic",
        batch=True,
        cache=True,
    )
    local: bool = _option(
        False,
        "run a local model through llama.cpp's server: the best pulled one, else the "
        "bundled demo model",
        "off",
    )
    local_model: Any = _option(
        None, "the same with a catalogue name or any GGUF path (`str` or `PathLike`)", "none"
    )
    stream: bool | None = _option(
        None,
        "stream answers, and stop one as soon as it repeats itself (counted in "
        "`meta.usage.loops_cut`)",
        "on for `local`",
    )
    concurrency: int = _option(
        DEFAULT_CONCURRENCY,
        "requests at once: parts of a long article (local: the engine's slots, at most 4); "
        "for `summarize_many` and the CLI's batches, articles in flight",
        batch=True,
    )
    allow_partial: bool = _option(
        False,
        "a long article whose part failed for good still gets a brief of the rest "
        "(`meta.coverage` < 1, a warning per missing part)",
        "off",
        batch=True,
    )
    requests_per_minute: float | None = _option(
        None,
        "pace requests to this limit; limits the server announces in `x-ratelimit-*` "
        "headers, and 429s, are followed anyway (docs/rate-limits.md)",
        "none",
    )
    tokens_per_minute: float | None = _option(
        None, "the same for tokens (prompt + max_tokens)", "none"
    )
    rate_limiter: Any = _option(
        None,
        "a `summarize.RateLimiter` to share between Summarizers on one account",
        "one per Summarizer",
    )
    max_input_bytes: int = _option(
        DEFAULT_MAX_INPUT_BYTES,
        "files and stdin over this are refused, and never read further (URLs: 10 MB)",
        "50 MB",
        batch=True,
    )
    encoding: str | None = _option(
        None,
        "the encoding of text files without a byte-order mark (`cp1252`, `latin-1`, "
        "`shift_jis`, ...); UTF-16 and UTF-32 with one are read anyway",
        "UTF-8",
        batch=True,
    )
    price_in: float | None = _option(
        None,
        "USD per million prompt tokens, for the cost shown and `max_cost`; needed for a "
        "cost on any endpoint but OpenAI's own API (whose prices are built in)",
        "OpenAI's list price; else none",
    )
    price_out: float | None = _option(
        None, "the same per million answer tokens", "OpenAI's list price; else none"
    )
    on_progress: Any = _option(
        None,
        "called with a `summarize.ProgressEvent` at each stage (reading, briefing part k "
        "of n, checking, re-asking and why, merging, done) and as answer tokens stream; "
        "it must be quick and thread-safe",
        "none",
    )

    @classmethod
    def of(cls, **options: Any) -> Options:
        """Check ``options``; a bad one is a ``ConfigurationError`` saying what to pass."""
        unknown = sorted(set(options) - set(cls.model_fields))
        if unknown:
            raise ConfigurationError(
                f"unknown option(s) {unknown}: the options are {sorted(cls.model_fields)}"
            )
        try:
            return cls(**options)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = ".".join(str(part) for part in first["loc"])
            message = str(first["msg"]).removeprefix("Value error, ")
            if not message.startswith(name):
                message = f"{name}: {message}, not {first.get('input')!r}"
            raise ConfigurationError(message) from None

    @field_validator("max_retries", "max_reasks", mode="before")
    @classmethod
    def _whole_number(cls, value: Any, info: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{info.field_name} must be a whole number >= 0, not {value!r}")
        return value

    @field_validator("concurrency", "max_requests", mode="before")
    @classmethod
    def _positive_count(cls, value: Any, info: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{info.field_name} must be a whole number >= 1, not {value!r}")
        return value

    @field_validator("context_window", "max_output_tokens", mode="before")
    @classmethod
    def _tokens(cls, value: Any, info: Any) -> Any:
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value <= 0
        ):
            raise ValueError(f"{info.field_name} must be a whole number > 0, not {value!r}")
        return value

    @field_validator("max_input_bytes", mode="before")
    @classmethod
    def _byte_cap(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"max_input_bytes must be a whole number >= 1, not {value!r}")
        return value

    @field_validator("encoding", mode="before")
    @classmethod
    def _encoding(cls, value: Any) -> Any:
        if value is None:
            return value
        try:
            codecs.lookup(value)
        except (LookupError, TypeError):
            raise ValueError(
                f"encoding must be an encoding Python knows (utf-8, cp1252, latin-1, "
                f"shift_jis, ...), not {value!r}"
            ) from None
        return value

    @field_validator("timeout", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value <= MAX_TIMEOUT
        ):
            raise ValueError(
                f"timeout must be a number of seconds > 0, not {value!r} (and at most "
                f"{MAX_TIMEOUT:g}, a week)"
            )
        return value

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: Any) -> Any:
        if value is not None and (not isinstance(value, str) or not _BCP47.fullmatch(value)):
            raise ValueError(
                f"language must be a BCP-47 tag such as en, de, pt-BR or zh-Hant, not {value!r:.40}"
            )
        return value

    @field_validator("base_url", mode="before")
    @classmethod
    def _base_url(cls, value: Any) -> Any:
        problem = None if value is None else base_url_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("price_in", "price_out", mode="before")
    @classmethod
    def _price(cls, value: Any, info: Any) -> Any:
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 <= value < float("inf")
        ):
            raise ValueError(
                f"{info.field_name} must be USD per million tokens, a number >= 0, not {value!r}"
            )
        return value

    @field_validator("structured_output", mode="before")
    @classmethod
    def _mode(cls, value: Any) -> Any:
        modes = [m.value for m in Mode]
        if value is not None and value not in modes:
            raise ValueError(
                f"structured_output must be one of {modes} or None (automatic), not {value!r}"
            )
        return value

    @field_validator("local_model", mode="before")
    @classmethod
    def _model_file(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, str | os.PathLike):
            raise ValueError(f"local_model must be a name or a path, not {value!r}")
        return value

    @field_validator("on_progress", mode="before")
    @classmethod
    def _callback(cls, value: Any) -> Any:
        if value is not None and not callable(value):
            raise ValueError(f"on_progress must be a function of one ProgressEvent, not {value!r}")
        return value

    @field_validator("rate_limiter", mode="before")
    @classmethod
    def _limiter(cls, value: Any) -> Any:
        from summarize.model.ratelimit import RateLimiter

        if value is not None and not isinstance(value, RateLimiter):
            raise ValueError(f"rate_limiter must be a summarize.RateLimiter, not {value!r}")
        return value

    @property
    def mode(self) -> Mode | None:
        return Mode(self.structured_output) if self.structured_output else None


def flagged(flag: str) -> tuple[str, ...]:
    """The names of the options marked ``flag`` (``"batch"`` or ``"cache"``)."""
    return tuple(
        name
        for name, info in Options.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get(flag)
    )


def default(name: str) -> Any:
    """An option's default (the CLI's defaults come from here)."""
    return Options.model_fields[name].default


def shown_default(name: str) -> str:
    """An option's default as the documentation says it."""
    extra = Options.model_fields[name].json_schema_extra
    assert isinstance(extra, dict)
    return str(extra["shown"])


def docstring() -> str:
    """The options paragraph of ``summarize()``'s docstring."""
    lines = ["Options (keyword-only; the same for ``Summarizer`` and ``compare()``):", ""]
    for name, info in Options.model_fields.items():
        text = f"``{name}`` (default {shown_default(name)}): {info.description}"
        lines.append("- " + text)
    return "\n".join(lines)


# Options a Batch API job keeps, so that every phase builds the same prompts.
BATCH_KEPT = flagged("batch")


class SummarizeOptions(TypedDict, total=False):
    """The keyword options of ``summarize()``, ``asummarize()`` and ``Summarizer``,
    for type checkers; the same names as ``Options`` (tested)."""

    model: str | None
    api_key: str | None
    base_url: str | None
    client: openai.OpenAI | openai.AsyncOpenAI | None
    language: str | None
    max_retries: int
    max_reasks: int
    timeout: float
    context_window: int | None
    allow_private_urls: bool
    max_requests: int
    max_output_tokens: int | None
    temperature: float | None
    structured_output: str | None
    local: bool
    local_model: str | os.PathLike[str] | None
    stream: bool | None
    concurrency: int
    allow_partial: bool
    requests_per_minute: float | None
    tokens_per_minute: float | None
    rate_limiter: RateLimiter | None
    max_input_bytes: int
    encoding: str | None
    price_in: float | None
    price_out: float | None
    on_progress: Callable[[ProgressEvent], None] | None


def markdown_table() -> str:
    """The options as the README's table (tested to be exactly what the README shows)."""
    rows = ["| option | default | meaning |", "| --- | --- | --- |"]
    for name, info in Options.model_fields.items():
        rows.append(f"| `{name}` | {shown_default(name)} | {info.description} |")
    return "\n".join(rows)
