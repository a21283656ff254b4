"""Briefs and comparisons as readable text: the CLI's default output.

``render_text`` wraps the summary and points to the terminal's width (at most 100
columns), shows each citation's quote and offsets, the checks and the first notes;
``render_comparison`` does the same for a comparison. Markdown is ``render.markdown``.
"""

from __future__ import annotations

import shutil
import textwrap
from typing import TYPE_CHECKING

from summarize.answer.neutrality import verdict

if TYPE_CHECKING:
    from collections.abc import Callable

    from summarize.schema import ArticleSummary, Comparison, Meta, SourceQuote

NOTES_SHOWN = 3  # notes (warnings) listed without --verbose


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
    out += _opinion(meta, wrap)
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


def render_comparison(comparison: Comparison, *, notes: int | None = NOTES_SHOWN) -> str:
    """A comparison as readable text (the first ``notes`` notes; None: all)."""
    width = min(shutil.get_terminal_size((100, 24)).columns, 100)

    def wrap(text: str, first: str = "  ", rest: str = "    ") -> str:
        return textwrap.fill(text, width=width, initial_indent=first, subsequent_indent=rest)

    def quotes(items: list[SourceQuote], indent: str = "    ") -> list[str]:
        return [wrap(f"\u201c{q.quote}\u201d ({_where(q)})", indent + "> ", indent) for q in items]

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
    if comparison.meta.checks:
        out += ["", wrap("Checks: " + verdict(comparison.meta.checks), "", "    ")]
    warnings = comparison.meta.warnings
    if warnings:
        out += ["", f"Notes ({len(warnings)})"]
        shown = warnings if notes is None else warnings[:notes]
        out += [wrap(w, "  - ", "    ") for w in shown]
        if len(shown) < len(warnings):
            out.append(f"  ... and {len(warnings) - len(shown)} more (--verbose lists them)")
    usage = comparison.meta.usage
    out += ["", f"[{comparison.meta.model} · {usage.prompt_tokens}+{usage.completion_tokens} "
            f"tokens · {usage.requests} request(s)]"]  # fmt: skip
    return "\n".join(out)


def _where(quote: SourceQuote) -> str:
    """``NTV S12 [1938:2064]``: the source, the sentence cited and the offsets."""
    sentence = f" S{quote.sentence}" if quote.sentence is not None else ""
    return f"{quote.source}{sentence} [{quote.start}:{quote.end}]"


def _opinion(meta: Meta, wrap: Callable[..., str]) -> list[str]:
    """The line that says the article is opinion, and how that is known."""
    if meta.opinion == "likely":
        signs = "; ".join(meta.opinion_signals)
        line = f"Opinion (likely, from its text): its views are the author's; {signs}"
        return [wrap(line, "    ", ""), ""]
    if meta.opinion:
        return ["Opinion: the page is an opinion piece; its views are the author's", ""]
    return []
