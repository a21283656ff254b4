"""``summarize batch submit|status|collect|cancel``: the OpenAI Batch API (half price)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from summarize.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_PENDING,
    build_parser,
    guarded,
    summarizer_options,
)
from summarize.cli.many import Writer, done_ids, expand, outside_ok

if TYPE_CHECKING:
    from summarize.many.batchapi import BatchStatus
    from summarize.many.live import BatchResult


def batch_command(argv: list[str]) -> int:
    """``summarize batch submit|status|collect|cancel``."""
    args = _parser().parse_args(argv)

    def action() -> int:
        from summarize.many import batchapi

        if args.command == "submit":
            return _submit(args)
        if args.command == "status":
            print(describe(batchapi.batch_status(args.job, state_dir=args.state_dir)))
            return EXIT_OK
        if args.command == "cancel":
            print(describe(batchapi.cancel_batch(args.job, state_dir=args.state_dir)))
            print(
                f"summarize: job {args.job} is cancelled: nothing more is sent; collect it "
                "to keep what was answered",
                file=sys.stderr,
            )
            return EXIT_OK
        while True:
            code = _collect_once(args)
            if code != EXIT_PENDING or not args.wait:
                return code

    return guarded(action)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="summarize batch",
        description="Summarise many articles through the OpenAI Batch API: half the price, "
        "results within 24 hours. 'submit' sends the job, 'status' shows it, 'collect' "
        "writes finished articles and sends the next phase (merges of long articles' "
        "parts, re-asks, retries), 'cancel' stops it. Exit codes of collect: 0 all "
        "written, 3 more to come, 1 some articles failed, 2 usage.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    submit = commands.add_parser(
        "submit", parents=[build_parser()], add_help=False, conflict_handler="resolve",
        help="make a job from files, a directory, a glob or a .jsonl file, and send it",
    )  # fmt: skip
    submit.add_argument("--state-dir", help="where jobs are kept (default: the user cache dir)")
    submit.add_argument(
        "--batch-tokens",
        type=int,
        help="at most this many prompt tokens enqueued at once (the model's batch queue "
        "limit); halved by itself after a batch fails with token_limit_exceeded",
    )
    for name, what in (
        ("status", "show a job's phase and its batches' progress"),
        ("collect", "write finished articles; send the next phase if one is needed"),
        ("cancel", "cancel a job's running batches; nothing of it is sent again"),
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
    return parser


def _submit(args: argparse.Namespace) -> int:
    from summarize.many import batchapi
    from summarize.options import BATCH_KEPT

    options = {
        k: v for k, v in summarizer_options(args).items() if v is not None and k in BATCH_KEPT
    }
    # passed on only when set, for submit_batch to refuse them
    options.update({k: v for k in ("local", "local_model") if (v := getattr(args, k))})
    job = batchapi.submit_batch(
        expand(args.source, allow_outside=outside_ok(args)), state_dir=args.state_dir,
        cache=not args.no_cache,
        batch_tokens=args.batch_tokens, **options,
    )  # fmt: skip
    status = job.status()
    requests = sum(b["requests"] for b in status.batches)
    print(job.id)
    print(
        f"summarize: job {job.id}: {status.articles} article(s), {requests} request(s) "
        f"in batch {', '.join(b['id'] or 'queued' for b in status.batches) or '(none needed)'}; "
        f"state in {job.directory}. Next: summarize batch collect {job.id} -o OUT.jsonl",
        file=sys.stderr,
    )
    return EXIT_OK


def describe(status: BatchStatus) -> str:
    lines = [
        f"job {status.job}: {status.articles} article(s), phase {status.phase}"
        + (", cancelled" if status.cancelled else "")
        + (", finished" if status.finished else "")
    ]
    for batch in status.batches:
        counts = batch.get("counts") or {}
        done = f" ({counts.get('completed', 0)}/{counts.get('total', 0)} done, " \
            f"{counts.get('failed', 0)} failed)" if counts else ""  # fmt: skip
        lines.append(
            f"  phase {batch['phase']}: {batch['id'] or batch['file']} {batch['status']}{done}, "
            f"{batch['requests']} request(s)"
        )
        lines += [f"    {error}" for error in batch.get("errors", [])[:5]]
    return "\n".join(lines)


def _collect_once(args: argparse.Namespace) -> int:
    from summarize.many import batchapi

    output = Path(args.output)
    writer: Writer | None = None  # opened on the first result
    tally = {"failed": 0}
    cost = 0.0

    def write(result: BatchResult) -> None:
        nonlocal cost, writer
        if writer is None:
            writer = Writer(output)
        writer.write(result.record())  # as each article finishes: a crash loses none written
        tally["failed"] += result.result is None
        cost += result.cost_usd or 0.0

    try:
        report = batchapi.collect_batch(
            args.job, state_dir=args.state_dir, online=args.online, wait=args.wait,
            poll=args.poll, skip=done_ids(output), on_result=write,
        )  # fmt: skip
    finally:
        if writer is not None:
            writer.close()
    if report.waiting < 0:
        print(describe(report.status), file=sys.stderr)
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
            f"{', '.join(b['id'] or 'queued' for b in report.next_batches)}). Run collect "
            "again later.",
            file=sys.stderr,
        )
        return EXIT_PENDING
    print(f"{line}; the job is finished.", file=sys.stderr)
    return EXIT_FAILURE if failed else EXIT_OK
