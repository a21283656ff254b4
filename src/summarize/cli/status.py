"""The live status line of one run on a terminal: stage, time, tokens, model.

``StatusLine`` is the ``on_progress`` callback of the CLI's Summarizer. On a terminal
(stderr is a TTY, and no ``--quiet``) it shows the latest ``ProgressEvent`` as one
tqdm line, the same library as the batch bar, redrawn twice a second so the elapsed
time moves while a request is out; at the end the line is cleared and one summary
line says time, requests, tokens and cost. Piped, it writes nothing at all. A terminal
that reports 0 columns (a pseudo-terminal from ``script``, some CI consoles) is drawn
80 columns wide.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from summarize import clock as clocks

if TYPE_CHECKING:
    from summarize.progress import ProgressEvent
    from summarize.schema import Usage

TICK = 0.5  # seconds between redraws while nothing new arrives
FALLBACK_COLUMNS = 80


def bar_width(stream: Any) -> dict[str, Any]:
    """tqdm's width settings for ``stream``: follow the terminal's width, or
    ``FALLBACK_COLUMNS`` when it reports none (0 columns: tqdm would draw nothing)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        columns = 0
    if columns > 0:
        return {"dynamic_ncols": True}
    return {"ncols": FALLBACK_COLUMNS, "dynamic_ncols": False}


class StatusLine:
    """``on_progress`` for the CLI: a live line on a terminal; silent otherwise.

    ``clock`` (default: ``summarize.clock.current().now``) times the redraws between
    events; ``redraw()`` is what the ticker thread calls every ``TICK`` seconds."""

    def __init__(
        self,
        *,
        quiet: bool = False,
        stream: Any = None,
        clock: Callable[[], float] | None = None,
        tick: float = TICK,
    ) -> None:
        self.stream = stream or sys.stderr
        self.live = not quiet and self.stream.isatty()
        self._clock = clock or clocks.current().now
        self._interval = tick
        self._lock = threading.Lock()
        self._event: ProgressEvent | None = None
        self._since = 0.0
        self._bar: Any = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self.final: ProgressEvent | None = None

    def __call__(self, event: ProgressEvent) -> None:
        if event.stage == "done":
            self.final = event
        if not self.live:
            return
        with self._lock:
            self._event, self._since = event, self._clock()
            if self._bar is None:
                self._start()
            self._draw()

    def _start(self) -> None:
        from tqdm import tqdm

        self._bar = tqdm(
            total=None, bar_format="{desc}", file=self.stream, leave=False,
            **bar_width(self.stream),
        )  # fmt: skip
        self._ticker = threading.Thread(target=self._tick, name="summarize-status", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(self._interval):
            self.redraw()

    def redraw(self) -> None:
        """Draw the latest event again, its time moved on to now."""
        with self._lock:
            self._draw()

    def _draw(self) -> None:
        event = self._event
        if self._bar is None or event is None:
            return
        if event.stage != "done":
            # the time a request has been out, between two events
            later = self._clock() - self._since
            event = dataclasses.replace(event, elapsed=event.elapsed + later)
        self._bar.set_description_str(event.line(), refresh=True)

    def close(self, *, summary: bool = True) -> None:
        """Clear the line; on a terminal, say what the run cost (``summary``)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
        if summary and self.live and self.final is not None and self.final.usage is not None:
            print(f"summarize: {final_line(self.final, self.final.usage)}", file=self.stream)

    def __enter__(self) -> StatusLine:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        self.close(summary=kind is None)


def final_line(event: ProgressEvent, usage: Usage) -> str:
    """``done in 41.2 s · 3 request(s) · 6,324+1,259 tokens · $0.0012 · model @ host``:
    a price only where one is known (OpenAI's API, or --price-in and --price-out)."""
    if event.endpoint == "local llama.cpp":
        price = " · no API cost (local)"
    elif event.cost_usd is not None:
        price = f" · ${event.cost_usd:.4f}"
    else:
        price = " · cost unknown (no price for this endpoint: --price-in, --price-out)"
    return (
        f"done in {event.elapsed:.1f} s · {usage.requests} request(s) · "
        f"{usage.prompt_tokens:,}+{usage.completion_tokens:,} tokens{price} · "
        f"{event.model} @ {event.endpoint}"
    )
