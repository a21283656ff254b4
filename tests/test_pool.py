"""One SDK client per endpoint per process (summarize.model.pool): ``summarize()`` calls
with the same settings share a client and its connections; other settings get their
own; async clients are shared within a loop and closed by their last user. Against the
fake OpenAI-compatible server over real HTTP (testkit/fakeserver.py)."""

from __future__ import annotations

import asyncio

import pytest
import testkit.fakeserver as F

from summarize import Summarizer, asummarize, summarize
from summarize.model import client as client_module
from summarize.model import pool
from tests.support import NTV

SHORT = NTV[:1500]


def test_summarize_calls_with_the_same_settings_share_one_client_and_its_connection() -> None:
    with F.FakeServer() as server:
        before = pool.built
        for _ in range(3):
            summarize(SHORT, base_url=server.url, api_key="sk-one", model="fake")
        assert pool.built - before == 1
        assert server.count == 3
        assert len(server.peers) == 1  # the connection was kept and reused
        summarize(SHORT, base_url=server.url, api_key="sk-two", model="fake")
        assert pool.built - before == 2  # another key is another client


def test_closing_a_summarizer_leaves_the_shared_client_open_and_exit_closes_it() -> None:
    with F.FakeServer() as server:
        with Summarizer(base_url=server.url, api_key="sk-one", model="fake") as first:
            first(SHORT)
            shared, _ = first.endpoint.client_for(asynchronous=False)
        assert not shared.is_closed()
        with Summarizer(base_url=server.url, api_key="sk-one", model="fake") as second:
            assert second.endpoint.client_for(asynchronous=False)[0] is shared
            second(SHORT)
        pool.close_all()  # what the process does at exit (atexit)
        assert shared.is_closed()


def test_async_briefs_in_one_loop_share_a_client_and_the_last_one_closes_it() -> None:
    with F.FakeServer() as server:
        before = pool.built
        seen: list[object] = []

        async def one() -> None:
            async with Summarizer(base_url=server.url, api_key="sk-a", model="fake") as s:
                seen.append(s.endpoint.client_for(asynchronous=True)[0])
                await s.asummarize(SHORT)

        async def main() -> None:
            await asyncio.gather(one(), one(), one())

        asyncio.run(main())
        assert pool.built - before == 1
        assert seen[0] is seen[1] is seen[2]
        assert seen[0].is_closed()  # type: ignore[attr-defined]
        asyncio.run(asummarize(SHORT, base_url=server.url, api_key="sk-a", model="fake"))
        assert pool.built - before == 2  # a new loop: a new client, not the dead loop's


def test_the_certificate_store_is_read_once_for_every_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import httpcore2

    reads: list[object] = []
    real = httpcore2.default_ssl_context

    def counted(*args: object, **kwargs: object) -> object:
        reads.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpcore2, "default_ssl_context", counted)
    monkeypatch.setattr(client_module, "_tls", [])
    for n in range(4):
        client_module.build_client(
            api_key=f"sk-{n}", base_url="https://api.example.test/v1", asynchronous=bool(n % 2)
        )
    assert len(reads) == 1
