"""Replaying a job: the completer that answers from batch output lines, and the
Summarizer that uses it, with each article's boundary derived from the job's salt."""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from summarize.clock import Deadline
from summarize.errors import BadRequestError, InputError, ServerError
from summarize.many.batchapi.state import BatchCancelledError
from summarize.model import params as learning
from summarize.model.client import ModelClient, UnsupportedMode
from summarize.model.protocol import Deferred, Message, Mode, Reply
from summarize.model.retrying import TransientFailure
from summarize.schema import Usage

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletion

    from summarize.many.batchapi.state import BatchJob
    from summarize.pipeline.summarizer import Summarizer

ENDPOINT: Final = "/v1/chat/completions"


def custom_id(body: dict[str, Any]) -> str:
    """A request's id in a batch: a hash of its body (at most 64 characters)."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "r-" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def request_body(params: dict[str, Any]) -> dict[str, Any]:
    """The JSON body the SDK would send for ``params`` (``extra_body`` merged in)."""
    body = {k: v for k, v in params.items() if k != "extra_body"}
    body.update(params.get("extra_body") or {})
    return body


def _line_ok(line: dict[str, Any]) -> bool:
    response = line.get("response") or {}
    return line.get("error") is None and response.get("status_code") == 200


@dataclass
class Costs:
    """One article's usage, split by how it was billed."""

    batch: Usage = field(default_factory=Usage)
    online: Usage = field(default_factory=Usage)


COSTS: contextvars.ContextVar[Costs | None] = contextvars.ContextVar("costs", default=None)


