"""What an endpoint taught, remembered across runs: its structured-output mode.

The first request to a new endpoint and model finds which structured-output mode it
takes (``json_schema``, ``json_object`` with a schema, plain ``json_object``, text),
and a long article's first part goes alone to find it, a round of its own. Here the
mode found is kept in ``$XDG_CACHE_HOME/summarize/endpoints.json``, so that a later
run (another process) starts with it and skips that round.

The file holds no key and no URL: each entry is named by a SHA-256 of the endpoint
and model. It is written atomically, readable by its owner only, and a file that is
missing, unreadable, corrupt or from a stranger's hand is treated as empty: the mode
is then found again, as on a first run. A remembered mode the endpoint later rejects
falls back and is replaced, as any mode does. ``SUMMARIZE_NO_MEMORY=1`` turns the file
off (nothing read, nothing written).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path

from summarize.paths import cache_home

FILE = "endpoints.json"
MAX_ENTRIES = 512  # endpoints x models remembered at most; the oldest go first
_lock = threading.Lock()


def _path() -> Path | None:
    if os.environ.get("SUMMARIZE_NO_MEMORY", "").strip() not in ("", "0"):
        return None
    return cache_home() / FILE


def _name(endpoint: str, model: str) -> str:
    return hashlib.sha256(f"{endpoint}\n{model}".encode("utf-8", "surrogatepass")).hexdigest()


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def recall(endpoint: str, model: str, allowed: tuple[str, ...]) -> str | None:
    """The mode remembered for ``endpoint`` and ``model``, if it is one of ``allowed``."""
    path = _path()
    if path is None:
        return None
    with _lock:
        mode = _read(path).get(_name(endpoint, model))
    return mode if mode in allowed else None


def remember(endpoint: str, model: str, mode: str) -> None:
    """Keep ``mode`` for ``endpoint`` and ``model``; a write that fails is skipped."""
    path = _path()
    if path is None:
        return
    name = _name(endpoint, model)
    with _lock:
        entries = _read(path)
        if entries.get(name) == mode:
            return
        entries.pop(name, None)
        entries[name] = mode  # last written last: the oldest are first to go
        kept = dict(list(entries.items())[-MAX_ENTRIES:])
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".endpoints-")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    json.dump(kept, out, indent=0, sort_keys=False)
                os.chmod(temporary, 0o600)
                os.replace(temporary, path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)


def forget() -> None:
    """Delete the remembered modes (the next run finds its mode again)."""
    path = _path()
    if path is not None:
        with _lock, contextlib.suppress(OSError):
            path.unlink()
