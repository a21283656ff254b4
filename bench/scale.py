"""Past one machine: summarize_many, Ray Data with 1 and 2 actors, Spark with 1 and 2 tasks.

    python bench/scale.py [--articles 200] [--latency 0.5] [--batch 8] [--skip-spark]
    python bench/scale.py --baseline 52c932b   # the Ray actors before batches overlapped

One fake OpenAI-compatible server (testkit/fakeserver.py) answers every request after
``--latency`` seconds. The same ``--articles`` short articles (the sample articles,
each with its own last line, cache off) are briefed five ways on this machine: by
``summarize_many`` at concurrency ``--batch`` (the baseline: one process, as many in
flight as one worker), and by ``summarize.ray`` and ``summarize.spark`` with 1 and 2
workers of ``--batch`` in flight each. Ray and Spark start locally (``num_cpus=2``,
``local[2]``); their start-up is not timed, their first actor or task is.

``--baseline REV`` measures REV's code first, in the same run (bench/baseline.py; the
workers import it through PYTHONPATH). Printed: articles per second, the scaling
ratio (2 workers against 1; goal >= 1.7; also less each run's fixed start-up) and
the engine's own cost per article next to summarize_many at the same concurrency
((T_engine - T_many) / articles; goal < 5 ms), also less the engine's fixed cost of a
run (one article's run, less its latency: actors or Python workers started, the
package imported there). Rows go to bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from baseline import run_against, use_src  # noqa: E402

use_src(sys.argv)
sys.path.insert(1, str(ROOT / "src"))
if "--src" in sys.argv:  # the Ray and Spark workers import the baseline's code too
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [sys.argv[sys.argv.index("--src") + 1], os.environ.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)

from testkit.fakeserver import FakeServer  # noqa: E402

from summarize import summarize_many  # noqa: E402

TEXTS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "fixtures/articles").glob("*.txt"))]


def rows(n: int) -> list[dict[str, Any]]:
    return [{"id": f"a{i}", "text": TEXTS[i % len(TEXTS)] + f"\n\n(copy {i})"} for i in range(n)]


def options(url: str) -> dict[str, Any]:
    return {"base_url": url, "api_key": "sk-bench", "model": "fake", "cache": False}


def with_many(url: str, given: list[dict[str, Any]], batch: int) -> float:
    started = time.perf_counter()
    results = list(summarize_many(given, concurrency=batch, **options(url)))
    assert sum(r.error is None for r in results) == len(given), "an article failed"
    return time.perf_counter() - started


def with_ray(url: str, given: list[dict[str, Any]], batch: int, workers: int) -> float:
    import ray

    from summarize.ray import summarize_dataset

    ds = ray.data.from_items(given).materialize()
    started = time.perf_counter()
    out = summarize_dataset(ds, concurrency=workers, in_flight=batch, num_cpus=0.5,
                            **options(url)).take_all()  # fmt: skip
    assert sum(r["error_type"] is None for r in out) == len(given), "an article failed"
    return time.perf_counter() - started


def with_spark(
    spark: Any, url: str, given: list[dict[str, Any]], batch: int, workers: int
) -> float:
    from summarize.spark import summarize_dataframe

    df = spark.createDataFrame(given).repartition(workers).cache()
    df.count()
    started = time.perf_counter()
    out = summarize_dataframe(df, concurrency=workers, in_flight=batch, **options(url)).collect()
    assert sum(r["error_type"] is None for r in out) == len(given), "an article failed"
    return time.perf_counter() - started


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Each way's seconds for ``args.articles`` articles, and the ratios."""
    given = rows(args.articles)
    seconds: dict[str, float] = {}
    with FakeServer(latency=args.latency, keep_requests=False) as server:
        with_many(server.url, given[:4], args.batch)  # warm-up: encodings, lexicons
        seconds["summarize_many"] = with_many(server.url, given, args.batch)
        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        start = with_ray(server.url, given[:1], args.batch, 1)  # one article: the fixed cost
        seconds["ray, start (1 article)"] = start
        for workers in (1, 2):
            seconds[f"ray, {workers} actor(s)"] = with_ray(server.url, given, args.batch, workers)
        ray.shutdown()
        if not args.skip_spark:
            from pyspark.sql import SparkSession

            spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
                     .getOrCreate())  # fmt: skip
            one = with_spark(spark, server.url, given[:1], args.batch, 1)
            seconds["spark, start (1 article)"] = one
            for workers in (1, 2):
                seconds[f"spark, {workers} task(s)"] = with_spark(
                    spark, server.url, given, args.batch, workers
                )
            spark.stop()
    n = args.articles
    table = {name: {"seconds": round(s, 2), "articles_per_s": round(n / s, 2)}
             for name, s in seconds.items()}  # fmt: skip
    ratios: dict[str, float] = {}
    for engine, one, two in (("ray", "ray, 1 actor(s)", "ray, 2 actor(s)"),
                             ("spark", "spark, 1 task(s)", "spark, 2 task(s)")):  # fmt: skip
        if one in seconds:
            ratios[f"{engine}: 2 workers / 1"] = round(seconds[one] / seconds[two], 2)
            # less the fixed cost of a run (start-up, and one article's own latency),
            # which each run pays once, whatever its size
            fixed = seconds[f"{engine}, start (1 article)"] - args.latency
            steady = (seconds[one] - fixed) / (seconds[two] - fixed)
            ratios[f"{engine}: 2 workers / 1, less the start-up"] = round(steady, 2)
            extra = (seconds[one] - seconds["summarize_many"]) / n * 1000
            ratios[f"{engine}: ms per article over summarize_many"] = round(extra, 1)
            extra = (seconds[one] - fixed - seconds["summarize_many"]) / n * 1000
            ratios[f"{engine}: the same, less the start-up"] = round(extra, 1)
    return {"articles": n, "latency": args.latency, "batch": args.batch, "runs": table,
            "ratios": ratios}  # fmt: skip


def report(result: dict[str, Any], baseline: dict[str, Any] | None, title: str) -> None:
    n, latency, batch = result["articles"], result["latency"], result["batch"]
    print(f"{n} articles, latency {latency} s, {batch} in flight per worker "
          f"(one worker's ideal: {batch / latency:.1f} articles/s); {title}")  # fmt: skip
    for name, row in result["runs"].items():
        rate = "" if "start" in name else f"  {row['articles_per_s']:6.2f} articles/s"
        before = baseline["runs"].get(name) if baseline else None
        was = f"   (baseline {before['seconds']:7.2f} s)" if before else ""
        print(f"  {name:26} {row['seconds']:7.2f} s{rate}{was}")
    for name, value in result["ratios"].items():
        was = baseline["ratios"].get(name) if baseline else None
        print(f"  {name}: {value}" + (f"   (baseline {was})" if was is not None else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--batch", type=int, default=8, help="articles in flight per worker")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--baseline", help="a git revision to measure in the same run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/scale.json")
    parser.add_argument("--src", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)  # rows for bench/baseline.py
    args = parser.parse_args()
    baseline = None
    if args.baseline:
        flags = ["--articles", str(args.articles), "--latency", str(args.latency),
                 "--batch", str(args.batch)]  # fmt: skip
        flags += ["--skip-spark"] if args.skip_spark else []
        baseline = run_against(Path(__file__), args.baseline, flags)
    result = measure(args)
    if args.json:
        Path(args.json).write_text(json.dumps(result), encoding="utf-8")
        return 0
    report(result, baseline, f"baseline {args.baseline}" if baseline else "this checkout")
    saved = {**result, "baseline": {"revision": args.baseline, **baseline}} if baseline else result
    args.out.write_text(json.dumps(saved, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
