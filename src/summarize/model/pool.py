"""One SDK client per endpoint per process, and one TLS context for all of them.

Building an ``openai`` client builds an HTTP client, and with it a TLS context that
reads the system's certificate store (``load_verify_locations``): about a fifth of the
library's CPU per article when every ``summarize()`` call built its own. Here a
client is built once per (key, base URL) and reused by every Summarizer with the same
settings, so its connection pool is reused too:

- a blocking client is shared across threads, and closed when the process exits;
- an async client is bound to the event loop it was built in (its connections are):
  it is shared by the Summarizers open in that loop at the same time, and closed by
  the last one to close (``release``), so that no socket outlives its loop.

Every client verifies servers with one TLS context (``client.tls_context``). A client
given as ``client=`` is never pooled: its owner closes it.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import threading
import weakref
from typing import TYPE_CHECKING, Any

from summarize.model import client as client_module

if TYPE_CHECKING:
    import openai

_lock = threading.Lock()
_blocking: dict[tuple[str, str | None], openai.OpenAI] = {}
# loop -> key -> [client, users]
_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Any, list[Any]]] = (
    weakref.WeakKeyDictionary()
)
built = 0  # clients built in this process (what the tests and benches read)


def _key(api_key: str, base_url: str | None) -> tuple[str, str | None]:
    # the key is held by the client anyway; the pool's own key is a digest of it
    return hashlib.sha256(api_key.encode()).hexdigest(), base_url


def client(*, api_key: str, base_url: str | None, asynchronous: bool) -> Any:
    """The shared client for ``api_key`` at ``base_url`` (blocking, or async for the
    running event loop), built on first use with the SDK's own retries off:
    summarize.model.retrying owns retries. An async client is ``release``d after use."""
    key = _key(api_key, base_url)
    if not asynchronous:
        with _lock:
            found = _blocking.get(key)
            if found is None or found.is_closed():
                found = _blocking[key] = _build(api_key, base_url, asynchronous=False)
            return found
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no loop yet: a client of its own, for the loop that runs it
        return _build(api_key, base_url, asynchronous=True)
    held = _by_loop.setdefault(loop, {})
    entry = held.get(key)
    if entry is None or entry[0].is_closed():
        entry = held[key] = [_build(api_key, base_url, asynchronous=True), 0]
    entry[1] += 1
    return entry[0]


async def release(client: Any) -> None:
    """One user fewer of an async ``client``; the last one closes it."""
    try:
        held = _by_loop.get(asyncio.get_running_loop(), {})
    except RuntimeError:
        held = {}
    for key, entry in list(held.items()):
        if entry[0] is client:
            entry[1] -= 1
            if entry[1] > 0:
                return
            del held[key]
            break
    await client.close()


def _build(api_key: str, base_url: str | None, *, asynchronous: bool) -> Any:
    global built
    made = client_module.build_client(api_key=api_key, base_url=base_url, asynchronous=asynchronous)
    built += 1
    return made


def close_all() -> None:
    """Close every blocking client and forget the async ones (at exit, or between
    tests that want a fresh process)."""
    with _lock:
        clients = list(_blocking.values())
        _blocking.clear()
        _by_loop.clear()
    for each in clients:
        each.close()


atexit.register(close_all)
