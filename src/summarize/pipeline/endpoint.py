"""Where a Summarizer's requests go, and the resources that serve them.

An ``Endpoint`` holds the SDK clients (one blocking, one async: the process's shared
ones of ``summarize.model.pool``, taken on first use), the
local engine when ``local=`` is set (started on first use, stopped on close), and
the threads a blocking client's requests run on. ``Endpoint.open()`` also settles
the options the local engine decides (model, window, answer budget, mode).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from summarize.errors import ConfigurationError
from summarize.model import pool
from summarize.model.client import OPENAI_HOST, resolve_endpoint
from summarize.model.httperrors import PLACEHOLDER_KEY, redact_url
from summarize.model.local.server import DEFAULT_CONTEXT, LocalServer
from summarize.model.protocol import Mode
from summarize.pipeline import budget

if TYPE_CHECKING:
    from summarize.model.local.catalogue import ModelChoice
    from summarize.options import Options

Client = Any  # openai.OpenAI | openai.AsyncOpenAI, imported lazily
OPENAI_URL = f"https://{OPENAI_HOST}/v1"


class Endpoint:
    """The clients, local engine and threads behind one Summarizer."""

    def __init__(self, options: Options, local: LocalServer | None = None) -> None:
        self.local = local
        self._api_key = options.api_key
        self._base_url = options.base_url
        self._given: Client = options.client
        self._concurrency = options.concurrency
        self._clients: dict[bool, Client] = {}
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    @classmethod
    def open(cls, options: Options) -> tuple[Endpoint, Options]:
        """The endpoint for ``options``, and the options as the local engine settles
        them (model, window, answer budget, structured-output mode)."""
        if not (options.local or options.local_model):
            return cls(options), options
        if options.base_url or options.client:
            raise ConfigurationError(
                "local=True runs its own server: do not pass base_url= or client= with it"
            )
        server = LocalServer(
            options.local_model,
            context_window=options.context_window or DEFAULT_CONTEXT,
            slots=options.concurrency,
            api_key=secrets.token_urlsafe(24),
        )
        window = server.context_window
        settled = options.model_copy(
            update={
                "model": server.model,
                "context_window": window,
                "max_output_tokens": options.max_output_tokens or budget.local_output(window),
                # llama.cpp turns the bounded schema (maxItems) into its grammar.
                "structured_output": options.structured_output or Mode.JSON_OBJECT_SCHEMA.value,
            }
        )
        return cls(options, server), settled

    @property
    def model_choice(self) -> ModelChoice | None:
        return self.local.choice if self.local is not None else None

    def identity(self) -> str:
        """The endpoint as the cache key names it."""
        if self.local is not None:
            return f"local:{self.local.model}"
        if self._given is not None:
            return str(self._given.base_url)
        return self._base_url or os.environ.get("OPENAI_BASE_URL") or "openai"

    def url(self) -> str | None:
        """The base URL requests go to: ``base_url=``, a given client's, else
        ``OPENAI_BASE_URL``, else OpenAI's; None for the local engine."""
        if self.local is not None:
            return None
        if self._given is not None:
            return str(self._given.base_url)
        return self._base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_URL

    @property
    def is_openai(self) -> bool:
        """Whether requests go to OpenAI's own API (the only one with known prices)."""
        url = self.url()
        return url is not None and urlsplit(url).hostname == OPENAI_HOST

    def describe(self) -> str:
        if self.local is not None:
            return f"<local llama.cpp: {self.local.model_path}>"
        return redact_url(self.url() or "")

    def label(self) -> str:
        """The endpoint as a status line says it: ``local llama.cpp``, a host."""
        url = self.url()
        if url is None:
            return "local llama.cpp"
        split = urlsplit(url)
        return split.netloc.rpartition("@")[2] or redact_url(url)

    def client_for(self, asynchronous: bool) -> tuple[Client, str]:
        """An SDK client (``asynchronous`` or blocking) and the key it sends."""
        if self._given is not None:
            # Our retry policy replaces the client's own, so layers do not multiply.
            client = self._given.with_options(max_retries=0)
            return client, str(client.api_key)
        base_url: str | None
        if self.local is not None:
            base_url = self.local.start()
            api_key = self.local.api_key or PLACEHOLDER_KEY
        else:
            api_key, base_url = resolve_endpoint(self._api_key, self._base_url)
        if asynchronous not in self._clients:
            self._clients[asynchronous] = pool.client(
                api_key=api_key, base_url=base_url, asynchronous=asynchronous
            )
        return self._clients[asynchronous], api_key

    async def astart(self) -> None:
        """Start the local engine (if any) without blocking the event loop."""
        if self.local is not None and not self.local.running:
            await asyncio.to_thread(self.local.start)

    def check(self) -> None:
        """Raise ``LocalModelError`` if the local engine has died."""
        if self.local is not None:
            self.local.check(grace=1.0)

    def executor_for(self, client: Client) -> concurrent.futures.ThreadPoolExecutor | None:
        """Threads for a blocking client's requests, as many as ``concurrency``."""
        import openai

        if isinstance(client, openai.AsyncOpenAI):
            return None
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=self._concurrency, thread_name_prefix="summarize"
            )
        return self._executor

    def abort(self) -> None:
        """Close the shared blocking client now (the pool builds a new one when next
        asked): a request still in flight on a worker thread fails at once, so an
        interrupted run exits instead of waiting for the server."""
        blocking = self._clients.get(False)
        if blocking is not None:
            blocking.close()

    def close(self) -> None:
        """Let go of the clients (the process's shared ones stay open for the next
        Summarizer; one of the local engine is closed with it) and stop the engine."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        try:
            blocking = self._clients.pop(False, None)
            if blocking is not None and self.local is not None:
                blocking.close()  # its engine's port and key die with the engine
        finally:
            self._clients.clear()
            if self.local is not None:
                self.local.stop()

    async def aclose(self) -> None:
        try:
            asynchronous = self._clients.pop(True, None)
            if asynchronous is not None:
                await pool.release(asynchronous)
        finally:
            self.close()
