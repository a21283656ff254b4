"""Benchmark the long-article path against a local fake server with fixed latency L.

    python bench/mapreduce.py [--latency 1.0] [--tokens 100000] [--window 16384]
                              [--baseline REV]

The server (testkit/fakeserver.py) speaks the chat-completions protocol and answers
every request after L seconds with the scripted fake model. A news-like article of
about 100k tokens (generated from the sample articles) is summarised with a
16k-token context window, at concurrency 8. Rows:

- *first run*: nothing known of the endpoint (no mode in this process or in the cache
  directory): the first part probes the structured-output mode alone;
- *later run*: a new process would start here: the mode found is remembered in the
  cache directory (summarize.model.memory), not in this process;
- *warm*: the same process again; *sequential*: warm at ``concurrency=1`` (the parts
  one after another, as the OpenAI cookbook does).

Reported: wall time in units of L (the rounds of requests that waited for each other;
goal for #27: at most 4, 4.5 s at 1 s), requests, and billed prompt tokens / article
tokens (goal at most 1.25). ``--baseline REV`` runs REV's code in the same run
(bench/baseline.py) and prints both. The cache directory is a temporary one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from baseline import run_against, use_src  # noqa: E402

use_src(sys.argv)
sys.path.insert(1, str(ROOT / "src"))
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="summarize-bench-")

import tiktoken  # noqa: E402
from testkit.fakeserver import FakeServer  # noqa: E402

from chunking import _build, _sentences  # noqa: E402
from summarize import Summarizer  # noqa: E402

try:
    from summarize.model import client as client_module
except ImportError:  # the layout before #31
    from summarize import client as client_module  # type: ignore[no-redef]

ENC = tiktoken.get_encoding("o200k_base")


def article(tokens: int) -> str:
    import random

    rng = random.Random(3)
    sents = _sentences()
    return _build(tokens, lambda: " ".join(rng.choice(sents) for _ in range(rng.randint(1, 6))))


def run_once(server: FakeServer, text: str, window: int, concurrency: int) -> dict[str, Any]:
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


def measure(latency: float, tokens: int, window: int) -> dict[str, Any]:
    text = article(tokens)
    article_tokens = len(ENC.encode_ordinary(text))
    rows: dict[str, dict[str, Any]] = {}
    with FakeServer(latency=latency) as server:
        # Process warm-up (imports, encodings, schemas) under another model name, so
        # that the first run below still has to find the structured-output mode.
        with Summarizer(base_url=server.url, api_key="bench", model="warm-up") as warm:
            warm(text[:2000])
        client_module.forget_modes()
        rows["first run"] = run_once(server, text, window, 8)
        client_module._working_modes.clear()  # what a new process knows: the disk's only
        rows["later run"] = run_once(server, text, window, 8)
        rows["warm"] = run_once(server, text, window, 8)
        rows["sequential (concurrency=1)"] = run_once(server, text, window, 1)
    for row in rows.values():
        row["wall_over_L"] = round(row["wall_s"] / latency, 2)
        row["prompt_over_article"] = round(row["prompt_tokens"] / article_tokens, 3)
    return {"latency_s": latency, "article_tokens": article_tokens, "window": window,
            "runs": rows}  # fmt: skip


def report(result: dict[str, Any], title: str) -> None:
    print(f"\n{title}: article {result['article_tokens']} tokens, window {result['window']}, "
          f"L = {result['latency_s']} s")  # fmt: skip
    for name, row in result["runs"].items():
        print(
            f"  {name:28} wall {row['wall_s']:7.2f} s = {row['wall_over_L']:5.2f} L  "
            f"requests {row['requests']:3}  chunks {row['chunks']:3}  "
            f"prompt tokens {row['prompt_tokens']:7} = {row['prompt_over_article']:.3f} x article"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=1.0, help="L, seconds per request")
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--window", type=int, default=16_384)
    parser.add_argument("--baseline", help="a git revision to measure in the same run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/mapreduce.json")
    parser.add_argument("--src", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)  # rows for bench/baseline.py
    args = parser.parse_args()

    after = measure(args.latency, args.tokens, args.window)
    if args.json:
        Path(args.json).write_text(json.dumps(after), encoding="utf-8")
        return 0
    results = {"after": after}
    if args.baseline:
        flags = ["--latency", str(args.latency), "--tokens", str(args.tokens),
                 "--window", str(args.window)]  # fmt: skip
        results["before"] = run_against(Path(__file__), args.baseline, flags)
        report(results["before"], f"baseline {args.baseline}")
    report(after, "this checkout")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
