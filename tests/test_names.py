"""Short source names: a file's stem, a URL's site and title, an Article's title."""

from __future__ import annotations

from pathlib import Path

from summarize.source.article import Article
from summarize.source.names import cut, short_name, unique

TITLE = "Emirates orders 65 more Boeing 777X jets in a deal worth $38 billion at list prices"


def test_a_file_is_its_stem_whatever_its_folder():
    assert short_name(Path("/tmp/deep/folder/xi-putin-ntv.txt")) == "xi-putin-ntv"
    assert short_name("/tmp/deep/folder/page.html") == "page"  # a path given as str


def test_a_url_is_its_site_and_title():
    url = "https://www.cnbc.com/2025/11/17/emirates-boeing-777x-order.html"
    assert short_name(url) == "cnbc.com"  # before it is read
    article = Article(text="...", title=TITLE, url=url)
    name = short_name(url, article)
    assert name is not None
    assert name.startswith("cnbc.com — Emirates orders 65 more Boeing")
    assert name.endswith("…")
    assert len(name) < len("cnbc.com — ") + len(TITLE)


def test_an_article_is_its_title_and_text_has_no_name():
    assert short_name(Article(text="...", title="Leaders Xi and Putin")) == "Leaders Xi and Putin"
    assert short_name(Article(text="...", url="https://ntv.de/a/b")) == "ntv.de"
    assert short_name("Xi Jinping arrived in Moscow on Wednesday. He met Putin.") is None
    assert short_name(("NTV", "text")) == "NTV"


def test_titles_are_cut_at_a_word_and_kept_on_one_line():
    assert cut("Short title") == "Short title"
    assert cut("Two\nlines  of   title") == "Two lines of title"
    long = cut(TITLE, 30)
    assert long == "Emirates orders 65 more…"
    assert len(long) <= 30


def test_repeated_names_get_a_suffix_and_never_collide():
    assert unique(["ntv", "fine", "ntv", "ntv"]) == ["ntv", "fine", "ntv (2)", "ntv (3)"]
    assert unique(["a", "a (2)", "a"]) == ["a", "a (2)", "a (3)"]
