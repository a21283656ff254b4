"""Briefs on Ray Data: ``summarize_dataset(ds, ...)``, with ``pip install 'summarize[ray]'``.

    import ray
    from summarize.ray import summarize_dataset

    ds = ray.data.read_json("articles.jsonl")  # an "id" and a "text" (or "url") column
    out = summarize_dataset(ds, concurrency=4, base_url="http://vllm:8000/v1", model="m")
    out.write_parquet("briefs/")

See ``summarize.many.ray_data`` and docs/scale.md. The core package never imports Ray.
"""

from __future__ import annotations

from summarize.many.mapper import OUTPUT_COLUMNS, BriefMapper
from summarize.many.ray_data import summarize_dataset

__all__ = ["OUTPUT_COLUMNS", "BriefMapper", "summarize_dataset"]
