"""Benchmark summarize_many against a bare AsyncOpenAI loop, on a local fake server.

    python bench/batch.py [--latency 0.5] [--concurrency 16] [--articles 500]

The server (testkit/fakeserver.py) answers every request after L seconds. Both runs
send one chat request per short article (a sample article) at concurrency C, in the
same process: summarize_many (cache off) and a bare ``asyncio`` + ``AsyncOpenAI`` loop
sending the same kind of request with no validation. Reported: articles per second,
the ratio to the ideal C/L (goal >= 0.85), the ratio to the bare loop (goal >= 0.9),
and peak Python memory (tracemalloc) for 500 and 5,000 articles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from testkit.fakeserver import FakeServer  # noqa: E402

from summarize import summarize_many  # noqa: E402

TEXTS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "fixtures/articles").glob("*.txt"))]


def items(n: int):  # type: ignore[no-untyped-def]
    for i in range(n):  # lazily: the input is a stream, like a large JSONL file
        yield (f"a{i}", TEXTS[i % len(TEXTS)] + f"\n\n(copy {i})")


def run_library(url: str, n: int, concurrency: int) -> float:
    started = time.perf_counter()
    count = 0
    for result in summarize_many(
        items(n), concurrency=concurrency, cache=False, base_url=url, api_key="x", model="fake"
    ):
        assert result.result is not None, result.error
        count += 1
    assert count == n
    return time.perf_counter() - started


def run_bare(url: str, n: int, concurrency: int) -> float:
    import openai

    async def main() -> None:
        client = openai.AsyncOpenAI(base_url=url, api_key="x", max_retries=0)
        semaphore = asyncio.Semaphore(concurrency)

        async def one(text: str) -> None:
            async with semaphore:
                body = f"BEGIN ARTICLE-0123456789abcdef\n{text}\nEND ARTICLE-0123456789abcdef"
                await client.chat.completions.create(
                    model="fake",
                    messages=[
                        {"role": "system", "content": "brief"},
                        {"role": "user", "content": body},
                    ],
                )

        await asyncio.gather(*(one(text) for _, text in items(n)))
        await client.close()

    started = time.perf_counter()
    asyncio.run(main())
    return time.perf_counter() - started


def peak_memory(url: str, n: int, concurrency: int) -> float:
    tracemalloc.start()
    run_library(url, n, concurrency)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/batch.json")
    args = parser.parse_args()
    latency, c, n = args.latency, args.concurrency, args.articles

    with FakeServer(latency=latency, keep_requests=False) as server:
        run_library(server.url, 2 * c, c)  # warm-up: imports, encodings, mode detection
        library = run_library(server.url, n, c)
        bare = run_bare(server.url, n, c)
    ideal = c / latency
    row = {
        "latency_s": latency,
        "concurrency": c,
        "articles": n,
        "library_per_s": round(n / library, 2),
        "bare_loop_per_s": round(n / bare, 2),
        "ideal_per_s": round(ideal, 2),
        "library_over_ideal": round(n / library / ideal, 3),
        "library_over_bare": round(bare / library, 3),
    }
    with FakeServer(latency=0.02, keep_requests=False) as server:
        row["peak_mb_500"] = round(peak_memory(server.url, 500, c), 1)
        row["peak_mb_5000"] = round(peak_memory(server.url, 5000, c), 1)
    print(
        f"{n} articles, C={c}, L={latency}s: summarize_many {row['library_per_s']}/s = "
        f"{row['library_over_ideal']:.3f} x ideal C/L ({ideal:.0f}/s), "
        f"{row['library_over_bare']:.3f} x a bare AsyncOpenAI loop ({row['bare_loop_per_s']}/s)"
    )
    print(f"peak Python memory: {row['peak_mb_500']} MB for 500 articles, "
          f"{row['peak_mb_5000']} MB for 5,000")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(row, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
