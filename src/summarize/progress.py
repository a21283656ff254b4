"""Progress of one article's run, as events for a callback (``on_progress=``).

A ``Reporter`` is made per article (or comparison) and carried by its ``Run``. The
stages call it as they go; it hands a ``ProgressEvent`` to the callback:

- ``reading``: the source is being read (a file, a page to extract, a URL to fetch);
- ``starting``: the local engine is loading its model (the first article only);
- ``briefing``: a request for the whole article, or for its parts (``parts`` and
  ``parts_done`` say how far the parts are);
- ``checking``: an answer came back and is being checked;
- ``re-asking``: the answer had problems (``detail`` is the first one) and is asked again;
- ``merging``: the part briefs are being merged;
- ``comparing``: several reports of one story are being compared;
- ``done``: the result is ready (``usage`` is set).

While an answer streams, ``tokens`` grows (one per streamed chunk, which is one token
for llama.cpp and OpenAI) and an event goes out at most every ``TOKEN_INTERVAL``
seconds. Without streaming, tokens are counted as each answer arrives.

The callback is called from the thread running the article (an executor thread for a
blocking client), so it must be quick and thread-safe. If it raises, the run goes on
without it and the brief carries a warning saying so: a progress display never costs
an article.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from summarize import clock as clocks

if TYPE_CHECKING:
    from summarize.schema import Usage

Stage = Literal[
    "reading",
    "starting",
    "preparing",
    "briefing",
    "checking",
    "re-asking",
    "merging",
    "comparing",
    "done",
]
# Seconds between two events that only say more tokens arrived.
TOKEN_INTERVAL = 0.25
DETAIL_CHARS = 60  # a status line cuts a longer detail (the event keeps all of it)


@dataclass(frozen=True)
class ProgressEvent:
    """Where one article's run is: its stage, time, tokens and endpoint."""

    stage: Stage
    detail: str  # "part 2 of 5", the first problem of a re-ask, the source read
    elapsed: float  # seconds since the run started
    tokens: int  # answer tokens received so far
    requests: int  # requests sent so far
    model: str
    endpoint: str  # "local llama.cpp", "api.openai.com", "127.0.0.1:8080"
    source: str | None = None  # the article's short name, when it has one
    parts: int = 0  # 0: the article fits one request
    parts_done: int = 0
    usage: Usage | None = None  # on ``done``
    cost_usd: float | None = None  # on ``done``: what the run cost, None if unknown

    def line(self) -> str:
        """The event as one status line: ``briefing 2 of 5 parts · 12.3 s · ...``."""
        what: str = self.stage
        if self.parts and self.stage in ("briefing", "checking", "re-asking"):
            what += f" ({self.parts_done} of {self.parts} parts done)"
        if self.detail:
            detail = self.detail
            if len(detail) > DETAIL_CHARS:
                detail = detail[: DETAIL_CHARS - 1].rstrip() + "…"
            what += f": {detail}"
        named = f"{self.source} · " if self.source else ""
        return (
            f"{named}{what} · {self.elapsed:.1f} s · {self.tokens:,} tokens · "
            f"{self.requests} request(s) · {self.model} @ {self.endpoint}"
        )


Callback = Callable[[ProgressEvent], None]


class Reporter:
    """Builds and sends the events of one run; does nothing without a callback."""

    def __init__(
        self,
        callback: Callback | None = None,
        *,
        model: str = "",
        endpoint: str = "",
        source: str | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._callback = callback
        self._clock = clock or clocks.current().now
        self._started = self._clock()
        self._lock = threading.Lock()
        self._last_sent = float("-inf")
        self._event = ProgressEvent("reading", "", 0.0, 0, 0, model, endpoint, source)
        self.failure: str | None = None  # why the callback was dropped, for a warning

    @property
    def active(self) -> bool:
        return self._callback is not None

    def stage(self, stage: Stage, detail: str = "", **changes: int) -> None:
        """Enter ``stage`` (``parts=``, ``parts_done=`` may change too)."""
        if self._callback is not None:
            self._send(stage=stage, detail=detail, **changes)

    def preparing(self, done: int, total: int, size: int) -> None:
        """``done`` of ``total`` characters of an article of ``size`` bytes prepared:
        "k of n MB", an event at most every ``TOKEN_INTERVAL`` (and at the start)."""
        if self._callback is None:
            return
        with self._lock:
            due = done == 0 or self._clock() - self._last_sent >= TOKEN_INTERVAL
        if due:
            megabytes = size / 1_048_576
            share = megabytes * done / total if total else megabytes
            self._send(stage="preparing", detail=f"{share:.1f} of {megabytes:.1f} MB")

    def named(self, source: str | None) -> None:
        """Give the events the article's short name, once it is known."""
        with self._lock:
            self._event = replace(self._event, source=source)

    def requested(self) -> None:
        """One more request went out."""
        if self._callback is not None:
            with self._lock:
                self._event = replace(self._event, requests=self._event.requests + 1)

    def part_done(self) -> None:
        if self._callback is not None:
            with self._lock:
                done = self._event.parts_done + 1
            self._send(stage="briefing", detail="", parts_done=done)

    def received(self, tokens: int = 1) -> None:
        """``tokens`` more answer tokens arrived; an event if none went out lately."""
        if self._callback is None:
            return
        with self._lock:
            self._event = replace(self._event, tokens=self._event.tokens + tokens)
            due = self._clock() - self._last_sent >= TOKEN_INTERVAL
        if due:
            self._send()

    def done(self, usage: Usage, cost_usd: float | None = None) -> None:
        if self._callback is not None:
            self._send(
                stage="done",
                detail="",
                usage=usage,
                tokens=usage.completion_tokens,
                cost_usd=cost_usd,
            )

    def _send(self, **changes: Any) -> None:
        with self._lock:
            now = self._clock()
            event = replace(self._event, elapsed=now - self._started, **changes)
            self._event = event
            self._last_sent = now
        callback = self._callback
        if callback is None:
            return
        try:
            callback(event)
        except Exception as exc:  # a display's bug must not cost the article
            self._callback = None
            self.failure = (
                f"on_progress raised {type(exc).__name__}: {exc}; no more progress events "
                "were sent for this article"
            )


def reading(source: object) -> str:
    """What the ``reading`` stage is reading, for its ``detail``."""
    if isinstance(source, os.PathLike):
        path = os.fspath(source)
        html = str(path).lower().endswith((".html", ".htm", ".xhtml"))
        return f"extracting the text of {path}" if html else str(path)
    if isinstance(source, str):
        stripped = source.strip()
        url = stripped.lower().startswith(("http://", "https://"))
        if url and stripped.isprintable() and " " not in stripped:
            return f"fetching {stripped}"
        if stripped.startswith("<"):
            return "extracting the text of the page"
        if "\n" not in stripped and stripped.lower().endswith((".txt", ".text", ".html", ".htm")):
            return reading(Path(stripped))
        return f"{len(source):,} characters of text"
    return "the article given"
