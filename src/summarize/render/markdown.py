"""Briefs and comparisons as Markdown, to paste into documents, wikis and chats.

Every statement ends with citation markers (``[^1]``) that point into one numbered
list of the quoted sentences, each with its sentence id and character offsets. On
GitHub (and other CommonMark + footnote renderers) the markers are links and the list
is the footnotes; in a chat tool that shows Markdown without footnotes, the markers
and the list read as plain numbered references. Text from the article or the model is
escaped, so an asterisk or a pipe in a quote cannot change the layout.

``brief_markdown(brief)`` and ``comparison_markdown(comparison)``; ``notes=`` limits
how many warnings are listed (None: all of them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from summarize.answer.neutrality import verdict

if TYPE_CHECKING:
    from summarize.schema import (
        ArticleSummary,
        Comparison,
        ContestedPoint,
        Evidence,
        Meta,
        SourceQuote,
    )

# An underscore inside a word (``key_points``) is literal in CommonMark: left alone.
_SPECIAL = re.compile(r"([\\`*\[\]<>|~#]|(?<!\w)_|_(?!\w))")


def escape(text: str) -> str:
    """``text`` on one line, with Markdown's special characters backslash-escaped."""
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


class Citations:
    """The numbered list of quoted sentences a document's markers point into."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[str, int, int], int] = {}
        self._lines: list[str] = []

    def marker(self, quote: str, start: int, end: int, where: str) -> str:
        """``[^n]`` for this quote (the same quote twice gets the same number)."""
        key = (where, start, end)
        if key not in self._numbers:
            number = len(self._numbers) + 1
            self._numbers[key] = number
            self._lines.append(
                f"[^{number}]: {escape(where)} \\[{start}:{end}\\]: \u201c{escape(quote)}\u201d"
            )
        return f"[^{self._numbers[key]}]"

    def of_evidence(self, evidence: Sequence[Evidence]) -> str:
        return "".join(
            self.marker(e.quote, e.start, e.end, f"S{e.sentence}" if e.sentence else "quote")
            for e in evidence
        )

    def of_quotes(self, quotes: Sequence[SourceQuote]) -> str:
        return "".join(
            self.marker(q.quote, q.start, q.end, f"{q.source} S{q.sentence}" if q.sentence
                        else q.source)
            for q in quotes
        )  # fmt: skip

    def section(self) -> list[str]:
        if not self._lines:
            return []
        return ["", "### Cited sentences", "", *self._lines]


def brief_markdown(brief: ArticleSummary, *, notes: int | None = 3) -> str:
    """The brief as Markdown: summary, key points, contested points, notes, citations."""
    cite = Citations()
    meta = brief.meta
    title = meta.title or meta.source or "Brief"
    out = [f"## {escape(title)}", "", _byline(brief)]
    sentences = brief.summary_sentences
    summary = " ".join(f"{escape(s.text)}{cite.of_evidence(s.evidence)}" for s in sentences)
    out += ["", "### Summary", "", summary or escape(brief.summary)]
    if brief.key_points:
        out += ["", "### Key points", ""]
        out += [f"- {escape(p.text)}{cite.of_evidence(p.evidence)}" for p in brief.key_points]
    out += ["", "### Contested points", ""]
    if not brief.contested_points:
        out.append("None found.")
    for number, point in enumerate(brief.contested_points, start=1):
        out += _contested(number, point)
    out += _checks(meta)
    out += _notes(meta, notes)
    out += cite.section()
    return "\n".join(out) + "\n"


def _byline(brief: ArticleSummary) -> str:
    meta = brief.meta
    parts = []
    if meta.source and meta.title and meta.source != meta.title:
        parts.append(f"**{escape(meta.source)}**")
    if meta.url:
        parts.append(f"<{meta.url}>")
    parts.append(f"`{meta.model.replace('`', '')}`, language {brief.language}")
    if meta.chunks > 1:
        parts.append(f"{meta.chunks} parts, coverage {meta.coverage:.0%}")
    parts.append(f"{meta.traceability:.0%} of statements cited")
    return " · ".join(parts)


def _contested(number: int, point: ContestedPoint) -> list[str]:
    lines = [f"{number}. **{point.kind}**: {escape(point.claim)}"]
    who = []
    if point.asserted_by:
        who.append("asserted by " + ", ".join(escape(a) for a in point.asserted_by))
    if point.disputed_by:
        who.append("disputed by " + ", ".join(escape(d) for d in point.disputed_by))
    if who:
        lines.append(f"   - {'; '.join(who)}")
    for ev in point.evidence:
        where = f"S{ev.sentence} " if ev.sentence is not None else ""
        lines.append(f"   - \u201c{escape(ev.quote)}\u201d ({where}\\[{ev.start}:{ev.end}\\])")
    return lines


def _checks(meta: Meta) -> list[str]:
    lines = ["", "> **Opinion**: the page is an opinion piece; its views are the author's."]
    if meta.opinion == "likely":
        signals = escape("; ".join(meta.opinion_signals))
        lines = [
            "",
            f"> **Opinion** (likely, from its text): its views are the author's; {signals}.",
        ]
    lines = lines if meta.opinion else []
    return lines + (["", f"**Checks**: {verdict(meta.checks)}"] if meta.checks else [])


def _notes(meta: Meta, limit: int | None) -> list[str]:
    if not meta.warnings:
        return []
    shown = meta.warnings if limit is None else meta.warnings[:limit]
    lines = ["", f"### Notes ({len(meta.warnings)})", ""]
    lines += [f"- {escape(w)}" for w in shown]
    if len(shown) < len(meta.warnings):
        lines.append(f"- … and {len(meta.warnings) - len(shown)} more (`--verbose` lists them)")
    return lines


def comparison_markdown(comparison: Comparison, *, notes: int | None = 3) -> str:
    """A comparison as Markdown: the joint account, conflicts as a table with one
    column per source, agreements, claims only one source makes, framing."""
    cite = Citations()
    names = list(comparison.sources)
    out = [f"## {escape(' vs '.join(names))}", "", "### Joint account", ""]
    out.append(escape(comparison.summary))
    out += ["", "### Conflicts", ""]
    if comparison.conflicts:
        out.append("| topic | " + " | ".join(escape(n) for n in names) + " |")
        out.append("| --- |" + " --- |" * len(names))
        for conflict in comparison.conflicts:
            cells = dict.fromkeys(names, "")
            for version in conflict.versions:
                cells[version.source] = escape(version.claim) + cite.of_quotes(version.evidence)
            row = [escape(conflict.topic), *(cells[n] or "—" for n in names)]
            out.append("| " + " | ".join(row) + " |")
    else:
        out.append("None found.")
    out += ["", "### Agreements", ""]
    if not comparison.agreements:
        out.append("None found.")
    for agreement in comparison.agreements:
        sources = ", ".join(escape(s) for s in agreement.sources)
        out.append(f"- {escape(agreement.fact)} ({sources}){cite.of_quotes(agreement.evidence)}")
    if comparison.unique_claims:
        out += ["", "### Claims only one source makes", ""]
        for claim in comparison.unique_claims:
            out.append(
                f"- **{escape(claim.source)}**: {escape(claim.claim)}"
                f"{cite.of_quotes(claim.evidence)}"
            )
    if comparison.framing:
        out += ["", "### Framing", ""]
        for framing in comparison.framing:
            voices = ", ".join(escape(v) for v in framing.voices) or "none named"
            line = f"- **{escape(framing.source)}** quotes {voices}"
            if framing.loaded_terms:
                terms = ", ".join(
                    f"\u201c{escape(t.quote)}\u201d{cite.of_quotes([t])}"
                    for t in framing.loaded_terms
                )
                line += f"; loaded terms: {terms}"
            if framing.commentary:
                line += f"; commentary{cite.of_quotes(framing.commentary)}"
            out.append(line)
    out += _checks(comparison.meta)
    out += _notes(comparison.meta, notes)
    usage = comparison.meta.usage
    out += [
        "",
        f"`{comparison.meta.model.replace('`', '')}` · {usage.prompt_tokens:,}+"
        f"{usage.completion_tokens:,} tokens · {usage.requests} request(s)",
    ]
    out += cite.section()
    return "\n".join(out) + "\n"
