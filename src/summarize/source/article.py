"""Real-world input: text files, saved web pages, raw HTML and URLs, as an ``Article``.

``read_article(source)`` accepts a path (``.txt``, ``.html``, ``.htm``), raw HTML, an
``http(s)://`` URL, or plain text, and returns the article body with its metadata
and detected language. HTML goes through trafilatura (the ``html`` extra), tuned for
article bodies: hidden elements and hover cards removed, article bodies that a page
splits around its ads joined back, the headline and "follow us" lines dropped. A
page where the extractor finds nothing falls back to the page's paragraphs.

Evidence offsets in a brief refer to ``Article.text``.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from summarize.errors import ConfigurationError, InputError
from summarize.options import DEFAULT_MAX_INPUT_BYTES
from summarize.source import langmodel, urls
from summarize.source.files import (
    check_article,
    decode_text,
    read_file_bytes,
    read_text_file,
)

if TYPE_CHECKING:
    from lxml.html import HtmlElement  # type: ignore[import-untyped]

SourceType = Literal["text", "text_file", "html_file", "html", "url"]

DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 10_000_000
MAX_REDIRECTS = urls.MAX_REDIRECTS
# Fewer words than this is a menu or a teaser, not an article.
_MIN_WORDS = 15
USER_AGENT = "summarize/0.1 (+https://pypi.org/project/summarize)"

_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_HTML_START = re.compile(
    r"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_HTML_SUFFIXES = (".html", ".htm", ".xhtml")
_PATH_LIKE = re.compile(r"^[^\n<>]{1,4096}\.(?:txt|text|html?|xhtml)$", re.IGNORECASE)
# Elements a reader never sees in the flow of the article: hover cards, tooltips.
_POPUP = re.compile(r"rollover|tooltip|popover|hovercard|hover-card", re.IGNORECASE)
# Lines of site furniture that extractors keep with the body.
_FURNITURE = re.compile(
    r"^(?:follow (?:\S+ ){0,6}on (?:instagram|facebook|twitter|x|youtube|tiktok)"
    r"|listen to \S+ (?:live|on)"
    r"|sign up for (?:our|the) \S+ newsletter"
    r"|(?:the \S+ )?is committed to publishing a diversity of letters"
    r"|(?:read|see) (?:also|more)\s*:"
    r"|related(?: articles| coverage)?\s*:"
    r"|(?:click|tap) here to"
    r"|(?:copyright|©)\s"
    r"|share (?:this|on)\b"
    r"|advertisement$)",
    re.IGNORECASE,
)

# Byte-order marks of UTF-8, UTF-16 and UTF-32: the page says its own encoding.
_TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


class Article(BaseModel):
    """An article's text and what is known about it."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The article body; evidence offsets refer to this text.")
    title: str | None = None
    authors: list[str] = Field(default_factory=list)
    published: str | None = Field(None, description="Publication date, ISO 8601, if found.")
    url: str | None = None
    language: str | None = Field(None, description="Detected BCP-47 language tag, if any.")
    section: str | None = Field(
        None, description='The page\'s section or genre metadata ("Opinion"), if any.'
    )
    source_type: SourceType = "text"


def read_article(
    source: str | os.PathLike[str] | Article,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES,
    encoding: str | None = None,
    allow_private_urls: bool = False,
) -> Article:
    """Read an article from a path, raw HTML, an ``http(s)://`` URL, or plain text.

    A ``str`` is a URL if it is one ``http(s)://`` address, HTML if it starts like
    an HTML document, a path if it is one line ending in ``.txt``, ``.html`` or
    ``.htm``, and plain text otherwise. URLs are fetched within ``timeout`` seconds in
    all, at most ``max_bytes`` bytes and 5 redirects, and only from public addresses
    unless ``allow_private_urls`` (``summarize.source.urls``). Files must be regular files of
    at most ``max_input_bytes``; text files are UTF-8, UTF-16 or UTF-32 with a
    byte-order mark, or in ``encoding``.
    """
    if isinstance(source, Article):
        return source
    if isinstance(source, os.PathLike):
        return _read_path(Path(source), max_input_bytes, encoding)
    if not isinstance(source, str):
        raise InputError(
            f"the article must be a str (text, HTML or a URL), a path or an Article, not "
            f"{type(source).__name__}; decode bytes first"
        )
    stripped = source.strip()
    if _URL.match(stripped):
        return fetch_url(
            stripped, timeout=timeout, max_bytes=max_bytes, allow_private=allow_private_urls
        )
    if _HTML_START.match(source):
        return extract_html(source, source_type="html")
    if _PATH_LIKE.match(stripped):
        return _read_path(Path(stripped), max_input_bytes, encoding)
    return Article(text=source, language=detect_language(source), source_type="text")


