"""Benchmark summarize_many against a bare AsyncOpenAI loop, on a local fake server.

    python bench/batch.py [--latency 0.5] [--concurrency 16] [--articles 500]
    python bench/batch.py --latency 0.2 --articles 160 --baseline 01006c1   # issue #27

The server (testkit/fakeserver.py) answers every request after L seconds. Both runs
send one chat request per short article (a sample article) at concurrency C, in the
same process: summarize_many (cache off) and a bare ``asyncio`` + ``AsyncOpenAI`` loop
sending the same kind of request with no validation. Reported: articles per second,
the ratio to the ideal C/L (goal >= 0.85), the ratio to the bare loop (goal >= 0.9),
the wall time against requests / C x L for the requests the server counted (goal for
#27: within 1.5 x), the process's own CPU time, and peak Python memory (tracemalloc)
for 500 and 5,000 articles (``--no-memory`` skips those). ``--baseline REV`` runs REV's
code in the same run (bench/baseline.py).
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
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from baseline import run_against, use_src  # noqa: E402

use_src(sys.argv)
sys.path.insert(1, str(ROOT / "src"))

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


def measure(latency: float, c: int, n: int, memory: bool) -> dict[str, float]:
    with FakeServer(latency=latency, keep_requests=False) as server:
        run_library(server.url, 2 * c, c)  # warm-up: imports, encodings, mode detection
        before, cpu = server.count, time.process_time()
        library = run_library(server.url, n, c)
        cpu = time.process_time() - cpu
        requests = server.count - before
        bare = run_bare(server.url, n, c)
    ideal = c / latency
    row = {
        "latency_s": latency,
        "concurrency": c,
        "articles": n,
        "requests": requests,
        "wall_s": round(library, 2),
        "ideal_s": round(requests / c * latency, 2),
        "wall_over_ideal": round(library / (requests / c * latency), 2),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_article": round(1000 * cpu / n, 1),
        "library_per_s": round(n / library, 2),
        "bare_loop_per_s": round(n / bare, 2),
        "ideal_per_s": round(ideal, 2),
        "library_over_ideal": round(n / library / ideal, 3),
        "library_over_bare": round(bare / library, 3),
    }
    if memory:
        with FakeServer(latency=0.02, keep_requests=False) as server:
            row["peak_mb_500"] = round(peak_memory(server.url, 500, c), 1)
            row["peak_mb_5000"] = round(peak_memory(server.url, 5000, c), 1)
    return row


def report(row: dict[str, float], title: str) -> None:
    n, c, latency = row["articles"], row["concurrency"], row["latency_s"]
    print(f"{title}: {n} articles, C={c}, L={latency}s: {row['requests']} requests in "
          f"{row['wall_s']} s = {row['wall_over_ideal']} x requests/C x L ({row['ideal_s']} s); "
          f"CPU {row['cpu_s']} s ({row['cpu_ms_per_article']} ms an article); "
          f"{row['library_over_ideal']:.3f} x ideal C/L, "
          f"{row['library_over_bare']:.3f} x a bare AsyncOpenAI loop "
          f"({row['bare_loop_per_s']}/s)")  # fmt: skip
    if "peak_mb_500" in row:
        print(f"  peak Python memory: {row['peak_mb_500']} MB for 500 articles, "
              f"{row['peak_mb_5000']} MB for 5,000")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory rows")
    parser.add_argument("--baseline", help="a git revision to measure in the same run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/batch.json")
    parser.add_argument("--src", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)  # rows for bench/baseline.py
    args = parser.parse_args()
    row = measure(args.latency, args.concurrency, args.articles, not args.no_memory)
    if args.json:
        Path(args.json).write_text(json.dumps(row), encoding="utf-8")
        return 0
    results = {"after": row}
    if args.baseline:
        flags = ["--latency", str(args.latency), "--concurrency", str(args.concurrency),
                 "--articles", str(args.articles)]  # fmt: skip
        flags += ["--no-memory"] if args.no_memory else []
        results["before"] = run_against(Path(__file__), args.baseline, flags)
        report(results["before"], f"baseline {args.baseline}")
    report(row, "this checkout")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
