"""``summarize compare A B [C ...]``: agreements, conflicts and framing across sources."""

from __future__ import annotations

import shutil
import textwrap
from typing import TYPE_CHECKING

from summarize.answer.neutrality import verdict
from summarize.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    NOTES_SHOWN,
    build_parser,
    fail,
    guarded,
    read_source,
    source_names,
    summarizer_options,
)
from summarize.cli.status import StatusLine

if TYPE_CHECKING:
    from summarize.schema import Comparison, SourceQuote


def compare_command(argv: list[str]) -> int:
    """Compare the sources on the command line; print the comparison."""
    parser = build_parser()
    parser.prog = "summarize compare"
    parser.description = (
        "Compare two or more reports of one story: a neutral joint account, agreements, "
        "conflicts with each source's quotes, claims only one source makes, and framing."
    )
    for argument in parser._actions:  # argparse has no public way to re-word a positional
        if argument.dest == "source":
            argument.help = "two or more articles: files, saved pages or URLs (- for stdin once)"
    args = parser.parse_args(argv)
    if len(args.source) < 2:
        return fail("compare needs two or more articles", EXIT_USAGE)

    def action() -> int:
        from summarize.pipeline.compare import compare

        articles = [read_source(source, args) for source in args.source]
        names = source_names(args.source, articles, args)
        with StatusLine(quiet=args.quiet) as status:
            comparison = compare(
                list(zip(names, articles, strict=True)),
                **summarizer_options(args),
                on_progress=status,
            )
        notes = None if args.verbose else NOTES_SHOWN
        if args.format == "json":
            print(comparison.model_dump_json(indent=2))
        elif args.format == "markdown":
            from summarize.render.markdown import comparison_markdown

            print(comparison_markdown(comparison, notes=notes).rstrip("\n"))
        else:
            print(render_comparison(comparison, notes=notes))
        return EXIT_OK

    return guarded(action)


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