def looks_like_source(text: str) -> bool:
    """Whether ``summarize()`` should read ``text`` as a URL, HTML page or file path."""
    stripped = text.strip()
    return bool(_URL.match(stripped) or _HTML_START.match(text) or _PATH_LIKE.match(stripped))


def _read_path(path: Path, max_bytes: int, encoding: str | None) -> Article:
    if path.suffix.lower() in _HTML_SUFFIXES:
        data = read_file_bytes(path, "HTML", max_bytes=max_bytes)
        return extract_html(_decode_html(data, str(path), encoding), source_type="html_file")
    text = read_text_file(path, max_bytes=max_bytes, encoding=encoding)
    return Article(text=text, language=detect_language(text), source_type="text_file")


# --- fetching -----------------------------------------------------------------------


def fetch_url(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_private: bool = False,
) -> Article:
    """Download ``url`` (HTML or plain text) and read the article in it: redirects
    followed hop by hop, every address checked (``summarize.source.urls``), the whole
    fetch within ``timeout`` seconds."""
    import httpx2

    deadline = urls.FetchDeadline(timeout, url)
    headers = {"user-agent": USER_AGENT, "accept": "text/html,text/plain;q=0.8"}
    current = url
    try:
        with httpx2.Client(follow_redirects=False, headers=headers) as client:
            for _hop in range(MAX_REDIRECTS + 1):
                urls.check(current, allow_private=allow_private)
                request = client.build_request(
                    "GET", current, timeout=httpx2.Timeout(deadline.left())
                )
                response = client.send(request, stream=True)
                try:
                    if response.is_redirect and "location" in response.headers:
                        current = str(response.url.join(response.headers["location"]))
                        continue
                    data, kind, charset = _body(response, url, max_bytes, deadline)
                    final = str(response.url)
                    break
                finally:
                    response.close()
            else:
                raise InputError(f"{url}: more than {MAX_REDIRECTS} redirects; check the URL")
    except httpx2.TimeoutException as exc:
        raise InputError(
            f"{url}: not fetched within {timeout:g} s; try again or raise timeout (--timeout)"
        ) from exc
    except httpx2.HTTPError as exc:
        raise InputError(f"{url}: could not be fetched ({exc}); check the URL and network") from exc
    if kind == "text/plain":
        text = _decode_bytes(data, charset, url)
        return Article(text=text, url=final, language=detect_language(text), source_type="url")
    html = _decode_html(data, url, charset)
    return extract_html(html, url=final, source_type="url")


def _body(
    response: Any, url: str, max_bytes: int, deadline: urls.FetchDeadline
) -> tuple[bytes, str, str | None]:
    """The page's bytes, content type and charset; each block read within the deadline."""
    if response.status_code >= 400:
        raise InputError(
            f"{url}: the server answered HTTP {response.status_code} "
            f"{response.reason_phrase}; check the URL"
        )
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and kind not in ("text/html", "application/xhtml+xml", "text/plain"):
        raise InputError(
            f"{url}: is {kind}, not a web page or text; save the article as HTML "
            "or text and pass the file"
        )
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise InputError(_too_large(url, max_bytes))
    data = bytearray()
    for block in response.iter_bytes():
        data += block
        if len(data) > max_bytes:
            raise InputError(_too_large(url, max_bytes))
        deadline.left()  # a server trickling bytes does not outlast the deadline
    return bytes(data), kind, response.charset_encoding


def _too_large(url: str, max_bytes: int) -> str:
    return f"{url}: is larger than {max_bytes:,} bytes; save the article and pass the file"


