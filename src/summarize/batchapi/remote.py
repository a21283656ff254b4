"""The Batch API's endpoints: upload a phase's requests, ask where batches stand,
download their output; every failure as a typed error without the key in it."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Final

from summarize.batchapi.replay import ENDPOINT
from summarize.batchapi.state import BatchJob, BatchJobError
from summarize.client import build_client, resolve_endpoint
from summarize.errors import APIConnectionError, SummarizeError
from summarize.httperrors import redact, status_error
from summarize.retrying import TransientFailure

if TYPE_CHECKING:
    import openai

MAX_REQUESTS: Final = 50_000  # per batch (OpenAI's limit)
MAX_BYTES: Final = 190 * 1024 * 1024  # per input file (OpenAI's limit is 200 MB)
TERMINAL = ("completed", "failed", "expired", "cancelled")


def split(pending: dict[str, dict[str, Any]]) -> list[bytes]:
    """Input files of at most MAX_REQUESTS lines and MAX_BYTES each."""
    files: list[bytes] = []
    lines: list[bytes] = []
    size = 0
    for key in sorted(pending):
        line = (
            json.dumps(
                {"custom_id": key, "method": "POST", "url": ENDPOINT, "body": pending[key]},
                ensure_ascii=False,
            ).encode("utf-8")
            + b"\n"
        )
        if lines and (len(lines) >= MAX_REQUESTS or size + len(line) > MAX_BYTES):
            files.append(b"".join(lines))
            lines, size = [], 0
        lines.append(line)
        size += len(line)
    if lines:
        files.append(b"".join(lines))
    return files


async def send_phase(
    job: BatchJob, api: openai.AsyncOpenAI, pending: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Upload the pending requests as the next phase's batch(es)."""
    phase = job.state["phase"] + 1
    sent = []
    for number, data in enumerate(split(pending), start=1):
        name = f"{job.id}-phase{phase}-{number}.jsonl"
        (job.directory / name).write_bytes(data)
        uploaded = await api.files.create(file=(name, data, "application/jsonl"), purpose="batch")
        batch = await api.batches.create(
            input_file_id=uploaded.id,
            endpoint=ENDPOINT,
            completion_window="24h",
            metadata={"summarize_job": job.id, "phase": str(phase)},
        )
        record = {
            "id": batch.id,
            "phase": phase,
            "requests": data.count(b"\n"),
            "input_file_id": uploaded.id,
            "status": batch.status,
            "downloaded": False,
        }
        job.state["batches"].append(record)
        sent.append(record)
        job.save()  # after each batch: a crash never loses a created batch's id
    job.state["phase"] = phase
    job.save()
    return sent


def _api(
    job: BatchJob, client: openai.AsyncOpenAI | None, api_key: str | None
) -> openai.AsyncOpenAI:
    if client is not None:
        return client.with_options(max_retries=3)  # file and batch calls: SDK retries
    key, base_url = resolve_endpoint(api_key, job.state["options"].get("base_url"))
    api = build_client(api_key=key, base_url=base_url, asynchronous=True)
    return api.with_options(max_retries=3)  # type: ignore[return-value]


@contextlib.asynccontextmanager
async def session(
    job: BatchJob, client: openai.AsyncOpenAI | None, api_key: str | None
) -> AsyncIterator[openai.AsyncOpenAI]:
    """The files and batches API of the job's endpoint; its errors as SummarizeErrors."""
    import openai

    api = _api(job, client, api_key)
    try:
        yield api
    except openai.OpenAIError as exc:
        raise _map_api_error(exc, job, str(api.api_key)) from exc
    finally:
        if client is None:  # built here: closed here
            await api.close()


def _map_api_error(exc: Exception, job: BatchJob, secret: str) -> SummarizeError:
    """A typed error for a failed files or batches call, without the key in it."""
    import openai

    if not isinstance(exc, openai.APIStatusError):
        detail = redact(str(exc), secret)
        return APIConnectionError(f"the Batch API could not be reached: {detail} (job {job.id})")
    status = exc.status_code
    where = f"{status} from the Batch API: {redact(str(exc.message), secret)} (job {job.id})"
    hint = " (check OPENAI_API_KEY and that the endpoint offers /v1/batches)"
    error = status_error(
        status, where, code=exc.code, request_id=exc.request_id, hints={401: hint, 404: hint}
    )
    return error.final if isinstance(error, TransientFailure) else error


async def download(job: BatchJob, api: openai.AsyncOpenAI, record: dict[str, Any]) -> None:
    """Keep a finished batch's output and error lines; lines it never ran become failures."""
    if record["status"] == "failed":
        errors = "; ".join(record.get("errors", [])[:5]) or "no reason given"
        raise BatchJobError(
            f"batch {record['id']} of job {job.id} failed validation: {errors}. The "
            f"requests are in {job.directory}/{job.id}-phase{record['phase']}-*.jsonl"
        )
    lines: list[dict[str, Any]] = []
    for file_id in (record.get("output_file_id"), record.get("error_file_id")):
        if file_id:
            content = await api.files.content(file_id)
            for number, raw in enumerate(content.text.splitlines(), start=1):
                if not raw.strip():
                    continue
                try:
                    line = json.loads(raw)
                    if not isinstance(line, dict) or not {"id", "custom_id"} <= line.keys():
                        raise ValueError("no id or custom_id")
                except ValueError as exc:
                    raise BatchJobError(
                        f"line {number} of file {file_id} (batch {record['id']}) is not a "
                        f"batch output line ({exc}); nothing of this batch was kept: run "
                        "collect again, or report it to the endpoint's provider"
                    ) from exc
                lines.append(line)
    answered = {line["custom_id"] for line in lines}
    name_prefix = f"{job.id}-phase{record['phase']}-"
    for path in sorted(job.directory.glob(name_prefix + "*.jsonl")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            key = json.loads(raw)["custom_id"]
            if key not in answered:  # expired or cancelled before it ran
                lines.append(
                    {
                        "id": f"missing-{record['id']}-{key}",
                        "custom_id": key,
                        "response": None,
                        "error": {
                            "code": f"batch_{record['status']}",
                            "message": f"batch {record['id']} ended {record['status']} "
                            "before this request ran",
                        },
                    }
                )
    job.add_answers(lines)
    record["downloaded"] = True
    record["downloaded_at"] = time.time()
    job.save()
