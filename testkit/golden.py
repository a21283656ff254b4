"""The golden Markdown files (fixtures/golden/): recorded runs, rendered.

Each golden file is what ``--format markdown`` prints for one cassette replayed
offline: a brief, a long article briefed in parts and merged, a comparison.
``python scripts/golden.py`` rewrites them (after re-recording a cassette or changing
``summarize.render.markdown``); ``tests/test_markdown.py`` checks them.
"""

from __future__ import annotations

from summarize import ArticleSummary, Comparison
from summarize.render.markdown import brief_markdown, comparison_markdown
from testkit.cassette import FIXTURES
from testkit.replaying import cassette_named, replay, replay_comparison

GOLDEN_DIR = FIXTURES / "golden"
# golden file -> (cassette, the short name the CLI would give the source; None: compare)
GOLDEN: dict[str, tuple[str, str | None]] = {
    "brief-xi-putin-ntv": ("xi-putin-ntv", "xi-putin-ntv"),
    "long-article-trade-war": ("trade-war-in-parts", "702d1da63b8e"),
    "compare-xi-putin": ("compare-xi-putin", None),
}


def rendered(golden: str) -> str:
    """The Markdown of the golden file ``golden``'s recorded run, as the CLI prints it
    (the first 3 notes)."""
    cassette_name, name = GOLDEN[golden]
    cassette = cassette_named(cassette_name)
    if name is None:
        comparison, transport = replay_comparison(cassette)
        transport.check_done()
        assert isinstance(comparison, Comparison), comparison
        return comparison_markdown(comparison)
    brief, transport = replay(cassette, name=name)
    transport.check_done()
    assert isinstance(brief, ArticleSummary), brief
    return brief_markdown(brief)
