"""The lexicons of ``summarize.answer.neutrality``, and finding their cues fast.

One data file per language in ``lexicons/`` (English, German, French, Spanish, Russian,
Chinese, Korean); an article in another language gets all of them together. A cue
ending in ``*`` matches any ending, ``…`` stands for up to six words (German separable
verbs: ``wies … zurück``); cues match whole words, ignoring case, except in Chinese and
Korean, where they match as substrings.

Matching is built once per cue list and costs one pass over a text's words: every
cue is filed under its first word (or its prefix, for ``deni*``), the text's distinct
words are looked up (each word's candidates remembered), and only a candidate cue is
searched for with its own pattern. Chinese and Korean cues are one alternation,
searched only in text that holds such characters. ``found`` keeps what the per-cue
search returned (the first match of each cue, in the lexicon's order); ``holds`` says
which cue classes a text has.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from importlib import resources

LANGUAGES = ("en", "de", "fr", "es", "ru", "zh", "ko")
_CJK = re.compile(r"[\u3400-\u9fff\uac00-\ud7af]")
_WORD = re.compile(r"\w+")
_SEEN_WORDS = 200_000
_GAP = r"(?:\W+\w+){0,6}?\W+"  # "…" in a cue: up to six words between


@dataclass(frozen=True)
class Lexicon:
    """The cues of one language (or of all of them)."""

    loaded: tuple[str, ...]
    denial: tuple[str, ...]
    denial_weak: tuple[str, ...]  # count only beside a reporting cue ("false", "not true")
    allegation: tuple[str, ...]
    criticism: tuple[str, ...]  # disagreement short of a denial: hints only
    commentary_labels: tuple[str, ...]
    outlet_voice: tuple[str, ...]  # the outlet's own evaluation: "we believe", "нам кажется"
    reporting: tuple[str, ...]
    claiming: tuple[str, ...]  # the reporting cues that mark a claim ("said", not "announced")
    outlet: tuple[str, ...]
    # opinion writing in the article's own voice (summarize.answer.opinion)
    first_person: tuple[str, ...]
    reader_address: tuple[str, ...]
    normative: tuple[str, ...]  # "should", "must": what ought to be done
    verdicts: tuple[str, ...]  # "absurd", "implausible": the writer's judgement
    column_labels: tuple[str, ...]  # "Opinion", "Kommentar": a column's label
    author_argues: tuple[str, ...]  # one phrase: a verdict, said to be the author's
    author_writes: tuple[str, ...]  # one phrase: another statement in the author's voice
    author: tuple[str, ...]  # one name: the outlet's own voice as a party ("the author")
    commentary_says: tuple[str, ...]  # one phrase: a statement of the outlet's commentary
    according_to: tuple[str, ...]  # one phrase with {who}: a statement of someone's words
    contrast: tuple[str, ...]  # "but", "although": two things set against each other
    doubting: tuple[str, ...]  # "questioned", "doubted": the verb's subject disputes


@functools.cache
def lexicon(language: str | None) -> Lexicon:
    """The cues for a BCP-47 tag: its language's file, else all files together."""
    base = (language or "").split("-")[0].lower()
    names = (base,) if base in LANGUAGES else LANGUAGES
    found: dict[str, list[str]] = {}
    for name in names:
        data = json.loads(
            resources.files("summarize.answer").joinpath(f"lexicons/{name}.json").read_text("utf-8")
        )
        for field in fields(Lexicon):
            found.setdefault(field.name, []).extend(data[field.name])
    return Lexicon(**{key: tuple(dict.fromkeys(values)) for key, values in found.items()})


@functools.cache
def pattern(cue: str) -> re.Pattern[str]:
    """The pattern of one cue (or of a quoted term: words as written, any spacing)."""
    prefix = cue.endswith("*")
    parts = [re.escape(part.strip()).replace(r"\ ", r"\s+") for part in cue.rstrip("*").split("…")]
    body = _GAP.join(parts)
    if _CJK.search(cue):  # Chinese, Korean: no word boundaries
        return re.compile(body)
    tail = r"\w*" if prefix else ""
    return re.compile(rf"(?<!\w){body}{tail}(?!\w)", re.IGNORECASE)


