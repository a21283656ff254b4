"""Short names for sources, as a reader would say them.

A file is its stem (``/tmp/xi-putin-ntv.txt`` -> ``xi-putin-ntv``), a URL its site and
its title (``cnbc.com — Emirates orders 65 Boeing 777X jets``), an ``Article`` its
title, a ``(name, text)`` pair its name. Plain text has no name (the caller numbers
it: ``source 2``). ``unique()`` gives repeated names a suffix. The same names are
used in JSON (``meta.source``, a comparison's ``source`` fields), text and Markdown.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from summarize.source.article import Article, looks_like_source

TITLE_CHARS = 48  # a title in a name is cut at a word boundary before this
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)


def short_name(source: Any, article: Article | None = None) -> str | None:
    """The short name of ``source`` (and of the ``article`` read from it), or None."""
    if isinstance(source, tuple) and len(source) == 2 and isinstance(source[0], str):
        return source[0].strip() or None
    if isinstance(source, Article):
        article, source = source, source.url or ""
    if isinstance(source, os.PathLike):
        path = PurePath(os.fspath(source))
        return path.stem or path.name or None
    title = article.title if article is not None else None
    if isinstance(source, str):
        stripped = source.strip()
        url = stripped if _URL.match(stripped) else (article.url if article else None)
        if url:
            return site(url) + (f" — {cut(title)}" if title else "")
        if "\n" not in stripped and "<" not in stripped and looks_like_source(stripped):
            return PurePath(stripped).stem or None
    return cut(title) if title else None


def site(url: str) -> str:
    """``https://www.cnbc.com/2025/...`` -> ``cnbc.com``."""
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


def cut(title: str, limit: int = TITLE_CHARS) -> str:
    """``title`` on one line, cut at a word boundary with an ellipsis when too long."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    head = title[: limit - 1]
    if " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:-—") + "…"


def unique(names: Sequence[str]) -> list[str]:
    """``names`` with repeats suffixed: ``ntv``, ``ntv (2)``, ``ntv (3)``."""
    seen: dict[str, int] = {}
    taken = set(names)
    out = []
    for name in names:
        count = seen.get(name, 0) + 1
        seen[name] = count
        if count == 1:
            out.append(name)
            continue
        candidate = f"{name} ({count})"
        while candidate in taken:
            count += 1
            candidate = f"{name} ({count})"
        seen[name] = count
        taken.add(candidate)
        out.append(candidate)
    return out
