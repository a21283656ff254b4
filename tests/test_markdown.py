"""``--format markdown``: golden files made from recorded runs (testkit/golden.py), and
the rules every Markdown brief keeps: each marker has its numbered entry with exact
offsets, text from the article cannot change the layout, conflicts are a table with
one column per source."""

from __future__ import annotations

import json
import re

import httpx2
import pytest
from testkit import fakemodel
from testkit.golden import GOLDEN, GOLDEN_DIR, rendered
from testkit.replaying import cassette_named, replay

from summarize import ArticleSummary, compare, summarize
from summarize.cli import main as cli_main
from summarize.render.markdown import brief_markdown, comparison_markdown, escape
from tests.support import NTV, REPLAY_URL, Recorder, good_answer, mock_client, ok

REGENERATE = "python scripts/golden.py rewrites them; review the diff"
FOOTNOTE = re.compile(r"^\[\^(\d+)\]: (.+?) \\\[(\d+):(\d+)\\\]: \u201c(.*)\u201d$", re.M)


@pytest.mark.parametrize("golden", sorted(GOLDEN))
def test_golden_markdown_of_recorded_runs(golden: str) -> None:
    expected = (GOLDEN_DIR / f"{golden}.md").read_text(encoding="utf-8")
    assert rendered(golden) == expected, REGENERATE


@pytest.mark.parametrize("golden", sorted(GOLDEN))
def test_every_marker_points_at_an_entry_holding_the_exact_source_text(golden: str) -> None:
    text = (GOLDEN_DIR / f"{golden}.md").read_text(encoding="utf-8")
    entries = {int(m[1]): m for m in FOOTNOTE.finditer(text)}
    body = text.split("### Cited sentences")[0]
    used = {int(n) for n in re.findall(r"\[\^(\d+)\](?!:)", body)}
    assert used, "no citation markers"
    assert used == set(entries) == set(range(1, len(entries) + 1))
    cassette = cassette_named(GOLDEN[golden][0])
    if GOLDEN[golden][1] is None:
        sources = dict(cassette.sources())
    else:
        sources = {"": cassette.article_text()}
    for match in entries.values():
        start, end, quote = int(match[3]), int(match[4]), match[5]
        where = match[2]
        source = next((n for n in sources if n and where.startswith(n)), "")
        assert escape(sources[source][start:end]) == quote, where


def test_a_brief_in_markdown_cites_every_statement():
    brief, _ = replay(cassette_named("xi-putin-ntv"), name="xi-putin-ntv")
    assert isinstance(brief, ArticleSummary)
    text = brief_markdown(brief, notes=None)
    assert text.startswith("## xi-putin-ntv\n")
    summary = text.split("### Summary\n\n")[1].split("\n")[0]
    assert summary.count("[^") == sum(len(s.evidence) for s in brief.summary_sentences)
    for point in brief.key_points:
        assert f"- {escape(point.text)}[^" in text
    assert f"### Notes ({len(brief.meta.warnings)})" in text
    assert "more (`--verbose`" not in text  # notes=None lists them all
    assert "more (`--verbose` lists them)" in brief_markdown(brief, notes=1)


def test_article_text_cannot_break_the_layout():
    hostile = good_answer(
        key_points=[{"text": "A *bold* claim | with a pipe, [brackets] and <b>", "refs": [11]}]
    )
    brief = summarize(NTV, client=mock_client(Recorder([ok(hostile)])), model="m")
    text = brief_markdown(brief)
    line = next(line for line in text.splitlines() if line.startswith("- A "))
    assert line.startswith(r"- A \*bold\* claim \| with a pipe, \[brackets\] and \<b\>[^")
    assert escape("two\n- lines") == "two - lines"  # one line: no list item sneaks in


def test_conflicts_are_a_table_with_one_column_per_source():
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=fakemodel.completion(json.loads(request.content)))

    pair = [("NTV", NTV), ("NTV | copy", NTV.replace("Xi", "President Xi"))]
    comparison = compare(pair, client=mock_client(handler), model="m")
    assert comparison.conflicts
    text = comparison_markdown(comparison)
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert table[0] == r"| topic | NTV | NTV \| copy |"
    assert table[1] == "| --- | --- | --- |"
    for row in table[2:]:
        assert len(re.split(r"(?<!\\)\|", row)) == 5  # topic + 2 sources, outer pipes
    assert len(table) == 2 + len(comparison.conflicts)


def test_the_cli_prints_markdown(ntv_path, patch_build_client, capsys):
    patch_build_client(Recorder([ok(good_answer())]))
    args = [str(ntv_path), "--base-url", REPLAY_URL, "--format", "markdown"]
    assert cli_main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("## xi-putin-ntv\n")
    assert "### Contested points\n\n1. **disputed**: Ukraine says Russia broke" in out
    assert "asserted by Ukraine; disputed by Russian Ministry of Defense" in out
    assert re.search(r"^\[\^1\]: S14 \\\[\d+:\d+\\\]: \u201c", out, re.M)


def test_the_readme_markdown_excerpt_is_taken_from_the_golden_file():
    readme = (GOLDEN_DIR.parent.parent / "README.md").read_text(encoding="utf-8")
    excerpt = readme.split("```markdown\n", 1)[1].split("```", 1)[0].splitlines()
    golden = iter((GOLDEN_DIR / "brief-xi-putin-ntv.md").read_text(encoding="utf-8").splitlines())
    for line in excerpt:  # the excerpt's lines appear in the golden file, in order
        assert any(line == g for g in golden), line
