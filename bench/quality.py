"""Quality against gold annotations: contested recall, false disputes, neutrality.

    python bench/quality.py [--model GGUF] [--base-url URL --model NAME] [--smollm2]
                            [--baseline REV] [--limit N] [--fake]

Briefs the 12 sample articles, and compares the two xi-putin reports, with this
checkout ("after": the checks of ``summarize.answer.neutrality`` and their hints) and with
``--baseline`` ("before", default ``refs``, the last commit without them) checked out
by ``git worktree``. Both run against one endpoint: this checkout's local engine with
the GGUF of ``--model`` (default: Qwen2.5-Coder-1.5B from ../shared/models/), the
bundled SmolLM2 with ``--smollm2``, or any OpenAI-compatible ``--base-url``. ``--fake``
uses testkit's scripted fake server (seconds; it knows nothing of disputes, so it
only shows the pipeline runs). The briefs are scored here, the same way for both runs,
against fixtures/gold/ (made by reading the articles):

- core and minor recall: gold contested points a brief's contested point cites (its
  evidence overlaps the gold evidence);
- false disputes: contested points on the uncontested article, and points anywhere
  that match no gold point;
- neutrality violations: quoted terms and loaded words in the brief's own voice, as
  ``summarize.answer.neutrality`` finds them;
- commentary stated as fact: statements resting only on gold commentary that do not
  attribute it to the outlet;
- conflict recall for compare, against fixtures/gold/conflicts-xi-putin.json;
- seconds, completion tokens and re-asks per article.

Prints a table of before and after and writes bench/results/quality.json (the rows
of each run are in bench/results/quality-{label}.jsonl, written as they come).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

QWEN_DEV = Path.home() / ".cache/summarize-dev/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
FIXTURES = ROOT / "fixtures"
GOLD = FIXTURES / "gold"

# Runs in the checkout under test: one JSON line per article (the brief, or the error),
# then one for the comparison. It must work with both versions of the library.
WORKER = r"""
import json, sys, time
from pathlib import Path
from summarize import Summarizer
from summarize.pipeline.compare import acompare_with
from summarize.errors import SummarizeError
from summarize.sync import run_sync

