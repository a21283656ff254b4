"""A local stand-in for OpenAI's Batch API (files + batches), for tests and recording.

It implements the documented endpoints and formats, written from OpenAI's API
reference (not recorded from OpenAI, which this environment cannot reach):

* ``POST /v1/files`` (multipart, purpose ``batch``) and ``GET /v1/files/{id}/content``;
* ``POST /v1/batches``, ``GET /v1/batches`` (the list, newest first),
  ``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``;
* ``POST /v1/chat/completions`` too, as OpenAI serves both (for online re-asks);
* input lines ``{"custom_id", "method", "url", "body"}``; output lines
  ``{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error":
  null}`` in the output file for a 200, in the error file for any other status;
  requests an expired batch never ran in the error file as ``{"response": null,
  "error": {"code": "batch_expired", "message"}}``; statuses validating ->
  in_progress -> finalizing -> completed (or failed, expired, cancelling ->
  cancelled) with ``request_counts``;
* a batch that fails as a whole has ``errors.data`` of ``{"code", "message", "param",
  "line"}``: ``empty_file``, ``duplicate_custom_id``, ``invalid_request``, and
  ``token_limit_exceeded`` when the model's enqueued prompt tokens (those of batches
  not ended) would pass ``token_limit``.

Each line's body is answered by ``backend(body) -> (status, json)``: the scripted fake
model, a cassette of completions recorded from llama.cpp, or a live server.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Backend = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]
# (custom_id, body) -> an injected (status, json) answer for that line, or None
LineFault = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]] | None]


def fake_model_backend(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    from testkit import fakemodel

    return 200, fakemodel.completion(body)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/octet-stream" if raw else "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"error": {"message": message, "type": "invalid_request_error"}})

    def do_GET(self) -> None:
        api = self.server.owner
        parts = self.path.split("?")[0].strip("/").split("/")
        with api.lock:
            api.calls.append(("GET", self.path))
        if parts[-1] == "batches":
            if api.list_faults:
                api.list_faults -= 1
                return self._error(500, "The server had an error while processing your request")
            with api.lock:
                listed = sorted(api.batches.values(), key=lambda b: b["id"], reverse=True)
            data = [api.public(b) for b in listed[:100]]
            return self._send(200, {"object": "list", "data": data, "has_more": False})
        if len(parts) >= 3 and parts[-3] == "files" and parts[-1] == "content":
            data = api.files.get(parts[-2])
            if data is None:
                return self._error(404, f"No such File object: {parts[-2]}")
            return self._send(200, None, raw=data["content"])
        if len(parts) >= 2 and parts[-2] == "batches":
            batch = api.batches.get(parts[-1])
            if batch is None:
                return self._error(404, f"No batch found with id '{parts[-1]}'.")
            return self._send(200, api.public(batch))
        return self._error(404, "not found")

    def do_POST(self) -> None:
        api = self.server.owner
        length = int(self.headers.get("content-length", "0"))
        raw = self.rfile.read(length)
        path = self.path.split("?")[0].rstrip("/")
        with api.lock:
            api.calls.append(("POST", path))
        if path.endswith("/chat/completions"):  # the online endpoint, same backend
            status, payload = api.backend(json.loads(raw))
            with api.lock:
                api.online += 1
            return self._send(status, payload)
        if path.endswith("/files"):
            if api.reject is not None:
                return self._error(*api.reject)
            fields = _multipart(self.headers.get("content-type", ""), raw)
            if fields.get("purpose", (b"", ""))[0] != b"batch":
                return self._error(400, "purpose must be 'batch'")
            content, filename = fields["file"]
            return self._send(200, api.add_file(content, filename))
        if path.endswith("/batches"):
            request = json.loads(raw)
            if request.get("input_file_id") not in api.files:
                return self._error(400, f"No such File object: {request.get('input_file_id')}")
            fault = api.create_faults.pop(0) if api.create_faults else None
            if fault == "500":  # refused before anything was made
                return self._error(500, "The server had an error while processing your request")
            batch = api.create_batch(request)
            if fault == "lost":  # made, but the answer never arrives
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return None
            return self._send(200, api.public(batch))
        if path.endswith("/cancel"):
            batch = api.batches.get(path.split("/")[-2])
            if batch is None:
                return self._error(404, "no such batch")
            with api.lock:
                if batch["status"] not in ("completed", "failed", "expired", "cancelled"):
                    batch["status"] = "cancelling"
                    batch["cancel"] = True
            return self._send(200, api.public(batch))
        return self._error(404, "not found")


def _multipart(content_type: str, body: bytes) -> dict[str, tuple[bytes, str]]:
    """The fields of a multipart/form-data body: name -> (bytes, filename)."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields[str(name)] = (payload, part.get_filename() or "")
    return fields


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FakeBatchAPI


