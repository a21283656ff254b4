"""Streamed answers shaped like llama.cpp's server-sent events (hand-built): one
``data:`` line per token-ish piece, a final chunk with ``finish_reason``, a usage chunk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2


def sse_event(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def chunk(content: str | None = None, finish: str | None = None) -> dict[str, Any]:
    delta = {"content": content} if content is not None else {}
    return {
        "id": "chatcmpl-stream",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


class CountingStream(httpx2.SyncByteStream):
    """An SSE body that counts how much of it the client read."""

    def __init__(self, pieces: Iterator[str], *, finish: str = "stop") -> None:
        self.pieces = pieces
        self.finish = finish
        self.sent = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for piece in self.pieces:
            self.sent += 1
            yield sse_event(chunk(piece))
        yield sse_event(chunk(finish=self.finish))
        usage = {"prompt_tokens": 900, "completion_tokens": self.sent, "total_tokens": 0}
        yield sse_event({**chunk(), "choices": [], "usage": usage})
        yield b"data: [DONE]\n\n"

    def close(self) -> None:
        self.closed = True


def pieces(text: str, size: int = 7) -> Iterator[str]:
    for i in range(0, len(text), size):
        yield text[i : i + size]


def stream_response(stream: CountingStream) -> httpx2.Response:
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)
