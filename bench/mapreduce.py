"""Benchmark the long-article path against a local fake server with fixed latency L.

    python bench/mapreduce.py [--latency 0.5] [--tokens 100000] [--window 16384]

The server (testkit/fakeserver.py) speaks the chat-completions protocol and answers
every request after L seconds with the scripted fake model. A news-like article of
about 100k tokens (generated from the sample articles) is summarised with a
16k-token context window. Reported, each as a ratio:

- wall time / L for a cold run (after a warm-up of the process; the first part
  probes the structured-output mode alone), a warm run, and the same warm run
  with ``concurrency=1`` (the parts one after another, as the OpenAI cookbook
  does): goal <= 3 + local overhead;
- billed prompt tokens (counted by the server with tiktoken) / article tokens:
  goal <= 1.25.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from testkit.fakeserver import FakeServer  # noqa: E402

from chunking import ENC, _build, _sentences  # noqa: E402
from summarize import Summarizer  # noqa: E402
from summarize.model.client import forget_modes  # noqa: E402


def article(tokens: int) -> str:
    import random

    rng = random.Random(3)
    sents = _sentences()
    return _build(tokens, lambda: " ".join(rng.choice(sents) for _ in range(rng.randint(1, 6))))


def run_once(server: FakeServer, text: str, window: int, concurrency: int) -> dict[str, float]:
    before = len(server.requests)
    with Summarizer(
        base_url=server.url, api_key="bench", model="fake-model", context_window=window,
        concurrency=concurrency, timeout=3600,
    ) as summarizer:  # fmt: skip
        started = time.perf_counter()
        brief = summarizer(text)
        wall = time.perf_counter() - started
    return {
        "wall_s": round(wall, 3),
        "requests": len(server.requests) - before,
        "chunks": brief.meta.chunks,
        "prompt_tokens": brief.meta.usage.prompt_tokens,
        "completion_tokens": brief.meta.usage.completion_tokens,
        "depth": brief.meta.depth,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.5, help="L, seconds per request")
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--window", type=int, default=16_384)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/mapreduce.json")
    args = parser.parse_args()

    text = article(args.tokens)
    article_tokens = len(ENC.encode_ordinary(text))
    latency = args.latency
    rows = {}
    with FakeServer(latency=latency) as server:
        # Process warm-up (imports, encodings, schemas) under another model name, so
        # that "cold" below still has to find the structured-output mode.
        with Summarizer(base_url=server.url, api_key="bench", model="warm-up") as warm:
            warm(text[:2000])
        forget_modes()
        rows["cold"] = run_once(server, text, args.window, 8)
        rows["warm"] = run_once(server, text, args.window, 8)
        rows["sequential (concurrency=1)"] = run_once(server, text, args.window, 1)
    for name, row in rows.items():
        row["wall_over_L"] = round(row["wall_s"] / latency, 2)
        row["prompt_over_article"] = round(row["prompt_tokens"] / article_tokens, 3)
        print(
            f"{name:28} wall {row['wall_s']:7.2f} s = {row['wall_over_L']:5.2f} L  "
            f"requests {row['requests']:3}  chunks {row['chunks']:3}  "
            f"prompt tokens {row['prompt_tokens']:7} = {row['prompt_over_article']:.3f} x article"
        )
    speedup = rows["sequential (concurrency=1)"]["wall_s"] / rows["warm"]["wall_s"]
    print(f"article {article_tokens} tokens, window {args.window}, L = {latency} s; "
          f"concurrent vs sequential: {speedup:.2f}x faster")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "latency_s": latency,
        "article_tokens": article_tokens,
        "window": args.window,
        "runs": rows,
        "concurrent_speedup": round(speedup, 2),
    }
    args.out.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
