"""The Batch API's endpoints: upload a phase's requests, ask where batches stand,
download their output; every failure as a typed error without the key in it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Final

from summarize.errors import APIConnectionError, SummarizeError
from summarize.many.batchapi.replay import ENDPOINT
from summarize.many.batchapi.state import BatchJob, BatchJobError
from summarize.model.client import build_client, resolve_endpoint
from summarize.model.httperrors import redact, status_error
from summarize.model.retrying import TransientFailure

if TYPE_CHECKING:
    import openai

MAX_REQUESTS: Final = 50_000  # per batch (OpenAI's limit)
MAX_BYTES: Final = 190 * 1024 * 1024  # per input file (OpenAI's limit is 200 MB)
TERMINAL = ("completed", "failed", "expired", "cancelled")


def estimated_tokens(body: dict[str, Any]) -> int:
    """A request's prompt tokens as a batch queue counts them, estimated from its text
    (about 3 characters a token, on the safe side for English and above)."""
    text = sum(len(str(m.get("content", ""))) for m in body.get("messages", ()))
    return text // 3 + 8 * len(body.get("messages", ())) + 16


def split(
    pending: dict[str, dict[str, Any]], max_tokens: int | None = None
) -> list[tuple[bytes, int]]:
    """Input files of at most MAX_REQUESTS lines, MAX_BYTES and (if given) ``max_tokens``
    estimated prompt tokens each, with their token estimates."""
    files: list[tuple[bytes, int]] = []
    lines: list[bytes] = []
    size = tokens = 0
    for key in sorted(pending):
        line = (
            json.dumps(
                {"custom_id": key, "method": "POST", "url": ENDPOINT, "body": pending[key]},
                ensure_ascii=False,
            ).encode("utf-8")
            + b"\n"
        )
        cost = estimated_tokens(pending[key])
        full = len(lines) >= MAX_REQUESTS or size + len(line) > MAX_BYTES
        if lines and (full or (max_tokens is not None and tokens + cost > max_tokens)):
            files.append((b"".join(lines), tokens))
            lines, size, tokens = [], 0, 0
        lines.append(line)
        size += len(line)
        tokens += cost
    if lines:
        files.append((b"".join(lines), tokens))
    return files


async def send_phase(
    job: BatchJob, api: openai.AsyncOpenAI, pending: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Make the pending requests the next phase: every input file written and recorded
    as ``queued`` (and the phase saved) before any batch is created, then as many
    batches created as the job's enqueued-token budget allows. A failure part way
    leaves the rest queued: the next status or collect creates them, and resends
    nothing already created."""
    phase = job.state["phase"] + 1
    records = []
    for number, (data, tokens) in enumerate(split(pending, job.state.get("batch_tokens")), 1):
        name = f"{job.id}-phase{phase}-{number}.jsonl"
        (job.directory / name).write_bytes(data)
        records.append(
            {
                "id": None,
                "file": name,
                "phase": phase,
                "requests": data.count(b"\n"),
                "tokens": tokens,
                "status": "queued",
                "downloaded": False,
            }
        )
    job.state["batches"].extend(records)
    job.state["phase"] = phase
    job.save()
    await create_queued(job, api)
    return records


def _enqueued(job: BatchJob) -> int:
    """Estimated prompt tokens of the job's batches that are created and not ended."""
    return sum(
        r.get("tokens", 0) for r in job.state["batches"] if r.get("id") and not r.get("ended")
    )


async def create_queued(job: BatchJob, api: openai.AsyncOpenAI) -> None:
    """Create the current phase's queued batches, in order, while the enqueued tokens
    stay within the job's ``batch_tokens`` budget (one at least, if none is running)."""
    budget = job.state.get("batch_tokens")
    for record in job.state["batches"]:
        if record["phase"] != job.state["phase"] or record["status"] != "queued":
            continue
        running = _enqueued(job)
        if budget is not None and running and running + record.get("tokens", 0) > budget:
            break  # waits for a running batch to end
        await _create(job, api, record)


