"""Reading and checking articles before anything is sent."""

from __future__ import annotations

import re
from pathlib import Path

from summarize.errors import InputError

# Control characters other than tab and newlines, zero-width and bidi controls, the
# byte-order mark, soft hyphen and Unicode tag characters: invisible to a reader,
# but able to hide text from one or to smuggle instructions to a model.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)


def clean_text(text: str) -> str:
    """The article as it is shown to the model: invisible characters removed.

    Offsets in the result always refer to the caller's original text; grounding maps
    quotes from the cleaned text back to it.
    """
    return _INVISIBLE.sub("", text)


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


def read_file_bytes(path: Path, kind: str = "text") -> bytes:
    """A file's bytes, with an InputError naming the problem if it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file; check the path") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path}: is a directory; pass a {kind} file") from exc
    except PermissionError as exc:
        raise InputError(f"{path}: permission denied; check the file's permissions") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def read_text_file(path: str | Path) -> str:
    """Read a UTF-8 text file (a BOM is allowed), with clear errors for anything else."""
    p = Path(path)
    return decode_text(read_file_bytes(p), name=str(p))


def decode_text(data: bytes, *, name: str = "input") -> str:
    """Decode UTF-8 bytes, refusing binary data with a message that names the fix."""
    if b"\x00" in data:
        raise InputError(
            f"{name}: contains NUL bytes, so it looks binary (a PDF, an image, UTF-16 "
            "text?); convert it to UTF-8 plain text first"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: is not UTF-8 (invalid byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}); convert it, e.g. iconv -f latin1 -t utf-8"
        ) from exc
    if not text.strip():
        raise InputError(f"{name}: is empty; there is nothing to summarise")
    return text


# Datamarking: every line of the article, as the model sees it, starts with this
# mark, so a line that pretends to be a system or user message still reads as data.
DATAMARK = "│ "
_DATAMARK_IN_QUOTE = re.compile(r"(?:^|(?<=\n))[ \t]*│ ?")


def datamark(text: str) -> str:
    """Prefix every non-blank line with ``DATAMARK`` (what the model sees)."""
    return "\n".join(DATAMARK + line if line.strip() else line for line in text.split("\n"))


def strip_datamarks(quote: str) -> str:
    """Remove line marks a model copied into a quote."""
    return _DATAMARK_IN_QUOTE.sub("", quote)
