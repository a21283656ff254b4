"""``summarize models list|pull|path`` and ``summarize serve-local``: local models."""

from __future__ import annotations

import argparse
import time

from summarize.cli.common import EXIT_FAILURE, EXIT_OK, fail, guarded, say_local_model


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

    def action() -> int:
        from summarize.model.local import catalogue

        if args.action == "list":
            for row in catalogue.list_rows():
                print(
                    f"{row['name']:<14} {row['size']:>8}  RAM {row['ram']:<8} "
                    f"{row['licence']:<30} {row['note']}\n{'':<14} {row['status']}"
                )
        elif args.action == "pull":
            print(catalogue.pull(args.name, quiet=args.quiet))
        else:
            print(catalogue.resolve_model(args.name).path)
        return EXIT_OK

    return guarded(action, interrupted="interrupted; run the same pull again")


def _serve_parser() -> argparse.ArgumentParser:
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
    from summarize.model.local.server import DEFAULT_CONTEXT, MAX_SLOTS

    parser.add_argument(
        "--context-window", type=int, default=DEFAULT_CONTEXT, help="tokens per slot"
    )
    parser.add_argument(
        "--slots",
        type=int,
        default=MAX_SLOTS,
        help=f"requests answered at once (default and most: {MAX_SLOTS})",
    )
    parser.add_argument(
        "--api-key",
        help="the key requests must carry (default: $SUMMARIZE_LOCAL_KEY, else a new one, "
        "printed once)",
    )
    parser.add_argument(
        "--no-key",
        action="store_true",
        help="answer any local program without a key (any process on this machine can "
        "then use the model)",
    )
    return parser


def serve_local(argv: list[str]) -> int:
    """``summarize serve-local``: keep one local server running until Ctrl-C."""
    parser = _serve_parser()
    args = parser.parse_args(argv)

    def action() -> int:
        import os
        import secrets

        from summarize.model.local.server import LocalServer

        key = None if args.no_key else (
            args.api_key or os.environ.get("SUMMARIZE_LOCAL_KEY") or secrets.token_urlsafe(24)
        )  # fmt: skip
        server = LocalServer(
            args.local_model, context_window=args.context_window, slots=args.slots,
            port=args.port, api_key=key,
        )  # fmt: skip
        say_local_model(server.choice)
        with server:
            with_key = f"OPENAI_API_KEY={key} " if key else ""
            print(
                f"serving model {server.model!r} at {server.base_url} "
                f"(started in {server.startup_seconds:.1f} s); use:\n"
                f"  {with_key}summarize --base-url {server.base_url} --model {server.model} "
                f"--context-window {args.context_window} ARTICLE\nCtrl-C stops it.",
                flush=True,
            )
            while server.running:
                time.sleep(0.5)
            server.check()  # says how the engine died
        return fail("the local server exited", EXIT_FAILURE)

    return guarded(action, interrupted="stopped the local server", on_interrupt=EXIT_OK)
