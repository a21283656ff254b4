"""Briefs as a step of a Ray Data pipeline: ``summarize_dataset`` (``summarize.ray``).

``ds.map_batches`` with ``BriefMapper`` as its actor class: ``concurrency`` actors,
each built once (its Summarizer, client, cache and, with ``local=True``, its own local
engine) and handed ``batch_size`` rows at a time, of which ``in_flight`` are briefed
at once. An actor takes up to ``BATCHES_PER_ACTOR`` batches at once (threads that
wait on its one event loop, the ``in_flight`` slots shared by all of them), so a
slot freed by one row is taken by the next row of any batch: a batch's last rows do
not hold up the next, and small batches keep the actors evenly loaded. Ray
schedules the actors; we do not. A rate limit given
(``requests_per_minute``, ``tokens_per_minute``) is split over the actors, so the
cluster as a whole keeps it.

``resume_from=`` (earlier output: a Dataset, or a JSONL or Parquet path) keeps its
briefed rows as they are and sends only the others: a row is done when an earlier
row has its id and, for a text row, the SHA-256 of the same text (a url or path row:
its id). Failed rows are tried again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from summarize.many.mapper import (
    OUTPUT_COLUMNS,
    BriefMapper,
    arrow_type,
    file_format,
    sha256,
    split_limits,
)

if TYPE_CHECKING:
    import ray.data

DEFAULT_BATCH = 16  # rows a worker is handed at once
DEFAULT_IN_FLIGHT = 8  # rows briefed at once by one worker
BATCHES_PER_ACTOR = 4  # batches a Ray actor works on at once


def summarize_dataset(
    ds: ray.data.Dataset,
    *,
    id_column: str = "id",
    text_column: str = "text",
    concurrency: int = 2,
    batch_size: int = DEFAULT_BATCH,
    in_flight: int = DEFAULT_IN_FLIGHT,
    resume_from: ray.data.Dataset | str | Path | None = None,
    num_cpus: float = 0.5,
    **options: Any,
) -> ray.data.Dataset:
    """``ds`` with the columns of ``summarize.many.mapper.OUTPUT_COLUMNS`` added, one
    brief (or typed error) per row; lazy, as Ray datasets are. ``num_cpus``: what Ray
    reserves per actor: half a CPU by default, as an actor mostly waits on the model,
    which leaves the read and write tasks room on a small node (give ``local=True``
    actors what the model needs). The other options are ``BriefMapper``'s and
    ``summarize()``'s."""
    kwargs = {"id_column": id_column, "text_column": text_column, "concurrency": in_flight,
              **split_limits(options, concurrency)}  # fmt: skip
    BriefMapper(**kwargs)  # a bad option fails here, before any actor starts
    columns = [*[c for c in ds.columns() if c not in OUTPUT_COLUMNS], *OUTPUT_COLUMNS]
    done = None
    if resume_from is not None:
        done = _briefed(_earlier(resume_from), columns)
        ds = ds.map_batches(
            _NotDone(_keys(done, id_column), id_column, text_column), batch_format="pyarrow"
        )
    import ray.data

    pool = ray.data.ActorPoolStrategy(
        size=concurrency,
        max_concurrent_calls_per_actor=BATCHES_PER_ACTOR,
        enable_true_multi_threading=True,  # BriefMapper.__call__ is thread-safe
    )
    out = ds.map_batches(
        BriefMapper,
        fn_constructor_kwargs=kwargs,
        compute=pool,
        batch_size=batch_size,
        batch_format="pyarrow",
        num_cpus=num_cpus,
    )
    return out if done is None else done.union(out)


def _earlier(source: Any) -> ray.data.Dataset:
    import ray.data

    if not isinstance(source, (str, Path)):
        return source
    path = str(source)
    if file_format(path) == "parquet":
        return ray.data.read_parquet(path)
    return ray.data.read_json(path)


def _briefed(earlier: ray.data.Dataset, columns: list[str]) -> ray.data.Dataset:
    """The earlier output's briefed rows, with the columns and types of new output."""

    def typed(batch: Any) -> Any:
        import pyarrow as pa

        keep = batch.filter(pa.compute.is_valid(batch["brief"]))
        arrays = [keep[c].cast(arrow_type(c)) if c in OUTPUT_COLUMNS else keep[c] for c in columns]
        return pa.table(arrays, names=columns)

    return earlier.map_batches(typed, batch_format="pyarrow")


def _keys(done: ray.data.Dataset, id_column: str) -> set[tuple[str, str | None]]:
    """(id, text_sha256) of each briefed row, and (id, None) for it too: on the driver,
    the keys only (some 100 bytes a row)."""
    keys: set[tuple[str, str | None]] = set()
    for row in done.select_columns([id_column, "text_sha256"]).iter_rows():
        keys.add((str(row[id_column]), row["text_sha256"]))
        keys.add((str(row[id_column]), None))
    return keys


class _NotDone:
    """A batch without the rows ``keys`` holds (picklable: a plain class)."""

    def __init__(self, keys: set[tuple[str, str | None]], id_column: str, text_column: str):
        self.keys, self.id_column, self.text_column = keys, id_column, text_column

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        ids = batch[self.id_column].to_pylist()
        texts = (
            batch[self.text_column].to_pylist()
            if self.text_column in batch.column_names
            else [None] * len(ids)
        )
        keep = [
            (str(i), sha256(t) if isinstance(t, str) and t else None) not in self.keys
            for i, t in zip(ids, texts, strict=True)
        ]
        return batch.filter(pa.array(keep, pa.bool_()))
