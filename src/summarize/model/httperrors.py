"""HTTP error answers as typed errors: the one status -> error table, for completions
and for the Batch API's files and batches calls; keys redacted from every message."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from summarize.errors import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    NotFoundError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    SummarizeError,
)
from summarize.model.retrying import TransientFailure, retry_after_seconds

# Local servers ignore the key, but the SDK insists on one.
PLACEHOLDER_KEY = "not-needed"


def redact(text: str, secret: str | None) -> str:
    if secret and secret != PLACEHOLDER_KEY and len(secret) >= 4:
        text = text.replace(secret, "[REDACTED]")
    return text


def redact_url(url: str) -> str:
    """``url`` without the user and password a base URL may carry (a key, often)."""
    split = urlsplit(url)
    if "@" not in split.netloc:
        return url
    host = split.netloc.rpartition("@")[2]
    return urlunsplit((split.scheme, "***@" + host, split.path, split.query, split.fragment))


def base_url_problem(url: object, where: str = "base_url") -> str | None:
    """Why ``url`` cannot be a base URL (it must be http(s) with a host), its user
    part redacted; None when it can."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is not None and parts.scheme in ("http", "https") and parts.hostname:
        return None
    shown = redact_url(url) if isinstance(url, str) else type(url).__name__
    return (
        f"{where} must be an http:// or https:// URL such as http://127.0.0.1:8080/v1, "
        f"not {shown!r:.80}"
    )


def body_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        msg = body.get("message") or body.get("detail") or body.get("error")
        if msg:
            return str(msg)
    if isinstance(body, str) and body.strip():
        return body.strip()
    return str(getattr(exc, "message", exc))


def status_error(
    status: int,
    where: str,
    *,
    code: str | None = None,
    request_id: str | None = None,
    headers: Any = None,
    hints: dict[int, str] | None = None,
) -> SummarizeError | TransientFailure:
    """The one HTTP status -> error table: a typed error, or a ``TransientFailure``
    (429s, timeouts and 5xx, worth retrying). ``hints`` adds a fix to 401 (also used
    for 403) and 404 messages."""
    hints = hints or {}
    kwargs: dict[str, Any] = {"status_code": status, "request_id": request_id}
    lowered = where.lower()
    if status == 429 and (code == "insufficient_quota" or "quota" in lowered):
        return QuotaExceededError(f"{where} (check the account's billing)", **kwargs)
    if status == 429:
        return TransientFailure(RateLimitError(where, **kwargs), retry_after_seconds(headers))
    if status in (408, 409) or status >= 500:
        return TransientFailure(ServerError(where, **kwargs), retry_after_seconds(headers))
    if status in (401, 403):
        return AuthenticationError(where + hints.get(401, ""), **kwargs)
    if status == 404:
        return NotFoundError(where + hints.get(404, ""), **kwargs)
    if code == "context_length_exceeded" or "context length" in lowered:
        return ContextLengthError(
            f"{where} (the article is too long for this model; pass context_window= "
            "with the model's real window)"
        )
    return BadRequestError(where, **kwargs)
