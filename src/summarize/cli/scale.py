"""``summarize many INPUT -o OUTPUT [--engine local|ray|spark]``: a batch on an engine.

``--engine local`` (the default) is the batch of ``summarize a.txt b.txt -o out.jsonl``
(``summarize.cli.many``). ``ray`` and ``spark`` read INPUT (JSON Lines or Parquet: a
file or a folder of them) as the engine's dataset, brief it with ``summarize.ray`` or
``summarize.spark`` and write OUTPUT: one JSON Lines file (``.jsonl``, gathered on the
driver) or, for anything else, a folder of Parquet files written by the workers. An
OUTPUT that exists already is resumed: its briefed rows are kept, the others briefed,
and the whole written again in its place. ``--ray-address`` / ``--spark-master`` name
a cluster; without them a local engine is started on this machine's cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from summarize.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, build_parser, fail, guarded
from summarize.cli.common import summarizer_options as options_of


def many_parser() -> argparse.ArgumentParser:
    parser = build_parser()
    parser.prog = "summarize many"
    parser.description = "Brief many articles: here, or on a Ray or Spark cluster."
    engines = parser.add_argument_group("engines (past one machine)")
    engines.add_argument("--engine", choices=("local", "ray", "spark"), default="local",
                         help="where the briefs run (default: local, this process)")  # fmt: skip
    engines.add_argument("--ray-address", help="a Ray cluster, e.g. ray://head:10001 "
                         "(default: start Ray on this machine)")  # fmt: skip
    engines.add_argument("--spark-master", help="a Spark master, e.g. spark://head:7077 "
                         "(default: local[N], N this machine's cores)")  # fmt: skip
    engines.add_argument("--workers", type=int, default=2,
                         help="Ray actors or Spark partitions at once (default 2)")  # fmt: skip
    engines.add_argument("--batch-size", type=int, default=16,
                         help="rows a worker is handed at once (default 16)")  # fmt: skip
    engines.add_argument("--in-flight", type=int, default=8,
                         help="of them, briefed at once by one worker (default 8)")  # fmt: skip
    engines.add_argument("--cache-path", help="a brief cache all workers reach (default: "
                         "none on an engine; --no-cache for the local engine)")  # fmt: skip
    return parser


def many_command(argv: list[str]) -> int:
    args = many_parser().parse_args(argv)
    if args.engine == "local":
        from summarize.cli.many import run_batch

        return run_batch(args)
    if len(args.source) != 1 or not args.output:
        return fail(
            f"--engine {args.engine} reads one INPUT (a .jsonl or .parquet file or folder) "
            "and needs -o OUTPUT (.jsonl, or a folder for Parquet)",
            EXIT_USAGE,
        )
    source = Path(args.source[0])
    if not source.exists():
        return fail(f"{source}: no such file or folder", EXIT_USAGE)
    return guarded(lambda: _run(args, source, Path(args.output)))


def _run(args: argparse.Namespace, source: Path, output: Path) -> int:
    options = {k: v for k, v in options_of(args).items() if v is not None}
    options.pop("concurrency", None)  # the engines' workers and batches say how many
    options["cache"] = args.cache_path or False
    resume = output if output.exists() else None
    fresh = output.with_name(f".{output.name}.new")  # written whole, then put in place
    if args.engine == "ray":
        rows = _on_ray(args, source, fresh, resume, options)
    else:
        rows = _on_spark(args, source, fresh, resume, options)
    if output.is_dir():
        shutil.rmtree(output)
    os.replace(fresh, output)
    failed = sum(1 for row in rows if row.get("error_type"))
    requests = sum(int(row.get("requests") or 0) for row in rows)
    print(f"summarize: {len(rows)} rows, {failed} failed, {requests} requests; wrote {output}",
          file=sys.stderr)  # fmt: skip
    return EXIT_OK if failed == 0 else EXIT_FAILURE


def _on_ray(args: argparse.Namespace, source: Path, fresh: Path, resume: Path | None,
            options: dict[str, Any]) -> list[dict[str, Any]]:  # fmt: skip
    import ray

    from summarize.many.mapper import file_format
    from summarize.many.ray_data import summarize_dataset

    if not ray.is_initialized():
        ray.init(address=args.ray_address, include_dashboard=False, log_to_driver=False)
    read = ray.data.read_parquet if file_format(source) == "parquet" else ray.data.read_json
    out = summarize_dataset(read(str(source)), concurrency=args.workers, num_cpus=0.5,
                            batch_size=args.batch_size, in_flight=args.in_flight,
                            resume_from=resume, **options)  # fmt: skip
    if args.output.endswith(".jsonl"):
        rows = list(out.iter_rows())
        _write_jsonl(fresh, rows)
        return rows
    out = out.materialize()
    out.write_parquet(str(fresh))
    return list(out.select_columns(["error_type", "requests"]).iter_rows())


def _on_spark(args: argparse.Namespace, source: Path, fresh: Path, resume: Path | None,
              options: dict[str, Any]) -> list[dict[str, Any]]:  # fmt: skip
    from pyspark.sql import SparkSession

    from summarize.many.mapper import file_format
    from summarize.many.spark_frames import summarize_dataframe

    master = args.spark_master or f"local[{os.cpu_count() or 2}]"
    spark = SparkSession.builder.master(master).appName("summarize").getOrCreate()
    reader = spark.read
    df = (
        reader.parquet(str(source))
        if file_format(source) == "parquet"
        else reader.json(str(source))
    )
    out = summarize_dataframe(df, concurrency=args.workers, batch_size=args.batch_size,
                              in_flight=args.in_flight, resume_from=resume, **options)  # fmt: skip
    if args.output.endswith(".jsonl"):
        rows = [row.asDict() for row in out.toLocalIterator()]
        _write_jsonl(fresh, rows)
        return rows
    out = out.cache()
    out.write.parquet(str(fresh))
    return [row.asDict() for row in out.select("error_type", "requests").collect()]


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
