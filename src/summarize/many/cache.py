"""A SQLite cache of briefs, so repeating work costs no request.

The key is a SHA-256 over the model, the endpoint, the prompt and schema versions,
the options that change the answer, and the article text's own SHA-256; the value is
the ``ArticleSummary`` JSON. Neither the API key nor the article text is stored.
WAL mode and a busy timeout make concurrent writers (threads or processes) safe.
"""

from __future__ import annotations

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
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS briefs (key TEXT PRIMARY KEY, brief TEXT NOT NULL)"
            )
            self._db.commit()
        except (OSError, sqlite3.Error) as exc:
            raise ConfigurationError(
                f"the brief cache at {self.path} cannot be used ({exc}): set XDG_CACHE_HOME "
                "to a writable directory, or turn the cache off (cache=False, --no-cache)"
            ) from exc

    def get(self, key: str) -> ArticleSummary | None:
        with self._lock:
            row = self._db.execute("SELECT brief FROM briefs WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return ArticleSummary.model_validate_json(row[0])
        except ValueError:  # written by an incompatible version: treat as a miss
            return None

    def put(self, key: str, brief: ArticleSummary) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO briefs (key, brief) VALUES (?, ?)",
                (key, brief.model_dump_json()),
            )
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()
