"""The library's own CPU per article, by stage, against a model that answers at once.

    python bench/overhead.py [--repeat 5] [--baseline REV]

Each of the 12 sample articles (fixtures/articles/*.txt), and a news-like article of
about 100k tokens made from them, is briefed with ``asummarize`` through the openai
SDK against the scripted fake model (testkit/fakemodel.py) behind httpx's
MockTransport: no sockets, no latency. What the run costs in CPU (``process_time``)
less what the fake model took to answer and what the SDK itself spends on the same
requests (measured by sending the recorded request bodies again through a bare
``AsyncOpenAI`` client) is the library's own CPU. Stages (read, index, prompt, parse,
cite, checks, assemble; the rest is "other") are timed exclusively by wrappers
around the functions that do them. The median of ``--repeat`` runs per article, after
one warm-up run, is reported.

Targets (issue #27): at most 10 ms per sample article, all stages together; the checks
of the 100k-token article in at most 0.2 s. ``--baseline REV`` measures REV's code in
the same run (bench/baseline.py) and prints the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from baseline import run_against, use_src  # noqa: E402

use_src(sys.argv)
sys.path.insert(1, str(ROOT / "src"))

import httpx2  # noqa: E402
import openai  # noqa: E402
from testkit import fakemodel  # noqa: E402
from testkit.replaying import REPLAY_URL  # noqa: E402

from summarize import asummarize  # noqa: E402

ARTICLES = sorted((ROOT / "fixtures" / "articles").glob("*.txt"))
LONG_CHARS = 440_000  # about 100k tokens of news text (o200k_base)
WINDOW = 16_384
# stage -> the functions that do it, as (module, attribute); either layout's names
STAGES: dict[str, list[str]] = {
    "read": [
        "summarize.source.article:checked",  # after #31: achecked calls it
        "summarize.pipeline.summarizer:checked",
        "summarize.pipeline.summarizer:Summarizer.read",
        "summarize.pipeline.summarizer:check_article",
        "summarize.pipeline:Summarizer.read",
        "summarize.pipeline:check_article",
    ],
    "index": [
        "summarize.text.sentences:SentenceIndex.__init__",
        "summarize.sentences:SentenceIndex.__init__",
    ],
    "prompt": [
        *(
            f"summarize.request.prompts:{name}"
            for name in ("brief", "part", "merge", "disputes", "comparison", "reask")
        ),
        "summarize.sentences:SentenceIndex.render",
        "summarize.text.sentences:SentenceIndex.render",
    ],
    "parse": [
        "summarize.answer.checking:parse_draft",
        "summarize.answer.checking:parse_as",
        "summarize.brief:parse_draft",
        "summarize.mapreduce:parse_as",
        "summarize.disputes:parse_as",
    ],
    "cite": [
        "summarize.answer.checking:cite_statements",
        "summarize.answer.checking:cite_points",
        "summarize.brief:cite_statements",
        "summarize.brief:cite_points",
        "summarize.mapreduce:cite_statements",
        "summarize.disputes:cite_points",
    ],
    "checks": [
        "summarize.answer.neutrality:run_checks",
        "summarize.answer.neutrality:cue_sentences",
        "summarize.text.cues:find_cues",
        "summarize.checks:run_checks",
        "summarize.run:cue_sentences",
    ],
    "assemble": [
        "summarize.pipeline.single:assemble",
        "summarize.pipeline.mapreduce:assemble",
        "summarize.brief:assemble",
        "summarize.mapreduce:assemble",
    ],
}


class Stopwatch:
    """Exclusive CPU time per stage: a stage entered inside another pauses it."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self._stack: list[tuple[str, float]] = []

    def wrap(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            now = time.process_time()
            if self._stack:
                outer, since = self._stack[-1]
                self.spent[outer] += now - since
            self._stack.append((stage, now))
            try:
                return function(*args, **kwargs)
            finally:
                inner, since = self._stack.pop()
                now = time.process_time()
                self.spent[inner] += now - since
                if self._stack:
                    self._stack[-1] = (self._stack[-1][0], now)

        return timed

    def install(self) -> list[str]:
        """Wrap every stage function that exists in this layout; the ones wrapped."""
        found = []
        for stage, targets in STAGES.items():
            for target in targets:
                module_name, _, attribute = target.partition(":")
                try:
                    owner: Any = importlib.import_module(module_name)
                except ImportError:
                    continue
                *path, name = attribute.split(".")
                for part in path:
                    owner = getattr(owner, part, None)
                if owner is None or not hasattr(owner, name):
                    continue
                setattr(owner, name, self.wrap(stage, getattr(owner, name)))
                found.append(target)
        return found


def long_article() -> str:
    rng = random.Random(27)
    paragraphs = [
        p for path in ARTICLES for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()
    ]
    out: list[str] = []
    size = 0
    while size < LONG_CHARS:
        paragraph = rng.choice(paragraphs)
        out.append(paragraph)
        size += len(paragraph) + 2
    return "\n\n".join(out)


class Model:
    """The fake model behind a MockTransport, timing itself and keeping the bodies."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        started = time.process_time()
        body = json.loads(request.content)
        self.bodies.append(body)
        answer = httpx2.Response(200, json=fakemodel.completion(body))
        self.cpu += time.process_time() - started
        return answer

    def client(self) -> openai.AsyncOpenAI:
        transport = httpx2.MockTransport(self)
        return openai.AsyncOpenAI(
            base_url=REPLAY_URL,
            api_key="sk-bench",
            http_client=httpx2.AsyncClient(transport=transport),
        )


async def sdk_cost(bodies: list[dict[str, Any]]) -> float:
    """The SDK's own CPU for sending ``bodies`` and parsing the answers."""
    model = Model()
    client = model.client()
    started = time.process_time()
    for body in bodies:
        kwargs = {k: v for k, v in body.items() if k not in ("response_format", "stream_options")}
        extra = {k: body[k] for k in ("response_format",) if k in body}
        await client.chat.completions.with_raw_response.create(**kwargs, extra_body=extra or None)
    spent = time.process_time() - started - model.cpu
    await client.close()
    return spent


async def one_brief(text: str, watch: Stopwatch) -> dict[str, float]:
    """Our own CPU (seconds) for one brief of ``text``, and per stage."""
    model = Model()
    client = model.client()
    watch.spent.clear()
    started = time.process_time()
    await asummarize(text, client=client, model="gpt-4o-mini", context_window=WINDOW)
    total = time.process_time() - started - model.cpu
    await client.close()
    ours = total - await sdk_cost(model.bodies)
    stages = dict(watch.spent)
    stages["other"] = max(0.0, ours - sum(stages.values()))
    return {"ours": ours, "requests": float(len(model.bodies)), **stages}


def measure(repeat: int) -> dict[str, Any]:
    watch = Stopwatch()
    wrapped = watch.install()
    texts = {path.stem: path.read_text(encoding="utf-8") for path in ARTICLES}

    async def run() -> dict[str, Any]:
        for text in texts.values():  # warm-up: imports, encodings, schemas, lexicons
            await one_brief(text, watch)
        per_article: dict[str, dict[str, float]] = {}
        for name, text in texts.items():
            runs = [await one_brief(text, watch) for _ in range(repeat)]
            per_article[name] = {
                key: statistics.median(r.get(key, 0.0) for r in runs) for key in runs[0]
            }
        long = await one_brief(long_article(), watch)
        return {"articles": per_article, "long": long, "wrapped": wrapped}

    return asyncio.run(run())


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def report(rows: dict[str, Any], label: str) -> dict[str, float]:
    articles = rows["articles"]
    stages = [s for s in (*STAGES, "other") if any(s in r for r in articles.values())]
    print(f"\n{label}: our own CPU, ms per article (median of the runs)")
    print(f"{'article':22}{'ours':>8}" + "".join(f"{s:>9}" for s in stages))
    for name, row in articles.items():
        print(f"{name:22}{ms(row['ours'])}" + "".join(ms(row.get(s, 0.0)) for s in stages))
    mean = statistics.mean(r["ours"] for r in articles.values())
    worst = max(r["ours"] for r in articles.values())
    long = rows["long"]
    print(f"{'mean':22}{ms(mean)}; worst {ms(worst).strip()} ms (target: at most 10 ms)")
    print(
        f"100k-token article: ours {long['ours']:.2f} s, checks {long.get('checks', 0.0):.3f} s "
        f"(target: at most 0.2 s), {int(long['requests'])} requests"
    )
    return {"mean_ms": mean * 1000, "worst_ms": worst * 1000, "long_s": long["ours"],
            "long_checks_s": long.get("checks", 0.0)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", help="a git revision to measure in the same run")
    parser.add_argument("--src", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/overhead.json")
    args = parser.parse_args()
    rows = measure(args.repeat)
    if args.json:
        args.json.write_text(json.dumps(rows), encoding="utf-8")
        return 0
    results = {"after": report(rows, "this checkout")}
    if args.baseline:
        before = run_against(Path(__file__), args.baseline, ["--repeat", str(args.repeat)])
        results["before"] = report(before, f"baseline {args.baseline}")
        print("\nratios, baseline / this checkout:")
        for key, value in results["after"].items():
            print(f"  {key:14} {results['before'][key] / max(value, 1e-9):7.1f}x")
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