class BatchClient:
    """Stands in for ``ModelClient``: answers come from the batch output lines.

    A request with a successful line gets its answer (through the same checks as an
    online reply). One whose lines all failed is retried in the next batch up to
    ``max_retries`` times, unless the failure is final (a 400, a refusal, ...). One
    with no line is deferred, or sent online when ``online`` is set.
    """

    def __init__(
        self, base: ModelClient, answers: dict[str, list[dict[str, Any]]], *, online: bool
    ) -> None:
        self.base = base
        self.answers = answers
        self.online = online
        self._asked: dict[str, int] = {}  # custom_id -> times asked in this run

    def mode_known(self) -> bool:
        return True  # fixed when the job was made

    async def complete(
        self,
        messages_for: Callable[[bool], list[Message]],
        schema: dict[str, Any],
        bounded_schema: dict[str, Any],
        *,
        deadline: Deadline,
        usage: Usage,
        warnings: list[str],
    ) -> Reply:
        mode = self.base.start_mode()
        base = self.base
        # A line refusing a parameter teaches the fix (summarize.model.params) and the request
        # goes again without it: the fix is learned anew from the same lines on every
        # replay, so it holds across collects in new processes too.
        for _ in range(len(learning.LEARNABLE) + learning.REASONING_ROOM_MAX):
            body = request_body(
                base.request_params(messages_for(mode.strict), schema, bounded_schema, mode)
            )
            key = custom_id(body)
            try:
                reply = self._replayed(key, mode, usage)
            except learning.LESSONS as exc:
                warnings.append(
                    learning.lesson(base.mode_key, base.model, exc, base.max_output_tokens)
                )
                continue
            if reply is not None:
                return reply
            break
        else:
            raise BadRequestError(f"batch request {key}: the endpoint kept refusing its parameters")
        if not self.online:
            raise Deferred({key: body})
        costs = COSTS.get()
        before = Usage(**usage.model_dump())
        reply = await base.complete(
            messages_for, schema, bounded_schema,
            deadline=deadline, usage=usage, warnings=warnings,
        )  # fmt: skip
        if costs is not None:
            costs.online += Usage(
                prompt_tokens=usage.prompt_tokens - before.prompt_tokens,
                completion_tokens=usage.completion_tokens - before.completion_tokens,
                requests=usage.requests - before.requests,
            )
        return reply

    def _replayed(self, key: str, mode: Mode, usage: Usage) -> Reply | None:
        """The answer to request ``key`` from its lines, or its failure's typed error;
        None when it has no answer yet (deferred, or sent online)."""
        costs = COSTS.get()
        failures, success = self._lines_for(key)
        usage.requests += len(failures)
        if costs is not None:
            costs.batch.requests += len(failures)
        if success is not None:
            return self._answer(success, mode, usage, costs)
        if failures:
            failure = self._failure(failures[-1], mode)
            if not isinstance(failure, TransientFailure):
                raise failure
            if len(failures) > self.base.max_retries:
                raise failure.final
        return None

    def _lines_for(self, key: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """This ask's failed lines and its answer (None: not answered yet).

        Asking the same body again (a re-ask whose messages repeat the last one's) is a
        new request, as it would be online: the k-th ask gets the k-th answer.
        """
        earlier = self._asked.get(key, 0)
        self._asked[key] = earlier + 1
        lines = self.answers.get(key, [])
        position = 0
        while earlier and position < len(lines):
            earlier -= _line_ok(lines[position])
            position += 1
        if earlier:
            return [], None  # an earlier ask of the same body is still unanswered
        failures: list[dict[str, Any]] = []
        for line in lines[position:]:
            if _line_ok(line):
                return failures, line
            failures.append(line)
        return failures, None

    def _answer(self, line: dict[str, Any], mode: Mode, usage: Usage, costs: Costs | None) -> Reply:
        from pydantic import ValidationError

        usage.requests += 1
        try:
            completion = _completion(line["response"]["body"])
        except (ValidationError, TypeError, KeyError) as exc:
            raise ServerError(
                f"batch line {line.get('custom_id')} is not a chat completion: {exc}"
            ) from exc
        before = (usage.prompt_tokens, usage.completion_tokens)
        reply = self.base.reply_from(completion, mode, usage)
        if costs is not None:
            costs.batch += Usage(
                prompt_tokens=usage.prompt_tokens - before[0],
                completion_tokens=usage.completion_tokens - before[1],
                requests=1,
            )
        return reply

    def _failure(self, line: dict[str, Any], mode: Mode) -> Exception:
        """The typed error of a failed line: a TransientFailure if worth retrying."""
        import httpx2
        import openai

        response = line.get("response") or {}
        error = line.get("error") or {}
        status = int(response.get("status_code") or 0)
        if not status and error.get("code") == "batch_cancelled":  # the user's decision
            return BatchCancelledError(
                f"batch request not answered: {error.get('message') or 'the batch was cancelled'}"
                "; summarize it again (a new job, or summarize_many) to finish it"
            )
        if not status:  # no HTTP answer at all (expired, or the batch lost it)
            message = error.get("message") or error.get("code") or "no answer"
            return TransientFailure(ServerError(f"batch request not answered: {message}"))
        body = response.get("body")
        detail = body.get("error") if isinstance(body, dict) else None
        http = httpx2.Response(
            status, json=body, request=httpx2.Request("POST", self.base.endpoint + ENDPOINT)
        )
        exc = openai.APIStatusError(
            str((detail or {}).get("message") or status), response=http, body=detail
        )
        failure = self.base.status_error(exc, mode)
        if isinstance(failure, UnsupportedMode):  # the job's mode is fixed: say the fix
            return BadRequestError(
                f"{failure}: the endpoint refuses structured output mode {mode.value!r} in "
                "batches; submit the job again with structured_output='json_object' "
                "(--structured-output json_object)",
                status_code=status,
            )
        return failure


def _completion(body: Any) -> ChatCompletion:
    """A batch line's chat completion, read as the SDK reads an HTTP answer: leniently,
    so a value newer than the installed SDK (a finish reason, a service tier) does not
    fail a good line. Strict validation first; the SDK's own reader if that fails."""
    from openai.types.chat import ChatCompletion
    from pydantic import ValidationError

    try:
        return ChatCompletion.model_validate(body)
    except ValidationError:
        if not isinstance(body, dict) or not isinstance(body.get("choices"), list):
            raise
        try:
            from openai._models import construct_type  # the SDK's reader of responses
        except ImportError:  # pragma: no cover - an SDK without it: strict only
            raise
        completion = construct_type(type_=ChatCompletion, value=body)
        if not isinstance(completion, ChatCompletion):
            raise
        return completion


def replaying_summarizer(
    job: BatchJob,
    answers: dict[str, list[dict[str, Any]]],
    online: bool,
    client: openai.AsyncOpenAI | None,
    api_key: str | None,
) -> Summarizer:
    """A Summarizer with the job's options whose requests are answered from
    ``answers`` (deferred, or sent online with ``online``)."""
    from summarize.pipeline.summarizer import Summarizer

    salt = job.state["salt"].encode()
    options = dict(job.state["options"])
    if client is not None:
        options.pop("base_url", None)
    return Summarizer(
        client=client,
        api_key=api_key,
        wrap_completer=lambda base: BatchClient(base, answers, online=online),
        boundary=lambda article: boundary_for(salt, article.text),
        **options,
    )


def boundary_for(salt: bytes, text: str) -> str:
    """The same boundary for the same article on every run; not guessable from it."""
    digest = hmac.new(salt, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    for start in range(0, len(digest) - 16):
        boundary = f"ARTICLE-{digest[start : start + 16]}"
        if boundary not in text:
            return boundary
    raise InputError("the article contains every boundary marker derived for it")
