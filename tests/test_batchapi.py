"""The OpenAI Batch API flow: submit, status, collect, phases, re-asks, retries, expiry.

Runs against testkit/batchserver.py, a local stand-in for the Batch API written from
OpenAI's API reference, answering with the scripted fake model (testkit/fakemodel.py).
The recorded flow (answers from llama.cpp + SmolLM2) is in test_recorded.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from testkit import fakemodel
from testkit import fakeserver as F

from summarize import summarize_many
from summarize.cli import main as cli_main
from summarize.many.batchapi import BatchJob, collect_batch, submit_batch
from summarize.model.pricing import PRICES, price_of
from tests.support import ARTICLES

TEXTS = {p.stem: p.read_text(encoding="utf-8") for p in sorted(ARTICLES.glob("*.txt"))}
# short enough for one request each at a 3,200-token window (the hints cost a few tokens)
SHORT = {k: TEXTS[k] for k in ("xi-putin-fine-line", "374ac9a59a85", "156770d676ce")}
LONG = {"702d1da63b8e": TEXTS["702d1da63b8e"]}  # the trade-war article, in parts at 3,200
OPTIONS = {"model": "gpt-4o-mini", "context_window": 3200, "max_output_tokens": 1024}


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(list(argv))
    return code, out.getvalue(), err.getvalue()


def rows(path: Path) -> dict[str, dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len({r["id"] for r in lines}) == len(lines), "an id was written twice"
    return {r["id"]: r for r in lines}


def test_the_cli_flow_runs_long_articles_in_two_phases(api, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, text in {**SHORT, **LONG}.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    api.hold = True
    code, job, err = cli("batch", "submit", str(folder), "--base-url", api.url, "--model",
                         "gpt-4o-mini", "--context-window", "3200")  # fmt: skip
    job = job.strip()
    assert code == 0, err
    assert job.startswith("sb-")
    code, shown, _ = cli("batch", "status", job)
    assert code == 0
    assert "phase 1: batch_" in shown
    assert "in_progress" in shown
    out = tmp_path / "briefs.jsonl"
    code, _, err = cli("batch", "collect", job, "-o", str(out))
    assert code == 3  # not ended yet: nothing written
    assert "has not ended" in err
    assert not out.exists()

    api.release()
    api.wait_idle()
    code, _, err = cli("batch", "collect", job, "-o", str(out))
    assert code == 3, err
    first = rows(out)
    assert set(first) == {str(folder / f"{n}.txt") for n in SHORT}  # short ones are done
    assert "sent phase 2" in err

    api.wait_idle()
    code, _, err = cli("batch", "collect", job, "-o", str(out))
    assert code == 0, err
    assert "the job is finished" in err
    done = rows(out)
    assert set(done) == {str(folder / f"{n}.txt") for n in {**SHORT, **LONG}}
    long_result = done[str(folder / "702d1da63b8e.txt")]["result"]
    assert long_result["meta"]["chunks"] > 1
    assert long_result["meta"]["reduce_requests"] >= 1

    # phase 1 had every short article's request and every part; phase 2 the merge(s)
    state = BatchJob.load(job).state
    phases = [b["phase"] for b in state["batches"]]
    assert phases == [1, 2]
    assert state["batches"][0]["requests"] == len(SHORT) + long_result["meta"]["chunks"]
    assert api.online == 0

    # collecting a finished job again writes nothing twice
    code, _, err = cli("batch", "collect", job, "-o", str(out))
    assert code == 0
    assert len(rows(out)) == len(done)


def test_batch_results_equal_the_online_results_at_half_the_price(api, tmp_path):
    items = list({**SHORT, **LONG}.items())
    job = submit_batch(items, base_url=api.url, **OPTIONS)
    results = {}
    for _ in range(4):
        api.wait_idle()
        report = collect_batch(job.id, skip=set(results))
        results.update({r.id: r for r in report.results})
        if report.done:
            break
    assert set(results) == {name for name, _ in items}

    with F.FakeServer() as server:
        # the stand-in for OpenAI is priced as OpenAI's API is
        online = {r.id: r for r in summarize_many(items, base_url=server.url, cache=False,
                                                  prices=PRICES, **OPTIONS)}  # fmt: skip
    for name, text in items:
        batch, live = results[name].result, online[name].result
        assert batch is not None
        assert live is not None
        assert batch.ungrounded(text) == []
        assert batch.meta.traceability == 1.0
        assert batch.summary_sentences == live.summary_sentences
        assert batch.summary == live.summary
        assert batch.key_points == live.key_points
        assert batch.contested_points == live.contested_points
        assert batch.meta.usage.requests == live.meta.usage.requests
        # the random boundary marker (4 times per prompt) tokenises to a few more or
        # fewer tokens from run to run
        assert batch.meta.usage.prompt_tokens == pytest.approx(
            live.meta.usage.prompt_tokens, abs=48 * batch.meta.usage.requests
        )
        assert batch.meta.usage.completion_tokens == live.meta.usage.completion_tokens
        batch_cost, live_cost = results[name].cost_usd, online[name].cost_usd
        assert batch_cost is not None
        assert live_cost is not None
        assert batch_cost == pytest.approx(price_of("gpt-4o-mini", batch.meta.usage) / 2)
        assert batch_cost == pytest.approx(live_cost / 2, rel=0.05)


def _invalid_first_answer(bad_for: set[str]):  # type: ignore[no-untyped-def]
    """Answer the first request about each named article with JSON that fails the schema."""

    def fault(key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        user = body["messages"][-1]["content"]
        if len(body["messages"]) > 2:
            return None  # a re-ask: answer it properly
        for marker in list(bad_for):
            if marker in user:
                bad_for.discard(marker)
                answer = fakemodel.completion(body)
                answer["choices"][0]["message"]["content"] = '{"summary": 5}'
                return 200, answer
        return None

    return fault


def test_an_answer_that_fails_validation_is_re_asked_in_the_next_batch(api, tmp_path):
    marker = SHORT["xi-putin-fine-line"].split("\n")[0][:40]
    api.line_fault = _invalid_first_answer({marker})
    job = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    api.wait_idle()
    first = collect_batch(job.id)
    assert {r.id for r in first.results} == set(SHORT) - {"xi-putin-fine-line"}
    assert first.waiting == 1
    assert [b["requests"] for b in first.next_batches] == [1]  # the re-ask alone
    api.wait_idle()
    second = collect_batch(job.id, skip={r.id for r in first.results})
    (result,) = second.results
    assert result.id == "xi-putin-fine-line"
    assert result.result is not None
    assert result.result.meta.usage.attempts == 2
    assert any("re-asked" in w for w in result.result.meta.warnings)
    assert second.done


def test_online_re_asks_finish_the_job_in_one_collect(api):
    marker = SHORT["xi-putin-fine-line"].split("\n")[0][:40]
    api.line_fault = _invalid_first_answer({marker})
    job = submit_batch(list({**SHORT, **LONG}.items()), base_url=api.url, **OPTIONS)
    api.wait_idle()
    report = collect_batch(job.id, online=True)
    assert report.done
    assert report.next_batches == []
    assert {r.id for r in report.results} == {*SHORT, *LONG}
    assert all(r.result is not None for r in report.results)
    assert api.online >= 2  # the re-ask and the long article's merge
    by_id = {r.id: r for r in report.results}
    # the online re-ask is billed in full, the batch answer at half
    reasked = by_id["xi-putin-fine-line"]
    full = price_of("gpt-4o-mini", reasked.usage)
    assert reasked.cost_usd is not None
    assert full is not None
    assert full / 2 < reasked.cost_usd < full
    plain = by_id["374ac9a59a85"]
    assert plain.cost_usd == pytest.approx(price_of("gpt-4o-mini", plain.usage) / 2)


def test_a_crash_while_saving_answers_loses_nothing(api):
    job = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    api.wait_idle()
    collect_batch(job.id)
    answers = job.directory / "answers.jsonl"
    whole = answers.read_bytes()
    # a crash mid-write: a torn line, and the batch not yet marked downloaded
    answers.write_bytes(whole[: whole.rfind(b"\n", 0, len(whole) - 1) + 1] + b'{"id": "bat')
    state = json.loads((job.directory / "job.json").read_text())
    state["batches"][0]["downloaded"] = False
    state.pop("finished")
    (job.directory / "job.json").write_text(json.dumps(state))
    again = collect_batch(job.id)
    assert again.done
    assert {r.id for r in again.results} == set(SHORT)
    assert all(r.result is not None for r in again.results)
    lines = answers.read_text().splitlines()
    assert len(lines) == len({json.loads(line)["id"] for line in lines}) + 2  # re-fetched


def test_failed_lines_are_retried_then_reported_as_typed_errors(api):
    calls: dict[str, int] = {}

    def fault(key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        if SHORT["374ac9a59a85"][:30] in body["messages"][-1]["content"]:
            calls[key] = calls.get(key, 0) + 1
            return 500, {"error": {"message": "The server had an error", "type": "server_error"}}
        if SHORT["156770d676ce"][:30] in body["messages"][-1]["content"] and not calls.get("fine"):
            calls["fine"] = 1
            return 429, {"error": {"message": "Rate limit reached", "type": "requests"}}
        return None

    api.line_fault = fault
    job = submit_batch(list(SHORT.items()), base_url=api.url, max_retries=1, **OPTIONS)
    reports = []
    for _ in range(4):
        api.wait_idle()
        reports.append(collect_batch(job.id))
        if reports[-1].done:
            break
    by_id = {r.id: r for report in reports for r in report.results}
    assert by_id["xi-putin-fine-line"].result is not None
    assert by_id["156770d676ce"].result is not None  # the 429 line, retried once
    failed = by_id["374ac9a59a85"]
    assert failed.result is None
    assert failed.error is not None
    assert failed.error.type == "ServerError"
    assert "500" in failed.error.message
    assert failed.usage.requests == 2  # the first line and one retry (max_retries=1)
    assert len(reports) == 2


def test_requests_an_expired_batch_never_ran_go_into_the_next_phase(api):
    api.expire_after = 1
    job = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    api.wait_idle()
    first = collect_batch(job.id)
    assert first.status.batches[0]["status"] == "expired"
    assert len(first.results) == 1
    assert first.waiting == 2
    api.wait_idle()
    second = collect_batch(job.id)
    assert second.done
    assert {r.id for r in second.results} == set(SHORT)
    assert all(r.result is not None for r in second.results)


def test_a_batch_that_fails_validation_is_a_clear_error(api, tmp_path):
    api.invalid = "duplicate custom_id 'x'"
    job = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    api.wait_idle()
    code, _, err = cli("batch", "collect", job.id, "-o", str(tmp_path / "o.jsonl"))
    assert code == 1
    assert "failed validation" in err
    assert "duplicate custom_id" in err
    assert "phase1" in err  # where the requests are, to inspect


def test_unusable_inputs_are_error_lines_and_the_rest_go_through(api, tmp_path):
    rows_in = tmp_path / "in.jsonl"
    rows_in.write_text(
        json.dumps({"id": "ok", "text": SHORT["xi-putin-fine-line"]}) + "\n"
        + "not json\n"
        + json.dumps({"id": "empty", "text": "   "}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    code, job, err = cli("batch", "submit", str(rows_in), "--base-url", api.url, "--model", "m")
    assert code == 0, err
    api.wait_idle()
    out = tmp_path / "o.jsonl"
    code, _, err = cli("batch", "collect", job.strip(), "-o", str(out))
    written = rows(out)
    assert code == 1  # one article failed
    assert written["ok"]["result"] is not None
    assert written["in.jsonl:2"]["error"]["message"].startswith("not JSON")
    assert written["empty"]["error"]["type"] == "InputError"


def test_unknown_jobs_and_local_models_are_refused_clearly(api, tmp_path):
    code, _, err = cli("batch", "status", "sb-nope")
    assert code == 1
    assert "no batch job 'sb-nope'" in err
    code, _, err = cli("batch", "submit", str(ARTICLES / "xi-putin-ntv.txt"), "--local")
    assert code == 2
    assert "not --local" in err


def test_the_key_is_never_written_to_the_job_state(api, tmp_path):
    job = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    api.wait_idle()
    collect_batch(job.id)
    for path in job.directory.iterdir():
        assert b"sk-SENTINEL" not in path.read_bytes(), path.name
    assert os.environ["OPENAI_API_KEY"] not in json.dumps(job.state)


def test_asking_the_same_body_again_takes_the_next_answer_as_online_would():
    from summarize.many.batchapi import BatchClient

    def line(n: int, status: int) -> dict[str, Any]:
        return {"id": f"l{n}", "custom_id": "r-x", "error": None,
                "response": {"status_code": status, "body": {}}}  # fmt: skip

    first, failed, second = line(1, 200), line(2, 500), line(3, 200)
    client = BatchClient(None, {"r-x": [first, failed, second]}, online=False)  # type: ignore[arg-type]
    assert client._lines_for("r-x") == ([], first)
    assert client._lines_for("r-x") == ([failed], second)  # a retried failure, then its answer
    assert client._lines_for("r-x") == ([], None)  # not sent yet: deferred to the next batch
    assert client._lines_for("r-y") == ([], None)


def test_collect_wait_runs_every_phase_to_the_end(api, tmp_path):
    items = tmp_path / "in.jsonl"
    items.write_text(
        "".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in {**SHORT, **LONG}.items()),
        encoding="utf-8",
    )
    code, job, err = cli("batch", "submit", str(items), "--base-url", api.url, "--model",
                         "gpt-4o-mini", "--context-window", "3200")  # fmt: skip
    assert code == 0, err
    out = tmp_path / "o.jsonl"
    code, _, err = cli("batch", "collect", job.strip(), "-o", str(out), "--wait", "--poll", "0.05")
    assert code == 0, err
    assert set(rows(out)) == {*SHORT, *LONG}
    assert "sent phase 2" in err
    assert err.rstrip().endswith("the job is finished.")


def test_a_refused_upload_is_a_typed_error_without_the_key(api, tmp_path):
    key = os.environ["OPENAI_API_KEY"]
    api.reject = (401, f"Incorrect API key provided: {key}")
    code, _, err = cli("batch", "submit", str(ARTICLES / "xi-putin-ntv.txt"),
                       "--base-url", api.url, "--model", "gpt-4o-mini")  # fmt: skip
    assert code == 1
    assert "AuthenticationError: 401 from the Batch API" in err
    assert "check OPENAI_API_KEY" in err
    assert key not in err
    assert "[REDACTED]" in err


def test_results_can_stream_to_a_callback_instead_of_a_list(api):
    job = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    api.wait_idle()
    seen: list[Any] = []
    report = collect_batch(job.id, on_result=seen.append)
    assert report.results == []
    assert report.finished == len(seen) == len(SHORT)
    assert {r.id for r in seen} == set(SHORT)


def test_a_second_job_on_the_same_articles_is_answered_from_the_cache(api, tmp_path):
    first = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    api.wait_idle()
    assert collect_batch(first.id).done
    uploads = api.calls.count(("POST", "/v1/files"))

    again = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    assert again.state["batches"] == []  # nothing to send
    assert again.state["finished"]
    report = collect_batch(again.id)
    assert report.done
    assert {r.id for r in report.results} == set(SHORT)
    assert all(r.cached and r.cost_usd == 0.0 for r in report.results)
    assert api.calls.count(("POST", "/v1/files")) == uploads

    code, job, _ = cli("batch", "submit", str(ARTICLES / "xi-putin-fine-line.txt"),
                       "--base-url", api.url, "--model", "gpt-4o-mini", "--no-cache")  # fmt: skip
    assert code == 0
    assert BatchJob.load(job.strip()).state["batches"] != []


def test_batch_collect_writes_cached_true_for_briefs_from_the_cache(api, tmp_path):
    """The CLI's record says which briefs came from the cache (it once always said no)."""
    folder = tmp_path / "in"
    folder.mkdir()
    names = ["xi-putin-fine-line", "374ac9a59a85"]
    for name in names:
        (folder / f"{name}.txt").write_text(SHORT[name], encoding="utf-8")
    common = ("--base-url", api.url, "--model", "gpt-4o-mini", "--context-window", "3200")
    code, first, err = cli("batch", "submit", str(folder / f"{names[0]}.txt"), *common)
    assert code == 0, err
    api.wait_idle()
    assert cli("batch", "collect", first.strip(), "-o", str(tmp_path / "first.jsonl"))[0] == 0

    code, second, err = cli("batch", "submit", str(folder), *common)
    assert code == 0, err
    api.wait_idle()
    out = tmp_path / "second.jsonl"
    code, _, err = cli("batch", "collect", second.strip(), "-o", str(out))
    assert code == 0, err
    written = rows(out)
    cached = {Path(k).stem: (r["cached"], r["cost_usd"]) for k, r in written.items()}
    assert cached == {names[0]: (True, 0.0), names[1]: (False, cached[names[1]][1])}
    assert written[str(folder / f"{names[1]}.txt")]["result"]["summary"]
    assert rows(tmp_path / "first.jsonl")[str(folder / f"{names[0]}.txt")]["cached"] is False


def test_a_garbled_output_file_is_a_clear_error_and_keeps_nothing(api, tmp_path):
    job = submit_batch(list(SHORT.items()), base_url=api.url, **OPTIONS)
    api.wait_idle()
    (batch,) = api.batches.values()
    api.files[batch["output_file_id"]]["content"] = b'{"id": "x", "custom_id": "r-1"}\n<html>\n'
    code, _, err = cli("batch", "collect", job.id, "-o", str(tmp_path / "o.jsonl"))
    assert code == 1
    assert "BatchJobError: line 2 of file" in err
    assert not (job.directory / "answers.jsonl").exists()
