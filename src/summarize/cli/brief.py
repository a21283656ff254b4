"""``summarize SOURCE``: one article's brief, as readable text or JSON."""

from __future__ import annotations

import argparse
import shutil
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from summarize.answer.neutrality import verdict
from summarize.cli.common import (
    EXIT_OK,
    NOTES_SHOWN,
    given_names,
    guarded,
    read_source,
    say_local_model,
    summarizer_options,
)
from summarize.cli.status import StatusLine

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


def render_text(brief: ArticleSummary, *, notes: int | None = NOTES_SHOWN) -> str:
    """The brief as readable text (the first ``notes`` notes; None: all)."""
    width = min(shutil.get_terminal_size((100, 24)).columns, 100)

    def wrap(text: str, indent: str = "  ", first: str | None = None) -> str:
        return textwrap.fill(
            text,
            width=width,
            initial_indent=first if first is not None else indent,
            subsequent_indent=indent,
        )

    out = []
    meta = brief.meta
    if meta.title or meta.url or meta.source:
        heading = meta.title or meta.source
        out += [line for line in (heading, meta.url) if line] + [""]
    summary = " ".join(s.cited() for s in brief.summary_sentences) or brief.summary
    out += ["Summary", wrap(summary), ""]
    if brief.key_points:
        out.append("Key points")
        out += [wrap(point.cited(), "    ", "  - ") for point in brief.key_points]
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
            where = f"S{ev.sentence} " if ev.sentence is not None else ""
            line = f"{where}\u201c{ev.quote}\u201d [{ev.start}:{ev.end}]"
            out.append(wrap(line, "       ", "     > "))
    out.append("")
    if meta.opinion:
        out += ["Opinion: the page is an opinion piece; its views are the author's", ""]
    if meta.checks:
        out += [wrap("Checks: " + verdict(meta.checks), "    ", ""), ""]
    if meta.warnings:
        out.append(f"Notes ({len(meta.warnings)})")
        shown = meta.warnings if notes is None else meta.warnings[:notes]
        out += [wrap(w, "    ", "  - ") for w in shown]
        if len(shown) < len(meta.warnings):
            out.append(f"  ... and {len(meta.warnings) - len(shown)} more (--verbose lists them)")
        out.append("")
    parts = ""
    if meta.chunks > 1:
        parts = f" · {meta.chunks} parts, {meta.depth} merge level(s), coverage {meta.coverage:.0%}"
    out.append(
        f"[{meta.model} · language {brief.language} · {meta.usage.prompt_tokens}+"
        f"{meta.usage.completion_tokens} tokens · {meta.usage.requests} request(s), "
        f"{meta.usage.attempts} answer(s) · {meta.structured_output} · "
        f"{meta.traceability:.0%} of statements cited{parts}]"
    )
    return "\n".join(out)
