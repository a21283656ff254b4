"""``summarize SOURCE``: one article's brief, as readable text or JSON."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from summarize.cli.common import (
    EXIT_OK,
    given_names,
    guarded,
    read_source,
    say_local_model,
    summarizer_options,
)
from summarize.cli.status import StatusLine
from summarize.render.text import NOTES_SHOWN, render_text

if TYPE_CHECKING:
    from summarize.schema import ArticleSummary


def run_brief(args: argparse.Namespace) -> int:
    """Brief the one article ``args.source`` names; print it."""

    def action() -> int:
        from summarize.pipeline.summarizer import Summarizer
        from summarize.source.names import short_name

        source = args.source
        name = given_names([source], args).get(source)
        if source == "-":  # read here: stdin is read once, with --max-input-bytes
            target: Any = read_source(source, args)
            name = name or short_name(target) or "stdin"
        else:  # read by the Summarizer, so the status line shows it
            url = source.lower().startswith(("http://", "https://"))
            target = source if url else Path(source)
        with StatusLine(quiet=args.quiet) as status, Summarizer(
            **summarizer_options(args), on_progress=status
        ) as summarizer:  # fmt: skip
            say_local_model(summarizer.local_model_choice)
            brief = summarizer(target, name=name)
        print(render(brief, args.format, verbose=args.verbose))
        return EXIT_OK

    return guarded(action)


def render(brief: ArticleSummary, form: str, *, verbose: bool = False) -> str:
    """The brief in the ``--format`` asked for."""
    if form == "json":
        return brief.model_dump_json(indent=2)
    notes = None if verbose else NOTES_SHOWN
    if form == "markdown":
        from summarize.render.markdown import brief_markdown

        return brief_markdown(brief, notes=notes).rstrip("\n")
    return render_text(brief, notes=notes)
