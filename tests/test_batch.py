"""Many articles: streaming, isolation of failures, cache, budget, resume, kill -9.

Runs against the real local fake server (testkit/fakeserver.py; scripted, not recorded).
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit import fakeserver as F

from summarize import BatchResult, summarize_many
from summarize import errors as E
from summarize.cli import main as cli_main
from summarize.cli.many import done_ids
from tests.support import ARTICLES, ctrl_c_reaches

TEXTS = [p.read_text(encoding="utf-8") for p in sorted(ARTICLES.glob("*.txt"))]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def server() -> Iterator[F.FakeServer]:
    with F.FakeServer() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def many(server: F.FakeServer, items, **options) -> list[BatchResult]:  # type: ignore[no-untyped-def]
    options = {"base_url": server.url, "api_key": "k", "model": "gpt-4o-mini", **options}
    return list(summarize_many(items, **options))


def test_results_stream_with_ids_and_a_failure_does_not_stop_the_batch(server):
    server.gather = 3
    items = [(f"a{i}", TEXTS[i]) for i in range(6)] + [("empty", "   "), {"id": "bad"}]
    results = many(server, items, concurrency=3, price_in=0.15, price_out=0.60)
    by_id = {r.id: r for r in results}
    assert set(by_id) == {f"a{i}" for i in range(6)} | {"empty", "bad"}
    assert by_id["empty"].error is not None
    assert by_id["empty"].error.type == "InputError"
    assert by_id["bad"].error is not None
    assert "no 'text', 'path' or 'url'" in by_id["bad"].error.message
    for i in range(6):
        result = by_id[f"a{i}"]
        assert result.result is not None
        assert result.result.ungrounded(TEXTS[i]) == []
        assert result.result.meta.traceability == 1.0  # every statement carries evidence
        assert all(s.evidence for s in result.result.key_points)
        assert result.cost_usd is not None
        usage = result.usage
        assert result.cost_usd == pytest.approx(
            (usage.prompt_tokens * 0.15 + usage.completion_tokens * 0.60) / 1e6
        )  # at the prices given
    assert 1 < server.max_in_flight <= 3


def test_an_endpoint_that_is_not_openais_has_no_price_unless_one_is_given(server):
    """The fake server is not api.openai.com: OpenAI's list price for gpt-4o-mini is not
    its price."""
    (result,) = many(server, [("a", TEXTS[0])], cache=False)
    assert result.result is not None
    assert result.usage.prompt_tokens > 0
    assert result.cost_usd is None
    assert result.result.meta.endpoint == server.url.split("/")[2]
    with pytest.raises(E.ConfigurationError, match="--price-in"):
        many(server, [("b", TEXTS[1])], cache=False, max_cost=1.0)


def test_a_rerun_is_served_from_the_cache_with_zero_requests(server):
    items = [(f"a{i}", TEXTS[i]) for i in range(4)]
    first = many(server, items)
    sent = len(server.requests)
    second = many(server, items)
    assert len(server.requests) == sent  # not one request more
    assert all(r.cached for r in second)
    assert {r.id: r.result for r in second} == {r.id: r.result for r in first}
    third = many(server, items, cache=False)
    assert len(server.requests) == 2 * sent
    assert not any(r.cached for r in third)
    cache_file = Path(os.environ["XDG_CACHE_HOME"]) / "summarize" / "briefs.sqlite3"
    assert cache_file.exists()
    assert b"sk-" not in cache_file.read_bytes()


def test_results_carry_short_source_names_even_from_the_cache(server, tmp_path):
    first, second = tmp_path / "ntv.txt", tmp_path / "same-story.txt"
    first.write_text(TEXTS[0], encoding="utf-8")
    second.write_text(TEXTS[0], encoding="utf-8")  # the same text: one cache entry
    results = {r.id: r for r in many(server, [first, ("mine", TEXTS[1])], concurrency=1)}
    assert results[str(first)].result is not None
    assert results[str(first)].result.meta.source == "ntv"
    assert results["mine"].result is not None
    assert results["mine"].result.meta.source == "mine"  # an id of one's own names it
    (hit,) = many(server, [second])
    assert hit.cached
    assert hit.result is not None
    assert hit.result.meta.source == "same-story"  # not the name it was cached under


def test_max_cost_stops_starting_new_articles(server):
    items = [(f"a{i}", TEXTS[i % len(TEXTS)]) for i in range(10)]
    expensive = {"gpt-4o-mini": (10_000.0, 10_000.0)}  # dollars per million tokens
    results = many(server, items, concurrency=1, prices=expensive, max_cost=1.0, cache=False)
    assert len(results) == 1  # the first one already spent more than $1


def test_skip_and_duplicate_ids(server):
    items = [("a", TEXTS[0]), ("b", TEXTS[1]), ("a", TEXTS[0]), ("c", TEXTS[2])]
    results = many(server, items, skip={"b"})
    assert sorted(r.id for r in results) == ["a", "c"]


# --- the CLI --------------------------------------------------------------------------


def _lines(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_cli_batch_over_a_directory_and_jsonl_with_resume(server, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        (folder / f"n{i}.txt").write_text(TEXTS[i], encoding="utf-8")
    listing = tmp_path / "more.jsonl"
    listing.write_text(
        json.dumps({"id": "j1", "text": TEXTS[3]})
        + "\n\n"
        + json.dumps({"id": "j2", "path": "in/n0.txt"})
        + "\n{not json\n"
        + json.dumps({"id": "j3"})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    argv = [str(folder), str(listing), "-o", str(out), "--base-url", server.url, "--model", "m"]
    assert cli_main(argv) == 1  # some rows were unusable
    rows = _lines(out)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == 8
    errors = {r["id"]: r["error"]["message"] for r in rows if "error" in r}
    assert set(errors) == {"more.jsonl:2", "more.jsonl:4", "j3"}
    assert "empty line" in errors["more.jsonl:2"]
    assert "not JSON" in errors["more.jsonl:4"]
    assert all("result" in r for r in rows if r["id"] not in errors)
    report = capsys.readouterr().err
    assert "5 ok, 3 failed" in report

    # A torn last line (as a crash would leave) is cut; finished ids are not redone.
    with out.open("ab") as handle:
        handle.write(b'{"id": "partial", "resu')
    sent = len(server.requests)
    assert cli_main(argv) == 0  # nothing left to do, nothing failed this time
    assert len(server.requests) == sent
    assert [r["id"] for r in _lines(out)] == ids
    assert "8 skipped" in capsys.readouterr().err


def _held_from(first: int, gate: threading.Event):  # type: ignore[no-untyped-def]
    """A chooser that holds the requests of article copies ``first`` and later until
    ``gate`` is set: the run stops at a known point whatever the machine's speed."""

    def chooser(body):  # type: ignore[no-untyped-def]
        prompt = body["messages"][-1]["content"]
        later = any(f"Copy {i}." in prompt for i in range(first, 100))
        return F.held(gate) if later and not gate.is_set() else None

    return chooser


