"""Where summarize keeps its own files."""

from __future__ import annotations

import os
from pathlib import Path


def cache_home() -> Path:
    """summarize's own cache directory: ``$XDG_CACHE_HOME/summarize`` (``~/.cache``
    when unset). Briefs, Batch API jobs and what endpoints taught live under it."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "summarize"
