"""Recorded HTTP exchanges ("cassettes"): recording from a real server, replaying in tests.

Replay goes through the openai SDK's real HTTP layer: an ``httpx2.MockTransport``
answers each request with the recorded response whose request body matches. The
per-request article boundary is random, so it is normalised before matching; every
other byte of the request (model, prompt, article, response_format, limits) must
match, so a prompt change makes replay fail loudly, naming the re-record command.

Only the request body is stored, never request headers: no Authorization header or
key can reach a cassette. Of the response headers only a few harmless ones are kept.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
CASSETTES = FIXTURES / "cassettes"
RERECORD = (
    "re-record with: python scripts/record.py --local  "
    "(or --base-url URL --model NAME; see README 'Recorded fixtures')"
)
_BOUNDARY = re.compile(r"ARTICLE-[0-9a-f]{16}")
_KEEP_HEADERS = ("content-type", "retry-after", "retry-after-ms")


def normalize_body(content: bytes) -> Any:
    """The request body as JSON with the random article boundary replaced."""
    text = _BOUNDARY.sub("ARTICLE-<boundary>", content.decode("utf-8"))
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _kept_headers(headers: httpx2.Headers) -> dict[str, str]:
    return {
        k: v
        for k, v in headers.items()
        if k.lower() in _KEEP_HEADERS or k.lower().startswith("x-ratelimit-")
    }


@dataclass
class Cassette:
    """A recorded scenario: what was recorded, with what, and the exchanges."""

    path: Path
    recorded: dict[str, Any]
    scenario: dict[str, Any]
    interactions: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Cassette:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(path, data["recorded"], data["scenario"], data["interactions"])

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "recorded": self.recorded,
            "scenario": self.scenario,
            "interactions": self.interactions,
        }
        self.path.write_text(
            json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    def source(self) -> str | Path:
        """What the scenario passes to summarize(): the text, or the page's path."""
        path = FIXTURES / self.scenario["article"]
        if path.suffix == ".html":
            return path
        return path.read_text(encoding="utf-8")

    def sources(self) -> list[tuple[str, str]]:
        """A comparison scenario's (source name, text) pairs."""
        return [
            (name, (FIXTURES / path).read_text(encoding="utf-8"))
            for name, path in self.scenario["compare"]
        ]

    def article_text(self) -> str:
        """The text the evidence offsets refer to (extracted, for a page)."""
        source = self.source()
        if isinstance(source, Path):
            from summarize.source.article import read_article

            return read_article(source).text
        return source


class ReplayTransport(httpx2.MockTransport):
    """Answers requests from a cassette; anything unmatched is an error.

    A request gets the first unused recorded exchange with the same method, path and
    (normalised) body, so parts of a long article may arrive in any order, as they do
    when they run concurrently. Thread-safe: sync clients send from worker threads.
    """

    def __init__(self, cassette: Cassette) -> None:
        self.cassette = cassette
        self.done: set[int] = set()
        self.unmatched: list[str] = []
        self._lock = threading.Lock()
        super().__init__(self._handle)

    @property
    def used(self) -> int:
        return len(self.done)

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        """The replay as a plain request handler (for mock transports built elsewhere)."""
        return self._handle(request)

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        body = normalize_body(request.content)
        with self._lock:
            for index, recorded in enumerate(self.cassette.interactions):
                if (
                    index not in self.done
                    and recorded["request"]["method"] == request.method
                    and recorded["request"]["path"] == request.url.path
                    and recorded["request"]["body"] == body
                ):
                    self.done.add(index)
                    response = recorded["response"]
                    return httpx2.Response(
                        response["status"],
                        headers=response["headers"],
                        content=response["body"].encode("utf-8"),
                    )
            problem = (
                f"request {len(self.done) + len(self.unmatched) + 1} to {request.url.path} "
                f"matches nothing left in {self.cassette.path.name}: {RERECORD}"
            )
            self.unmatched.append(problem)
        raise AssertionError(problem)

    def check_done(self) -> None:
        """Fail if a request went unmatched or a recorded one was never asked for."""
        assert not self.unmatched, self.unmatched[0]
        left = len(self.cassette.interactions) - self.used
        assert left == 0, f"{left} recorded request(s) never replayed: {RERECORD}"


class RecordingTransport(httpx2.BaseTransport):
    """Sends requests to the real server and appends each exchange to a cassette."""

    def __init__(self, cassette: Cassette) -> None:
        self.cassette = cassette
        self._inner = httpx2.HTTPTransport()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self._inner.handle_request(request)
        content = response.read()
        with self._lock:
            self._append(request, response, content)
        # The body is already decoded: pass it on without encoding or length headers.
        headers = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx2.Response(response.status_code, headers=headers, content=content)

    def _append(self, request: httpx2.Request, response: httpx2.Response, content: bytes) -> None:
        self.cassette.interactions.append(
            {
                "request": {
                    "method": request.method,
                    "path": request.url.path,
                    "body": normalize_body(request.content),
                },
                "response": {
                    "status": response.status_code,
                    "headers": _kept_headers(response.headers),
                    "body": content.decode("utf-8", errors="replace"),
                },
            }
        )

    def close(self) -> None:
        self._inner.close()


def response_content_and_usage(body: str) -> tuple[str, dict[str, Any]]:
    """The answer text and usage of a recorded response: a chat.completion body or a
    server-sent event stream of chunks."""
    if "\ndata: " not in "\n" + body:  # (an event stream may open with a ":" comment)
        data = json.loads(body)
        choices = data.get("choices") or [{}]
        return (choices[0].get("message") or {}).get("content") or "", data.get("usage") or {}
    text, usage = "", {}
    for line in body.splitlines():
        if not line.startswith("data: {"):
            continue
        chunk = json.loads(line[len("data: ") :])
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or ():
            text += (choice.get("delta") or {}).get("content") or ""
    return text, usage
