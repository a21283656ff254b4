"""Preparing a large article: reading, sentence index, cues, chunking, the plan.

    python bench/prepare.py [--baseline REV]

A news-like article of 1 MB and one of 4 MB (generated from the sample articles, as
bench/mapreduce.py does) are prepared for a 16k-token window: the CPU and wall seconds
from the text to the parts' plan (``Summarizer.read``, ``new_run``,
``budget.fits_one_call``, ``budget.parts_of``, the cue sentences), after a warm-up. A
50 MB text (10M tokens) is briefed with the default ``max_requests`` against a model
that fails the bench if it is ever asked: the seconds until it is refused. Goals for
#27: at least 2 MB/s (wall time: tiktoken counts on every core), a 40 MB file refused
in at most 5 s. ``--baseline REV`` runs REV's code in the same run (bench/baseline.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from baseline import run_against, use_src  # noqa: E402

use_src(sys.argv)
sys.path.insert(1, str(ROOT / "src"))

from mapreduce import article  # noqa: E402
from summarize import Summarizer  # noqa: E402
from summarize.errors import SummarizeError  # noqa: E402

try:
    from summarize.pipeline import budget
except ImportError:  # the layout before #31
    from summarize import budget  # type: ignore[no-redef]

WINDOW = 16_384


def prepare(text: str) -> dict[str, Any]:
    summarizer = Summarizer(model="gpt-4o-mini", api_key="sk-bench", context_window=WINDOW)
    started, wall = time.process_time(), time.perf_counter()
    run = summarizer.new_run(summarizer.read(text), text)
    fits = budget.fits_one_call(run)
    parts = [] if fits else budget.parts_of(run)
    _ = run.cues
    seconds = time.process_time() - started
    wall = time.perf_counter() - wall
    megabytes = len(text.encode("utf-8")) / 1e6
    return {"mb": round(megabytes, 2), "parts": len(parts), "cpu_s": round(seconds, 2),
            "wall_s": round(wall, 2), "mb_per_s": round(megabytes / wall, 2)}  # fmt: skip


def refuse(text: str) -> dict[str, Any]:
    def never(_request: Any) -> Any:
        raise AssertionError("a request was sent")

    import httpx2
    import openai

    http = httpx2.Client(transport=httpx2.MockTransport(never))
    client = openai.OpenAI(base_url="http://bench.invalid/v1", api_key="sk-bench", http_client=http)
    started = time.perf_counter()
    try:
        with Summarizer(model="gpt-4o-mini", client=client, context_window=WINDOW) as s:
            s(text)
        outcome = "briefed"
    except SummarizeError as exc:
        outcome = f"{type(exc).__name__}: {str(exc)[:160]}"
    except AssertionError:
        outcome = "sent a request"
    wall = round(time.perf_counter() - started, 2)
    return {"mb": round(len(text.encode()) / 1e6, 1), "wall_s": wall, "outcome": outcome}


def measure() -> dict[str, Any]:
    prepare(article(20_000))  # warm-up: encodings, the language model, lexicons
    rows = {f"{mb} MB": prepare(article(250_000 * mb)) for mb in (1, 4)}
    rows["50 MB refused"] = refuse(article(10_000_000))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a git revision to measure in the same run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/prepare.json")
    parser.add_argument("--src", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args()
    after = measure()
    if args.json:
        Path(args.json).write_text(json.dumps(after), encoding="utf-8")
        return 0
    results = {"after": after}
    if args.baseline:
        results["before"] = run_against(Path(__file__), args.baseline, [])
    for label, rows in (("baseline " + str(args.baseline), results.get("before")),
                        ("this checkout", after)):  # fmt: skip
        if rows:
            print(f"{label}:")
            for name, row in rows.items():
                print(f"  {name:14} {row}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