class FakeBatchAPI:
    """Start on a free loopback port. ``hold`` keeps new batches in progress until
    ``release()``; after ``expire_after`` lines the rest of the next batch expires;
    ``invalid`` fails the next batch's validation; ``line_fault`` injects per-line
    failures."""

    def __init__(self, backend: Backend = fake_model_backend) -> None:
        self.backend = backend
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.answered: list[dict[str, Any]] = []  # every line body sent to the backend
        self.online = 0  # chat completions asked online, outside any batch
        self.lock = threading.RLock()
        self.hold = False
        self.expire_after: int | None = None
        self.line_fault: LineFault | None = None
        self.invalid: str | None = None  # a validation error for the next batch
        self.invalid_code = "invalid_request"  # ... and its code
        self.token_limit: int | None = None  # enqueued prompt tokens a model may have
        # faults of the next batches.create calls: "500" (nothing made), "lost" (made,
        # the connection dropped before the answer)
        self.create_faults: list[str] = []
        self.list_faults = 0  # the next this many batch lists answer 500
        self.reject: tuple[int, str] | None = None  # an error status for every upload
        self._released = threading.Event()
        self._counter = 0
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{port}/v1"
        self._workers: list[threading.Thread] = []

    def _new_id(self, prefix: str) -> str:
        with self.lock:
            self._counter += 1
            return f"{prefix}{self._counter:06d}"

    def add_file(self, content: bytes, filename: str, purpose: str = "batch") -> dict[str, Any]:
        file_id = self._new_id("file-")
        record = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
            "content": content,
        }
        self.files[file_id] = record
        return {k: v for k, v in record.items() if k != "content"}

    def create_batch(self, request: dict[str, Any]) -> dict[str, Any]:
        batch_id = self._new_id("batch_")
        now = int(time.time())
        batch = {
            "id": batch_id,
            "object": "batch",
            "endpoint": request["endpoint"],
            "errors": None,
            "input_file_id": request["input_file_id"],
            "completion_window": request["completion_window"],
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": now,
            "expires_at": now + 86400,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": request.get("metadata"),
        }
        self.batches[batch_id] = batch
        batch["expire_after"], self.expire_after = self.expire_after, None  # this batch only
        worker = threading.Thread(target=self._run, args=(batch,), daemon=True)
        self._workers.append(worker)
        worker.start()
        return batch

    @staticmethod
    def public(batch: dict[str, Any]) -> dict[str, Any]:
        hidden = ("cancel", "expire_after", "tokens", "running")
        return {k: v for k, v in batch.items() if k not in hidden}

    def release(self) -> None:
        """Let held batches run."""
        self.hold = False
        self._released.set()

    def wait_idle(self, timeout: float = 30) -> None:
        for worker in list(self._workers):
            worker.join(timeout)

    def _enqueued(self, model: str) -> int:
        """Prompt tokens of ``model``'s batches in progress (about 4 characters a token)."""
        return sum(b["tokens"] for b in self.batches.values() if b.get("running") == model)

    def _run(self, batch: dict[str, Any]) -> None:
        lines = self.files[batch["input_file_id"]]["content"].decode().splitlines()
        code, problem = (
            (self.invalid_code, self.invalid)
            if self.invalid
            else _validate(lines, batch["endpoint"])
        )
        self.invalid, self.invalid_code = None, "invalid_request"
        with self.lock:
            model = json.loads(lines[0])["body"].get("model", "") if lines else ""
            tokens = sum(_tokens(json.loads(raw)["body"]) for raw in lines) if not problem else 0
            limit = self.token_limit
            if problem is None and limit is not None and self._enqueued(model) + tokens > limit:
                code = "token_limit_exceeded"
                problem = (
                    f"Enqueued token limit reached for {model} in organization org-test. "
                    f"Limit: {limit:,} enqueued tokens. Please try again once some "
                    "in_progress batches have been completed."
                )
            if problem is not None:
                batch["status"] = "failed"
                batch["failed_at"] = int(time.time())
                batch["errors"] = {
                    "object": "list",
                    "data": [{"code": code, "message": problem, "line": None, "param": None}],
                }
                return
            batch["tokens"], batch["running"] = tokens, model
            batch["status"] = "in_progress"
            batch["in_progress_at"] = int(time.time())
            batch["request_counts"]["total"] = len(lines)
        if self.hold:
            self._released.wait(60)
        output: list[str] = []
        errors: list[str] = []
        for number, raw in enumerate(lines):
            expire = batch["expire_after"]
            if batch.get("cancel"):
                break
            if expire is not None and number >= expire:
                errors += [_expired(f"batch_req_{batch['id']}_{n}", r) for n, r in
                           enumerate(lines[number:], start=number)]  # fmt: skip
                break
            line = json.loads(raw)
            injected = self.line_fault(line["custom_id"], line["body"]) if self.line_fault else None
            status, body = injected or self.backend(line["body"])
            with self.lock:
                self.answered.append(line["body"])
            record = {
                "id": f"batch_req_{batch['id']}_{number}",
                "custom_id": line["custom_id"],
                "response": {"status_code": status, "request_id": f"req_{number}", "body": body},
                "error": None,
            }
            (output if status == 200 else errors).append(json.dumps(record))
            with self.lock:
                batch["request_counts"]["completed" if status == 200 else "failed"] += 1
        with self.lock:
            if output:
                batch["output_file_id"] = self.add_file(
                    ("\n".join(output) + "\n").encode(), "batch_output.jsonl", "batch_output"
                )["id"]
            if errors:
                batch["error_file_id"] = self.add_file(
                    ("\n".join(errors) + "\n").encode(), "batch_errors.jsonl", "batch_output"
                )["id"]
            now = int(time.time())
            batch["running"] = None  # its tokens leave the queue
            if batch.get("cancel"):
                batch["status"], batch["cancelled_at"] = "cancelled", now
            elif batch["expire_after"] is not None and len(lines) > batch["expire_after"]:
                batch["status"], batch["expired_at"] = "expired", now
            else:
                batch["finalizing_at"] = now
                batch["status"], batch["completed_at"] = "completed", now

    def __enter__(self) -> FakeBatchAPI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()


