"""A SQLite cache of briefs, so repeating work costs no request.

The key is a SHA-256 over the model, the endpoint, the prompt and schema versions,
the options that change the answer, and the article text's own SHA-256; the value is
the ``ArticleSummary`` JSON. The API key is not stored, nor the whole article, but a
brief holds what it cites: its evidence quotes the cited sentences of the article, with
their offsets. The file (and its WAL) is readable by its owner only (0600), in a
folder of its owner's (0700). WAL mode and a busy timeout make concurrent writers
(threads or processes) safe.

A cache that cannot be used (unreadable, corrupt, from another program) is never the
end of a run: ``BriefCache.problem`` says why, and the batch goes on without it. A
cached brief is served only if it still grounds in the text (every quote at its
offsets): a tampered or stale row is a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from summarize.errors import ConfigurationError
from summarize.paths import cache_home
from summarize.schema import ArticleSummary


def default_path() -> Path:
    """``$XDG_CACHE_HOME/summarize/briefs.sqlite3``."""
    return cache_home() / "briefs.sqlite3"


def cache_key(text: str, settings: dict[str, Any]) -> str:
    """The key of one article under one configuration."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    material = json.dumps({**settings, "text_sha256": digest}, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(material.encode()).hexdigest()


class BriefCache:
    """Get and put briefs by key; one connection, shared by threads under a lock."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._lock = threading.Lock()
        self.problem: str | None = None  # why the cache went off, once it did
        self.refused = 0  # cached briefs not served: they no longer ground in the text
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS briefs (key TEXT PRIMARY KEY, brief TEXT NOT NULL)"
            )
            self._db.commit()
            for name in (self.path, *(Path(f"{self.path}{x}") for x in ("-wal", "-shm"))):
                if name.exists():
                    os.chmod(name, 0o600)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigurationError(
                f"the brief cache at {self.path} cannot be used ({exc}): set XDG_CACHE_HOME "
                "to a writable directory, or turn the cache off (cache=False, --no-cache)"
            ) from exc

    def _off(self, exc: Exception) -> None:
        self.problem = (
            f"the brief cache at {self.path} cannot be used ({type(exc).__name__}: {exc}); "
            "this run goes on without it (delete the file, or pass --no-cache)"
        )

    def get(self, key: str, text: str | None = None) -> ArticleSummary | None:
        """The brief stored under ``key``; with ``text``, only if every quote of it is
        still that text's own at its offsets (else a miss)."""
        if self.problem is not None:
            return None
        try:
            with self._lock:
                row = self._db.execute("SELECT brief FROM briefs WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            self._off(exc)
            return None
        if row is None:
            return None
        try:
            brief = ArticleSummary.model_validate_json(row[0])
        except ValueError:  # written by an incompatible version: treat as a miss
            return None
        if text is not None and brief.ungrounded(text):
            self.refused += 1
            return None  # tampered with, or not this text's: never served
        return brief

    def put(self, key: str, brief: ArticleSummary) -> None:
        if self.problem is not None:
            return
        try:
            with self._lock:
                self._db.execute(
                    "INSERT OR REPLACE INTO briefs (key, brief) VALUES (?, ?)",
                    (key, brief.model_dump_json()),
                )
                self._db.commit()
        except sqlite3.Error as exc:
            self._off(exc)

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()
