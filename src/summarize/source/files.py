"""Reading and checking articles before anything is sent."""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path
from typing import BinaryIO

from summarize.errors import InputError
from summarize.options import DEFAULT_MAX_INPUT_BYTES
from summarize.text.sentences import clean_text


def check_article(text: object) -> str:
    """Return the cleaned article text, or raise InputError if it cannot be used."""
    if not isinstance(text, str):
        raise InputError(
            f"the article must be a str, not {type(text).__name__}; "
            "decode bytes first, or pass a file path to the CLI"
        )
    cleaned = clean_text(text)
    if not cleaned.strip():
        what = "empty" if not text else "only whitespace or invisible characters"
        raise InputError(f"the article is {what}: there is nothing to summarise")
    return cleaned


_READ_CHUNK = 1024 * 1024
_BOMS = (  # longest first: the UTF-32 LE mark starts like the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_NOT_REGULAR = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def _size(number: int) -> str:
    return f"{number / 1_048_576:.1f} MB ({number:,} bytes)"


def too_large(name: str, size: int | None, max_bytes: int) -> InputError:
    """The error for input over the cap (``size`` None: a stream, read up to the cap)."""
    what = f"{_size(size)}, over" if size is not None else "over"
    return InputError(
        f"{name}: is {what} the input cap of {_size(max_bytes)}; if it really is one "
        "article, pass a larger max_input_bytes= (--max-input-bytes)"
    )


def read_capped(stream: BinaryIO, max_bytes: int, name: str) -> bytes:
    """At most ``max_bytes`` from ``stream``: never more than ``max_bytes + 1`` are read,
    so an endless stream (``/dev/zero`` on stdin) ends at once with an InputError."""
    parts: list[bytes] = []
    size = 0
    while size <= max_bytes:
        part = stream.read(min(_READ_CHUNK, max_bytes + 1 - size))
        if not part:
            return b"".join(parts)
        parts.append(part)
        size += len(part)
    raise too_large(name, None, max_bytes)


def read_file_bytes(
    path: Path, kind: str = "text", *, max_bytes: int = DEFAULT_MAX_INPUT_BYTES
) -> bytes:
    """A regular file's bytes, with an InputError naming the problem if it cannot be
    read: a device, FIFO or socket is refused before it is opened (it could block or
    never end), and a file over ``max_bytes`` before it is read."""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(path)
        _check_regular(path, info, kind)
        if info.st_size > max_bytes:
            raise too_large(str(path), info.st_size, max_bytes)
        # O_NONBLOCK: should the path become a FIFO after the check, opening it
        # does not wait for a writer; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            _check_regular(path, os.fstat(handle.fileno()), kind)
            return read_capped(handle, max_bytes, str(path))
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file; check the path") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path}: is a directory; pass a {kind} file") from exc
    except PermissionError as exc:
        raise InputError(f"{path}: permission denied; check the file's permissions") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def _check_regular(path: Path, info: os.stat_result, kind: str) -> None:
    for test, what in _NOT_REGULAR:
        if test(info.st_mode):
            raise InputError(
                f"{path}: is {what}, not a regular file; pass a {kind} file (to read a "
                "stream, pipe it to stdin: summarize - < SOURCE)"
            )


def read_text_file(
    path: str | Path, *, max_bytes: int = DEFAULT_MAX_INPUT_BYTES, encoding: str | None = None
) -> str:
    """Read a text file: UTF-8 (a BOM is allowed), UTF-16 or UTF-32 with a BOM, or the
    given ``encoding``; clear errors for anything else."""
    p = Path(path)
    return decode_text(read_file_bytes(p, max_bytes=max_bytes), name=str(p), encoding=encoding)


def decode_text(data: bytes, *, name: str = "input", encoding: str | None = None) -> str:
    """Decode text bytes: by ``encoding`` if given, else by the byte-order mark (UTF-8,
    UTF-16, UTF-32), else as UTF-8; binary data is refused with a message that names
    the fix."""
    codec = encoding or next((c for bom, c in _BOMS if data.startswith(bom)), None)
    if codec is None and b"\x00" in data:
        raise InputError(
            f"{name}: contains NUL bytes, so it looks binary (a PDF, an image, UTF-16 "
            "text without a byte-order mark?); convert it to UTF-8 plain text first, or "
            "name its encoding with encoding= (--encoding utf-16-le)"
        )
    try:
        text = data.decode(codec or "utf-8")
    except LookupError as exc:
        raise InputError(
            f"{name}: {encoding!r} is not an encoding Python knows (utf-8, cp1252, "
            "latin-1, shift_jis, ...)"
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: is not {codec or 'UTF-8'} (invalid byte 0x{data[exc.start]:02x} at "
            f"offset {exc.start}); name its encoding with encoding= (--encoding cp1252, "
            "latin-1, shift_jis, ...) or convert it, e.g. iconv -f latin1 -t utf-8"
        ) from exc
    if encoding and text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise InputError(f"{name}: is empty; there is nothing to summarise")
    return text
