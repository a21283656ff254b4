"""Briefs on Spark: ``summarize_dataframe(df, ...)``, with ``pip install 'summarize[spark]'``.

    from pyspark.sql import SparkSession
    from summarize.spark import summarize_dataframe

    spark = SparkSession.builder.getOrCreate()
    df = spark.read.json("articles.jsonl")  # an "id" and a "text" (or "url") column
    summarize_dataframe(df, concurrency=8, base_url="http://llama:8080/v1").write.parquet("out")

See ``summarize.many.spark_frames`` and docs/scale.md. The core package never imports
pyspark.
"""

from __future__ import annotations

from summarize.many.mapper import OUTPUT_COLUMNS, BriefMapper
from summarize.many.spark_frames import spark_schema, summarize_dataframe

__all__ = ["OUTPUT_COLUMNS", "BriefMapper", "spark_schema", "summarize_dataframe"]
