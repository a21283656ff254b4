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
from typing import TYPE_CHECKING, Any

from summarize.cli.common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    fail,
    guarded,
    summarizer_options,
)

if TYPE_CHECKING:
    from summarize.many.live import BatchResult
    from summarize.model.ratelimit import RateLimiter

_PAGE_SUFFIXES = (".txt", ".html", ".htm", ".md", ".text")


def expand(sources: list[str], *, allow_outside: bool = False) -> Iterator[Any]:
    """Input items, lazily: files, directories, globs, URLs and JSON Lines rows.

    A batch reads only inside its own folders: a file of a directory (a symlink
    included) must resolve inside that directory, and a JSON Lines row's ``"path"``
    inside the JSONL's folder (relative paths are read from there), unless
    ``allow_outside`` (``--allow-outside-paths``); a row or file that leaves it is an
    error line of its own."""
    for source in sources:
        if source.lower().startswith(("http://", "https://")):
            yield (source, source)
        elif source.endswith(".jsonl"):
            yield from _jsonl(Path(source), allow_outside)
        elif os.path.isdir(source):
            root = Path(source).resolve()
            for path in sorted(Path(source).rglob("*")):
                # not is_file(): a FIFO or device named like an article is read, and
                # refused with an error line of its own, instead of vanishing
                if not path.is_dir() and path.suffix.lower() in _PAGE_SUFFIXES:
                    outside = None if allow_outside else _outside(path, root)
                    yield path if outside is None else {"id": str(path), "error": outside}
        elif any(c in source for c in "*?["):
            for name in sorted(glob.glob(source, recursive=True)):
                if not os.path.isdir(name):
                    yield Path(name)
        else:
            yield Path(source)


def outside_ok(args: argparse.Namespace) -> bool:
    """Whether ``--allow-outside-paths`` was given."""
    return bool(getattr(args, "allow_outside_paths", False))


def _outside(path: Path, root: Path) -> str | None:
    """Why ``path`` is not read (it resolves outside ``root``), or None."""
    try:
        real = path.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        return f"cannot be resolved ({exc}); not read"
    if real == root or root in real.parents:
        return None
    return (
        f"leads outside {root} (to {real}); a batch reads only inside its own folder: "
        "pass --allow-outside-paths to read it anyway"
    )


def _jsonl(path: Path, allow_outside: bool = False) -> Iterator[Any]:
    from summarize.errors import InputError

    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    root = path.parent.resolve()
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
            if not isinstance(row["id"], (str, int)) or isinstance(row["id"], bool):
                yield {
                    "id": where,
                    "error": f"'id' must be a string or a number, not {row['id']!r:.40}",
                }
                continue
            if "path" in row and not isinstance(row["path"], str):
                kind = type(row["path"]).__name__
                yield {"id": row["id"], "error": f"'path' must be a string, not {kind}"}
                continue
            if isinstance(row.get("path"), str):
                target = Path(row["path"])
                target = target if target.is_absolute() else path.parent / target
                outside = None if allow_outside else _outside(target, root)
                if outside is not None:
                    yield {"id": row["id"], "error": f"'path' {row['path']!r:.80} {outside}"}
                    continue
                row["path"] = str(target)
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


class OutputLock:
    """An exclusive lock on an output file (``OUTPUT.lock`` beside it, holding the
    holder's pid), so that two runs on one output never brief the same ids twice: the
    second waits for the first, then skips what it wrote."""

    def __init__(self, output: Path) -> None:
        self.path = output.with_name(output.name + ".lock")
        self.holder = "unknown"
        self._fd: int | None = None

    def take(self, *, wait: bool) -> bool:
        """Take the lock (waiting for it, if ``wait``); False if it is held and not waited for."""
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            if not wait:
                os.close(fd)
                return False
            print(
                f"summarize: waiting for the run writing {self.path.name[:-5]} (pid "
                f"{self.holder}) to finish",
                file=sys.stderr,
            )
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing drops the lock
            self._fd = None


class Writer:
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


