"""What every ``summarize`` command shares: exit codes, the one error -> exit-code
map, the run arguments (their defaults from ``summarize.options``), and reading a
source named on the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from summarize import __version__

if TYPE_CHECKING:
    from summarize.source.article import Article

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_PENDING, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def fail(message: str, code: int) -> int:
    """Say ``message`` on stderr; return ``code``."""
    print(f"summarize: {message}", file=sys.stderr)
    return code


def guarded(
    action: Callable[[], int], *, interrupted: str = "interrupted", on_interrupt: int = 130
) -> int:
    """Run a command; its errors become exit codes: 2 for unusable input or
    configuration, 1 for a model or API failure, 130 (or ``on_interrupt``) on Ctrl-C."""
    from summarize.errors import ConfigurationError, InputError, SummarizeError

    try:
        return action()
    except (InputError, ConfigurationError) as exc:
        return fail(str(exc), EXIT_USAGE)
    except SummarizeError as exc:
        return fail(f"{type(exc).__name__}: {exc}", EXIT_FAILURE)
    except KeyboardInterrupt:
        return fail(interrupted, on_interrupt)


def build_parser() -> argparse.ArgumentParser:
    """The arguments of ``summarize SOURCE...`` (and of compare and batch submit)."""
    from summarize.options import default

    parser = argparse.ArgumentParser(
        prog="summarize",
        description="Summarise a news article into a neutral brief with grounded, "
        "quoted contested points.",
        epilog="Endpoint: OPENAI_API_KEY for OpenAI, or --base-url / OPENAI_BASE_URL for "
        "any OpenAI-compatible server, or --local for the bundled model (no key). "
        "SUMMARIZE_MODEL sets the default model. 'summarize compare A B' compares reports "
        "of one story; 'summarize serve-local' keeps a local server running for repeated use; "
        "'summarize models list|pull|path' manages local models.",
    )
    add = parser.add_argument
    add(
        "source",
        nargs="+",
        help="the article: a UTF-8 text file, a saved web page (.html, .htm), an http(s) URL, "
        "or - for stdin (text or HTML). Several files, a directory, a glob or a .jsonl file "
        '(one {"id": ..., "text"|"path"|"url": ...} per line) run a batch that '
        "writes JSON Lines",
    )
    add(
        "--format",
        choices=["text", "json", "markdown"],
        default="text",
        help="readable brief (default), the ArticleSummary as JSON, or Markdown to paste "
        "(citations as a numbered list with offsets)",
    )
    add(
        "--name",
        action="append",
        default=[],
        metavar="NAME=SOURCE",
        help="call SOURCE (a path or URL given here) NAME in the output (default: a file's "
        "stem, a URL's site and title); repeatable",
    )
    add(
        "--quiet",
        "-q",
        action="store_true",
        help="no live status line on the terminal (piped output never has one)",
    )
    add(
        "--verbose",
        "-v",
        action="store_true",
        help="list every note (warning) in full; by default the first 3 and a count",
    )
    add("--model", help="model name (default: $SUMMARIZE_MODEL or gpt-4o-mini)")
    add("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1")
    add("--language", help="output language, a BCP-47 tag (default: the article's)")
    add(
        "--local",
        action="store_true",
        help="run a local model through llama.cpp (the 'local' extra): the best one pulled "
        "with 'summarize models pull', else the bundled SmolLM2-135M demo model",
    )
    add(
        "--local-model",
        metavar="NAME|GGUF",
        help="like --local, with a catalogue model ('summarize models list') or a GGUF file",
    )
    add("--context-window", type=int, help="the model's context window in tokens")
    add(
        "--stream",
        action="store_true",
        default=None,
        help="stream answers and stop one that repeats itself (default: on for --local)",
    )
    timeout = default("timeout")
    add(
        "--timeout",
        type=float,
        default=timeout,
        help=f"seconds for the whole run, retries included (default {timeout:g})",
    )
    retries = default("max_retries")
    add(
        "--max-retries",
        type=int,
        default=retries,
        help=f"retries of transient API failures (default {retries})",
    )
    most = default("max_requests")
    add(
        "--max-requests",
        type=int,
        default=most,
        metavar="N",
        help=f"requests one article may need; a longer plan is refused before the first "
        f"request (default {most})",
    )
    concurrency = default("concurrency")
    add(
        "--concurrency",
        type=int,
        default=concurrency,
        help=f"requests at once: parts of a long article, or articles of a batch "
        f"(default {concurrency})",
    )
    add(
        "--allow-partial",
        action="store_true",
        help="for a long article, brief what succeeded even if a part failed for good",
    )
    add(
        "--structured-output",
        choices=["json_schema", "json_object+schema", "json_object", "text"],
        help="force one structured-output mode (default: the strongest the endpoint takes; "
        "batch jobs: json_schema)",
    )
    add(
        "--rpm",
        type=float,
        help="at most this many requests per minute (limits the server announces in "
        "x-ratelimit-* headers are followed anyway)",
    )
    add("--tpm", type=float, help="at most this many tokens per minute (prompt + max_tokens)")
    cap = default("max_input_bytes")
    add(
        "--max-input-bytes",
        type=int,
        default=cap,
        metavar="N",
        help=f"refuse files and stdin larger than this (default {cap // 1_048_576} MB)",
    )
    add(
        "--allow-private-urls",
        action="store_true",
        help="fetch URLs on this machine or a private network (refused by default: a "
        "stranger's URL must not reach them)",
    )
    add(
        "--encoding",
        help="the encoding of text files without a byte-order mark, e.g. cp1252, latin-1, "
        "shift_jis (default UTF-8; UTF-16 and UTF-32 with a BOM are read anyway)",
    )
    add(
        "--price-in",
        type=float,
        metavar="USD",
        help="USD per million prompt tokens, for the cost shown and --max-cost (built in "
        "for OpenAI's own API; any other endpoint has no price without it)",
    )
    add("--price-out", type=float, metavar="USD", help="the same per million answer tokens")
    batch = parser.add_argument_group("batches (several articles)")
    batch.add_argument(
        "--output", "-o", help="JSON Lines file to append to; re-running skips ids already in it"
    )
    batch.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    batch.add_argument(
        "--no-wait",
        action="store_true",
        help="if another run is writing the same --output, exit 2 naming its pid instead "
        "of waiting for it",
    )
    batch.add_argument(
        "--allow-outside-paths",
        action="store_true",
        help="read files a JSON Lines row or a symlink names outside the batch's folder "
        "(refused by default: a stranger's JSONL must not read your files)",
    )
    batch.add_argument(
        "--max-cost", type=float, help="USD: start no new article once this much is spent"
    )
    add("--version", action="version", version=f"summarize {__version__}")
    return parser


def summarizer_options(args: argparse.Namespace) -> dict[str, Any]:
    """The Summarizer options the command line sets."""
    return {
        "model": args.model,
        "base_url": args.base_url,
        "language": args.language,
        "context_window": args.context_window,
        "timeout": args.timeout,
        "max_retries": args.max_retries,
        "max_requests": args.max_requests,
        "allow_private_urls": args.allow_private_urls,
        "local": args.local,
        "local_model": args.local_model,
        "concurrency": args.concurrency,
        "allow_partial": args.allow_partial,
        "structured_output": args.structured_output,
        "requests_per_minute": args.rpm,
        "tokens_per_minute": args.tpm,
        "stream": args.stream,
        "max_input_bytes": args.max_input_bytes,
        "encoding": args.encoding,
        "price_in": args.price_in,
        "price_out": args.price_out,
    }


def read_source(source: str, args: argparse.Namespace) -> Article:
    """The article a command-line source names: ``-`` (stdin), a URL or a path; files
    and stdin read with ``--max-input-bytes`` and ``--encoding``."""
    from pathlib import Path

    from summarize.source.article import read_article
    from summarize.source.files import decode_text, read_capped

    cap, encoding = args.max_input_bytes, args.encoding
    if source == "-":
        data = read_capped(sys.stdin.buffer, cap, "stdin")
        return read_article(decode_text(data, name="stdin", encoding=encoding))
    if source.lower().startswith(("http://", "https://")):
        return read_article(
            source,
            timeout=min(args.timeout, 60.0),
            allow_private_urls=args.allow_private_urls,
        )
    return read_article(Path(source), max_input_bytes=cap, encoding=encoding)


def source_names(
    sources: list[str], articles: list[Article], args: argparse.Namespace
) -> list[str]:
    """The short names of command-line sources: ``--name NAME=SOURCE`` where given,
    else a file's stem or a URL's site and title; repeats suffixed."""
    from pathlib import Path

    from summarize.source.names import short_name, unique

    given = given_names(sources, args)
    names = []
    for number, (source, article) in enumerate(zip(sources, articles, strict=True), start=1):
        if source in given:
            name = given[source]
        elif source == "-":
            name = short_name(article) or "stdin"
        else:
            url = source.lower().startswith(("http://", "https://"))
            name = short_name(source if url else Path(source), article) or f"source {number}"
        names.append(name)
    return unique(names)


def given_names(sources: list[str], args: argparse.Namespace) -> dict[str, str]:
    """``--name NAME=SOURCE``: source -> name; a malformed one is an ``InputError``."""
    from summarize.errors import InputError

    given: dict[str, str] = {}
    for item in args.name:
        name, sep, source = item.partition("=")
        if not sep or not name.strip() or not source:
            raise InputError(f"--name {item!r}: write it as NAME=SOURCE, e.g. --name NTV=ntv.txt")
        if source not in sources:
            raise InputError(f"--name {item!r}: {source!r} is not one of the sources given")
        given[source] = name.strip()
    return given


def say_local_model(choice: Any) -> None:
    """One line on stderr: which local model runs, and how to get a better one."""
    if choice is None:
        return
    line = f"summarize: local model {choice.name} ({choice.path})"
    if choice.is_demo:
        line += (
            "; a demo-grade model: for real briefs run 'summarize models pull qwen2.5-1.5b' "
            "(1 GB), then --local uses it"
        )
    print(line, file=sys.stderr)
