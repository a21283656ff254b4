"""The ``summarize`` command: parse arguments, call the library, print the brief.

Exit codes: 0 success, 1 model or API failure, 2 usage error or unusable input,
130 interrupted. Library modules are imported only once the arguments are parsed,
so ``summarize --help`` stays fast.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
import time
from typing import TYPE_CHECKING, Any

from summarize import __version__

if TYPE_CHECKING:
    from summarize.articles import Article
    from summarize.schema import ArticleSummary, Comparison, SourceQuote

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
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
    parser.add_argument(
        "source",
        nargs="+",
        help="the article: a UTF-8 text file, a saved web page (.html, .htm), an http(s) URL, "
        "or - for stdin (text or HTML). Several files, a directory, a glob or a .jsonl file "
        '(one {"id": ..., "text"|"path"|"url": ...} per line) run a batch that '
        "writes JSON Lines",
    )
    parser.add_argument(
        "--format",
        choices=["text", "json"],
        default="text",
        help="readable brief (default) or the ArticleSummary as JSON",
    )
    parser.add_argument("--model", help="model name (default: $SUMMARIZE_MODEL or gpt-4o-mini)")
    parser.add_argument(
        "--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1"
    )
    parser.add_argument("--language", help="output language, a BCP-47 tag (default: the article's)")
    parser.add_argument(
        "--local",
        action="store_true",
        help="run a local model through llama.cpp (the 'local' extra): the best one pulled "
        "with 'summarize models pull', else the bundled SmolLM2-135M demo model",
    )
    parser.add_argument(
        "--local-model",
        metavar="NAME|GGUF",
        help="like --local, with a catalogue model ('summarize models list') or a GGUF file",
    )
    parser.add_argument("--context-window", type=int, help="the model's context window in tokens")
    parser.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="seconds for the whole run, retries included (default 600)",
    )
    parser.add_argument(
        "--max-retries", type=int, default=3, help="retries of transient API failures (default 3)"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="parts of a long article briefed at once (default 8)",
    )
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="for a long article, brief what succeeded even if a part failed for good",
    )
    parser.add_argument(
        "--structured-output",
        choices=["json_schema", "json_object+schema", "json_object", "text"],
        help="force one structured-output mode (default: the strongest the endpoint takes; "
        "batch jobs: json_schema)",
    )
    parser.add_argument(
        "--rpm",
        type=float,
        help="at most this many requests per minute (limits the server announces in "
        "x-ratelimit-* headers are followed anyway)",
    )
    parser.add_argument(
        "--tpm", type=float, help="at most this many tokens per minute (prompt + max_tokens)"
    )
    batch = parser.add_argument_group("batches (several articles)")
    batch.add_argument(
        "--output", "-o", help="JSON Lines file to append to; re-running skips ids already in it"
    )
    batch.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    batch.add_argument(
        "--max-cost", type=float, help="USD: start no new article once this much is spent"
    )
    parser.add_argument("--version", action="version", version=f"summarize {__version__}")
    return parser


def render_text(brief: ArticleSummary) -> str:
    """The brief as readable text."""
    width = min(shutil.get_terminal_size((100, 24)).columns, 100)

    def wrap(text: str, indent: str = "  ", first: str | None = None) -> str:
        return textwrap.fill(
            text,
            width=width,
            initial_indent=first if first is not None else indent,
            subsequent_indent=indent,
        )

    out = []
    if brief.meta.title or brief.meta.url:
        out += [line for line in (brief.meta.title, brief.meta.url) if line] + [""]
    out += ["Summary", wrap(brief.summary), ""]
    if brief.key_points:
        out.append("Key points")
        out += [wrap(point, "    ", "  - ") for point in brief.key_points]
        out.append("")
    out.append("Contested points" if brief.contested_points else "Contested points: none")
    for n, point in enumerate(brief.contested_points, start=1):
        out.append(wrap(f"{n}. [{point.kind}] {point.claim}", "     ", "  "))
        who = []
        if point.asserted_by:
            who.append("asserted by " + ", ".join(point.asserted_by))
        if point.disputed_by:
            who.append("disputed by " + ", ".join(point.disputed_by))
        if who:
            out.append(wrap("; ".join(who), "     "))
        for ev in point.evidence:
            out.append(wrap(f"\u201c{ev.quote}\u201d [{ev.start}:{ev.end}]", "       ", "     > "))
    out.append("")
    meta = brief.meta
    if meta.warnings:
        out.append(f"Notes ({len(meta.warnings)})")
        out += [wrap(w, "    ", "  - ") for w in meta.warnings]
        out.append("")
    parts = ""
    if meta.chunks > 1:
        parts = f" · {meta.chunks} parts, {meta.depth} merge level(s), coverage {meta.coverage:.0%}"
    out.append(
        f"[{meta.model} · language {brief.language} · {meta.usage.prompt_tokens}+"
        f"{meta.usage.completion_tokens} tokens · {meta.usage.requests} request(s), "
        f"{meta.usage.attempts} answer(s) · {meta.structured_output}{parts}]"
    )
    return "\n".join(out)


def _fail(message: str, code: int) -> int:
    print(f"summarize: {message}", file=sys.stderr)
    return code


def _say_local_model(choice: Any) -> None:
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


def models_command(argv: list[str]) -> int:
    """``summarize models list|pull|path``: the local model catalogue."""
    parser = argparse.ArgumentParser(
        prog="summarize models",
        description="Local models by name. 'pull' downloads from Hugging Face into its cache "
        "(HF_HOME and HF_ENDPOINT are honoured); --local then uses the best "
        "pulled model.",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="the catalogue, and what is pulled")
    pull = sub.add_parser("pull", help="download a model")
    pull.add_argument("name")
    pull.add_argument("--quiet", action="store_true", help="no progress bar")
    path = sub.add_parser("path", help="print a pulled model's file")
    path.add_argument("name")
    args = parser.parse_args(argv)

    from summarize import models
    from summarize.errors import SummarizeError

    try:
        if args.action == "list":
            rows = models.list_rows()
            for row in rows:
                print(
                    f"{row['name']:<14} {row['size']:>8}  RAM {row['ram']:<8} "
                    f"{row['licence']:<30} {row['note']}\n{'':<14} {row['status']}"
                )
            return EXIT_OK
        if args.action == "pull":
            print(models.pull(args.name, quiet=args.quiet))
            return EXIT_OK
        print(models.resolve_model(args.name).path)
        return EXIT_OK
    except SummarizeError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail("interrupted; run the same pull again", EXIT_INTERRUPTED)


def serve_local(argv: list[str]) -> int:
    """``summarize serve-local``: keep one local server running until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="summarize serve-local",
        description="Run llama.cpp's OpenAI-compatible server with the bundled (or a given) "
        "GGUF model, so repeated summarize calls pay the start-up once.",
    )
    parser.add_argument(
        "--local-model",
        metavar="NAME|GGUF",
        help="a catalogue model or a GGUF file (default: the best pulled, else SmolLM2-135M)",
    )
    parser.add_argument("--port", type=int, help="default: a free port")
    parser.add_argument("--context-window", type=int, default=8192, help="tokens per slot")
    parser.add_argument(
        "--slots", type=int, default=4, help="requests answered at once (default 4)"
    )
    args = parser.parse_args(argv)

    from summarize.errors import LocalModelError, SummarizeError
    from summarize.local import LocalServer

    try:
        server = LocalServer(
            args.local_model, context_window=args.context_window, slots=args.slots,
            port=args.port,
        )  # fmt: skip
        _say_local_model(server.choice)
        with server:
            print(
                f"serving model {server.model!r} at {server.base_url} "
                f"(started in {server.startup_seconds:.1f} s); use:\n"
                f"  summarize --base-url {server.base_url} --model {server.model} "
                f"--context-window {args.context_window} ARTICLE\nCtrl-C stops it.",
                flush=True,
            )
            while server.running:
                time.sleep(0.5)
            server.check()  # says how the engine died
    except LocalModelError as exc:
        return _fail(str(exc), EXIT_FAILURE)
    except SummarizeError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail("stopped the local server", EXIT_OK)
    return _fail("the local server exited", EXIT_FAILURE)


