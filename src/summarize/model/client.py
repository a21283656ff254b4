"""Model calls: one chat completion through the openai SDK, in the strongest
structured-output mode the endpoint accepts.

Modes, strongest first: ``json_schema`` (strict), ``json_object+schema`` (the schema
also in ``response_format["schema"]``, as llama.cpp-style servers take it),
``json_object``, and plain ``text``. A mode the server rejects (a 400/422/5xx naming
``response_format`` or the schema) is dropped for the next one, and the mode that
works is remembered per endpoint and model for the rest of the process.

Sampling and limit parameters are learned the same way (``summarize.model.params``): a
400 refusing one is fixed, sent once more and remembered; models that reason get room
for it on top of the answer's tokens.

Every SDK exception is mapped to a ``summarize.errors`` type here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import os
import ssl
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from summarize.clock import Deadline
from summarize.errors import (
    APIConnectionError,
    APIError,
    BadRequestError,
    ConfigurationError,
    ContentFilterError,
    RateLimitError,
    RefusalError,
    ServerError,
)
from summarize.model import memory
from summarize.model import params as learning
from summarize.model.httperrors import (
    PLACEHOLDER_KEY,
    base_url_problem,
    body_message,
    redact,
    redact_url,
    status_error,
)
from summarize.model.loops import RepetitionGuard
from summarize.model.protocol import Message, Mode, Reply
from summarize.model.ratelimit import RateLimiter
from summarize.model.retrying import TransientFailure, retry_transient
from summarize.model.streamed import Streamed
from summarize.progress import Reporter
from summarize.schema import Usage

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletion

OPENAI_HOST = "api.openai.com"
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "schema", "grammar")


_working_modes: dict[tuple[str, str], Mode] = {}
_modes_lock = threading.Lock()


def forget_modes() -> None:
    """Forget every remembered structured-output mode (in this process and in the
    cache directory) and learned parameter (tests, or a server upgrade)."""
    with _modes_lock:
        _working_modes.clear()
    memory.forget()
    learning.forget()


class UnsupportedMode(Exception):
    """The server rejected the structured-output mode."""


def resolve_endpoint(api_key: str | None, base_url: str | None) -> tuple[str, str | None]:
    """Return ``(api_key, base_url)`` from the arguments, then the environment.

    A custom base URL without a key gets a placeholder key: local servers ignore it.
    """
    base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
    problem = None if base_url is None else base_url_problem(base_url, "OPENAI_BASE_URL")
    if problem is not None:  # from the environment: the option is checked by Options
        raise ConfigurationError(problem)
    api_key = api_key or os.environ.get("OPENAI_API_KEY") or None
    if api_key is None:
        if base_url is None:
            raise ConfigurationError(
                "No API key: pass api_key=, set OPENAI_API_KEY, or point base_url= "
                "(OPENAI_BASE_URL, --base-url) at an OpenAI-compatible server, or use --local"
            )
        api_key = PLACEHOLDER_KEY
    return api_key, base_url


_tls_lock = threading.Lock()
_tls: list[ssl.SSLContext] = []


def tls_context() -> ssl.SSLContext:
    """The TLS context every client built here verifies servers with: the SDK's own
    default (the certificate store; ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` honoured),
    built once per process, as reading the store is the costly part of a client."""
    with _tls_lock:
        if not _tls:
            import httpcore2

            _tls.append(httpcore2.default_ssl_context(_trust_env=True))
        return _tls[0]


def build_client(
    *, api_key: str, base_url: str | None, asynchronous: bool
) -> openai.OpenAI | openai.AsyncOpenAI:
    """An SDK client with its own retries off: summarize.model.retrying owns retries.
    Its HTTP client has the SDK's defaults and the shared ``tls_context``."""
    import openai

    try:
        if asynchronous:
            http: Any = openai.DefaultAsyncHttpxClient(verify=tls_context())
            return openai.AsyncOpenAI(
                api_key=api_key, base_url=base_url, max_retries=0, http_client=http
            )
        http = openai.DefaultHttpxClient(verify=tls_context())
        return openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0, http_client=http)
    except openai.OpenAIError as exc:
        raise ConfigurationError(f"Could not configure the openai client: {exc}") from exc


class ModelClient:
    """Sends chat completions for one model through one SDK client."""

    def __init__(
        self,
        client: openai.OpenAI | openai.AsyncOpenAI,
        *,
        model: str,
        max_output_tokens: int,
        temperature: float | None,
        max_retries: int,
        secret: str | None,
        mode: Mode | None = None,
        executor: concurrent.futures.Executor | None = None,
        limiter: RateLimiter | None = None,
        count_tokens: Callable[[str], int] | None = None,
        stream: bool = False,
        check_endpoint: Callable[[], None] | None = None,
        extra_params: dict[str, Any] | None = None,
        progress: Reporter | None = None,
        context_window: int | None = None,
    ) -> None:
        self._client = client
        self.context_window = context_window  # bounds the room a reasoning model gets
        self.progress = progress or Reporter()
        self.stream = stream
        self._check_endpoint = check_endpoint
        self._extra_params = dict(extra_params or {})
        self.model = model
        self.max_output_tokens = max_output_tokens
        self.temperature = temperature
        self.max_retries = max_retries
        self._secret = secret
        self._forced_mode = mode
        self._executor = executor
        self._limiter = limiter
        self._count_tokens = count_tokens
        self.endpoint = redact_url(str(client.base_url))  # named in messages: no userinfo
        self._is_openai = urlsplit(self.endpoint).hostname == OPENAI_HOST
        # every request sure to go in strict json_schema mode, whatever earlier runs
        # found: forced so, or OpenAI's own API (which always takes it)
        self.surely_strict = mode is Mode.JSON_SCHEMA or (mode is None and self._is_openai)

    @property
    def mode_key(self) -> tuple[str, str]:
        return (self.endpoint, self.model)

    def mode_known(self) -> bool:
        """Whether the structured-output mode is forced or already found for this
        endpoint: in this process, or by an earlier run (``summarize.model.memory``)."""
        if self._forced_mode is not None:
            return True
        with _modes_lock:
            if self.mode_key in _working_modes:
                return True
        recalled = memory.recall(*self.mode_key, tuple(m.value for m in Mode))
        if recalled is None:
            return False
        with _modes_lock:
            _working_modes.setdefault(self.mode_key, Mode(recalled))
        return True

    def start_mode(self) -> Mode:
        """The mode to try first: forced, remembered, or the strongest."""
        if self._forced_mode is not None:
            return self._forced_mode
        self.mode_known()  # an earlier run's mode, if one was found
        with _modes_lock:
            return _working_modes.get(self.mode_key, Mode.JSON_SCHEMA)

    async def complete(
        self,
        messages_for: Callable[[bool], list[Message]],
        schema: dict[str, Any],
        bounded_schema: dict[str, Any],
        *,
        deadline: Deadline,
        usage: Usage,
        warnings: list[str],
    ) -> Reply:
        """Get one answer, falling back through the structured-output modes as needed.

        ``schema`` goes to strict mode; ``bounded_schema`` (with size limits) to servers
        that take a schema with ``json_object``.
        """
        mode = self.start_mode()
        while True:
            params = self.request_params(messages_for(mode.strict), schema, bounded_schema, mode)
            # counted at most once per request, not again on each retry
            cost = functools.cache(functools.partial(self._cost, params))
            try:
                reply = await retry_transient(
                    functools.partial(self._send, params, mode, deadline, usage, cost),
                    max_retries=self.max_retries,
                    deadline=deadline,
                )
            except UnsupportedMode as exc:
                fallback = mode.next()
                if fallback is None or self._forced_mode is not None:
                    raise BadRequestError(str(exc)) from exc.__cause__
                warnings.append(
                    f"the endpoint rejected structured output mode {mode.value!r}; "
                    f"fell back to {fallback.value!r}"
                )
                mode = fallback
                continue
            except learning.LESSONS as exc:
                warnings.append(
                    learning.lesson(self.mode_key, self.model, exc, self.max_output_tokens)
                )
                continue
            with _modes_lock:
                known = _working_modes.get(self.mode_key)
                _working_modes[self.mode_key] = mode
            if known is not mode and self._forced_mode is None:
                memory.remember(*self.mode_key, mode.value)
            return reply

    @property
    def learned(self) -> learning.Learned:
        """What this endpoint and model taught so far (a copy)."""
        return learning.learned(self.mode_key)

    @property
    def reasoning(self) -> bool:
        """Whether the model reasons: by a known family's name, or learned from its
        answers (reasoning tokens reported, ``temperature`` refused)."""
        name = self.model.rsplit("/", 1)[-1]
        return self.learned.reasoning or (self._is_openai and name.startswith(_REASONING_PREFIXES))

    def output_limit(self, messages: list[Message] | None = None) -> int:
        """The output tokens asked for: the answer's, and room for reasoning, as far as
        the context window leaves beside the prompt of ``messages``."""
        if not self.reasoning:
            return self.max_output_tokens
        full = self.max_output_tokens * (1 + self.learned.room)
        if self.context_window is None or messages is None:
            return full
        left = self.context_window - self._prompt_tokens(messages) - 16
        return max(self.max_output_tokens, min(full, left))

    def _prompt_tokens(self, messages: list[Message]) -> int:
        count = self._count_tokens or (lambda text: len(text) // 3)
        return sum(count(m["content"]) + 4 for m in messages)

    @staticmethod
    def _limit_of(params: dict[str, Any]) -> int:
        return int(params.get("max_tokens") or params.get("max_completion_tokens") or 0)

    def request_params(
        self,
        messages: list[Message],
        schema: dict[str, Any],
        bounded_schema: dict[str, Any],
        mode: Mode,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.model, "messages": messages}
        learned = self.learned
        limit_key = "max_completion_tokens" if self._is_openai else "max_tokens"
        params[learned.rename.get(limit_key, limit_key)] = self.output_limit(messages)
        if self.temperature is not None and not (self._is_openai and self.reasoning):
            params["temperature"] = self.temperature
        formats: dict[Mode, dict[str, Any] | None] = {
            Mode.JSON_SCHEMA: {
                "type": "json_schema",
                "json_schema": {"name": "article_brief", "strict": True, "schema": schema},
            },
            Mode.JSON_OBJECT_SCHEMA: {"type": "json_object", "schema": bounded_schema},
            Mode.JSON_OBJECT: {"type": "json_object"},
            Mode.TEXT: None,
        }
        response_format = formats[mode]
        extra_body = dict(self._extra_params)
        if response_format is not None:
            extra_body["response_format"] = response_format
        if extra_body:
            params["extra_body"] = extra_body
        if self.stream:
            params["stream"] = True
            params["stream_options"] = {"include_usage": True}
        for name in learned.drop:
            params.pop(name, None)
        return params

    async def _send(
        self,
        params: dict[str, Any],
        mode: Mode,
        deadline: Deadline,
        usage: Usage,
        cost: Callable[[], int],
    ) -> Reply:
        limiter = self._limiter
        if limiter is not None:
            await limiter.acquire(
                cost() if limiter.counts_tokens else 0,
                deadline_left=deadline.remaining(),
            )
        limited = False
        try:
            return await self._post(params, mode, deadline, usage)
        except TransientFailure as exc:
            limited = isinstance(exc.final, RateLimitError)
            if limited and limiter is not None:
                limiter.throttled(exc.retry_after)
            raise
        finally:
            if limiter is not None:
                limiter.release(ok=not limited)

    def _cost(self, params: dict[str, Any]) -> int:
        """A request's tokens as rate limits count them: the prompt plus max_tokens."""
        return self._prompt_tokens(params["messages"]) + self._limit_of(params)

    async def _post(
        self, params: dict[str, Any], mode: Mode, deadline: Deadline, usage: Usage
    ) -> Reply:
        import openai
        from openai.types.chat import ChatCompletion

        timeout = deadline.check()
        usage.requests += 1
        self.progress.requested()
        client = self._client
        if self.stream:
            return await self._post_streaming(params, mode, timeout, usage)
        try:
            if isinstance(client, openai.AsyncOpenAI):
                raw = await client.chat.completions.with_raw_response.create(
                    **params, timeout=timeout
                )
            else:
                raw = await asyncio.get_running_loop().run_in_executor(
                    self._executor,  # None: the loop's default threads
                    functools.partial(
                        client.chat.completions.with_raw_response.create,
                        **params,
                        timeout=timeout,
                    ),
                )
            completion = raw.parse()
        except openai.OpenAIError as exc:
            raise self._sdk_error(exc, mode) from exc
        except ValueError as exc:  # a 200 whose body is cut off or not JSON
            raise TransientFailure(
                ServerError(f"{self.endpoint} answered 200 with a body that is not valid JSON")
            ) from exc
        if self._limiter is not None:
            self._limiter.observe(raw.headers)
        if not isinstance(completion, ChatCompletion):  # e.g. an HTML page from a proxy
            raise TransientFailure(
                ServerError(
                    f"{self.endpoint} answered 200 with "
                    f"{raw.headers.get('content-type', 'no content type')}, not a chat completion"
                )
            )

        return self.reply_from(completion, mode, usage)

    def _sdk_error(self, exc: Exception, mode: Mode) -> Exception:
        """Our error (or a retried failure) for an exception of the SDK or its HTTP layer."""
        import openai

        if isinstance(exc, openai.APIStatusError):
            if self._limiter is not None:
                self._limiter.observe(exc.response.headers)
            return self.status_error(exc, mode)
        if isinstance(exc, openai.APITimeoutError):
            return TransientFailure(APIConnectionError(f"request to {self.endpoint} timed out"))
        if not isinstance(exc, openai.OpenAIError) or isinstance(exc, openai.APIConnectionError):
            return self._connection_error(exc)
        return APIError(redact(f"{self.endpoint}: {exc}", self._secret))

    def _connection_error(self, exc: Exception) -> Exception:
        """A lost connection: the local engine's death, else a retried failure."""
        if self._check_endpoint is not None:
            self._check_endpoint()  # raises LocalModelError if the engine died
        return TransientFailure(
            APIConnectionError(
                f"could not connect to {self.endpoint}: {exc.__cause__ or exc}; "
                "check base_url= (OPENAI_BASE_URL) and that the server is running"
            )
        )

    async def _post_streaming(
        self, params: dict[str, Any], mode: Mode, timeout: float, usage: Usage
    ) -> Reply:
        """Send with ``stream=True`` and stop reading as soon as the answer loops."""
        import httpx2
        import openai

        collected = Streamed(RepetitionGuard(), self.progress)
        headers: list[Any] = []
        try:
            await self._read_stream(params, timeout, collected, headers)
        except (openai.OpenAIError, httpx2.TransportError) as exc:
            # (a connection lost mid-stream surfaces from httpx2 itself)
            raise self._sdk_error(exc, mode) from exc
        except ValueError as exc:  # an event that is not JSON
            raise TransientFailure(
                ServerError(f"{self.endpoint} streamed an event that is not valid JSON")
            ) from exc

        if self._limiter is not None and headers:
            self._limiter.observe(headers[0])

        def estimate(text: str) -> tuple[int, int]:
            count = self._count_tokens or (lambda part: len(part) // 3)
            return self._cost(params) - self._limit_of(params), count(text)

        collected.count(usage, estimate)
        if collected.empty:
            error = collected.error
            detail = f": {redact(str(error), self._secret)[:300]}" if error else ""
            raise TransientFailure(ServerError(f"{self.endpoint} streamed no answer{detail}"))
        return self._answer(
            collected.guard.text, collected.finish_reason, collected.refusal or None, mode
        )

    async def _read_stream(
        self, params: dict[str, Any], timeout: float, collected: Streamed, headers: list[Any]
    ) -> None:
        """Read streamed chunks into ``collected`` until the end or a loop; the response
        headers go into ``headers``. A blocking client reads on the executor's threads."""
        import openai

        client = self._client
        if isinstance(client, openai.AsyncOpenAI):
            raw = await client.chat.completions.with_raw_response.create(**params, timeout=timeout)
            headers.append(raw.headers)
            stream = raw.parse()
            try:
                async for chunk in stream:
                    if collected.add(chunk):
                        break
            finally:
                await stream.close()
            return

        def consume() -> None:
            raw = client.chat.completions.with_raw_response.create(**params, timeout=timeout)
            headers.append(raw.headers)
            stream = raw.parse()
            try:
                for chunk in stream:
                    if collected.add(chunk):
                        break
            finally:
                stream.close()

        await asyncio.get_running_loop().run_in_executor(self._executor, consume)

    def reply_from(self, completion: ChatCompletion, mode: Mode, usage: Usage) -> Reply:
        """The model's answer in a parsed completion (counted into ``usage``), or the
        typed error it carries."""
        reasoning = completed = 0
        if completion.usage is not None:
            completed = completion.usage.completion_tokens or 0
            usage.prompt_tokens += completion.usage.prompt_tokens or 0
            usage.completion_tokens += completion.usage.completion_tokens or 0
            details = getattr(completion.usage, "completion_tokens_details", None)
            reasoning = getattr(details, "reasoning_tokens", None) or 0
            usage.reasoning_tokens += reasoning
            self.progress.received(completion.usage.completion_tokens or 0)
        if not completion.choices:
            error = getattr(completion, "error", None)  # a 200 carrying {"error": ...}
            detail = f": {redact(str(error), self._secret)[:300]}" if error else ""
            raise TransientFailure(ServerError(f"{self.endpoint} answered with no choices{detail}"))
        choice = completion.choices[0]
        message = choice.message
        if reasoning:
            learning.reasoned(self.mode_key, reasoning, completed, choice.finish_reason)
        return self._answer(
            message.content or "", choice.finish_reason, getattr(message, "refusal", None), mode
        )

    def _answer(
        self, text: str, finish_reason: str | None, refusal: str | None, mode: Mode
    ) -> Reply:
        """The answer, or the refusal or content-filter stop it is (streamed or not)."""
        if refusal:
            raise RefusalError(
                f"the model refused: {redact(str(refusal), self._secret)}",
                raw_output=str(refusal),
            )
        if finish_reason == "content_filter":
            raise ContentFilterError(
                "the provider's content filter stopped the answer", raw_output=text
            )
        return Reply(text=text, finish_reason=finish_reason, mode=mode)

    def status_error(self, exc: openai.APIStatusError, mode: Mode) -> Exception:
        """Our error (or a retried failure) for an HTTP error answer to a completion."""
        status = exc.status_code
        detail = " ".join(redact(body_message(exc), self._secret).split())[:500]
        where = f"{status} from {self.endpoint}: {detail}"
        lowered = detail.lower()
        refused = learning.refused_param(status, getattr(exc, "param", None), lowered)
        if refused is not None:
            return learning.UnsupportedParam(where, refused)
        if (
            mode is not Mode.TEXT
            and status in (400, 422, 500, 501)
            and any(word in lowered for word in _FORMAT_WORDS)
        ):
            return UnsupportedMode(where)
        hints = {
            401: f" (check api_key= / OPENAI_API_KEY, and access to model {self.model!r})",
            404: f" (check model= ({self.model!r}) and base_url=)",
        }
        return status_error(
            status, where, code=exc.code, request_id=exc.request_id,
            headers=exc.response.headers, hints=hints,
        )  # fmt: skip
