"""``summarize compare A B [C ...]``: agreements, conflicts and framing across sources."""

from __future__ import annotations

from summarize.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    build_parser,
    fail,
    guarded,
    read_source,
    source_names,
    summarizer_options,
)
from summarize.cli.status import StatusLine
from summarize.render.text import NOTES_SHOWN, render_comparison


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