def render_comparison(comparison: Comparison) -> str:
    """A comparison as readable text."""
    width = min(shutil.get_terminal_size((100, 24)).columns, 100)

    def wrap(text: str, first: str = "  ", rest: str = "    ") -> str:
        return textwrap.fill(text, width=width, initial_indent=first, subsequent_indent=rest)

    def quotes(items: list[SourceQuote], indent: str = "    ") -> list[str]:
        return [
            wrap(f"\u201c{q.quote}\u201d ({q.source} [{q.start}:{q.end}])", indent + "> ", indent)
            for q in items
        ]

    out = [
        "Sources: " + ", ".join(comparison.sources),
        "",
        "Summary",
        wrap(comparison.summary, "  ", "  "),
    ]
    out += ["", "Conflicts" if comparison.conflicts else "Conflicts: none found"]
    for n, conflict in enumerate(comparison.conflicts, start=1):
        out.append(wrap(f"{n}. {conflict.topic}"))
        for version in conflict.versions:
            out.append(wrap(f"{version.source}: {version.claim}", "     ", "       "))
            out += quotes(version.evidence, "       ")
    out += ["", "Agreements" if comparison.agreements else "Agreements: none found"]
    for agreement in comparison.agreements:
        out.append(wrap(f"- {agreement.fact} ({', '.join(agreement.sources)})"))
        out += quotes(agreement.evidence)
    if comparison.unique_claims:
        out += ["", "Claims only one source makes"]
        for claim in comparison.unique_claims:
            out.append(wrap(f"- {claim.source}: {claim.claim}"))
            out += quotes(claim.evidence)
    if comparison.framing:
        out += ["", "Framing"]
        for framing in comparison.framing:
            voices = ", ".join(framing.voices) or "none named"
            out.append(wrap(f"- {framing.source}: quotes {voices}"))
            out += quotes([*framing.loaded_terms, *framing.commentary])
    if comparison.meta.warnings:
        out += ["", f"Notes ({len(comparison.meta.warnings)})"]
        out += [wrap(w, "  - ", "    ") for w in comparison.meta.warnings]
    usage = comparison.meta.usage
    out += ["", f"[{comparison.meta.model} · {usage.prompt_tokens}+{usage.completion_tokens} "
            f"tokens · {usage.requests} request(s)]"]  # fmt: skip
    return "\n".join(out)