def _wait_for_lines(out: Path, count: int, server: F.FakeServer, held: int) -> None:
    deadline = time.monotonic() + 120  # a hang guard, not a speed goal
    while time.monotonic() < deadline:
        if out.exists() and len(_lines(out)) >= count and server.in_flight >= held:
            return
        time.sleep(0.05)
    raise AssertionError(f"{out} never had {count} lines with {held} requests held")


@pytest.mark.slow
def test_kill_9_mid_batch_then_the_same_command_finishes_exactly_once(tmp_path):
    """A real process killed with SIGKILL while articles are in flight."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(12):
        (folder / f"n{i:02}.txt").write_text(TEXTS[i % len(TEXTS)] + f"\n\nCopy {i}.", "utf-8")
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    gate = threading.Event()
    with F.FakeServer() as server:
        server.choose(_held_from(5, gate))  # n05 and n06 stay in flight
        command = [sys.executable, "-m", "summarize", str(folder), "-o", str(out),
                   "--base-url", server.url, "--model", "m", "--concurrency", "2"]  # fmt: skip
        process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        try:
            _wait_for_lines(out, 5, server, held=2)
            process.send_signal(signal.SIGKILL)
            process.wait()
        finally:
            gate.set()
        before = done_ids(out)
        assert len(before) == 5
        assert 3 <= len(before) < 12
        finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert finished.returncode == 0, finished.stderr
    rows = _lines(out)
    assert sorted(r["id"] for r in rows) == sorted(str(p) for p in folder.glob("*.txt"))
    assert all("result" in r for r in rows)


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_keeps_whole_lines_and_exits_nonzero(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(10):
        (folder / f"n{i:02}.txt").write_text(TEXTS[i % len(TEXTS)] + f"\n\nCopy {i}.", "utf-8")
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    gate = threading.Event()
    with F.FakeServer() as server:
        server.choose(_held_from(2, gate))  # n02 and n03 stay in flight
        command = [sys.executable, "-m", "summarize", str(folder), "-o", str(out),
                   "--base-url", server.url, "--model", "m", "--concurrency", "2"]  # fmt: skip
        process = subprocess.Popen(
            command, env=env, stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_reaches
        )
        try:
            _wait_for_lines(out, 2, server, held=2)
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=30)
        finally:
            gate.set()
            if process.poll() is None:  # failed: no process left behind for later tests
                process.kill()
                process.communicate()
    assert process.returncode == 130
    assert "interrupted" in err
    rows = _lines(out)  # every line parses: nothing torn
    assert 2 <= len(rows) < 10
    assert len({r["id"] for r in rows}) == len(rows)


def test_the_api_key_is_not_in_the_batch_output_or_the_cache(server, tmp_path, monkeypatch):
    sentinel = "sk-SENTINEL-batch-77aa"
    monkeypatch.setenv("OPENAI_API_KEY", sentinel)
    server.queue(F.status(401, f"Incorrect API key provided: {sentinel}"))
    (tmp_path / "a.txt").write_text(TEXTS[0], encoding="utf-8")
    (tmp_path / "b.txt").write_text(TEXTS[1], encoding="utf-8")
    out = tmp_path / "out.jsonl"
    cli_main([str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), "-o", str(out),
              "--base-url", server.url, "--model", "m", "--concurrency", "1"])  # fmt: skip
    written = out.read_text(encoding="utf-8")
    assert "AuthenticationError" in written  # the failure is reported...
    assert sentinel not in written  # ...without the key
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "summarize" / "briefs.sqlite3"
    assert sentinel.encode() not in cache.read_bytes()


def test_an_unusable_cache_location_is_a_warning_and_a_run_without_it(
    server, tmp_path, monkeypatch
):
    # #28: a cache that cannot be used no longer ends the run (it was a ConfigurationError)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    results = many(server, [("a", TEXTS[0]), ("b", TEXTS[1])])
    assert [r.result is not None for r in results] == [True, True]
    warned = [w for r in results for w in r.result.meta.warnings if "brief cache" in w]
    assert len(warned) == 1  # said once
    assert "--no-cache" in warned[0]
    assert len(many(server, [("a", TEXTS[0])], cache=False)) == 1


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_progress_bar_and_a_final_report(server, tmp_path, monkeypatch):
    server.queue(F.status(429, "Rate limit reached", headers={"retry-after-ms": "50"}))
    for i in range(3):
        (tmp_path / f"a{i}.txt").write_text(TEXTS[i], encoding="utf-8")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    out = tmp_path / "out.jsonl"
    code = cli_main([str(tmp_path), "-o", str(out), "--base-url", server.url, "--model",
                     "gpt-4o-mini", "--concurrency", "1", "--tpm", "1000000"])  # fmt: skip
    assert code == 0
    shown = terminal.getvalue()
    assert "3/3" in shown  # tqdm's count against the total of 3 files
    assert "article/s" in shown or "s/article" in shown  # the rate
    assert "3 ok, 0 failed" in shown
    assert "tokens, $0.0" in shown
    final = shown.rstrip().splitlines()[-1]
    assert final.startswith("summarize: 3 done (3 ok, 0 failed, 0 cached)")
    assert "1 rate-limit answer(s) (429)" in final


def test_without_a_terminal_only_the_final_report_is_printed(server, tmp_path, capsys):
    (tmp_path / "a.txt").write_text(TEXTS[0], encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert cli_main([str(tmp_path), "-o", str(out), "--base-url", server.url,
                     "--model", "m"]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [err.strip()]
    assert err.startswith("summarize: 1 done (1 ok, 0 failed, 0 cached)")


def test_a_bad_rate_limit_is_a_usage_error(server, tmp_path, capsys):
    (tmp_path / "a.txt").write_text(TEXTS[0], encoding="utf-8")
    code = cli_main([str(tmp_path), "-o", str(tmp_path / "o.jsonl"), "--base-url", server.url,
                     "--rpm", "0"])  # fmt: skip
    assert code == 2
    assert "requests_per_minute must be a number > 0" in capsys.readouterr().err


def test_structured_output_can_be_forced_from_the_command_line(server, tmp_path, capsys):
    path = tmp_path / "a.txt"
    path.write_text(TEXTS[0], encoding="utf-8")
    code = cli_main([str(path), "--base-url", server.url, "--model", "m",
                     "--structured-output", "json_object", "--format", "json"])  # fmt: skip
    assert code == 0
    assert json.loads(capsys.readouterr().out)["meta"]["structured_output"] == "json_object"
    assert [r["response_format"] for r in server.requests] == [{"type": "json_object"}]