class Matcher:
    """Finds the cues of several named classes in a text, in one pass over its words."""

    def __init__(self, classes: dict[str, tuple[str, ...]]) -> None:
        self.words: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        self.prefixes: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        self.others: list[tuple[str, re.Pattern[str]]] = []  # cues not opening with a word
        self.names = frozenset(classes)
        self._seen: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {}  # word -> cues
        self._cued: set[str] = set()  # the words of _seen that have cues
        cjk: dict[str, list[str]] = {}
        for name, cues in classes.items():
            for cue in cues:
                compiled = pattern(cue)
                first = _WORD.match(cue)
                if _CJK.search(cue):
                    cjk.setdefault(name, []).append(compiled.pattern)
                elif first is None:
                    self.others.append((name, compiled))
                elif cue.endswith("*") and first.end() >= len(cue.rstrip("*")):
                    self.prefixes.setdefault(first.group().lower(), []).append((name, compiled))
                else:
                    self.words.setdefault(first.group().lower(), []).append((name, compiled))
        # prefixes filed under their first three letters: one look-up per word
        self.starts: dict[str, list[tuple[str, str, re.Pattern[str]]]] = {}
        for prefix, entries in self.prefixes.items():
            for name, compiled in entries:
                self.starts.setdefault(prefix[:3], []).append((prefix, name, compiled))
        self.short = sorted({len(p) for p in self.starts if len(p) < 3})
        self.cjk = {name: re.compile("|".join(parts)) for name, parts in cjk.items()}

    def holds(self, text: str, wanted: Iterable[str] | None = None) -> set[str]:
        """The classes (of ``wanted``, default all) with a cue in ``text``."""
        want = self.names if wanted is None else _wanted(tuple(wanted))
        hits: set[str] = set()
        seen, cued = self._seen, self._cued
        if len(seen) > _SEEN_WORDS:  # a bound on what a huge article can leave behind
            seen.clear()
            cued.clear()
        distinct = set(_WORD.findall(text.lower()))
        for word in distinct.difference(seen):  # words met for the first time
            found = seen[word] = self._candidates(word)
            if found:
                cued.add(word)
        candidates = list(self.others)
        for word in distinct & cued:
            candidates += seen[word]
        for name, compiled in candidates:
            if name in want and name not in hits and compiled.search(text):
                hits.add(name)
        if self.cjk and _CJK.search(text):
            for name, compiled in self.cjk.items():
                if name in want and name not in hits and compiled.search(text):
                    hits.add(name)
        return hits

    def _candidates(self, word: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
        """The cues that may start at ``word``: filed under it, or a prefix of it."""
        out = list(self.words.get(word, ()))
        out += [(n, c) for prefix, n, c in self.starts.get(word[:3], ()) if word.startswith(prefix)]
        for size in self.short:  # prefixes under three letters are filed whole
            out += [(n, c) for _, n, c in self.starts.get(word[:size], ()) if size < 3]
        return tuple(out)


@functools.cache
def _wanted(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(names)


@functools.cache
def matcher_of(lex: Lexicon) -> Matcher:
    """One matcher for every class of ``lex``."""
    return Matcher({field.name: getattr(lex, field.name) for field in fields(Lexicon)})


@functools.cache
def _single(cues: tuple[str, ...]) -> Matcher:
    return Matcher({"cue": cues})


@functools.cache
def _compiled(cues: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(pattern(cue) for cue in cues)


def found(cues: tuple[str, ...], text: str) -> list[str]:
    """The words of ``text`` that match ``cues``, as written there: each cue's first
    match, in the order of ``cues``."""
    if not _single(cues).holds(text):
        return []
    return [m.group(0) for compiled in _compiled(cues) if (m := compiled.search(text))]
