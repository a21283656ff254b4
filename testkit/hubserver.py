"""A stand-in for the Hugging Face Hub's file downloads, on a loopback port.

Serves ``/{org}/{repo}/resolve/{revision}/{filename}`` as huggingface_hub's
``hf_hub_download`` asks for it: a HEAD answered with ``X-Repo-Commit``, ``ETag`` and
``Content-Length``, then a GET that honours ``Range`` (a resumed download). Written from
huggingface_hub's own client code (``file_download.get_hf_file_metadata``), not from a
recording. ``cut_after`` makes the first GET stop part-way, as a dropped connection
does (or, with ``stall``, hang there while the test kills the client), so resuming can
be tested.
"""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    def __init__(
        self, files: dict[str, bytes], *, cut_after: int | None = None, stall: bool = False
    ) -> None:
        self.files = files  # "org/repo/filename" -> content
        self.cut_after = cut_after
        self.stall = stall  # after cut_after bytes, hang instead of closing
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.requests: list[tuple[str, str, str | None]] = []  # method, path, Range
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _find(self) -> bytes | None:
                parts = self.path.split("?", 1)[0].strip("/").split("/")
                if len(parts) < 5 or parts[2] != "resolve":
                    return None
                return hub.files.get("/".join([parts[0], parts[1], *parts[4:]]))

            def _headers(self, content: bytes, length: int, status: int = 200) -> None:
                self.send_response(status)
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("ETag", '"' + hashlib.sha256(content).hexdigest() + '"')
                self.send_header("Content-Length", str(length))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()

            def do_HEAD(self) -> None:
                hub.requests.append(("HEAD", self.path, None))
                content = self._find()
                if content is None:
                    self.send_response(404)
                    self.send_header("X-Error-Code", "EntryNotFound")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._headers(content, len(content))

            def do_GET(self) -> None:
                wanted = self.headers.get("Range")
                hub.requests.append(("GET", self.path, wanted))
                content = self._find()
                if content is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                start = 0
                if wanted and wanted.startswith("bytes="):
                    start = int(wanted[6:].split("-", 1)[0])
                body = content[start:]
                if start:
                    self.send_response(206)
                    self.send_header(
                        "Content-Range", f"bytes {start}-{len(content) - 1}/{len(content)}"
                    )
                    self.send_header("X-Repo-Commit", COMMIT)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                else:
                    self._headers(content, len(body))
                if hub.cut_after is not None and not start:
                    self.wfile.write(body[: hub.cut_after])
                    self.wfile.flush()
                    hub.cut_after = None
                    if hub.stall:  # the client is killed meanwhile
                        hub.stalled.set()
                        hub.release.wait(60)
                    self.close_connection = True
                    self.connection.shutdown(2)  # a dropped connection mid-file
                    return
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeHub:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
