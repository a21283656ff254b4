"""summarize: turn a news article into a neutral, grounded brief.

    from summarize import summarize
    brief = summarize(text, model="gpt-4o-mini")

Names are imported on first use, so ``import summarize`` (and ``summarize --help``)
stays fast and loads neither openai nor pydantic.
"""

import importlib as _importlib
import typing as _typing

__version__ = "0.1.0"

__all__ = [
    "Article",
    "ArticleSummary",
    "BatchResult",
    "Comparison",
    "ContestedPoint",
    "Evidence",
    "Meta",
    "ProgressEvent",
    "RateLimiter",
    "SummarizeError",
    "Summarizer",
    "Usage",
    "acompare",
    "asummarize",
    "asummarize_many",
    "collect_batch",
    "compare",
    "read_article",
    "submit_batch",
    "summarize",
    "summarize_many",
]

_WHERE = {
    "Article": "summarize.articles",
    "ArticleSummary": "summarize.schema",
    "BatchResult": "summarize.batch",
    "Comparison": "summarize.schema",
    "ContestedPoint": "summarize.schema",
    "Evidence": "summarize.schema",
    "Meta": "summarize.schema",
    "ProgressEvent": "summarize.progress",
    "RateLimiter": "summarize.ratelimit",
    "SummarizeError": "summarize.errors",
    "Summarizer": "summarize.pipeline",
    "Usage": "summarize.schema",
    "acompare": "summarize.comparing",
    "asummarize": "summarize.pipeline",
    "asummarize_many": "summarize.batch",
    "collect_batch": "summarize.batchapi",
    "compare": "summarize.comparing",
    "read_article": "summarize.articles",
    "summarize": "summarize.pipeline",
    "submit_batch": "summarize.batchapi",
    "summarize_many": "summarize.batch",
}

if _typing.TYPE_CHECKING:
    from summarize.articles import Article, read_article
    from summarize.batch import BatchResult, asummarize_many, summarize_many
    from summarize.batchapi import collect_batch, submit_batch
    from summarize.comparing import acompare, compare
    from summarize.errors import SummarizeError
    from summarize.pipeline import Summarizer, asummarize, summarize
    from summarize.progress import ProgressEvent
    from summarize.ratelimit import RateLimiter
    from summarize.schema import (
        ArticleSummary,
        Comparison,
        ContestedPoint,
        Evidence,
        Meta,
        Usage,
    )


def __getattr__(name: str) -> object:
    if name in _WHERE:
        value = getattr(_importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'summarize' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