def _tokens(body: dict[str, Any]) -> int:
    return sum(len(str(m.get("content", ""))) for m in body.get("messages", ())) // 4


def _expired(line_id: str, raw: str) -> str:
    """The error-file line of a request an expired batch never ran."""
    return json.dumps(
        {
            "id": line_id,
            "custom_id": json.loads(raw)["custom_id"],
            "response": None,
            "error": {
                "code": "batch_expired",
                "message": "This request could not be executed before the completion "
                "window expired.",
            },
        }
    )


def _validate(lines: list[str], endpoint: str) -> tuple[str, str | None]:
    """What OpenAI's validation would reject, as (code, message): an empty file, bad
    JSON, repeated ids, other urls or models; (code, None) when it passes."""
    if not lines:
        return "empty_file", "The batch input file is empty. Please check your file and try again."
    seen: set[str] = set()
    models: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            return "invalid_json_line", f"line {number} is not valid JSON"
        if line.get("custom_id") in seen:
            return "duplicate_custom_id", (
                f"The custom_id for this request is a duplicate of another request "
                f"(line {number}). The custom_id parameter must be unique for each request."
            )
        seen.add(line.get("custom_id"))
        if line.get("method") != "POST" or line.get("url") != endpoint:
            return "invalid_url", f"every line must be POST {endpoint}"
        if len(str(line["custom_id"])) > 64:
            return "invalid_request", "custom_id longer than 64 characters"
        models.add(line["body"].get("model"))
    if len(models) > 1:
        return "mismatched_model", "every line must use the same model"
    return "", None


def run_flow(
    api: FakeBatchAPI, items: list[tuple[str, str]], *, max_phases: int = 8, **options: Any
) -> tuple[Any, list[Any]]:
    """submit, then collect after each phase until the job is done: (job, reports)."""
    from summarize.many.batchapi import collect_batch, submit_batch

    job = submit_batch(items, base_url=api.url, api_key="not-needed", **options)
    reports = []
    for _ in range(max_phases):
        api.wait_idle(timeout=3600)
        report = collect_batch(job.id, api_key="not-needed")
        reports.append(report)
        if report.done:
            break
    return job, reports


def forwarding_backend(client: Any) -> Backend:
    """Answer each line by sending its body to a real server through ``client`` (an
    ``openai.OpenAI``, e.g. with a recording transport)."""
    import openai

    def backend(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            raw = client.chat.completions.with_raw_response.create(**body)
        except openai.APIStatusError as exc:
            payload = exc.body if isinstance(exc.body, dict) else {"message": str(exc.body)}
            return exc.status_code, {"error": payload}
        return raw.http_response.status_code, json.loads(raw.http_response.text)

    return backend


def replay_backend(handler: Callable[[Any], Any], url: str) -> Backend:
    """Answer each line from a cassette (``ReplayTransport.handler``)."""
    import httpx2

    def backend(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        request = httpx2.Request("POST", url + "/chat/completions", json=body)
        response = handler(request)
        return response.status_code, json.loads(response.content)

    return backend
