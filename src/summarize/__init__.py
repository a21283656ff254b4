"""summarize: turn a news article into a neutral, grounded brief.

    from summarize import summarize
    brief = summarize(text, model="gpt-4o-mini")

Names are imported on first use, so ``import summarize`` (and ``summarize --help``)
stays fast and loads neither openai nor pydantic.

One folder per layer, lowest first; a module imports only its own layer or those below
(``tests/test_layout.py``):

- core, the top-level modules: ``errors``, ``schema``, ``clock``, ``sync``, ``progress``;
- ``model/``: talking to a model (the SDK client, retries, rate limits, the local engine);
- ``options``: every option, defined once;
- ``text/``: sentences, quotes, cuts and tokens;
- ``source/``: reading an article from a text, file, page or URL;
- ``request/``: the prompts and the drafts the model fills;
- ``answer/``: checking an answer: repairs, citations, neutrality;
- ``pipeline/``: the route an article takes, from ``Summarizer`` to the brief;
- ``many/``: many articles, the cache and the Batch API;
- ``render/``: briefs as text and Markdown;
- ``cli/``: the ``summarize`` command.
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
    "Article": "summarize.source.article",
    "ArticleSummary": "summarize.schema",
    "BatchResult": "summarize.many.live",
    "Comparison": "summarize.schema",
    "ContestedPoint": "summarize.schema",
    "Evidence": "summarize.schema",
    "Meta": "summarize.schema",
    "ProgressEvent": "summarize.progress",
    "RateLimiter": "summarize.model.ratelimit",
    "SummarizeError": "summarize.errors",
    "Summarizer": "summarize.pipeline.summarizer",
    "Usage": "summarize.schema",
    "acompare": "summarize.pipeline.compare",
    "asummarize": "summarize.pipeline.summarizer",
    "asummarize_many": "summarize.many.live",
    "collect_batch": "summarize.many.batchapi",
    "compare": "summarize.pipeline.compare",
    "read_article": "summarize.source.article",
    "summarize": "summarize.pipeline.summarizer",
    "submit_batch": "summarize.many.batchapi",
    "summarize_many": "summarize.many.live",
}

if _typing.TYPE_CHECKING:
    from summarize.errors import SummarizeError
    from summarize.many.batchapi import collect_batch, submit_batch
    from summarize.many.live import BatchResult, asummarize_many, summarize_many
    from summarize.model.ratelimit import RateLimiter
    from summarize.pipeline.compare import acompare, compare
    from summarize.pipeline.summarizer import Summarizer, asummarize, summarize
    from summarize.progress import ProgressEvent
    from summarize.schema import (
        ArticleSummary,
        Comparison,
        ContestedPoint,
        Evidence,
        Meta,
        Usage,
    )
    from summarize.source.article import Article, read_article


def __getattr__(name: str) -> object:
    if name in _WHERE:
        value = getattr(_importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'summarize' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