def _read_source(source: str, timeout: float) -> Article:
    from pathlib import Path

    from summarize.articles import read_article
    from summarize.inputs import decode_text

    if source == "-":
        return read_article(decode_text(sys.stdin.buffer.read(), name="stdin"))
    if source.lower().startswith(("http://", "https://")):
        return read_article(source, timeout=min(timeout, 60.0))
    return read_article(Path(source))


def compare_command(argv: list[str]) -> int:
    """``summarize compare A B [C ...]``: agreements, conflicts and framing across sources."""
    parser = build_parser()
    parser.prog = "summarize compare"
    parser.description = (
        "Compare two or more reports of one story: a neutral joint account, agreements, "
        "conflicts with each source's quotes, claims only one source makes, and framing."
    )
    for action in parser._actions:
        if action.dest == "source":
            action.help = "two or more articles: files, saved pages or URLs (- for stdin once)"
    args = parser.parse_args(argv)
    if len(args.source) < 2:
        return _fail("compare needs two or more articles", EXIT_USAGE)

    from summarize.errors import ConfigurationError, InputError, SummarizeError

    try:
        articles = [(name, _read_source(name, args.timeout)) for name in args.source]
        from summarize.comparing import compare

        comparison = compare(
            [(name, article.text) for name, article in articles], **summarizer_options(args)
        )
    except (InputError, ConfigurationError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except SummarizeError as exc:
        return _fail(f"{type(exc).__name__}: {exc}", EXIT_FAILURE)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    if args.format == "json":
        print(comparison.model_dump_json(indent=2))
    else:
        print(render_comparison(comparison))
    return EXIT_OK


def summarizer_options(args: argparse.Namespace) -> dict[str, Any]:
    """The Summarizer options the command line sets."""
    return {
        "model": args.model,
        "base_url": args.base_url,
        "language": args.language,
        "context_window": args.context_window,
        "timeout": args.timeout,
        "max_retries": args.max_retries,
        "local": args.local,
        "local_model": args.local_model,
        "concurrency": args.concurrency,
        "allow_partial": args.allow_partial,
        "structured_output": args.structured_output,
        "requests_per_minute": args.rpm,
        "tokens_per_minute": args.tpm,
    }


def _is_batch(sources: list[str], output: str | None) -> bool:
    """More than one article, a directory, a glob, a .jsonl file, or --output."""
    import os

    if len(sources) > 1 or output:
        return True
    only = sources[0]
    return only.endswith(".jsonl") or os.path.isdir(only) or any(c in only for c in "*?[")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve-local"]:
        return serve_local(argv[1:])
    if argv[:1] == ["compare"]:
        return compare_command(argv[1:])
    if argv[:1] == ["models"]:
        return models_command(argv[1:])
    if argv[:1] == ["batch"]:
        from summarize.batchcli import batch_command

        return batch_command(argv[1:])
    args = build_parser().parse_args(argv)
    if _is_batch(args.source, args.output):
        from summarize.batchcli import run_batch

        return run_batch(args)
    args.source = args.source[0]

    from summarize.errors import ConfigurationError, InputError, SummarizeError

    try:
        article = _read_source(args.source, args.timeout)

        from summarize.pipeline import Summarizer

        with Summarizer(**summarizer_options(args)) as summarizer:
            _say_local_model(summarizer.local_model_choice)
            brief = summarizer(article)
    except (InputError, ConfigurationError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except SummarizeError as exc:
        return _fail(f"{type(exc).__name__}: {exc}", EXIT_FAILURE)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)

    if args.format == "json":
        print(brief.model_dump_json(indent=2))
    else:
        print(render_text(brief))
    return EXIT_OK
