"""Local models by name: the catalogue, ``summarize models pull|path|list``, and which
model ``--local`` picks. Pulls go to a stand-in hub on loopback (testkit/hubserver.py)
through ``HF_ENDPOINT``, into a fresh ``HF_HOME``: huggingface_hub reads both when it is
imported, so each command runs in its own process, as a user's would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from testkit.hubserver import FakeHub

from summarize.errors import ConfigurationError
from summarize.model.local import catalogue as models

pytest.importorskip("huggingface_hub")

ENTRY = models.catalogue_entry("qwen2.5-1.5b")
assert ENTRY is not None
KEY = f"{ENTRY.repo}/{ENTRY.filename}"
# Not a model: a few hundred KB with a GGUF magic number, enough to test the download.
CONTENT = b"GGUF" + bytes(range(256)) * 1200


def _run(args: list[str], hub: FakeHub, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HF_ENDPOINT": hub.url,
        "HF_HOME": str(home),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_XET": "1",
    }
    env.pop("HF_HUB_OFFLINE", None)
    return subprocess.run(
        [sys.executable, "-m", "summarize", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_catalogue_has_the_documented_models():
    names = [m.name for m in models.CATALOGUE]
    for wanted in ("qwen2.5-1.5b", "qwen2.5-3b", "qwen2.5-7b", "llama3.2-3b"):
        assert wanted in names
    for entry in models.CATALOGUE:
        assert entry.filename.endswith(".gguf")
        assert entry.size_gb > 0
        assert entry.ram_gb > 0
        assert entry.licence


@pytest.mark.slow
def test_pull_path_and_list_against_a_stand_in_hub(tmp_path):
    with FakeHub({KEY: CONTENT}) as hub:
        pulled = _run(["models", "pull", "qwen2.5-1.5b", "--quiet"], hub, tmp_path)
        assert pulled.returncode == 0, pulled.stderr
        path = Path(pulled.stdout.strip().splitlines()[-1])
        assert path.read_bytes() == CONTENT
        assert str(path).startswith(str(tmp_path))  # HF_HOME honoured
        assert any(m == "GET" and ENTRY.filename in p for m, p, _ in hub.requests)

        where = _run(["models", "path", "qwen2.5-1.5b"], hub, tmp_path)
        assert where.returncode == 0, where.stderr
        assert Path(where.stdout.strip()) == path

        listing = _run(["models", "list"], hub, tmp_path)
        assert listing.returncode == 0
        assert str(path) in listing.stdout
        assert "not pulled" in listing.stdout  # the others


@pytest.mark.slow
def test_a_dropped_connection_mid_pull_still_ends_with_the_whole_file(tmp_path):
    """The hub closes the connection after 100 KB; huggingface_hub tries again in the
    same run, and the file in the cache is whole (its sha256 is the ETag's)."""
    with FakeHub({KEY: CONTENT}, cut_after=100_000) as hub:
        pulled = _run(["models", "pull", "qwen2.5-1.5b", "--quiet"], hub, tmp_path)
        assert pulled.returncode == 0, pulled.stderr
        path = Path(pulled.stdout.strip().splitlines()[-1])
        assert path.read_bytes() == CONTENT
        assert [m for m, _, _ in hub.requests].count("GET") == 2


@pytest.mark.slow
def test_an_unreachable_hub_names_the_fix(tmp_path):
    with FakeHub({}) as hub:
        failed = _run(["models", "pull", "qwen2.5-1.5b", "--quiet"], hub, tmp_path)
    assert failed.returncode == 2
    assert "could not pull qwen2.5-1.5b" in failed.stderr
    assert "HF_ENDPOINT" in failed.stderr


@pytest.mark.slow
def test_local_prefers_the_best_pulled_model_over_the_bundled_one(tmp_path):
    code = (
        "from summarize.model.local.catalogue import resolve_model\n"
        "c = resolve_model(None); print(c.name, c.source, c.path)\n"
    )
    with FakeHub({KEY: CONTENT}) as hub:
        assert _run(["models", "pull", "qwen2.5-1.5b", "--quiet"], hub, tmp_path).returncode == 0
        env = {**os.environ, "HF_HOME": str(tmp_path), "HF_ENDPOINT": hub.url}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout.split()
    assert out[:2] == ["qwen2.5-1.5b", "catalogue"]


def test_names_paths_and_mistakes():
    with pytest.raises(ConfigurationError, match="not pulled yet: summarize models pull"):
        # a fresh HF_HOME (conftest gives none): nothing is pulled
        models.resolve_model("qwen2.5-7b") if models.pulled_path(
            models.catalogue_entry("qwen2.5-7b")  # type: ignore[arg-type]
        ) is None else pytest.skip("qwen2.5-7b is pulled on this machine")
    with pytest.raises(ConfigurationError, match="neither a catalogue model"):
        models.resolve_model("no-such-model")
    choice = models.resolve_model("/some/where/own.gguf")
    assert (choice.name, choice.source) == ("own", "file")
    with pytest.raises(ConfigurationError, match="no model 'nope' in the catalogue"):
        models.pull("nope")