async def _create(job: BatchJob, api: openai.AsyncOpenAI, record: dict[str, Any]) -> None:
    """Upload one queued input file and create its batch, exactly once: the create call
    is not retried blind (the SDK's retries carry no idempotency key), a failure that
    leaves it unknown whether the batch exists is settled by finding the batch made
    from this input file, and every step is saved before the next."""
    import openai

    resumed = bool(record.get("input_file_id"))  # an earlier create may have made it
    if not resumed:
        data = (job.directory / record["file"]).read_bytes()
        uploaded = await api.files.create(
            file=(record["file"], data, "application/jsonl"), purpose="batch"
        )
        record["input_file_id"] = uploaded.id
        job.save()
    once = api.with_options(max_retries=0)
    for attempt in range(3):
        looked = attempt or resumed
        found = await _made_from(api, record["input_file_id"]) if looked else None
        if found is None:
            try:
                found = await once.batches.create(
                    input_file_id=record["input_file_id"],
                    endpoint=ENDPOINT,
                    completion_window="24h",
                    metadata={"summarize_job": job.id, "phase": str(record["phase"])},
                )
            except (openai.APIConnectionError, openai.InternalServerError):
                if attempt == 2:
                    raise
                await asyncio.sleep(0.5 * 2**attempt)
                continue  # did it get made? the next attempt looks first
        record["id"], record["status"] = found.id, found.status
        job.save()  # after each batch: a crash never loses a created batch's id
        return


async def _made_from(api: openai.AsyncOpenAI, input_file_id: str) -> Any:
    """The batch created from ``input_file_id``, if one was (newest batches first)."""
    page = await api.batches.list(limit=100)
    return next((b for b in page.data if b.input_file_id == input_file_id), None)


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


# A failed batch with only these errors was refused for the queue, not for its lines:
# its requests go again in smaller batches (the job's token budget halved).
REQUEUED_CODES = frozenset({"token_limit_exceeded"})


async def download(job: BatchJob, api: openai.AsyncOpenAI, record: dict[str, Any]) -> None:
    """Keep a finished batch's output and error lines; lines it never ran become failures
    (``batch_expired``, ``batch_cancelled``) unless the error file already says so."""
    if record["status"] == "failed":
        _failed(job, record)
        return
    lines: list[dict[str, Any]] = []
    for file_id in (record.get("output_file_id"), record.get("error_file_id")):
        if file_id:
            content = await api.files.content(file_id)
            lines += _lines_of(content.text, file_id, record)
    answered = {line["custom_id"] for line in lines}
    for key in _custom_ids(job, record):
        if key not in answered:  # expired or cancelled before it ran
            lines.append(
                {
                    "id": f"missing-{record['id'] or record['file']}-{key}",
                    "custom_id": key,
                    "response": None,
                    "error": {
                        "code": f"batch_{record['status']}",
                        "message": f"batch {record['id'] or record['file']} ended "
                        f"{record['status']} before this request ran",
                    },
                }
            )
    job.add_answers(lines)
    record["downloaded"] = True
    record["downloaded_at"] = time.time()
    job.save()


def _failed(job: BatchJob, record: dict[str, Any]) -> None:
    """A batch that failed as a whole: refused for the queue (its requests go again,
    in smaller batches), or for its input (an error naming the codes)."""
    codes = set(record.get("codes", []))
    if codes and codes <= REQUEUED_CODES:
        budget = job.state.get("batch_tokens") or record.get("tokens", 0)
        job.state["batch_tokens"] = max(1, min(budget, record.get("tokens", 0)) // 2)
        record["downloaded"] = True  # nothing to download: its requests are unanswered
        record["requeued"] = True
        job.save()
        return
    errors = "; ".join(record.get("errors", [])[:5]) or "no reason given"
    raise BatchJobError(
        f"batch {record['id']} of job {job.id} failed validation: {errors}. The "
        f"requests are in {job.directory}/{record.get('file') or job.id + '-phase*.jsonl'}"
    )


def _lines_of(text: str, file_id: str, record: dict[str, Any]) -> list[dict[str, Any]]:
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
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
    return lines


def _custom_ids(job: BatchJob, record: dict[str, Any]) -> list[str]:
    """The custom_ids of the requests in ``record``'s own input file."""
    names = [record["file"]] if record.get("file") else []
    paths = [job.directory / n for n in names] or sorted(
        job.directory.glob(f"{job.id}-phase{record['phase']}-*.jsonl")
    )  # a job made before records named their file
    return [
        json.loads(raw)["custom_id"]
        for path in paths
        for raw in path.read_text(encoding="utf-8").splitlines()
    ]