def _decode_bytes(data: bytes, charset: str | None, name: str) -> str:
    if charset:
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_text(data, name=name)


def _decode_html(data: bytes, name: str, charset: str | None = None) -> str:
    """HTML bytes as text, by the declared charset, a <meta charset>, or UTF-8."""
    if not data.strip():
        raise InputError(f"{name}: is empty; there is nothing to summarise")
    if charset is None and data.startswith(_TEXT_BOMS):
        return decode_text(data, name=name)
    if charset is None:
        match = re.search(rb"<meta[^>]+charset=[\"']?([\w-]+)", data[:4096], re.IGNORECASE)
        charset = match.group(1).decode("ascii") if match else None
    try:
        return data.decode(charset or "utf-8")
    except (LookupError, UnicodeDecodeError):
        return data.decode("utf-8", errors="replace")


# --- extraction ---------------------------------------------------------------------


def _trafilatura() -> Any:
    try:
        import trafilatura
    except ImportError as exc:
        raise ConfigurationError(
            "reading web pages needs the 'html' extra: pip install 'summarize[html]'"
        ) from exc
    return trafilatura


def extract_html(html: str, *, url: str | None = None, source_type: SourceType = "html") -> Article:
    """The article in an HTML page, with its metadata."""
    trafilatura = _trafilatura()
    if not html.strip():
        raise InputError("the HTML page is empty; there is nothing to summarise")
    # trafilatura's own loader: it drops comments, which split words on some sites.
    tree = trafilatura.load_html(html)
    if tree is None:
        raise InputError("the HTML could not be parsed; pass the article as text")
    _clean_tree(tree)
    meta = trafilatura.extract_metadata(tree, default_url=url)
    body = _extract(trafilatura, tree, url)
    if body and _split_body_missed(tree, body):
        # The page cut its body into containers around ads and only the first was
        # kept: join them and extract again.
        joined = trafilatura.load_html(html)
        _clean_tree(joined)
        _join_split_bodies(joined)
        rejoined = _extract(trafilatura, joined, url) or ""
        if len(rejoined) > 1.1 * len(body):  # keep the join only if it found more
            body = rejoined
    text = _tidy(body or "", meta.title if meta else None)
    if _words(text) < _MIN_WORDS:
        text = _paragraphs(tree)
    if _words(text) < _MIN_WORDS:
        raise InputError(
            "no article text found in the HTML page (is it a front page, a login wall or "
            "rendered by JavaScript?); save the article text and pass it as a .txt file"
        )
    authors = (
        [a.strip() for a in re.split(r";|\band\b", meta.author or "") if a.strip()] if meta else []
    )
    return Article(
        text=text,
        title=(meta.title or None) if meta else None,
        authors=authors,
        published=(meta.date or None) if meta else None,
        url=url or ((meta.url or None) if meta else None),
        language=detect_language(text) or _html_lang(tree),
        source_type=source_type,
        section=", ".join(meta.categories) if meta and meta.categories else None,
    )


def _extract(trafilatura: Any, tree: HtmlElement, url: str | None) -> str | None:
    """trafilatura, set for article bodies: precision first, no comments."""
    text: str | None = trafilatura.extract(
        tree,
        url=url,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
    )
    return text


def _clean_tree(tree: HtmlElement) -> None:
    """Remove what readers never see in the text: hidden elements, hover cards."""
    for element in tree.xpath(
        "//*[@hidden or @aria-hidden='true' or contains(translate(@style,' ',''),'display:none')]"
    ):
        _drop(element)
    for element in tree.xpath("//*[@class or @id]"):
        marker = f"{element.get('class', '')} {element.get('id', '')}"
        if _POPUP.search(marker) and element.getparent() is not None:
            _drop(element)


def _drop(element: HtmlElement) -> None:
    """Remove an element but keep the text that follows it (its tail)."""
    if element.getparent() is not None:
        element.drop_tree()


