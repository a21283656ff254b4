"""Measure local models on the sample articles, through the local engine (xllamacpp).

    python bench/local_model.py [--model NAME|GGUF ...] [--limit N] [--out FILE]

Default models: the bundled SmolLM2-135M, and Qwen2.5-Coder-1.5B-Instruct if
``../shared/models/qwen2.5-coder-1.5b.sh`` has assembled it (development only). For
each model: engine start-up, seconds per article, the share of articles valid on the
first answer / after re-asks / lost to a typed error, grounded contested points per
article, and answers stopped because they looped. The baseline for the ratios is
the bundled SmolLM2 in the same run; ``--loop-baseline N`` also runs it on N articles
with and without streaming (the loop cut), in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QWEN_DEV = Path.home() / ".cache/summarize-dev/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def run_model(model: str, articles: list[Path], *, stream: bool = True) -> dict[str, Any]:
    from summarize import Summarizer
    from summarize.errors import SummarizeError

    rows = []
    with Summarizer(local_model=model, timeout=1800, stream=stream) as summarizer:
        assert summarizer.local_server is not None
        started = time.monotonic()
        summarizer.local_server.start()
        startup = time.monotonic() - started
        for path in articles:
            text = path.read_text(encoding="utf-8")
            t0 = time.monotonic()
            row: dict[str, Any] = {"article": path.name}
            try:
                brief = summarizer(text)
                usage = brief.meta.usage
                row.update(
                    outcome="first_try" if usage.attempts == 1 else "after_reasks",
                    attempts=usage.attempts,
                    grounded=not brief.ungrounded(text),
                    contested_points=len(brief.contested_points),
                    key_points=len(brief.key_points),
                    loops_cut=usage.loops_cut,
                    completion_tokens=usage.completion_tokens,
                    warnings=len(brief.meta.warnings),
                )
            except SummarizeError as exc:
                usage = exc.usage
                row.update(
                    outcome="error",
                    error=type(exc).__name__,
                    loops_cut=usage.loops_cut if usage else 0,
                    contested_points=0,
                )
            row["seconds"] = round(time.monotonic() - t0, 1)
            rows.append(row)
            print(json.dumps({"model": model, "stream": stream, **row}), flush=True)
    n = len(rows)
    return {
        "model": model,
        "stream": stream,
        "model_file": str(summarizer.local_server.model_path),
        "articles": n,
        "startup_seconds": round(startup, 2),
        "seconds_per_article_median": statistics.median(r["seconds"] for r in rows),
        "seconds_per_article_max": max(r["seconds"] for r in rows),
        "share": {
            k: round(sum(r["outcome"] == k for r in rows) / n, 2)
            for k in ("first_try", "after_reasks", "error")
        },
        "grounded_contested_points_per_article": round(
            sum(r["contested_points"] for r in rows) / n, 2
        ),
        "loops_cut": sum(r["loops_cut"] for r in rows),
        "rows": rows,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="a catalogue name or a GGUF path")
    parser.add_argument("--limit", type=int, default=0, help="only the first N articles")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/local_model.json")
    parser.add_argument(
        "--loop-baseline",
        type=int,
        default=0,
        metavar="N",
        help="also run the first model on N articles without streaming (no loop cut), "
        "and report the time the loop cut saves",
    )
    args = parser.parse_args()
    chosen = args.model or ["smollm2-135m", *([str(QWEN_DEV)] if QWEN_DEV.is_file() else [])]
    articles = sorted((ROOT / "fixtures/articles").glob("*.txt"))
    if args.limit:
        articles = articles[: args.limit]
    reports = [run_model(model, articles) for model in chosen]
    base = reports[0]
    if args.loop_baseline:
        some = articles[: args.loop_baseline]
        cut = run_model(chosen[0], some, stream=True)
        uncut = run_model(chosen[0], some, stream=False)
        reports += [cut, uncut]
        print(json.dumps({
            "loop_cut_seconds_median": cut["seconds_per_article_median"],
            "no_loop_cut_seconds_median": uncut["seconds_per_article_median"],
            "ratio_no_cut_to_cut": round(
                uncut["seconds_per_article_median"] / cut["seconds_per_article_median"], 2
            ),
        }))  # fmt: skip
    summary = []
    for report in reports:
        line = {k: v for k, v in report.items() if k != "rows"}
        line["seconds_vs_baseline"] = round(
            report["seconds_per_article_median"] / base["seconds_per_article_median"], 2
        )
        summary.append(line)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(reports, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