options, pair, paths = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3:]
with Summarizer(**options) as summarizer:
    for path in paths:
        row = {"article": Path(path).name}
        started = time.monotonic()
        try:
            row["brief"] = json.loads(summarizer(Path(path).read_text("utf-8")).model_dump_json())
        except SummarizeError as exc:
            row["error"] = f"{type(exc).__name__}: {exc}"[:300]
        row["seconds"] = round(time.monotonic() - started, 1)
        print(json.dumps(row), flush=True)
    row = {"article": "compare"}
    started = time.monotonic()
    try:
        sources = [(Path(p).name, Path(p).read_text("utf-8")) for p in pair]
        comparison = run_sync(acompare_with(summarizer, sources))
        row["comparison"] = json.loads(comparison.model_dump_json())
    except SummarizeError as exc:
        row["error"] = f"{type(exc).__name__}: {exc}"[:300]
    row["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(row), flush=True)
"""


def run_checkout(
    src: Path, options: dict[str, Any], articles: list[Path], label: str
) -> list[dict[str, Any]]:
    """The worker in the checkout ``src``: one row per article, then the comparison."""
    pair = [str(FIXTURES / "articles" / f"xi-putin-{n}.txt") for n in ("ntv", "fine-line")]
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, "-c", WORKER, json.dumps(options), json.dumps(pair),
               *map(str, articles)]  # fmt: skip
    rows = []
    saved = ROOT / "bench" / "results" / f"quality-{label}.jsonl"  # row by row, as they come
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as process, \
            saved.open("w", encoding="utf-8") as keep:  # fmt: skip
        assert process.stdout is not None
        for line in process.stdout:
            row = json.loads(line)
            rows.append(row)
            keep.write(line)
            keep.flush()
            shown = {k: v for k, v in row.items() if k not in ("brief", "comparison")}
            print(json.dumps({"run": label, **shown}), flush=True)
    if process.returncode:
        raise SystemExit(f"the {label} run failed ({process.returncode})")
    return rows


# --- scoring -------------------------------------------------------------------------


def _span_of(text: str, quote: str) -> tuple[int, int]:
    start = text.find(quote)
    assert start >= 0, quote[:60]
    return start, start + len(quote)


def _overlaps(a: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a[0] < end and start < a[1] for start, end in spans)


def score_brief(brief: dict[str, Any], gold: dict[str, Any], text: str) -> dict[str, Any]:
    """One brief against its gold annotation."""
    from summarize.answer import neutrality as checks
    from summarize.schema import ArticleSummary
    from summarize.text.sentences import SentenceIndex

    produced = [
        [(e["start"], e["end"]) for e in point["evidence"]] for point in brief["contested_points"]
    ]
    found = {"core": 0, "minor": 0}
    matched: set[int] = set()
    for point in gold["contested_points"]:
        spans = [_span_of(text, e["text"]) for e in point["evidence"]]
        hits = [
            i for i, evidence in enumerate(produced) if any(_overlaps(e, spans) for e in evidence)
        ]
        if hits:
            found[point["importance"]] += 1
            matched.update(hits)
    commentary = [_span_of(text, e["text"]) for e in gold["commentary"]]
    # the library's checks, run on the produced statements (the same for both runs)
    parsed = ArticleSummary.model_validate(_compatible(brief))
    index = SentenceIndex(text)
    lex = checks.lexicon(parsed.language)
    said = checks.statements_of(parsed.summary_sentences, parsed.key_points)
    neutrality = len(checks.check_quoted_terms(said, checks.quoted_terms(index), lex).details)
    neutrality += len(checks.check_loaded_words(said, lex).details)
    as_fact = 0
    for statement in [*parsed.summary_sentences, *parsed.key_points]:
        spans = [(e.start, e.end) for e in statement.evidence]
        on_commentary = spans and all(_overlaps(s, commentary) for s in spans)
        if on_commentary and not checks.found(lex.outlet, statement.text):
            as_fact += 1
    return {
        "core_found": found["core"],
        "minor_found": found["minor"],
        "points": len(produced),
        "unmatched_points": len(produced) - len(matched),
        "neutrality_violations": neutrality,
        "commentary_as_fact": as_fact,
        **score_sides(parsed.contested_points, gold, text, index),
    }


OWN_VOICE = {
    "the author",
    "author",
    "the outlet",
    "outlet",
    "the columnist",
    "columnist",
    "the writer",
    "writer",
    "the article",
    "the newspaper",
    "der autor",
    "l'auteur",
    "el autor",
    "автор",
    "作者",
    "필자",
}  # fmt: skip (the lexicons' "author" too)


def _overlap_parties(names: list[str], gold: list[str]) -> bool:
    """Whether any name is one of the gold's parties (a shared word, by its stem; the
    outlet's own voice by any of its names)."""
    from summarize.answer import sides

    def stems(name: str) -> set[str]:
        if name.casefold() in OWN_VOICE:
            return {"<own voice>"}
        # four letters: "China" ~ "Chinese", "France" ~ "French" stay apart at five
        return {w[:4] for w in sides.words(name) if len(w) >= 3 or not w.isascii()}

    return any(stems(a) & stems(b) for a in names for b in gold)


def score_sides(points: list[Any], gold: dict[str, Any], text: str, index: Any) -> dict[str, int]:
    """The four figures of #29: found points with the gold's sides the right way round,
    with them swapped, points repeating an earlier one, and party names the text does
    not give near the point."""
    from summarize.answer import sides

    right = swapped = repeated = ungrounded = 0
    golds = [
        (p, [_span_of(text, e["text"]) for e in p["evidence"]]) for p in gold["contested_points"]
    ]
    for number, point in enumerate(points):
        repeated += any(sides.repeats(other, point) for other in points[:number])
        context = sides.Context(index, [e.sentence for e in point.evidence if e.sentence])
        names = [*point.asserted_by, *point.disputed_by]
        ungrounded += sum(
            n.casefold() not in OWN_VOICE and not sides.grounded(n, context.text, context.stems)
            for n in names
        )
        spans = [(e.start, e.end) for e in point.evidence]
        match = next((g for g, wanted in golds if any(_overlaps(s, wanted) for s in spans)), None)
        if match is None:
            continue
        a, d, ga, gd = (
            point.asserted_by,
            point.disputed_by,
            match["asserted_by"],
            match["disputed_by"],
        )
        wrong_way = (_overlap_parties(a, gd) and not _overlap_parties(a, ga)) or (
            _overlap_parties(d, ga) and not _overlap_parties(d, gd)
        )
        swapped += wrong_way
        right += (
            bool(a or d)
            and not wrong_way
            and (not ga or _overlap_parties(a, ga))
            and (not gd or _overlap_parties(d, gd))
        )
    return {"sides_right": right, "sides_swapped": swapped, "repeated_points": repeated,
            "ungrounded_parties": ungrounded}  # fmt: skip


def settled(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Saved rows with this checkout's ``summarize.answer.sides.settle`` applied to each
    brief's contested points, and a likely opinion piece's verdicts given as the
    author's (``summarize.answer.opinion``): the same model answers, only what the
    library does with them after they come is new (#29). A point whose cited sentences
    share no word with it is re-cited first, as citing does (``citations.supported``)."""
    from summarize import Summarizer
    from summarize.answer import citations, neutrality, opinion, sides
    from summarize.schema import ArticleSummary

    summarizer = Summarizer(model="m", api_key="sk-bench")
    out = []
    for row in rows:
        if "brief" not in row or row["article"] == "compare":
            out.append(row)
            continue
        text = (FIXTURES / "articles" / row["article"]).read_text(encoding="utf-8")
        index = summarizer.new_run(summarizer.read(text), text).sentences
        brief = ArticleSummary.model_validate(_compatible(row["brief"]))
        for point in brief.contested_points:
            point.evidence = citations.supported(
                point.claim, point.evidence, index, None, "point", citations.Citations()
            )
        lex = neutrality.lexicon(brief.language)
        commentary = frozenset(neutrality.commentary_sentences(index, lex))
        piece = bool(brief.meta.opinion) or opinion.detect(index, lex).likely
        points, _ = sides.settle(
            brief.contested_points, index, lex, commentary=commentary, opinion_piece=piece
        )
        brief.contested_points = points
        if not brief.meta.opinion and piece:
            brief.meta.opinion = "likely"
            brief.summary_sentences, _ = opinion.as_the_authors(
                brief.summary_sentences, lex, "", index
            )
            brief.key_points, _ = opinion.as_the_authors(brief.key_points, lex, "", index)
        out.append({**row, "brief": brief.model_dump(mode="json")})
    return out


def _compatible(brief: dict[str, Any]) -> dict[str, Any]:
    """A brief of either version, readable by this checkout's schema."""
    meta = {k: v for k, v in brief["meta"].items() if k in _meta_fields()}
    return {**brief, "meta": meta}


def _meta_fields() -> set[str]:
    from summarize.schema import Meta

    return set(Meta.model_fields)


def score_comparison(comparison: dict[str, Any]) -> dict[str, Any]:
    gold = json.loads((GOLD / "conflicts-xi-putin.json").read_text(encoding="utf-8"))
    texts = {n: (FIXTURES / "articles" / n).read_text(encoding="utf-8") for n in (
        "xi-putin-ntv.txt", "xi-putin-fine-line.txt")}  # fmt: skip
    found = 0
    for conflict in gold["conflicts"]:
        wanted = {
            s: [_span_of(texts[s], e["text"]) for e in ev] for s, ev in conflict["versions"].items()
        }
        for produced in comparison["conflicts"]:
            cited = {
                v["source"]: [(q["start"], q["end"]) for q in v["evidence"]]
                for v in produced["versions"]
            }
            if all(any(_overlaps(q, wanted[s]) for q in cited.get(s, [])) for s in wanted):
                found += 1
                break
    return {"conflicts_found": found, "conflicts_gold": len(gold["conflicts"]),
            "conflicts_produced": len(comparison["conflicts"])}  # fmt: skip


def summary_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    golds = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in GOLD.glob("*.json")}
    totals: dict[str, Any] = {"articles": 0, "lost": 0, "core_gold": 0, "minor_gold": 0}
    false_on_uncontested = 0
    seconds, tokens, reasks = [], [], []
    for row in rows:
        if row["article"] == "compare":
            totals.update(score_comparison(row["comparison"]) if "comparison" in row else {})
            continue
        gold = golds[Path(row["article"]).stem]
        totals["articles"] += 1
        totals["core_gold"] += sum(p["importance"] == "core" for p in gold["contested_points"])
        totals["minor_gold"] += sum(p["importance"] == "minor" for p in gold["contested_points"])
        seconds.append(row["seconds"])
        if "brief" not in row:
            totals["lost"] += 1
            continue
        text = (ROOT / gold["article"]).read_text(encoding="utf-8")
        for key, value in score_brief(row["brief"], gold, text).items():
            totals[key] = totals.get(key, 0) + value
        if gold["uncontested"]:
            false_on_uncontested += len(row["brief"]["contested_points"])
        usage = row["brief"]["meta"]["usage"]
        tokens.append(usage["completion_tokens"])
        reasks.append(max(usage["attempts"] - 1, 0))
    matched = totals.get("points", 0) - totals.get("unmatched_points", 0)
    totals["sides_right_share"] = round(totals.get("sides_right", 0) / max(matched, 1), 2)
    totals["core_recall"] = round(totals.get("core_found", 0) / max(totals["core_gold"], 1), 2)
    totals["minor_recall"] = round(totals.get("minor_found", 0) / max(totals["minor_gold"], 1), 2)
    totals["false_disputes_on_uncontested"] = false_on_uncontested
    totals["seconds_median"] = round(statistics.median(seconds), 1) if seconds else 0
    totals["completion_tokens_median"] = statistics.median(tokens) if tokens else 0
    totals["reasks_per_article"] = round(sum(reasks) / max(len(reasks), 1), 2)
    return totals


# --- running -------------------------------------------------------------------------


@contextmanager
def endpoint(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """The options both runs use: one server, the same model, window and budget."""
    if args.fake:
        from testkit.fakeserver import FakeServer

        with FakeServer() as fake:
            yield {"base_url": fake.url, "api_key": "k", "model": "fake"}
        return
    if args.base_url:
        yield {"base_url": args.base_url, "model": args.model, "timeout": 1800,
               "context_window": args.context_window}  # fmt: skip
        return
    from summarize.model.local.catalogue import resolve_model
    from summarize.model.local.server import LocalServer

    model = resolve_model("smollm2-135m").path if args.smollm2 else Path(args.model)
    with LocalServer(model, context_window=8192, slots=1, api_key="bench-key") as server:
        yield {
            "base_url": server.base_url, "api_key": "bench-key", "model": server.model,
            "context_window": 8192, "max_output_tokens": 1536, "stream": True,
            "structured_output": "json_object+schema", "timeout": 1800,
        }  # fmt: skip


@contextmanager
def baseline_checkout(revision: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        worktree = Path(tmp) / "baseline"
        git = ["git", "-C", str(ROOT), "worktree"]
        subprocess.run([*git, "add", "--detach", str(worktree), revision], check=True)
        try:
            yield worktree / "src"
        finally:
            subprocess.run([*git, "remove", "--force", str(worktree)], check=False)


def table(results: dict[str, dict[str, Any]]) -> str:
    keys = ["core_recall", "minor_recall", "points", "unmatched_points",
            "false_disputes_on_uncontested", "neutrality_violations", "commentary_as_fact",
            "sides_right", "sides_right_share", "sides_swapped", "repeated_points",
            "ungrounded_parties",
            "conflicts_found", "lost", "reasks_per_article", "seconds_median",
            "completion_tokens_median"]  # fmt: skip
    runs = list(results)
    lines = ["| measure | " + " | ".join(runs) + " |", "| --- |" + " --- |" * len(runs)]
    for key in keys:
        lines.append(f"| {key} | " + " | ".join(str(results[r].get(key, "")) for r in runs) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="refs")
    parser.add_argument("--model", default=str(QWEN_DEV))
    parser.add_argument("--base-url")
    parser.add_argument("--context-window", type=int, default=8192)
    parser.add_argument("--smollm2", action="store_true")
    parser.add_argument("--limit", type=int, default=12)
    parser.add_argument("--fake", action="store_true")
    parser.add_argument("--after-only", action="store_true", help="skip the baseline run")
    parser.add_argument("--before-only", action="store_true", help="only the baseline run")
    parser.add_argument(
        "--score", action="store_true", help="score the saved rows of earlier runs, run nothing"
    )
    parser.add_argument(
        "--tag", default="", help="saved rows as quality-{before,after}TAG.jsonl (e.g. -29)"
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "quality.json"))
    args = parser.parse_args()
    articles = sorted((FIXTURES / "articles").glob("*.txt"))[: args.limit]
    runs: dict[str, list[dict[str, Any]]] = {}
    if args.score:
        # "hints": an earlier "after" run, with the hints and one re-ask of the checks
        # but without the follow-up on disputes (summarize.pipeline.disputes), kept for the docs
        # "caps": the run after #17 (the caps said in the schema), the last one
        for label in ("before", "hints", "after", "caps", "before-29", "after-29", "after-37",
                      "before-42", "after-42", "after-43"):  # fmt: skip
            saved = ROOT / "bench" / "results" / f"quality-{label}.jsonl"
            if saved.exists():
                runs[label] = [json.loads(line) for line in saved.open(encoding="utf-8")]
        # the same answers, settled by this checkout (#29)
        for label in ("caps", "after-29", "after-37", "after-42", "after-43"):
            if label in runs:
                runs[f"{label}, settled"] = settled(runs[label])
    else:
        tag = ("-smollm2" if args.smollm2 else "") + args.tag  # kept apart from Qwen's
        with endpoint(args) as options:
            if not (args.fake or args.after_only):
                with baseline_checkout(args.baseline) as src:
                    runs["before"] = run_checkout(src, options, articles, "before" + tag)
            if not args.before_only:
                runs["after"] = run_checkout(ROOT / "src", options, articles, "after" + tag)
    results = {label: summary_of(rows) for label, rows in runs.items()}
    model = (
        "fake"
        if args.fake
        else (args.base_url or ("smollm2" if args.smollm2 else Path(args.model).name))
    )
    # the rows themselves are in bench/results/quality-{label}.jsonl
    out = {"model": model, "baseline": args.baseline, "results": results}
    Path(args.out).write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"model: {model}")
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