def _body_groups(tree: HtmlElement) -> list[list[HtmlElement]]:
    """Containers that share a class and each hold two or more long paragraphs."""
    groups: dict[str, list[HtmlElement]] = {}
    for element in tree.xpath("//div[@class]|//section[@class]"):
        paragraphs = [p for p in element if p.tag == "p" and len(p.text_content()) > 80]
        if len(paragraphs) >= 2:
            groups.setdefault(element.get("class", ""), []).append(element)
    return [group for group in groups.values() if len(group) >= 2]


def _split_body_missed(tree: HtmlElement, body: str) -> bool:
    """Whether the extract has some containers of a split body but not others."""
    flat = " ".join(body.split())
    for group in _body_groups(tree):
        found = []
        for container in group:
            first = next(p for p in container if p.tag == "p" and len(p.text_content()) > 80)
            found.append(" ".join(first.text_content().split())[:60] in flat)
        if any(found) and not all(found):
            return True
    return False


def _join_split_bodies(tree: HtmlElement) -> None:
    """Move the children of later containers with the same class into the first.

    Many sites cut the article body into several containers of one class, with
    advertisements between them; extractors then keep only the first part.
    """
    for containers in _body_groups(tree):
        first = containers[0]
        for other in containers[1:]:
            if any(other is ancestor for ancestor in first.iterancestors()) or any(
                first is ancestor for ancestor in other.iterancestors()
            ):
                continue
            for child in list(other):
                first.append(child)
            _drop(other)


def _tidy(text: str, title: str | None) -> str:
    """Drop the headline when it opens the body, and lines of site furniture."""
    lines = text.splitlines()
    if title and lines and _same_words(lines[0], title):
        lines = lines[1:]
    kept = [line for line in lines if not _FURNITURE.match(line.strip())]
    return "\n\n".join(line.strip() for line in kept if line.strip())


def _words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def _same_words(a: str, b: str) -> bool:
    words = re.compile(r"\w+")
    return words.findall(a.casefold()) == words.findall(b.casefold())


def _paragraphs(tree: HtmlElement) -> str:
    """Fallback: the text of every substantial paragraph, in page order."""
    texts = [" ".join(p.text_content().split()) for p in tree.iter("p")]
    return "\n\n".join(t for t in texts if len(t) > 40)


def _html_lang(tree: HtmlElement) -> str | None:
    lang = (tree.get("lang") or "").strip()
    return lang or None


LANGUAGE_SAMPLE = 1_200


def detect_language(text: str) -> str | None:
    """The text's language as a BCP-47 tag, or None (too short, or py3langid missing).

    The classifier reads bytes one by one in Python: a sample from the opening and the
    middle (1,200 characters in all; under 1 ms) tells the language as well as the whole."""
    half = LANGUAGE_SAMPLE // 2
    middle = len(text) // 2
    sample = text
    if len(text) > LANGUAGE_SAMPLE:
        sample = text[:half] + "\n" + text[middle : middle + half]
    if len(re.findall(r"\w+", sample)) < 8:
        return None
    classifier = langmodel.identifier()
    if classifier is None:
        return None
    code, _score = classifier.classify(sample)
    return str(code) or None


Source = str | os.PathLike[str] | Article


def as_article(
    source: Source,
    *,
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES,
    encoding: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    allow_private_urls: bool = False,
) -> Article:
    """Plain text as it is (its language detected); a URL, HTML page or path read with
    ``read_article``."""
    if isinstance(source, str) and not looks_like_source(source):
        return Article(text=source, language=detect_language(source))
    return read_article(
        source,
        max_input_bytes=max_input_bytes,
        encoding=encoding,
        timeout=timeout,
        allow_private_urls=allow_private_urls,
    )


def checked(source: Source, **reading: Any) -> tuple[Article, str]:
    """The article ``source`` names (``as_article``, given ``reading``'s options) and
    its text, checked and cleaned (``check_article``): what the pipeline briefs."""
    article = as_article(source, **reading)
    return article, check_article(article.text)


async def achecked(source: Source, **reading: Any) -> tuple[Article, str]:
    """``checked``, with a file or a download read off the event loop."""
    if isinstance(source, str) and not looks_like_source(source):
        return checked(source, **reading)
    return await asyncio.to_thread(checked, source, **reading)
