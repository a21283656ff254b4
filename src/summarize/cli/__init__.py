"""The ``summarize`` command: parse arguments, call the library, print the result.

Exit codes: 0 success, 1 model or API failure, 2 usage error or unusable input,
3 (batch collect) more to come, 130 interrupted. Library modules are imported only
once the arguments are parsed, so ``summarize --help`` stays fast.

Modules: ``common`` (exit codes, the error map, shared arguments), ``brief`` (one
article), ``many`` (several: JSON Lines), ``compare``, ``batchapi`` (the Batch API),
``models`` (local models and serve-local), ``status`` (the live status line), ``scale``
(``summarize many --engine ray|spark``).

The top layer: may import every other one. Logic lives in the library; the commands
parse, call and print.
"""

from __future__ import annotations

import os
import sys

from summarize.cli.common import build_parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command, rest = argv[:1], argv[1:]
    if command == ["serve-local"]:
        from summarize.cli.models import serve_local

        return serve_local(rest)
    if command == ["compare"]:
        from summarize.cli.compare import compare_command

        return compare_command(rest)
    if command == ["models"]:
        from summarize.cli.models import models_command

        return models_command(rest)
    if command == ["batch"]:
        from summarize.cli.batchapi import batch_command

        return batch_command(rest)
    if command == ["many"]:
        from summarize.cli.scale import many_command

        return many_command(rest)
    args = build_parser().parse_args(argv)
    if is_batch(args.source, args.output):
        from summarize.cli.many import run_batch

        return run_batch(args)
    from summarize.cli.brief import run_brief

    args.source = args.source[0]
    return run_brief(args)


def is_batch(sources: list[str], output: str | None) -> bool:
    """More than one article, a directory, a glob, a .jsonl file, or --output."""
    if len(sources) > 1 or output:
        return True
    only = sources[0]
    if only.lower().startswith(("http://", "https://")):
        return False  # a URL is a URL: "?", "*" and "[" in it are never a glob
    return only.endswith(".jsonl") or os.path.isdir(only) or any(c in only for c in "*?[")
