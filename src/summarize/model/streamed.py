"""What a streamed chat completion has brought so far: its text (fed to the loop
guard), finish reason, refusal, error and token counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from summarize.model.loops import RepetitionGuard
from summarize.progress import Reporter
from summarize.schema import Usage


class Streamed:
    """What a streamed answer has brought so far."""

    def __init__(self, guard: RepetitionGuard, progress: Reporter) -> None:
        self.guard = guard
        self.progress = progress
        self.finish_reason: str | None = None
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None
        self.reasoning_tokens = 0
        self.refusal = ""
        self.error: Any = None
        self.chunks = 0

    def add(self, chunk: Any) -> bool:
        """Take one chunk; True when the answer loops and reading should stop."""
        self.chunks += 1
        if getattr(chunk, "usage", None) is not None:
            self.prompt_tokens = chunk.usage.prompt_tokens
            self.completion_tokens = chunk.usage.completion_tokens
            details = getattr(chunk.usage, "completion_tokens_details", None)
            self.reasoning_tokens = getattr(details, "reasoning_tokens", None) or 0
        if getattr(chunk, "error", None):
            self.error = chunk.error
        for choice in chunk.choices or ():
            if choice.index != 0:
                continue
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason
            delta = choice.delta
            if delta is None:
                continue
            self.refusal += getattr(delta, "refusal", None) or ""
            if delta.content:
                self.progress.received()
                if self.guard.feed(delta.content):
                    self.finish_reason = "loop"
                    return True
        return False

    def count(self, usage: Usage, estimate: Callable[[str], tuple[int, int]]) -> None:
        """Add this answer's tokens to ``usage``; ``estimate(text)`` gives (prompt,
        completion) tokens for an answer stopped before the server's usage event came."""
        if self.prompt_tokens is None or self.completion_tokens is None:
            self.prompt_tokens, self.completion_tokens = estimate(self.guard.text)
        usage.prompt_tokens += self.prompt_tokens or 0
        usage.completion_tokens += self.completion_tokens or 0
        usage.reasoning_tokens += self.reasoning_tokens
        if self.finish_reason == "loop":
            usage.loops_cut += 1

    @property
    def empty(self) -> bool:
        return self.chunks == 0 or (self.finish_reason is None and not self.guard.text)
