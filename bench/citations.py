"""Sentence citations against copied quotes: the same articles, model and engine.

    python bench/citations.py [--baseline REV] [--model GGUF] [--limit N] [--fake]

Runs the 12 sample articles through this checkout (every statement cites sentence
ids) and through ``--baseline`` (default ``8cf0117``, the last commit before them,
where only contested points carried evidence, as copied quotes), checked out with
``git worktree`` under a temporary directory. Both talk to one llama.cpp server
(this checkout's local engine) with the same model, window, answer budget and
structured-output mode, one article at a time. ``--fake`` uses testkit's scripted
fake server instead of a model (seconds, no model file): the current checkout only,
for the traceability figure.

Per run it prints, and writes to ``bench/results/citations.json``:

- traceable statements: summary sentences, key points and contested points that carry
  evidence, over all of them (before: the summary is split into sentences to count), and
  the share of them the library re-cited by their own words;
- completion tokens per brief, and the ratio after / before;
- quotes lost to grounding: quotes dropped or re-asked for not being found;
- re-asks per article.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

QWEN_DEV = Path.home() / ".cache/summarize-dev/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
ARTICLES = ROOT / "fixtures" / "articles"

# Runs inside the checkout under test (its src/ first on sys.path): one JSON line per
# article. It must work with both versions of the library.
WORKER = r"""
import json, re, sys, time
from pathlib import Path
from summarize import Summarizer
from summarize.errors import SummarizeError

options, paths = json.loads(sys.argv[1]), sys.argv[2:]
with Summarizer(**options) as summarizer:
    for path in paths:
        text = Path(path).read_text(encoding="utf-8")
        row = {"article": Path(path).name}
        started = time.monotonic()
        try:
            brief = summarizer(text)
        except SummarizeError as exc:
            usage = exc.usage
            row.update(error=type(exc).__name__,
                       completion_tokens=usage.completion_tokens if usage else 0,
                       attempts=usage.attempts if usage else 0)
        else:
            data = json.loads(brief.model_dump_json())
            key_points = data["key_points"]
            if "summary_sentences" in data:
                summary = data["summary_sentences"]
                cited = sum(bool(s["evidence"]) for s in [*summary, *key_points])
                statements = len(summary) + len(key_points)
            else:  # before: no statement but a contested point carried evidence
                sentences = [s for s in re.split(r"(?<=[.!?])\s+", data["summary"]) if s.strip()]
                cited, statements = 0, len(sentences) + len(key_points)
            points = data["contested_points"]
            warnings = data["meta"]["warnings"]
            row.update(
                statements=statements + len(points),
                cited=cited + sum(bool(p["evidence"]) for p in points),
                contested_points=len(points),
                completion_tokens=data["meta"]["usage"]["completion_tokens"],
                attempts=data["meta"]["usage"]["attempts"],
                quotes_lost=sum("quote not found" in w for w in warnings),
                quote_reasks=sum("re-asked" in w and "quote is not in" in w for w in warnings),
                unsupported=sum("cited but unsupported" in w for w in warnings),
                recited=sum(": re-cited S" in w for w in warnings),
            )
        row["seconds"] = round(time.monotonic() - started, 1)
        print(json.dumps(row), flush=True)
"""


def run_checkout(
    src: Path, options: dict[str, Any], articles: list[Path], label: str
) -> list[dict[str, Any]]:
    """The worker in the checkout ``src``: one row per article."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, "-c", WORKER, json.dumps(options), *map(str, articles)]
    rows = []
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            row = json.loads(line)
            rows.append(row)
            print(json.dumps({"run": label, **row}), flush=True)
    if process.returncode:
        raise SystemExit(f"the {label} run failed ({process.returncode})")
    return rows


def summary_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    done = [r for r in rows if "error" not in r]
    statements = sum(r["statements"] for r in done)
    return {
        "articles": len(rows),
        "lost_to_errors": len(rows) - len(done),
        "traceable_statements": round(sum(r["cited"] for r in done) / max(statements, 1), 3),
        # of which the library re-cited by the statement's own words (the model's
        # citation failed): the rest the model cited right
        "recited_by_the_library": round(
            sum(r.get("recited", 0) for r in done) / max(statements, 1), 3
        ),
        "statements": statements,
        "completion_tokens_median": statistics.median(r["completion_tokens"] for r in rows),
        "completion_tokens_total": sum(r["completion_tokens"] for r in rows),
        "quotes_lost_to_grounding": sum(r.get("quotes_lost", 0) for r in done),
        "reasks_per_article": round(sum(max(r["attempts"] - 1, 0) for r in rows) / len(rows), 2),
        "contested_points": sum(r.get("contested_points", 0) for r in done),
        "cited_but_unsupported": sum(r.get("unsupported", 0) for r in done),
        "seconds_median": statistics.median(r["seconds"] for r in rows),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="8cf0117")
    parser.add_argument("--model", default=str(QWEN_DEV))
    parser.add_argument("--limit", type=int, default=12)
    parser.add_argument("--fake", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "citations.json"))
    args = parser.parse_args()
    articles = sorted(ARTICLES.glob("*.txt"))[: args.limit]
    window = 8192
    if args.fake:
        from testkit.fakeserver import FakeServer

        with FakeServer() as fake:
            options = {"base_url": fake.url, "api_key": "k", "model": "fake"}
            after = run_checkout(ROOT / "src", options, articles, "after")
        result: dict[str, Any] = {"server": "testkit fakeserver", "after": summary_of(after)}
    else:
        from summarize.model.local.server import LocalServer

        with tempfile.TemporaryDirectory() as tmp, LocalServer(
            args.model, context_window=window, slots=1, api_key="bench-key"
        ) as server:  # fmt: skip
            worktree = Path(tmp) / "baseline"
            git = ["git", "-C", str(ROOT), "worktree"]
            subprocess.run([*git, "add", "--detach", str(worktree), args.baseline], check=True)
            # the local engine's own settings, so both runs ask the same of it
            options = {
                "base_url": server.base_url, "api_key": "bench-key", "model": server.model,
                "context_window": window, "max_output_tokens": 1536, "stream": True,
                "structured_output": "json_object+schema", "timeout": 1800,
            }  # fmt: skip
            try:
                before = run_checkout(worktree / "src", options, articles, "before")
                after = run_checkout(ROOT / "src", options, articles, "after")
            finally:
                subprocess.run([*git, "remove", "--force", str(worktree)], check=False)
        b, a = summary_of(before), summary_of(after)
        result = {
            "server": "llama.cpp via xllamacpp (summarize.model.local.engine)",
            "model": Path(args.model).name,
            "baseline": args.baseline,
            "before": b,
            "after": a,
            "completion_tokens_after_over_before": round(
                a["completion_tokens_total"] / max(b["completion_tokens_total"], 1), 2
            ),
            "rows": {"before": before, "after": after},
        }
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    printable = {k: v for k, v in result.items() if k != "rows"}
    print(json.dumps(printable, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
