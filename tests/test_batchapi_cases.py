"""The Batch API's corner cases, against the stand-in (testkit/batchserver.py) in the
line formats of OpenAI's spec: output file vs error file, ``response.status_code``,
``error: null``, ``batch_expired`` lines, and batches failed as a whole with
``token_limit_exceeded``, ``duplicate_custom_id`` or ``empty_file``.

Answers come from the scripted fake model (testkit/fakemodel.py), not a recording.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from testkit import fakemodel
from testkit.batchserver import FakeBatchAPI

from summarize.errors import ServerError
from summarize.many.batchapi import BatchJob, cancel_batch, collect_batch, submit_batch
from summarize.many.batchapi.remote import split
from tests.support import ARTICLES
from tests.test_batchapi import OPTIONS, SHORT, cli

TEXTS = {p.stem: p.read_text(encoding="utf-8") for p in sorted(ARTICLES.glob("*.txt"))}


def run_to_end(api: FakeBatchAPI, job: BatchJob, phases: int = 6) -> list[Any]:
    reports = []
    for _ in range(phases):
        api.wait_idle()
        reports.append(collect_batch(job.id))
        if reports[-1].done:
            break
    return reports


def results_of(reports: list[Any]) -> dict[str, Any]:
    return {r.id: r for report in reports for r in report.results}


def sent_twice(api: FakeBatchAPI) -> list[str]:
    """Request bodies the stand-in ran more than once (a double spend)."""
    counts = Counter(json.dumps(body, sort_keys=True) for body in api.answered)
    return [body for body, n in counts.items() if n > 1]


def fine_line_request(body: dict[str, Any]) -> bool:
    return SHORT["xi-putin-fine-line"][:30] in body["messages"][-1]["content"]


# --- lines that failed ------------------------------------------------------------


def test_a_line_refusing_the_response_format_fails_its_article_with_a_typed_error(api):
    def refuse(key, body):
        if fine_line_request(body):
            error = {"message": "Invalid parameter: 'response_format' of type 'json_schema' is "
                     "not supported with this model.", "type": "invalid_request_error",
                     "param": "response_format", "code": None}  # fmt: skip
            return 400, {"error": error}
        return None

    api.line_fault = refuse
    job = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    [report] = run_to_end(api, job)
    by_id = results_of([report])
    failed = by_id["xi-putin-fine-line"]
    assert failed.error is not None
    assert failed.error.type == "BadRequestError"
    assert "--structured-output json_object" in failed.error.message
    assert all(by_id[k].result is not None for k in SHORT if k != "xi-putin-fine-line")
    again = collect_batch(job.id)  # the answers are saved: a later collect must not crash
    assert again.done


def test_a_line_refusing_temperature_is_sent_again_without_it_and_succeeds(api):
    def refuse(key, body):
        if "temperature" in body:
            error = {"message": "Unsupported value: 'temperature' does not support 0 with "
                     "this model. Only the default (1) value is supported.",
                     "type": "invalid_request_error", "param": "temperature",
                     "code": "unsupported_value"}  # fmt: skip
            return 400, {"error": error}
        return None

    api.line_fault = refuse
    job = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    reports = run_to_end(api, job)
    assert len(reports) == 2  # phase 2: the same requests without temperature
    by_id = results_of(reports)
    assert all(by_id[k].result is not None for k in SHORT)
    second_phase = [b for b in api.answered if "temperature" not in b]
    assert len(second_phase) == len(SHORT)


def test_an_output_line_with_values_newer_than_the_sdk_is_read(api):
    def newer(key, body):
        answer = fakemodel.completion(body)
        answer["service_tier"] = "flex-2027"  # not in the installed SDK's enum
        answer["choices"][0]["message"]["annotations"] = [{"type": "brand_new"}]
        return 200, answer

    api.line_fault = newer
    job = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    [report] = run_to_end(api, job)
    assert report.done
    assert all(r.result is not None for r in report.results)


# --- batches that failed or ended early ---------------------------------------------


def test_an_expired_batch_writes_batch_expired_lines_and_they_go_again(api):
    api.expire_after = 1
    job = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    api.wait_idle()
    (batch,) = api.batches.values()
    errors = api.files[batch["error_file_id"]]["content"].decode().splitlines()
    assert len(errors) == len(SHORT) - 1
    line = json.loads(errors[0])
    assert line["response"] is None
    assert line["error"]["code"] == "batch_expired"
    reports = run_to_end(api, job)
    assert len(reports) == 2
    assert all(r.result is not None for r in results_of(reports).values())
    assert sent_twice(api) == []


def test_a_batch_over_the_enqueued_token_limit_goes_again_in_smaller_batches(api):
    items = list(SHORT.items())
    bodies = {}
    job = submit_batch(items, base_url=api.url, **OPTIONS, batch_tokens=None)
    api.wait_idle()
    for raw in (job.directory / f"{job.id}-phase1-1.jsonl").read_text().splitlines():
        bodies[json.loads(raw)["custom_id"]] = json.loads(raw)["body"]
    whole = sum(len(m["content"]) for b in bodies.values() for m in b["messages"]) // 4

    with FakeBatchAPI() as limited:
        limited.token_limit = whole * 2 // 3  # two of the three requests fit at once
        limited.hold = True
        job = submit_batch(items, base_url=limited.url, **OPTIONS)
        limited.release()
        limited.wait_idle()
        first = collect_batch(job.id)
        assert first.status.batches[0]["status"] == "failed"
        assert first.status.batches[0]["codes"] == ["token_limit_exceeded"]
        assert first.results == []  # nothing lost, nothing reported as failed
        assert len(first.next_batches) >= 2  # split by the halved token budget
        reports = [first, *run_to_end(limited, job, phases=10)]
        by_id = results_of(reports)
        assert set(by_id) == set(SHORT)
        assert all(r.result is not None for r in by_id.values())
        assert sent_twice(limited) == []
        assert all(b["status"] != "failed" for b in limited.batches.values()
                   if b["id"] != first.status.batches[0]["id"])  # fmt: skip


def test_a_phase_split_by_tokens_creates_batches_only_as_the_budget_frees(api):
    api.hold = True
    job = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS, batch_tokens=1)
    status = job.status()
    assert len(status.batches) == len(SHORT)  # one request a batch
    assert [b["status"] for b in status.batches].count("queued") == len(SHORT) - 1
    assert len(api.batches) == 1  # the others wait for it
    api.release()
    reports = run_to_end(api, job, phases=10)
    assert reports[-1].done
    assert len(api.batches) == len(SHORT)
    assert all(r.result is not None for r in results_of(reports).values())


def test_a_multi_batch_phase_invents_no_failures_for_the_other_batches(api):
    job = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS, batch_tokens=10**9)
    assert len(job.status().batches) == 1
    texts = list(SHORT.items())
    pending = {f"r-{n}": {"messages": [{"role": "user", "content": t}]} for n, (_, t) in
               enumerate(texts)}  # fmt: skip
    assert len(split(pending, max_tokens=1)) == len(texts)
    job = submit_batch(texts, base_url=api.url, **OPTIONS, batch_tokens=1, cache=False)
    reports = run_to_end(api, job, phases=10)
    answers = (job.directory / "answers.jsonl").read_text().splitlines()
    assert not any(json.loads(a)["id"].startswith("missing-") for a in answers)
    assert all(r.result is not None for r in results_of(reports).values())


@pytest.mark.parametrize(
    ("code", "message"),
    [("duplicate_custom_id", "The custom_id for this request is a duplicate"),
     ("empty_file", "The batch input file is empty")],
)  # fmt: skip
def test_a_batch_refused_for_its_input_is_an_error_naming_the_code(api, tmp_path, code, message):
    api.invalid, api.invalid_code = message, code
    job = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    api.wait_idle()
    status, _, err = cli("batch", "collect", job.id, "-o", str(tmp_path / "o.jsonl"))
    assert status == 1
    assert code in err
    assert f"{job.id}-phase1-1.jsonl" in err  # where the requests are


# --- creating batches -----------------------------------------------------------------


def test_a_failed_create_orphans_nothing_and_the_rest_is_created_later(api, tmp_path, monkeypatch):
    monkeypatch.setattr("summarize.many.batchapi.remote.MAX_REQUESTS", 1)  # a batch a request
    api.hold = True
    api.create_faults = ["", "500", "500", "500"]  # the second batch: refused three times
    with pytest.raises(ServerError):
        submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    [state] = (tmp_path / "cache" / "summarize" / "batches").glob("*/job.json")
    job = BatchJob.load(state.parent.name)
    records = job.state["batches"]
    assert job.state["phase"] == 1
    assert records[0]["id"] is not None
    assert all(r["status"] == "queued" for r in records[1:])
    api.release()
    reports = run_to_end(api, job, phases=10)
    assert reports[-1].done
    assert all(r.result is not None for r in results_of(reports).values())
    assert sent_twice(api) == []  # the created batch was not sent again
    assert len({b["input_file_id"] for b in api.batches.values()}) == len(api.batches)


def test_a_create_whose_answer_is_lost_is_found_not_made_twice(api):
    api.create_faults = ["lost"]
    job = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    assert len(api.batches) == 1  # made once, though its answer never arrived
    (batch,) = api.batches.values()
    assert job.state["batches"][0]["id"] == batch["id"]
    reports = run_to_end(api, job)
    assert reports[-1].done
    assert sent_twice(api) == []


# --- cancelling -------------------------------------------------------------------------


def test_a_cancelled_job_is_not_sent_again_and_its_articles_say_so(api, tmp_path):
    api.hold = True
    job = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    code, shown, err = cli("batch", "cancel", job.id)
    assert code == 0, err
    assert f"job {job.id}: 3 article(s), phase 1, cancelled" in shown
    api.release()
    api.wait_idle()
    status = cancel_batch(job.id)  # again: harmless
    assert status.batches[0]["status"] == "cancelled"
    report = collect_batch(job.id)
    assert report.done
    assert report.next_batches == []
    assert {r.id for r in report.results} == set(SHORT)
    assert all(r.error is not None and r.error.type == "BatchCancelledError"
               for r in report.results)  # fmt: skip
    assert len(api.batches) == 1  # nothing resent
    assert collect_batch(job.id).next_batches == []


def test_a_batch_cancelled_outside_summarize_is_not_resent_either(api):
    api.hold = True
    job = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    (batch,) = api.batches.values()
    batch["cancel"] = True  # as the dashboard would
    api.release()
    api.wait_idle()
    report = collect_batch(job.id)
    assert report.next_batches == []
    assert all(r.error is not None and r.error.type == "BatchCancelledError"
               for r in report.results)  # fmt: skip
    assert len(api.batches) == 1


def test_a_create_lost_then_a_crash_is_found_by_the_next_collect(api):
    api.hold = True
    api.create_faults = ["lost"]  # made, its answer lost ...
    api.list_faults = 8  # ... and the look for it fails: as if the process died there
    with pytest.raises(ServerError):
        submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    assert len(api.batches) == 1  # the first create made it
    api.list_faults = 0
    [state] = (Path(os.environ["XDG_CACHE_HOME"]) / "summarize" / "batches").glob("*/job.json")
    job = BatchJob.load(state.parent.name)
    assert job.state["batches"][0]["id"] is None  # the job never heard of it
    api.release()
    reports = run_to_end(api, job)  # the next status finds it by its input file
    assert reports[-1].done
    assert len(api.batches) == 1
    assert sent_twice(api) == []
