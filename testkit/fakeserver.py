"""A real local HTTP server that speaks OpenAI's chat-completions protocol.

It answers with the scripted fake model (testkit/fakemodel.py), after a fixed latency,
unless a fault is queued for the request. Used by the reliability tests and by the
benchmarks in bench/. Hand-built behaviour, not recorded from any model.

    with FakeServer(latency=0.05) as server:
        summarize(text, base_url=server.url, api_key="x", model="fake")
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from testkit import fakemodel

# A fault takes the parsed request body and the handler, and writes the reply itself.
Fault = Callable[[dict[str, Any], "Handler"], None]


class Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as production servers set it. Without it, a reply's body (written
    # after its headers) waited for the client's delayed ACK: about 40 ms on every
    # request of a kept-alive connection, which the benchmarks counted as our time.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_raw(status, data, "application/json", headers)

    def send_raw(
        self,
        status: int,
        data: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data) if length is None else length))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self.send_json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
        else:
            self.send_json(404, {"error": {"message": "not found", "type": "not_found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        fake = self.server.owner
        fault = fake.next_fault(body)
        with fake.lock:
            fake.count += 1
            number = fake.count
            fake.arrivals.append(time.monotonic())
            fake.peers.add(self.client_address)
            if fake.keep_requests:
                fake.requests.append(body)
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
        try:
            if number > 1:  # the first may go alone (it finds the mode the server takes)
                fake.wait_for_company()
            time.sleep(fake.latency)
            if fault is not None:
                fault(body, self)
            else:
                extra = fake.headers(number) if fake.headers else None
                self.send_json(200, fakemodel.completion(body), extra)
        finally:
            with fake.lock:
                fake.in_flight -= 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many clients connect at once; the default backlog is 5
    owner: FakeServer


class FakeServer:
    """Start on a free loopback port; ``faults`` are applied to requests in order."""

    def __init__(self, *, latency: float = 0.0, keep_requests: bool = True) -> None:
        self.latency = latency
        self.keep_requests = keep_requests
        self.count = 0
        self.requests: list[dict[str, Any]] = []
        self.arrivals: list[float] = []  # time.monotonic() of each request's arrival
        self.peers: set[tuple[str, int]] = set()  # the connections requests came on
        # Extra response headers for the Nth request (1-based), e.g. x-ratelimit-*.
        self.headers: Callable[[int], dict[str, str]] | None = None
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        # Hold each request but the first until this many were in flight at once (once
        # reached, no more holding): a concurrency test then does not depend on the
        # machine's speed.
        self.gather = 0
        self.gathered = threading.Condition(self.lock)
        self._faults: list[Fault | None] = []
        self._chooser: Callable[[dict[str, Any]], Fault | None] | None = None
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self._server = _Server(("127.0.0.1", port), Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{port}/v1"

    def wait_for_company(self, timeout: float = 30.0) -> None:
        """Block until ``gather`` requests were in flight together (or ``timeout``)."""
        with self.gathered:
            self.gathered.notify_all()
            self.gathered.wait_for(lambda: self.max_in_flight >= self.gather, timeout)

    def queue(self, *faults: Fault | None) -> None:
        """Faults for the next requests, in order; ``None`` answers normally."""
        with self.lock:
            self._faults.extend(faults)

    def choose(self, chooser: Callable[[dict[str, Any]], Fault | None]) -> None:
        """Pick a fault (or None) per request once the queue is empty."""
        self._chooser = chooser

    def next_fault(self, body: dict[str, Any]) -> Fault | None:
        with self.lock:
            if self._faults:
                return self._faults.pop(0)
        return self._chooser(body) if self._chooser else None

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- faults: each answers one request in a broken way ------------------------------


def status(code: int, message: str = "injected", *, code_name: str | None = None,
           headers: dict[str, str] | None = None, param: str | None = None) -> Fault:  # fmt: skip
    """An OpenAI-style JSON error."""

    def fault(body: dict[str, Any], handler: Handler) -> None:
        error = {"message": message, "type": "error", "param": param, "code": code_name}
        handler.send_json(code, {"error": error}, headers)

    return fault


def html_error(code: int = 502) -> Fault:
    """A proxy's HTML error page."""

    def fault(body: dict[str, Any], handler: Handler) -> None:
        handler.send_raw(code, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")

    return fault


def reset(body: dict[str, Any], handler: Handler) -> None:
    """Close the connection without answering."""
    handler.close_connection = True
    handler.connection.shutdown(socket.SHUT_RDWR)


def hang(seconds: float) -> Fault:
    """Answer only after ``seconds`` (past the client's timeout)."""

    def fault(body: dict[str, Any], handler: Handler) -> None:
        time.sleep(seconds)
        with contextlib.suppress(OSError):
            handler.send_json(200, fakemodel.completion(body))

    return fault


def held(gate: threading.Event, timeout: float = 120.0) -> Fault:
    """Answer normally, but only once ``gate`` is set: a request kept in flight for as
    long as a test needs, whatever the machine's speed."""

    def fault(body: dict[str, Any], handler: Handler) -> None:
        gate.wait(timeout)
        with contextlib.suppress(OSError):
            handler.send_json(200, fakemodel.completion(body))

    return fault


def truncated(body: dict[str, Any], handler: Handler) -> None:
    """A 200 whose body stops halfway (the declared length is never reached)."""
    data = json.dumps(fakemodel.completion(body)).encode()
    handler.close_connection = True
    handler.send_raw(200, data[: len(data) // 2], "application/json", length=len(data))


def content(text: str | None, *, finish_reason: str = "stop", refusal: str | None = None) -> Fault:
    """A well-formed completion carrying ``text`` (or none) as the model's answer."""

    def fault(body: dict[str, Any], handler: Handler) -> None:
        answer = fakemodel.completion(body)
        choice = answer["choices"][0]
        choice["message"]["content"] = text
        choice["message"]["refusal"] = refusal
        choice["finish_reason"] = finish_reason
        handler.send_json(200, answer)

    return fault


def fenced(body: dict[str, Any], handler: Handler) -> None:
    """The right answer inside a Markdown code fence."""
    answer = fakemodel.completion(body)
    message = answer["choices"][0]["message"]
    message["content"] = "```json\n" + message["content"] + "\n```"
    handler.send_json(200, answer)


def payload(data: Any, code: int = 200) -> Fault:
    """Any JSON body, e.g. ``{"choices": []}`` or ``{"error": ...}`` with a 200."""

    def fault(body: dict[str, Any], handler: Handler) -> None:
        handler.send_json(code, data)

    return fault


# the caps the prompt states (summarize.request.drafts), by the key that carries them
_CAPS = {"claim": 400, "text": 500, "topic": 300, "fact": 400, "summary": 3000}


def lengthen(value: Any, times: float) -> Any:
    """``value`` (an answer's JSON) with every capped string run on past its cap to
    ``times`` the cap, by repeating its own words, as Qwen2.5-Coder-1.5B wrote 600- to
    1,200-character claims against a cap of 400."""
    if isinstance(value, list):
        return [lengthen(item, times) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if isinstance(item, str) and key in _CAPS and item.strip():
            target = int(_CAPS[key] * times)
            grown = item
            while len(grown) < target:
                grown += " " + item
            out[key] = grown
        else:
            out[key] = lengthen(item, times)
    return out


def long_fields(times: float) -> Fault:
    """The fake model's right answer with every capped field ``times`` its cap."""

    def fault(body: dict[str, Any], handler: Handler) -> None:
        answer = fakemodel.completion(body)
        message = answer["choices"][0]["message"]
        message["content"] = json.dumps(lengthen(json.loads(message["content"]), times))
        handler.send_json(200, answer)

    return fault