class Progress:
    """A tqdm bar on a terminal (done, failed, tokens, cost, rate); silent otherwise."""

    def __init__(self, sources: list[str], already: int) -> None:
        self.live = sys.stderr.isatty()
        self._bar: Any = None
        if self.live:
            from tqdm import tqdm

            from summarize.cli.status import bar_width

            total = count_items(sources)
            self._bar = tqdm(
                total=None if total is None else max(0, total - already),
                file=sys.stderr,
                unit="article",
                smoothing=0.1,
                **bar_width(sys.stderr),
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
    if "-" in args.source:
        return fail("stdin (-) cannot be part of a batch; pass files or a .jsonl", EXIT_USAGE)
    output = Path(args.output) if args.output else None
    lock = OutputLock(output) if output else None
    if lock is not None and not lock.take(wait=not getattr(args, "no_wait", False)):
        return fail(
            f"{output} is being written by another summarize run (pid {lock.holder}); "
            "wait for it (run again without --no-wait), or write to another file",
            EXIT_USAGE,
        )
    skip = done_ids(output) if output else set()  # read under the lock: nothing twice
    tally = Tally(already=len(skip))
    writer = Writer(output)
    progress = Progress(args.source, tally.already)

    def action() -> int:
        try:
            _write_results(args, writer, progress, tally, skip)
        except KeyboardInterrupt:
            progress.close()
            return fail("interrupted; " + tally.report(True), EXIT_INTERRUPTED)
        finally:
            progress.close()
            writer.close()
            if lock is not None:
                lock.release()
        if tally.done == 0 and not tally.already:
            return fail(f"no articles found in {' '.join(args.source)}", EXIT_USAGE)
        stopped = ""
        if args.max_cost is not None and tally.cost >= args.max_cost:
            stopped = f"; stopped starting new articles at the --max-cost of ${args.max_cost:g}"
        print("summarize: " + tally.report(True) + stopped, file=sys.stderr)
        return EXIT_OK if tally.failed == 0 else EXIT_FAILURE

    return guarded(action)


def _write_results(
    args: argparse.Namespace, writer: Writer, progress: Progress, tally: Tally, skip: set[str]
) -> None:
    from summarize.many.live import summarize_many
    from summarize.model.ratelimit import RateLimiter

    options = summarizer_options(args)
    tally.limiter = RateLimiter(
        options.pop("requests_per_minute"), options.pop("tokens_per_minute")
    )
    results = summarize_many(
        _screen(expand(args.source, allow_outside=outside_ok(args)), writer, tally, skip),
        concurrency=args.concurrency,
        cache=not args.no_cache,
        max_cost=args.max_cost,
        skip=skip,
        rate_limiter=tally.limiter,
        # --concurrency is articles in flight; parts of one article keep the default
        **{k: v for k, v in options.items() if k != "concurrency"},
    )
    for result in results:
        writer.write(result.record())
        tally.add(result)
        progress.update(tally.ok, tally.failed, tally.tokens, tally.cost)


class Tally:
    """A batch run's counts, tokens and cost, and the line that reports them."""

    def __init__(self, already: int) -> None:
        self.already = already
        self.ok = self.failed = self.cached = self.tokens = self.unpriced = 0
        self.cost = 0.0
        self.started = time.monotonic()
        self.limiter: RateLimiter | None = None

    @property
    def done(self) -> int:
        return self.ok + self.failed

    def add(self, result: BatchResult) -> None:
        if result.result is not None:
            self.ok += 1
        else:
            self.failed += 1
        self.cached += result.cached
        self.tokens += result.usage.total_tokens
        self.cost += result.cost_usd or 0.0
        self.unpriced += result.cost_usd is None and result.usage.requests > 0

    def report(self, final: bool) -> str:
        rate = self.done / max(time.monotonic() - self.started, 1e-9)
        skipped = f", {self.already} skipped" if final and self.already else ""
        cost = f"${self.cost:.4f}"
        if self.unpriced:
            cost = "cost unknown (no price for this endpoint: --price-in, --price-out)"
        line = (
            f"{self.done} done ({self.ok} ok, {self.failed} failed, {self.cached} "
            f"cached{skipped}) · {self.tokens:,} tokens · {cost} · {rate:.2f}/s"
        )
        stats = self.limiter.stats if self.limiter is not None else None
        if stats is not None and (stats.throttled or stats.waited >= 0.05):
            line += (
                f" · {stats.throttled} rate-limit answer(s) (429), requests held back "
                f"{stats.waited:.1f} s in all"
            )
        return line


def _screen(items: Iterator[Any], writer: Writer, tally: Tally, skip: set[str]) -> Iterator[Any]:
    """Write unusable input rows as errors straight away (once); pass the rest on."""
    from summarize.errors import InputError
    from summarize.many.live import BatchResult

    for item in items:
        if isinstance(item, dict) and "error" in item:
            if str(item["id"]) not in skip:
                skip.add(str(item["id"]))
                result = BatchResult.failed(item["id"], InputError(item["error"]), 0.0)
                writer.write(result.record())
                tally.add(result)
            continue
        yield item
