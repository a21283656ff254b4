"""The local engine's child process: llama.cpp's own C++ server, through xllamacpp.

    python -m summarize.model.local.engine --model FILE.gguf --port N [--ctx N] [--parallel N] ...

Run by ``summarize.model.local.server.LocalServer``, never imported by the library itself: a native
crash here (a segfault in a CPU kernel, an abort on a bad GGUF) ends this process only,
and the parent reports it as a ``LocalModelError``. The server listens on 127.0.0.1
only, and with ``SUMMARIZE_ENGINE_KEY`` set it answers only requests carrying that key.
The process exits when its standard input closes (the parent is gone or done), on
SIGTERM, and, on Linux, when the parent dies (parent-death signal).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys


def _die_with_parent() -> None:
    """Ask Linux to send SIGTERM to this process when its parent dies (prctl)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m summarize.model.local.engine")
    parser.add_argument("--model", required=True, help="the GGUF file")
    parser.add_argument("--alias", default="local", help="the model name the server answers to")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ctx", type=int, default=8192, help="context tokens per slot")
    parser.add_argument("--parallel", type=int, default=1, help="slots answered at once")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    _die_with_parent()

    import xllamacpp  # type: ignore[import-untyped]  # ships no type information

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.n_parallel = args.parallel
    # llama.cpp divides the context between the slots: each slot gets the full window.
    params.n_ctx = args.ctx * args.parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.cont_batching = True
    params.warmup = False
    # A key from the parent (through the environment, not argv): other local programs
    # and web pages in a browser cannot use the server meanwhile.
    key = os.environ.pop("SUMMARIZE_ENGINE_KEY", "")
    if key:
        params.api_keys = [key]
    # No CORS grant: llama.cpp echoes any Origin, with credentials, by default, so any
    # web page the user opens could use the model. Only an origin that cannot exist
    # (.invalid) is allowed; the key protects the server from other local programs.
    params.cors_origins = "https://summarize.invalid"
    params.cors_origins_explicit = True
    params.cors_credentials = False
    server = xllamacpp.Server(params)
    print(f"summarize engine: listening on {server.listening_address}", flush=True)
    # Block until the parent closes our stdin (or a signal ends us).
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except KeyboardInterrupt:
        pass
    # The server's threads do not stop on their own: leave without waiting for them.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
