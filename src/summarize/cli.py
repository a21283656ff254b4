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
from typing import TYPE_CHECKING

from summarize import __version__

if TYPE_CHECKING:
    from summarize.schema import ArticleSummary

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="summarize",
        description="Summarise a news article into a neutral brief with grounded, "
        "quoted contested points.",
        epilog="Endpoint: OPENAI_API_KEY for OpenAI, or --base-url / OPENAI_BASE_URL for "
        "any OpenAI-compatible server, or --local for the bundled model (no key). "
        "SUMMARIZE_MODEL sets the default model. 'summarize serve-local' keeps a local "
        "server running for repeated use.",
    )
    parser.add_argument("path", help="UTF-8 text file with the article, or - for stdin")
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
        help="run the bundled SmolLM2-135M model through llama.cpp (needs the 'local' extra)",
    )
    parser.add_argument("--local-model", metavar="GGUF", help="like --local, with any GGUF file")
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

    out = ["Summary", wrap(brief.summary), ""]
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
    out.append(
        f"[{meta.model} · language {brief.language} · {meta.usage.prompt_tokens}+"
        f"{meta.usage.completion_tokens} tokens · {meta.usage.requests} request(s), "
        f"{meta.usage.attempts} answer(s) · {meta.structured_output}]"
    )
    return "\n".join(out)


def _fail(message: str, code: int) -> int:
    print(f"summarize: {message}", file=sys.stderr)
    return code


def serve_local(argv: list[str]) -> int:
    """``summarize serve-local``: keep one local server running until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="summarize serve-local",
        description="Run llama.cpp's OpenAI-compatible server with the bundled (or a given) "
        "GGUF model, so repeated summarize calls pay the start-up once.",
    )
    parser.add_argument("--local-model", metavar="GGUF", help="default: bundled SmolLM2-135M")
    parser.add_argument("--port", type=int, help="default: a free port")
    parser.add_argument("--context-window", type=int, default=8192)
    args = parser.parse_args(argv)

    from summarize.errors import SummarizeError
    from summarize.local import LocalServer

    server = LocalServer(args.local_model, context_window=args.context_window, port=args.port)
    try:
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
    except SummarizeError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return _fail("stopped the local server", EXIT_OK)
    return _fail("the local server exited", EXIT_FAILURE)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve-local"]:
        return serve_local(argv[1:])
    args = build_parser().parse_args(argv)

    from summarize.errors import ConfigurationError, InputError, SummarizeError
    from summarize.inputs import decode_text, read_text_file

    try:
        if args.path == "-":
            text = decode_text(sys.stdin.buffer.read(), name="stdin")
        else:
            text = read_text_file(args.path)

        from summarize.pipeline import Summarizer

        with Summarizer(
            model=args.model,
            base_url=args.base_url,
            language=args.language,
            context_window=args.context_window,
            timeout=args.timeout,
            max_retries=args.max_retries,
            local=args.local,
            local_model=args.local_model,
        ) as summarizer:
            brief = summarizer(text)
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
