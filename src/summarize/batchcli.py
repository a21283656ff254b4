"""``summarize`` with several articles: JSON Lines out, resumable, with progress.

Each finished article is one line ``{"id", "result" | "error", "usage", "cost_usd",
"cached"}``, appended with a single ``write`` on an ``O_APPEND`` descriptor and
flushed at once, so a crash or ``kill -9`` loses nothing already written. Running the
same command again skips the ids already in the output; a torn last line (a crash in
the middle of a write) is cut off first.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_PAGE_SUFFIXES = (".txt", ".html", ".htm", ".md", ".text")


def expand(sources: list[str]) -> Iterator[Any]:
    """Input items, lazily: files, directories, globs, URLs and JSON Lines rows."""
    for source in sources:
        if source.lower().startswith(("http://", "https://")):
            yield (source, source)
        elif source.endswith(".jsonl"):
            yield from _jsonl(Path(source))
        elif os.path.isdir(source):
            for path in sorted(Path(source).rglob("*")):
                if path.is_file() and path.suffix.lower() in _PAGE_SUFFIXES:
                    yield path
        elif any(c in source for c in "*?["):
            for name in sorted(glob.glob(source, recursive=True)):
                if os.path.isfile(name):
                    yield Path(name)
        else:
            yield Path(source)


def _jsonl(path: Path) -> Iterator[Any]:
    from summarize.errors import InputError

    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            where = f"{path.name}:{number}"
            if not line.strip():
                yield {"id": where, "error": "an empty line; write one JSON object per line"}
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield {"id": where, "error": f"not JSON ({exc.msg})"}
                continue
            if not isinstance(row, dict):
                yield {"id": where, "error": "not a JSON object"}
                continue
            row.setdefault("id", where)
            if isinstance(row.get("path"), str) and not os.path.isabs(row["path"]):
                row["path"] = str(path.parent / row["path"])
            yield row


def done_ids(output: Path) -> set[str]:
    """Ids already in ``output``; a torn last line is cut off first."""
    if not output.exists():
        return set()
    data = output.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with output.open("r+b") as handle:
            handle.truncate(cut)
        data = data[:cut]
    ids = set()
    for line in data.splitlines():
        try:
            ids.add(str(json.loads(line)["id"]))
        except (ValueError, KeyError, TypeError):
            continue
    return ids


class _Writer:
    """Whole lines, one write each, flushed to an append-only descriptor (or stdout)."""

    def __init__(self, output: Path | None) -> None:
        self._fd = (
            os.open(output, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) if output else None
        )

    def write(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        if self._fd is None:
            sys.stdout.buffer.write(line)
            sys.stdout.buffer.flush()
        else:
            os.write(self._fd, line)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)


def count_items(sources: list[str]) -> int | None:
    """How many items ``expand`` will yield (for a progress bar's total), or None for URLs."""
    total = 0
    for source in sources:
        if source.lower().startswith(("http://", "https://")):
            total += 1
        elif source.endswith(".jsonl"):
            try:
                with open(source, "rb") as handle:
                    total += sum(1 for _ in handle)
            except OSError:
                return None
        else:
            total += sum(1 for _ in expand([source]))
    return total


class _Progress:
    """A tqdm bar on a terminal (done, failed, tokens, cost, rate); silent otherwise."""

    def __init__(self, sources: list[str], already: int) -> None:
        self.live = sys.stderr.isatty()
        self._bar: Any = None
        if self.live:
            from tqdm import tqdm

            total = count_items(sources)
            self._bar = tqdm(
                total=None if total is None else max(0, total - already),
                file=sys.stderr,
                unit="article",
                dynamic_ncols=True,
                smoothing=0.1,
            )

    def update(self, ok: int, failed: int, tokens: int, cost: float) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(
                f"{ok} ok, {failed} failed, {tokens:,} tokens, ${cost:.4f}", refresh=False
            )
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def run_batch(args: argparse.Namespace) -> int:
    """Run the batch the parsed arguments describe; return the exit code."""
    from summarize.batch import BatchError, BatchResult, summarize_many
    from summarize.cli import (
        EXIT_FAILURE,
        EXIT_INTERRUPTED,
        EXIT_OK,
        EXIT_USAGE,
        _fail,
        summarizer_options,
    )
    from summarize.errors import ConfigurationError, InputError, SummarizeError
    from summarize.ratelimit import RateLimiter

    if "-" in args.source:
        return _fail("stdin (-) cannot be part of a batch; pass files or a .jsonl", EXIT_USAGE)
    output = Path(args.output) if args.output else None
    skip = done_ids(output) if output else set()
    already = len(skip)
    writer = _Writer(output)
    progress = _Progress(args.source, already)
    counts = {"ok": 0, "failed": 0, "cached": 0}
    tokens, cost, started = 0, 0.0, time.monotonic()

    def report(final: bool) -> str:
        done = counts["ok"] + counts["failed"]
        rate = done / max(time.monotonic() - started, 1e-9)
        line = (
            f"{done} done ({counts['ok']} ok, {counts['failed']} failed, {counts['cached']} "
            f"cached{f', {already} skipped' if final and already else ''}) · {tokens:,} tokens"
            f" · ${cost:.4f} · {rate:.2f}/s"
        )
        stats = limiter.stats if limiter is not None else None
        if stats is not None and (stats.throttled or stats.waited >= 0.05):
            line += (
                f" · {stats.throttled} rate-limit answer(s) (429), requests held back "
                f"{stats.waited:.1f} s in all"
            )
        return line

    limiter: RateLimiter | None = None
    try:
        options = summarizer_options(args)
        limiter = RateLimiter(options.pop("requests_per_minute"), options.pop("tokens_per_minute"))
        results = summarize_many(
            _screen(expand(args.source), writer, counts, skip),
            concurrency=args.concurrency,
            cache=not args.no_cache,
            max_cost=args.max_cost,
            skip=skip,
            rate_limiter=limiter,
            # --concurrency is articles in flight; parts of one article keep the default
            **{k: v for k, v in options.items() if k != "concurrency"},
        )
        for result in results:
            assert isinstance(result, BatchResult)
            record: dict[str, Any] = {"id": result.id}
            if result.result is not None:
                record["result"] = result.result.model_dump(mode="json")
                counts["ok"] += 1
            else:
                error = result.error or BatchError(type="SummarizeError", message="unknown")
                record["error"] = error.model_dump()
                counts["failed"] += 1
            counts["cached"] += result.cached
            record["usage"] = result.usage.model_dump()
            record["cost_usd"] = result.cost_usd
            record["cached"] = result.cached
            writer.write(record)
            tokens += result.usage.total_tokens
            cost += result.cost_usd or 0.0
            progress.update(counts["ok"], counts["failed"], tokens, cost)
    except (InputError, ConfigurationError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except SummarizeError as exc:
        return _fail(f"{type(exc).__name__}: {exc}", EXIT_FAILURE)
    except KeyboardInterrupt:
        progress.close()
        print("summarize: interrupted; " + report(True), file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        progress.close()
        writer.close()
    if counts["ok"] + counts["failed"] == 0 and not already:
        return _fail(f"no articles found in {' '.join(args.source)}", EXIT_USAGE)
    stopped = ""
    if args.max_cost is not None and cost >= args.max_cost:
        stopped = f"; stopped starting new articles at the --max-cost of ${args.max_cost:g}"
    print("summarize: " + report(True) + stopped, file=sys.stderr)
    return EXIT_OK if counts["failed"] == 0 else EXIT_FAILURE


def _screen(
    items: Iterator[Any], writer: _Writer, counts: dict[str, int], skip: set[str]
) -> Iterator[Any]:
    """Write unusable input rows as errors straight away (once); pass the rest on."""
    from summarize.schema import Usage

    for item in items:
        if isinstance(item, dict) and "error" in item:
            if str(item["id"]) not in skip:
                skip.add(str(item["id"]))
                error = {"type": "InputError", "message": item["error"]}
                usage = Usage().model_dump()
                writer.write(
                    {
                        "id": item["id"],
                        "error": error,
                        "usage": usage,
                        "cost_usd": 0.0,
                        "cached": False,
                    }
                )
                counts["failed"] += 1
            continue
        yield item


def batch_command(argv: list[str]) -> int:
    """``summarize batch submit|status|collect``: the OpenAI Batch API (half price)."""
    from summarize.cli import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, _fail
    from summarize.cli import build_parser as main_parser
    from summarize.errors import ConfigurationError, InputError, SummarizeError

    parser = argparse.ArgumentParser(
        prog="summarize batch",
        description="Summarise many articles through the OpenAI Batch API: half the price, "
        "results within 24 hours. 'submit' sends the job, 'status' shows it, 'collect' "
        "writes finished articles and sends the next phase (merges of long articles' "
        "parts, re-asks, retries). Exit codes of collect: 0 all written, 3 more to come, "
        "1 some articles failed, 2 usage.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    submit = commands.add_parser(
        "submit", parents=[main_parser()], add_help=False, conflict_handler="resolve",
        help="make a job from files, a directory, a glob or a .jsonl file, and send it",
    )  # fmt: skip
    submit.add_argument("--state-dir", help="where jobs are kept (default: the user cache dir)")
    for name, what in (
        ("status", "show a job's phase and its batches' progress"),
        ("collect", "write finished articles; send the next phase if one is needed"),
    ):
        sub = commands.add_parser(name, help=what, description=what)
        sub.add_argument("job", help="the job id that submit printed (or one of its batch ids)")
        sub.add_argument("--state-dir", help="where jobs are kept (default: the user cache dir)")
    collect = commands.choices["collect"]
    collect.add_argument("--output", "-o", required=True, help="JSON Lines file to append to")
    collect.add_argument(
        "--wait",
        action="store_true",
        help="poll, collect and send phases until the whole job is finished",
    )
    collect.add_argument("--poll", type=float, default=30.0, help="seconds between polls")
    collect.add_argument(
        "--online",
        action="store_true",
        help="send the requests still needed (merges, re-asks, retries) online now, at the "
        "standard price, instead of in another batch",
    )
    args = parser.parse_args(argv)

    from summarize import batchapi

    try:
        if args.command == "submit":
            from summarize.cli import summarizer_options

            options = {
                k: v
                for k, v in summarizer_options(args).items()
                if v is not None and k in batchapi._KEPT
            }
            # passed on only when set, for submit_batch to refuse them
            options.update({k: v for k in ("local", "local_model") if (v := getattr(args, k))})
            job = batchapi.submit_batch(
                expand(args.source), state_dir=args.state_dir, cache=not args.no_cache, **options
            )
            status = job.status()
            requests = sum(b["requests"] for b in status.batches)
            print(job.id)
            print(
                f"summarize: job {job.id}: {status.articles} article(s), {requests} request(s) "
                f"in batch {', '.join(b['id'] for b in status.batches) or '(none needed)'}; "
                f"state in {job.directory}. Next: summarize batch collect {job.id} -o OUT.jsonl",
                file=sys.stderr,
            )
            return EXIT_OK
        if args.command == "status":
            status = batchapi.batch_status(args.job, state_dir=args.state_dir)
            print(_describe(status))
            return EXIT_OK
        return _collect(args, batchapi)
    except (InputError, ConfigurationError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except SummarizeError as exc:
        return _fail(f"{type(exc).__name__}: {exc}", EXIT_FAILURE)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)


EXIT_PENDING = 3


def _describe(status: Any) -> str:
    lines = [
        f"job {status.job}: {status.articles} article(s), phase {status.phase}"
        + (", finished" if status.finished else "")
    ]
    for batch in status.batches:
        counts = batch.get("counts") or {}
        done = f" ({counts.get('completed', 0)}/{counts.get('total', 0)} done, " \
            f"{counts.get('failed', 0)} failed)" if counts else ""  # fmt: skip
        lines.append(
            f"  phase {batch['phase']}: {batch['id']} {batch['status']}{done}, "
            f"{batch['requests']} request(s)"
        )
        lines += [f"    {error}" for error in batch.get("errors", [])[:5]]
    return "\n".join(lines)


def _collect(args: argparse.Namespace, batchapi: Any) -> int:
    while True:
        code = _collect_once(args, batchapi)
        if code != EXIT_PENDING or not args.wait:
            return code


def _collect_once(args: argparse.Namespace, batchapi: Any) -> int:
    from summarize.cli import EXIT_FAILURE, EXIT_OK

    output = Path(args.output)
    skip = done_ids(output)
    writer: _Writer | None = None  # opened on the first result
    tally = {"failed": 0}
    cost = 0.0

    def write(result: Any) -> None:
        nonlocal cost, writer
        if writer is None:
            writer = _Writer(output)
        record: dict[str, Any] = {"id": result.id}
        if result.result is not None:
            record["result"] = result.result.model_dump(mode="json")
        else:
            record["error"] = result.error.model_dump() if result.error else None
            tally["failed"] += 1
        record["usage"] = result.usage.model_dump()
        record["cost_usd"] = result.cost_usd
        record["cached"] = False
        writer.write(record)  # as each article finishes: a crash loses none written
        cost += result.cost_usd or 0.0

    try:
        report = batchapi.collect_batch(
            args.job, state_dir=args.state_dir, online=args.online, wait=args.wait,
            poll=args.poll, skip=skip, on_result=write,
        )  # fmt: skip
    finally:
        if writer is not None:
            writer.close()
    if report.waiting < 0:
        print(_describe(report.status), file=sys.stderr)
        print(
            f"summarize: phase {report.status.phase} has not ended; run collect again later "
            "(or add --wait)",
            file=sys.stderr,
        )
        return EXIT_PENDING
    written, failed = report.finished, tally["failed"]
    line = (
        f"summarize: job {report.status.job}: wrote {written} article(s) ({failed} failed, "
        f"${cost:.4f} at batch prices) to {output}"
    )
    if report.next_batches:
        requests = sum(b["requests"] for b in report.next_batches)
        print(
            f"{line}; {report.waiting} article(s) need more: sent phase "
            f"{report.status.phase} ({requests} request(s), batch "
            f"{', '.join(b['id'] for b in report.next_batches)}). Run collect again later.",
            file=sys.stderr,
        )
        return EXIT_PENDING
    print(f"{line}; the job is finished.", file=sys.stderr)
    return EXIT_FAILURE if failed else EXIT_OK
