"""An embedded local model: llama.cpp's own C++ server, run as a child process.

``LocalServer`` starts ``python -m summarize.model.local.engine`` (llama.cpp's server through the
prebuilt ``xllamacpp`` wheel: no compiler, portable CPU kernels) on a free loopback
port, waits until it answers ``/health``, and stops it on ``stop()``, on leaving a
``with`` block (Ctrl-C and exceptions included), at interpreter exit, and, on Linux,
when the parent process dies, so no server is ever left behind.

The engine runs out of process so that a native crash cannot take the caller down: if
it dies (a signal, an exit) or never answers, ``check()`` and ``start()`` raise
``LocalModelError`` naming the signal or exit code, the model file, the end of the
engine's log and what to try. The requests go through the same openai client path as
any other endpoint.
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
from pathlib import Path

from summarize.errors import ConfigurationError, LocalModelError

DEFAULT_CONTEXT = 8_192  # per slot; SmolLM2's trained context
# Each slot holds a KV cache for the whole window (about 0.2 GB per 8k tokens for a
# 135M model, 0.23 GB for a 1.5B one), allocated at start; beyond four, a CPU gains
# little speed from more.
MAX_SLOTS = 4
_INSTALL_HINT = "install the local extra: pip install 'summarize[local]'"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def describe_exit(returncode: int) -> str:
    """``killed by signal 11 (SIGSEGV)`` or ``exited with code 1``."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "unknown signal"
        return f"was killed by signal {-returncode} ({name})"
    return f"exited with code {returncode}"


class LocalServer:
    """llama.cpp's OpenAI-compatible server on 127.0.0.1, as a managed child process.

    ``model`` is a catalogue name (``summarize models list``), a GGUF path, or None for
    the best pulled model, else the bundled SmolLM2-135M. ``slots`` requests are
    answered at once (continuous batching), each with ``context_window`` tokens. With
    ``api_key`` the server answers only requests that carry it.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        context_window: int = DEFAULT_CONTEXT,
        slots: int = 1,
        threads: int | None = None,
        startup_timeout: float = 120.0,
        port: int | None = None,
        api_key: str | None = None,
    ) -> None:
        from summarize.model.local.catalogue import resolve_model

        self.choice = resolve_model(model)
        self.model_path = self.choice.path
        self.model = self.choice.name
        self.context_window = context_window
        self.slots = max(1, min(int(slots), MAX_SLOTS))
        self.threads = threads or os.cpu_count() or 2
        self.startup_timeout = startup_timeout
        self._fixed_port = port
        self.api_key = api_key
        self.port: int | None = None
        self.startup_seconds: float | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the local server is not running; call start() first")
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> str:
        """Start the server (once) and return its base URL when it answers."""
        if self.running:
            return self.base_url
        if self._process is not None:  # it was started and has died since
            self.check()
        if not self.model_path.is_file():
            raise ConfigurationError(f"local model {self.model_path}: no such GGUF file")
        if importlib.util.find_spec("xllamacpp") is None:
            raise ConfigurationError(f"llama.cpp's server is not installed: {_INSTALL_HINT}")
        self.port = self._fixed_port or _free_port()
        fd, log_name = tempfile.mkstemp(prefix="summarize-engine-", suffix=".log")
        self._log_path = Path(log_name)
        command = [
            sys.executable, "-m", "summarize.model.local.engine",
            "--model", str(self.model_path),
            "--alias", self.model,
            "--port", str(self.port),
            "--ctx", str(self.context_window),
            "--parallel", str(self.slots),
            "--threads", str(self.threads),
        ]  # fmt: skip
        started = time.monotonic()
        with os.fdopen(fd, "wb") as log:
            # stdin is a pipe we never write: the engine exits when it closes.
            env = dict(os.environ)
            if self.api_key:
                env["SUMMARIZE_ENGINE_KEY"] = self.api_key
            self._process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        atexit.register(self.stop)
        try:
            self._wait_ready(started)
        except BaseException:
            self.stop(keep_log=True)
            raise
        self.startup_seconds = time.monotonic() - started
        return self.base_url

    def _wait_ready(self, started: float) -> None:
        url = f"http://127.0.0.1:{self.port}/health"
        while True:
            self.check(starting=True)
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if json.load(response).get("status") == "ok":
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError, OSError):
                pass
            if time.monotonic() - started > self.startup_timeout:
                raise LocalModelError(
                    f"the local engine did not answer within {self.startup_timeout:g} s "
                    f"with {self.model_path}: {self.log_tail()} (log: {self._log_path}); "
                    "a large model may need startup_timeout=, or less context "
                    "(--context-window)",
                    model_path=str(self.model_path),
                    log_tail=self.log_tail(),
                )
            time.sleep(0.05)

    def check(self, *, starting: bool = False, grace: float = 0.0) -> None:
        """Raise ``LocalModelError`` if the engine was started and is gone.

        ``grace`` waits that long for a dying process to be reaped (a reset connection
        arrives before the exit status does).
        """
        process = self._process
        if process is None:
            return
        if grace:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=grace)
        code = process.poll()
        if code is None:
            return
        tail = self.log_tail()
        when = "while starting" if starting else "while answering"
        raise LocalModelError(
            f"the local engine (llama.cpp) {describe_exit(code)} {when} with "
            f"{self.model_path}. Log tail: {tail} (full log: {self._log_path}). "
            "Try: a smaller --context-window, another GGUF (summarize models list), "
            "or run llama.cpp's server yourself and pass --base-url",
            model_path=str(self.model_path),
            returncode=code,
            log_tail=tail,
        )

    def log_tail(self, limit: int = 600) -> str:
        """The end of the engine's log, on one line."""
        if self._log_path is None:
            return "(no log)"
        try:
            text = self._log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return " ".join(text.split())[-limit:] or "(empty log)"

    def stop(self, *, keep_log: bool = False) -> None:
        """Stop the server and wait for it to exit; safe to call more than once.

        The log is removed unless the engine died (then an error names it)."""
        process, self._process = self._process, None
        died = process is not None and process.poll() not in (None, 0)
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):
                if process.stdin is not None:
                    process.stdin.close()
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        elif process is not None and process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        if self._log_path is not None and not (keep_log or died):
            with contextlib.suppress(OSError):
                self._log_path.unlink()
        atexit.unregister(self.stop)

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
