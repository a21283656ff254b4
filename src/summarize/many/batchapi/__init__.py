"""The OpenAI Batch API: many articles as batch jobs, at half the price, collected later.

A *job* is a set of articles and a local state directory
(``$XDG_CACHE_HOME/summarize/batches/<job id>/``). Its work goes out in *phases*:

1. ``submit_batch()`` runs the ordinary pipeline on every article with no model
   answers at hand. Each request the pipeline would send is *deferred* instead and
   written to a JSONL file, which is uploaded as one batch (several past 50,000
   requests). A short article needs one request; a long one needs one per part.
2. ``collect_batch()`` downloads the answers and runs the pipeline again, replaying
   them: the same prompts, parsing, validation, grounding and merging as online.
   Articles whose requests are all answered finish. Requests the pipeline only now
   knows it needs (the merge of a long article's parts, a re-ask of an answer that
   failed validation, a retry of a line that failed with a 5xx or 429, or a request
   an expired batch never ran) are submitted as the next phase's batch, or sent
   online at once with ``online=True``.

Replaying needs the same prompts on every run, so each article's boundary marker is
derived from a random salt kept in the job (not guessable from the article), and the
structured-output mode is fixed when the job is made (``json_schema`` unless given).
A request's ``custom_id`` is a hash of its body, so identical requests (the same text
twice) are sent once, and answers are matched to requests however they are ordered.
The API key is never stored; the job keeps the model, endpoint and options.

Modules: ``state`` (the job directory), ``replay`` (answers from batch output),
``remote`` (the files and batches endpoints), ``jobs`` (submit, status, collect).
"""

from __future__ import annotations

from typing import Any

from summarize.many.batchapi.jobs import (
    BATCH_DISCOUNT,
    CollectReport,
    abatch_status,
    acancel_batch,
    acollect_batch,
    asubmit_batch,
)
from summarize.many.batchapi.replay import BatchClient, custom_id, request_body
from summarize.many.batchapi.state import (
    BatchCancelledError,
    BatchJob,
    BatchJobError,
    BatchStatus,
    default_root,
)
from summarize.sync import run_sync


def submit_batch(items: Any, **options: Any) -> BatchJob:
    """Blocking ``asubmit_batch``."""
    return run_sync(asubmit_batch(items, **options))


def batch_status(job_id: str, **options: Any) -> BatchStatus:
    """Blocking ``abatch_status``."""
    return run_sync(abatch_status(job_id, **options))


def cancel_batch(job_id: str, **options: Any) -> BatchStatus:
    """Blocking ``acancel_batch``."""
    return run_sync(acancel_batch(job_id, **options))


def collect_batch(job_id: str, **options: Any) -> CollectReport:
    """Blocking ``acollect_batch``."""
    return run_sync(acollect_batch(job_id, **options))


__all__ = [
    "BATCH_DISCOUNT",
    "BatchCancelledError",
    "BatchClient",
    "BatchJob",
    "BatchJobError",
    "BatchStatus",
    "CollectReport",
    "abatch_status",
    "acancel_batch",
    "acollect_batch",
    "asubmit_batch",
    "batch_status",
    "cancel_batch",
    "collect_batch",
    "custom_id",
    "default_root",
    "request_body",
    "submit_batch",
]
