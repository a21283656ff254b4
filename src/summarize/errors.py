"""Every error that summarize raises, under one base class.

No exception from openai, httpx2, pydantic or tenacity reaches the caller: each is
mapped to one of these, with the original kept as ``__cause__``::

    SummarizeError                 base: .attempts, .usage, .raw_output
    ├── InputError                 the article is unusable (empty, binary, not UTF-8,
    │                              unreadable path); raised before any request
    ├── ConfigurationError         no endpoint or key, an invalid option,
    │                              token encodings unavailable
    ├── ContextLengthError         article + prompt + output reserve exceed the
    │                              context window
    ├── DeadlineExceededError      the overall ``timeout=`` ran out (retries included)
    ├── LocalModelError            the local engine crashed, exited or never answered:
    │                              .returncode, .model_path, .log_tail
    ├── APIError                   the endpoint failed: .status_code, .request_id
    │   ├── AuthenticationError    401 / 403: key missing, wrong or not allowed
    │   ├── NotFoundError          404: unknown model or wrong base URL
    │   ├── BadRequestError        400 / 422 the library cannot work around
    │   ├── QuotaExceededError     429 ``insufficient_quota``: billing, not pacing
    │   ├── RateLimitError         429 until the deadline (429s are retried as long as
    │   │   │                      it allows, not counted against max_retries)
    │   │   └── RateLimitTimeoutError  ... and also a DeadlineExceededError
    │   ├── ServerError            5xx still after every retry
    │   └── APIConnectionError     network error or request timeout after every retry
    └── ModelOutputError           the model answered, but not usably
        ├── RefusalError           the model refused
        ├── ContentFilterError     the provider's content filter stopped the answer
        ├── OutputTruncatedError   the answer hit the output limit on every attempt
        └── ValidationFailedError  invalid JSON or schema on every attempt: .errors

Transient failures (connection errors, timeouts, 408, 409, 5xx; 429 until the
deadline) are retried before any of these is raised; see ``summarize.model.retrying``.
Messages never contain the API key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from summarize.schema import Usage

__all__ = [
    "APIConnectionError",
    "APIError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ContentFilterError",
    "ContextLengthError",
    "DeadlineExceededError",
    "InputError",
    "LocalModelError",
    "ModelOutputError",
    "NotFoundError",
    "OutputTruncatedError",
    "QuotaExceededError",
    "RateLimitError",
    "RateLimitTimeoutError",
    "RefusalError",
    "ServerError",
    "SummarizeError",
    "ValidationFailedError",
]


class SummarizeError(Exception):
    """Base of every summarize error.

    ``attempts`` is the number of model answers obtained, ``usage`` the tokens and
    requests spent before the failure, ``raw_output`` the model's last raw answer.
    """

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 0,
        usage: Usage | None = None,
        raw_output: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.attempts = attempts
        self.usage = usage
        self.raw_output = raw_output

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, attempts={self.attempts})"


class InputError(SummarizeError, ValueError):
    """The article cannot be used; nothing was sent."""


class ConfigurationError(SummarizeError):
    """The configuration is incomplete or invalid; nothing was sent."""


class ContextLengthError(SummarizeError):
    """The article does not fit the model's context window."""


class DeadlineExceededError(SummarizeError, TimeoutError):
    """The overall deadline (``timeout=``) ran out, retries included."""


class LocalModelError(SummarizeError):
    """The local engine (llama.cpp, a child process) died or never answered.

    ``returncode`` is the child's exit status (negative: the signal that killed it),
    ``model_path`` the GGUF file it ran, ``log_tail`` the end of its log.
    """

    def __init__(
        self,
        message: str,
        *,
        model_path: str | None = None,
        returncode: int | None = None,
        log_tail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.model_path = model_path
        self.returncode = returncode
        self.log_tail = log_tail


class APIError(SummarizeError):
    """The endpoint answered with an error, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        attempts: int = 0,
        usage: Usage | None = None,
        raw_output: str | None = None,
    ) -> None:
        super().__init__(message, attempts=attempts, usage=usage, raw_output=raw_output)
        self.status_code = status_code
        self.request_id = request_id


class AuthenticationError(APIError):
    """401 or 403: the key is missing, wrong, or lacks access to the model."""


class NotFoundError(APIError):
    """404: the model or the endpoint does not exist."""


class BadRequestError(APIError):
    """400 or 422 that no fallback could work around."""


class QuotaExceededError(APIError):
    """429 ``insufficient_quota``: the account is out of credit; retrying cannot help."""


class RateLimitError(APIError):
    """429 until the deadline: rate-limit answers are retried for as long as it allows."""


class RateLimitTimeoutError(RateLimitError, DeadlineExceededError):
    """Still rate-limited when waiting again would pass the overall deadline: both a
    ``RateLimitError`` and a ``DeadlineExceededError``."""


class ServerError(APIError):
    """5xx on every attempt."""


class APIConnectionError(APIError):
    """Connection failure or request timeout on every attempt."""


class ModelOutputError(SummarizeError):
    """The model answered, but the answer cannot be used."""


class RefusalError(ModelOutputError):
    """The model refused to answer."""


class ContentFilterError(ModelOutputError):
    """The provider's content filter stopped the answer."""


class OutputTruncatedError(ModelOutputError):
    """The answer hit the output token limit on every attempt."""


class ValidationFailedError(ModelOutputError):
    """The answer was not valid JSON for the schema on any attempt.

    ``errors`` lists the problems found in the last answer.
    """

    def __init__(
        self,
        message: str,
        *,
        errors: list[str],
        attempts: int = 0,
        usage: Usage | None = None,
        raw_output: str | None = None,
    ) -> None:
        super().__init__(message, attempts=attempts, usage=usage, raw_output=raw_output)
        self.errors = errors
