"""Briefs as a step of a Spark job: ``summarize_dataframe`` (``summarize.spark``).

``df.mapInArrow`` with the same ``BriefMapper`` as Ray's, over ``concurrency``
partitions: each Python worker builds the mapper's Summarizer once and keeps it for
every task it runs (Spark reuses its Python workers), and briefs a partition's rows
``batch_size`` at a time, ``in_flight`` of them at once, the next batch started
before one ends. The output schema is declared: the input's columns, then
``OUTPUT_COLUMNS`` with their Spark types. A rate limit given is split over the
partitions. ``resume_from=`` (earlier output: a DataFrame, or a JSONL or Parquet
path) keeps its briefed rows and briefs only the others, as ``summarize.ray`` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from summarize.many.mapper import OUTPUT_COLUMNS, BriefMapper, file_format, split_limits
from summarize.many.ray_data import DEFAULT_BATCH, DEFAULT_IN_FLIGHT

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame


def spark_schema(df: DataFrame) -> Any:
    """The output's schema: ``df``'s columns (an output column of it replaced), then
    the output columns."""
    from pyspark.sql import types as t

    kinds = {"string": t.StringType(), "int64": t.LongType(), "double": t.DoubleType(),
             "bool": t.BooleanType()}  # fmt: skip
    kept = [f for f in df.schema.fields if f.name not in OUTPUT_COLUMNS]
    added = [t.StructField(name, kinds[kind], True) for name, kind in OUTPUT_COLUMNS.items()]
    return t.StructType(kept + added)


def summarize_dataframe(
    df: DataFrame,
    *,
    id_column: str = "id",
    text_column: str = "text",
    concurrency: int = 2,
    batch_size: int = DEFAULT_BATCH,
    in_flight: int = DEFAULT_IN_FLIGHT,
    resume_from: DataFrame | str | Path | None = None,
    **options: Any,
) -> DataFrame:
    """``df`` with the output columns added, one brief (or typed error) per row; lazy,
    as Spark is. ``concurrency``: partitions (tasks) briefed at once. The other options
    are ``BriefMapper``'s and ``summarize()``'s."""
    from pyspark.sql import functions as f

    kwargs = {"id_column": id_column, "text_column": text_column, "concurrency": in_flight,
              **split_limits(options, concurrency)}  # fmt: skip
    mapper = BriefMapper(**kwargs)  # a bad option fails here, on the driver
    schema = spark_schema(df)
    todo, done = df, None
    if resume_from is not None:
        done = _briefed(_earlier(df, resume_from), schema)
        todo = _not_done(df, done, id_column, text_column)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        def slices() -> Iterator[pa.Table]:
            for batch in batches:
                table = pa.Table.from_batches([batch]).select(
                    [c for c in batch.schema.names if c not in OUTPUT_COLUMNS]
                )
                for start in range(0, table.num_rows, batch_size):
                    yield table.slice(start, batch_size)

        for table in mapper.stream(slices()):  # the next slice starts before one ends
            yield from table.to_batches()

    out = todo.repartition(concurrency).mapInArrow(run, schema)
    if done is None:
        return out
    return done.select(*[f.col(c) for c in out.columns]).unionByName(out)


def _earlier(df: DataFrame, source: Any) -> DataFrame:
    if not isinstance(source, (str, Path)):
        return source
    path = str(source)
    reader = df.sparkSession.read
    if file_format(path) == "parquet":
        return reader.parquet(path)
    return reader.json(path)


def _briefed(earlier: DataFrame, schema: Any) -> DataFrame:
    """The earlier output's briefed rows, cast to the declared schema."""
    from pyspark.sql import functions as f

    rows = earlier.where(f.col("brief").isNotNull())
    have = set(rows.columns)  # Spark's JSON writer leaves out a column that is all null
    return rows.select(*[
        (f.col(field.name) if field.name in have else f.lit(None)).cast(field.dataType)
        .alias(field.name)
        for field in schema.fields
    ])  # fmt: skip


def _not_done(df: DataFrame, done: DataFrame, id_column: str, text_column: str) -> DataFrame:
    """``df`` without the rows ``done`` has: the same id and, for a text row, the same
    text's SHA-256 (``sha2`` of its UTF-8 bytes, as ``summarize.many.mapper.sha256``)."""
    from pyspark.sql import functions as f

    keys = done.select(
        f.col(id_column).cast("string").alias("_done_id"), f.col("text_sha256").alias("_done_sha")
    )
    if text_column in df.columns:
        text = f.col(text_column)
        sha = f.when(text.isNotNull() & (text != ""), f.sha2(text, 256))
    else:
        sha = f.lit(None).cast("string")
    keyed = df.withColumn("_id", f.col(id_column).cast("string")).withColumn("_sha", sha)
    matched = (keyed["_id"] == keys["_done_id"]) & (
        keyed["_sha"].isNull() | (keyed["_sha"] == keys["_done_sha"])
    )
    return keyed.join(keys, matched, "left_anti").drop("_id", "_sha")
