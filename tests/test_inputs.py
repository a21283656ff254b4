"""Bad input never hangs or eats the machine: special files are refused before they
are opened, files and stdin are read up to a cap, and byte-order marks are honoured.

The model answers here are hand-made (tests/support: good_answer) or come from the
scripted fake server (testkit/fakeserver.py); none is recorded."""

from __future__ import annotations

import codecs
import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from testkit import fakeserver as F

from summarize import summarize, summarize_many
from summarize.errors import InputError
from summarize.source.files import decode_text, read_capped, read_file_bytes
from tests.support import ARTICLES, NTV, Recorder, good_answer, mock_client, ok


class CountingStream(io.RawIOBase):
    """An endless stream (like /dev/zero) that counts what was read from it."""

    def __init__(self) -> None:
        self.taken = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "an unbounded read of an endless stream never returns"
        self.taken += size
        return b"\0" * size


def test_an_endless_stream_is_read_only_up_to_the_cap_plus_one_byte():
    stream = CountingStream()
    with pytest.raises(InputError) as caught:
        read_capped(stream, 10_000, "stdin")  # type: ignore[arg-type]
    assert stream.taken == 10_001
    message = str(caught.value)
    assert "stdin: is over the input cap of 0.0 MB (10,000 bytes)" in message
    assert "max_input_bytes= (--max-input-bytes)" in message


def test_a_stream_under_the_cap_is_read_whole():
    assert read_capped(io.BytesIO(b"x" * 3_000_000), 3_000_000, "stdin") == b"x" * 3_000_000


def test_a_file_over_the_cap_is_refused_naming_its_size_the_cap_and_the_option(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"word " * 400)
    with pytest.raises(InputError) as caught:
        summarize(path, max_input_bytes=1_000, base_url="http://127.0.0.1:9/v1")
    message = str(caught.value)
    assert "(2,000 bytes), over the input cap of 0.0 MB (1,000 bytes)" in message
    assert "--max-input-bytes" in message


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda tmp: Path("/dev/zero"), "a character device"),
        (lambda tmp: _fifo(tmp / "pipe.txt"), "a FIFO (named pipe)"),
        (lambda tmp: _socket(tmp / "s.txt"), "a socket"),
    ],
)
def test_special_files_are_refused_before_they_are_opened(tmp_path, make, what):
    path = make(tmp_path)
    started = time.monotonic()
    with pytest.raises(InputError, match="not a regular file") as caught:
        read_file_bytes(path)
    assert what in str(caught.value)
    assert time.monotonic() - started < 5  # a hang guard, not a speed goal


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _socket(path: Path) -> Path:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))  # the socket file stays after the socket is closed
    return path


@pytest.mark.slow
@pytest.mark.parametrize("target", ["/dev/zero", "FIFO", "/dev/urandom"])
def test_the_cli_exits_2_on_special_files_without_sending_anything(tmp_path, target):
    if target == "FIFO":
        target = str(_fifo(tmp_path / "nobody-writes.txt"))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "summarize", target, "--base-url", "http://127.0.0.1:9/v1"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert "not a regular file" in done.stderr
    assert "could not connect" not in done.stderr  # refused before any request
    assert elapsed < 20  # a hang guard (the interpreter start-up is in it)


@pytest.mark.slow
def test_stdin_from_dev_zero_stops_at_the_cap(tmp_path):
    with open("/dev/zero", "rb") as zero:
        done = subprocess.run(
            [sys.executable, "-m", "summarize", "-", "--max-input-bytes", "100000"],
            stdin=zero, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    assert done.returncode == 2
    assert "stdin: is over the input cap of 0.1 MB (100,000 bytes)" in done.stderr


def test_a_batch_directory_with_a_fifo_finishes_every_other_article(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("xi-putin-ntv", "xi-putin-fine-line"):
        (folder / f"{name}.txt").write_text((ARTICLES / f"{name}.txt").read_text())
    _fifo(folder / "stuck.txt")
    from summarize.cli.many import expand

    with F.FakeServer() as server:
        results = {
            Path(r.id).name: r
            for r in summarize_many(
                expand([str(folder)]), base_url=server.url, api_key="k", model="gpt-4o-mini"
            )
        }
    assert set(results) == {"xi-putin-ntv.txt", "xi-putin-fine-line.txt", "stuck.txt"}
    stuck = results["stuck.txt"].error
    assert stuck is not None
    assert stuck.type == "InputError"
    assert "a FIFO (named pipe), not a regular file" in stuck.message
    assert all(results[n].result is not None for n in results if n != "stuck.txt")


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_text_with_a_byte_order_mark_is_decoded(codec):
    bom = {
        "utf-16": b"",  # Python's utf-16 writes its own BOM
        "utf-16-be": codecs.BOM_UTF16_BE,
        "utf-32": b"",
        "utf-8-sig": b"",
    }[codec]
    text = "Ukraine reported violations; «Москва» denied them. 日本"
    assert decode_text(bom + text.encode(codec)) == text


def test_utf16_without_a_bom_stays_a_clear_error_naming_the_option():
    with pytest.raises(InputError, match=r"--encoding utf-16-le"):
        decode_text("plain words".encode("utf-16-le"))


def test_a_named_encoding_reads_a_legacy_file(tmp_path):
    path = tmp_path / "legacy.txt"
    path.write_bytes("Caf\u00e9 \u2013 \u201cquoted\u201d".encode("cp1252"))
    with pytest.raises(InputError, match=r"--encoding cp1252"):
        decode_text(read_file_bytes(path), name=str(path))
    from summarize.source.article import read_article

    assert read_article(path, encoding="cp1252").text == "Caf\u00e9 \u2013 \u201cquoted\u201d"


def test_a_utf16_article_is_summarised_and_its_quotes_ground_in_the_decoded_text(tmp_path):
    path = tmp_path / "ntv-utf16.txt"
    path.write_bytes(NTV.encode("utf-16"))  # with its BOM, as Windows tools write it
    recorder = Recorder([ok(good_answer())])
    brief = summarize(path, client=mock_client(recorder), model="gpt-4o-mini")
    assert brief.contested_points
    assert brief.ungrounded(NTV) == []
    quotes = [e.quote for p in brief.contested_points for e in p.evidence]
    assert "The Russian Ministry of Defense denied these accusations" in quotes
    sent = recorder.requests[0]["messages"][-1]["content"]
    assert "Ukraine reported immediate violations" in sent  # decoded text, not UTF-16 bytes


def test_a_utf8_bom_is_not_part_of_the_text(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(codecs.BOM_UTF8 + NTV.encode())
    recorder = Recorder([ok(good_answer())])
    brief = summarize(path, client=mock_client(recorder), model="gpt-4o-mini")
    assert brief.ungrounded(NTV) == []  # offsets refer to the text without the BOM
