"""Deterministic checks of a brief against its article: neutral and complete.

Each check is a small pure function of the article's numbered sentences
(``summarize.text.sentences.SentenceIndex``) and the brief's statements with the ids they
cite; it costs no model call and returns a ``Check`` (name, passed, details, sentence
ids). The cues come from one data file per language in ``summarize/lexicons/``
(English, German, French, Spanish, Russian, Chinese, Korean; an article in another
language is checked with all of them). A cue ending in ``*`` matches any ending, and ``…``
up to six words (German separable verbs: ``wies … zurück``); cues
match whole words, except in Chinese and Korean, where they match as substrings.

- ``quoted_terms``: a word the article puts in quotation marks as someone's
  characterisation ("harassment", "no-limits partnership") used in the brief's own
  voice, with no quotation marks and no attribution.
- ``loaded_words``: a judgement word of the lexicon ("regime", "slammed", "historic")
  in the brief's own voice.
- ``commentary``: a statement citing the outlet's commentary (a sentence under a label
  such as ``Insights:`` or ``Kommentar:``, and the rest of its paragraph; every sentence
  of an article that is wholly opinion) that does not say it is the outlet's view.
- ``disputes``: a sentence reporting a denial ("denied", "bestritt", "否认") that no
  contested point cites. Before the model answers, such sentences (and accusations) are
  named to it as hints; an article without these cues gets none.
- ``attribution``: a statement resting only on sentences of attributed speech ("X
  said ...") that names no speaker and uses no reporting verb.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

from summarize.answer.cues import Lexicon, found, lexicon, matcher_of, pattern
from summarize.answer.repairs import LINK
from summarize.schema import Check

if TYPE_CHECKING:
    from summarize.schema import ContestedPoint, Evidence, Statement
    from summarize.source.article import Article
    from summarize.text.sentences import SentenceIndex

T = TypeVar("T")
CHECKS = ("quoted_terms", "loaded_words", "commentary", "disputes", "attribution")
# "…", “…”, «…», „…“ / „…”, ‘…’, '…' (not an apostrophe), 「…」, 『…』
_QUOTED = re.compile(r'"([^"\n]{1,60})"|“([^”\n]{1,60})”|«([^»\n]{1,60})»|„([^“”\n]{1,60})[“”]'
                     r"|‘([^’\n]{1,60})’|(?<!\w)'([^'\n]{1,60})'(?!\w)"
                     r"|「([^」\n]{1,60})」|『([^』\n]{1,60})』")  # fmt: skip
# any quotation up to a paragraph long, for what the article says in its own voice
_LONG_QUOTES = re.compile(r'"[^"\n]{1,600}"|“[^”\n]{1,600}”|«[^»\n]{1,600}»|„[^“”\n]{1,600}[“”]'
                          r"|‘[^’\n]{1,600}’|「[^」\n]{1,600}」|『[^』\n]{1,600}』")  # fmt: skip
_QUOTE_MARKS = re.compile("[\"“”«»„‘’'「」『』]")
_WORDS = re.compile(r"\w+")
_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]|[•·▪\-–*])(?:\s|$)")
MAX_TERM_WORDS = 4  # a longer quotation is speech, not a characterisation


def unquoted(text: str) -> str:
    """``text`` with its quotations blanked out: what it says in its own voice."""
    return _QUOTED.sub(lambda m: " " * len(m.group(0)), text)


# --- what the article holds ---------------------------------------------------------


def _memo(index: SentenceIndex, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()``, once per article index and ``key``: the article's cues are found
    once, and every check and hint of every answer reads them."""
    if key not in index.memo:
        index.memo[key] = compute()
    return cast("T", index.memo[key])


def quoted_terms(index: SentenceIndex) -> dict[str, int]:
    """Short quotations of the article (1-4 words): term (lower case) -> the first
    sentence holding it. A single capitalised word is taken for a name and skipped, and
    a term the article also uses unquoted is not a quotation only."""
    return dict(_memo(index, ("quoted_terms",), lambda: _quoted_terms(index)))


def _quoted_terms(index: SentenceIndex) -> dict[str, int]:
    terms: dict[str, int] = {}
    for sentence in index.sentences:
        for match in _QUOTED.finditer(index.original(sentence)):
            term = next(g for g in match.groups() if g is not None).strip(" ,.;:!?")
            words = term.split()
            if not words or len(words) > MAX_TERM_WORDS or len(term) < 3:
                continue
            if len(words) == 1 and term[0].isupper() and not term.isupper():
                continue
            terms.setdefault(term.casefold(), sentence.id)
    if not terms:
        return terms
    # a word the article also uses in its own voice is its word too, not only a quote
    own = own_voice(index.text)
    folded = own.casefold()
    return {term: n for term, n in terms.items() if not _said_in(term, own, folded)}


def _said_in(term: str, own: str, folded: str) -> bool:
    """Whether ``own`` (``folded`` its case-folded copy) holds ``term`` (case-folded):
    its pattern is tried only where the term's first word stands, not at every
    character of a long article."""
    words = _WORDS.findall(term)
    if not words or not all(word in folded for word in words):
        return False
    compiled = pattern(term)
    if len(folded) != len(own):  # a letter that folds to two: positions differ
        return compiled.search(own) is not None
    lead = term.find(words[0])
    at = folded.find(words[0], lead)
    while at != -1:
        if compiled.match(own, at - lead):
            return True
        at = folded.find(words[0], at + 1)
    return False


def own_voice(text: str) -> str:
    """``text`` with every quotation (up to a paragraph long) blanked out."""
    return _LONG_QUOTES.sub(lambda m: " " * len(m.group(0)), text)


def sentence_classes(index: SentenceIndex, lex: Lexicon) -> list[set[str]]:
    """The cue classes of ``lex`` each sentence holds, in one pass over the article
    (the checks' and hints' classes, and the signs ``summarize.answer.opinion`` reads)."""

    def compute() -> list[set[str]]:
        # sentence by sentence, each word's cues remembered (Matcher.holds): measured
        # faster than one Aho-Corasick scan of the whole article whose matches are then
        # placed and checked in Python (ahocorasick-rs: 1.4 s against 0.95 s for 5 MB)
        holds = matcher_of(lex).holds
        return [holds(index.original(sentence), _SENTENCE_CLASSES) for sentence in index.sentences]

    return _memo(index, ("classes", lex), compute)


_SENTENCE_CLASSES = frozenset(
    {"denial", "denial_weak", "allegation", "criticism", "outlet_voice", "reporting", "claiming",
     "column_labels", "first_person", "reader_address", "normative", "verdicts"}
)  # fmt: skip


def commentary_sentences(index: SentenceIndex, lex: Lexicon, *, opinion: bool = False) -> set[int]:
    """Ids of the outlet's commentary: a sentence opening with a label (``Insights:``,
    ``Kommentar:``) and the rest of its section (its paragraph, and the numbered or
    bulleted items after it); a sentence in the outlet's own voice ("we believe",
    "нам кажется"); every sentence if ``opinion``."""
    if opinion:
        return {s.id for s in index.sentences}
    return set(_memo(index, ("commentary", lex), lambda: _commentary(index, lex)))


def _commentary(index: SentenceIndex, lex: Lexicon) -> set[int]:
    opening = _opening(lex.commentary_labels)
    classes = sentence_classes(index, lex)
    ids: set[int] = set()
    inside = False
    for sentence, held in zip(index.sentences, classes, strict=True):
        text = index.original(sentence)
        if sentence.paragraph and not _LIST_ITEM.match(text):
            inside = False
        if opening.match(text):
            inside = True
        if inside or "outlet_voice" in held:
            ids.add(sentence.id)
    return ids


@functools.cache
def _opening(labels: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(label) for label in labels)
    return re.compile(rf"^\s*(?:{alternatives})\s*[:：|—–-]", re.IGNORECASE)


def dispute_sentences(index: SentenceIndex, lex: Lexicon) -> dict[int, str]:
    """Sentences reporting a dispute: id -> ``"denial"``, ``"accusation"`` or
    ``"criticism"`` (the first that applies). A weak cue ("false") counts only beside
    a reporting one ("said")."""
    out: dict[int, str] = {}
    for sentence, held in zip(index.sentences, sentence_classes(index, lex), strict=True):
        if "denial" in held or ("reporting" in held and "denial_weak" in held):
            out[sentence.id] = "denial"
        elif "allegation" in held:
            out[sentence.id] = "accusation"
        elif "criticism" in held:
            out[sentence.id] = "criticism"
    return out


def cue_sentences(index: SentenceIndex, lex: Lexicon) -> dict[int, str]:
    """``dispute_sentences``, and the sentences in the outlet's own voice ("we
    believe", "нам кажется") as ``"view"``: what the hints name, in article order."""
    return dict(_memo(index, ("cues", lex), lambda: _cues(index, lex)))


def _cues(index: SentenceIndex, lex: Lexicon) -> dict[int, str]:
    out = dispute_sentences(index, lex)
    holds = matcher_of(lex).holds
    for sentence, held in zip(index.sentences, sentence_classes(index, lex), strict=True):
        if sentence.id in out or "outlet_voice" not in held:
            continue
        text = index.original(sentence)
        if not _QUOTE_MARKS.search(text):  # all of it is its own voice
            out[sentence.id] = "view"
        elif "outlet_voice" in holds(unquoted(text), ("outlet_voice",)):
            out[sentence.id] = "view"  # said in its own voice, not inside a quotation
    return dict(sorted(out.items()))


MAX_HINTS = 8  # cue sentences named at most (denials first): a hint, not a to-do list


def first_cues(cues: dict[int, str], limit: int = MAX_HINTS) -> dict[int, str]:
    """At most ``limit`` of ``cues``, in the order of ``_CUE_WORDS`` (denials first),
    then of the article."""
    order = list(_CUE_WORDS)
    kept = sorted(cues.items(), key=lambda item: (order.index(item[1]), item[0]))[:limit]
    return dict(sorted(kept))


_CUE_WORDS = {  # kind -> (one sentence, several)
    "denial": ("reports a denial", "report denials"),
    "accusation": ("reports an accusation", "report accusations"),
    "criticism": ("reports criticism", "report criticism"),
    "view": ("is the outlet's own view", "are the outlet's own view"),
}


def describe(cues: dict[int, str]) -> str:
    """``{29: "denial", 13: "accusation"}`` -> ``"S29 reports a denial; S13 reports an
    accusation"``."""
    parts = []
    for kind, (one, several) in _CUE_WORDS.items():
        ids = [f"S{n}" for n, k in cues.items() if k == kind]
        if ids:
            parts.append(f"{_join(ids)} {one if len(ids) == 1 else several}")
    return "; ".join(parts)


def hints(
    cues: dict[int, str], *, within: range | None = None, offset: int = 0, opinion: bool = False
) -> str:
    """What the model is told before it answers: the ``cue_sentences`` (of the part
    ``within``, its ids shown less ``offset``) that report a denial, an accusation or
    criticism, or are the outlet's own view, and whether the article is wholly opinion;
    "" for an article with none of these, so that no dispute is invented."""
    cues = first_cues(
        {n - offset: kind for n, kind in cues.items() if within is None or n in within}
    )
    lines = ["the article is an opinion piece: say so, and attribute its views"] if opinion else []
    lines += [described] if (described := describe(cues)) else []
    if not lines:
        return ""
    return (
        "Hints from the article's wording (check them; list a contested point only where "
        "the article shows one): " + "; ".join(lines) + "."
    )


_OPINION_PATH = re.compile(
    r"/(?:opinions?|commentary|editorials?|kommentare?|meinung|columns?|tribunes?|"
    r"opinion-[\w-]+|chroniques?|opini[oó]n|mnenie|kolumnisty?)(?:/|$)",
    re.IGNORECASE,
)


def is_opinion(url: str | None, section: str | None = None) -> bool:
    """Whether a page is wholly opinion: its URL path (``/opinion/``, ``/meinung/``) or
    its section metadata says so."""
    genres = r"opinion|editorial|column|comment|kommentar|meinung|ideas|tribune|op-ed"
    if section and re.search(genres, section, re.IGNORECASE):
        return True
    return bool(url and _OPINION_PATH.search(urlsplit(url).path))


@dataclass(frozen=True)
class Wording:
    """What the article's own wording says before any answer: its ``cue_sentences``
    and whether it is wholly opinion (``is_opinion``). Read once per article."""

    cues: dict[int, str]
    opinion: bool

    def hints(self, within: range | None = None, offset: int = 0) -> str:
        """``hints`` of the article (of the part ``within``, numbered less ``offset``)."""
        return hints(self.cues, within=within, offset=offset, opinion=self.opinion)


def wording(index: SentenceIndex, article: Article) -> Wording:
    """The ``Wording`` of ``article``, numbered as ``index``: cues in its language."""
    return Wording(
        cue_sentences(index, lexicon(article.language)),
        is_opinion(article.url, article.section),
    )


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# --- the checks ---------------------------------------------------------------------


@dataclass(frozen=True)
class Said:
    """One statement of the brief: where it is, its text, the sentence ids it cites."""

    where: str  # "summary sentence 2", "key point 1", "contested point 3"
    text: str
    cites: tuple[int, ...]


def statements_of(summary: Sequence[Statement], key_points: Sequence[Statement]) -> list[Said]:
    """The brief's own statements (contested points are attributed by their shape)."""
    out = [
        Said(f"summary sentence {n}", s.text, _ids(s.evidence))
        for n, s in enumerate(summary, start=1)
    ]
    out += [Said(f"key point {n}", s.text, _ids(s.evidence)) for n, s in enumerate(key_points, 1)]
    return out


def _ids(evidence: Iterable[Evidence]) -> tuple[int, ...]:
    return tuple(e.sentence for e in evidence if e.sentence is not None)


def check_quoted_terms(said: Sequence[Said], terms: dict[str, int], lex: Lexicon) -> Check:
    details: list[str] = []
    sentences: list[int] = []
    for statement, term in _own_terms(said, terms, lex):
        details.append(_quoted_detail(statement.where, term, f"S{terms[term]}"))
        sentences.append(terms[term])
    return Check(name="quoted_terms", passed=not details, details=details, sentences=sentences)


def _own_terms(
    said: Sequence[Said], terms: Iterable[str], lex: Lexicon
) -> Iterable[tuple[Said, str]]:
    """Each (statement, term) where a quoted term is used in the statement's own voice."""
    for statement in said:
        for term, _ in terms_in_own_voice(statement.text, terms, lex):
            yield statement, term


def terms_in_own_voice(
    text: str, terms: Iterable[str], lex: Lexicon
) -> list[tuple[str, list[tuple[int, int]]]]:
    """Each of ``terms`` (the article's quoted terms) that ``text`` uses in its own voice,
    with where it stands: none where the text reports someone's words ("what Xi
    called harassment")."""
    own = unquoted(text)
    if found(lex.reporting, own):
        return []
    hits = ((term, [m.span() for m in pattern(term).finditer(own)]) for term in terms)
    return [(term, spans) for term, spans in hits if spans]


def _quoted_detail(where: str, term: str, sentence: str) -> str:
    return (
        f"{where} uses {term!r} in its own voice; the article quotes it ({sentence}): keep "
        "it in quotation marks or say whose word it is"
    )


def own_words(text: str, lex: Lexicon) -> str:
    """``text`` up to the first cue that reports another's words ("Critics said the
    campaign was ruthless": what follows "said" is theirs, attributed, not the brief's),
    its links blanked (a word of a web address, "https://evil.example", is no word of
    the brief's)."""
    text = LINK.sub(" ", text)
    if not matcher_of(lex).holds(text, ("claiming",)):
        return text
    starts = [m.start() for cue in lex.claiming if (m := pattern(cue).search(text))]
    return text[: min(starts)] if starts else text


def check_loaded_words(said: Sequence[Said], lex: Lexicon) -> Check:
    details: list[str] = []
    sentences: list[int] = []
    for statement in said:
        words = found(lex.loaded, own_words(unquoted(statement.text), lex))
        if words:
            details.append(
                f"{statement.where} says {', '.join(repr(w) for w in words)} in its own voice: "
                "use a neutral word, or quote and attribute it"
            )
            sentences += statement.cites
    return Check(name="loaded_words", passed=not details, details=details, sentences=sentences)


def check_commentary(said: Sequence[Said], commentary: set[int], lex: Lexicon) -> Check:
    details: list[str] = []
    sentences: list[int] = []
    for statement in said:
        cited = [n for n in statement.cites if n in commentary]
        if not cited or len(cited) < len(statement.cites):
            continue  # it rests on reporting too
        if found(lex.outlet, statement.text):
            continue
        ids = ", ".join(f"S{n}" for n in cited)
        details.append(
            f"{statement.where} states the outlet's commentary ({ids}) as fact: say it is "
            "the outlet's view (\"the outlet's commentary says ...\")"
        )
        sentences += cited
    return Check(name="commentary", passed=not details, details=details, sentences=sentences)


def check_disputes(points: Sequence[ContestedPoint], disputes: dict[int, str]) -> Check:
    cited = {e.sentence for p in points for e in p.evidence if e.sentence is not None}
    missing = [n for n, kind in disputes.items() if kind == "denial" and n not in cited]
    details = [
        f"S{n} reports a denial that no contested point cites: list the dispute (who "
        "asserts, who denies) or say why it is none"
        for n in missing
    ]
    return Check(name="disputes", passed=not details, details=details, sentences=missing)


def check_attribution(said: Sequence[Said], index: SentenceIndex, lex: Lexicon) -> Check:
    details: list[str] = []
    sentences: list[int] = []
    classes = sentence_classes(index, lex)
    for statement in said:
        cited = [classes[n - 1] for n in statement.cites if index.get(n) is not None]
        if not cited or not all("claiming" in held for held in cited):
            continue
        if found(lex.reporting, statement.text) or found(lex.outlet, statement.text):
            continue
        details.append(
            f"{statement.where} repeats what the article attributes to someone "
            f"({', '.join(f'S{n}' for n in statement.cites)}) without saying who: name the "
            'speaker ("X said ...")'
        )
        sentences += statement.cites
    return Check(name="attribution", passed=not details, details=details, sentences=sentences)


def run_checks(
    index: SentenceIndex,
    language: str | None,
    summary: Sequence[Statement],
    key_points: Sequence[Statement],
    points: Sequence[ContestedPoint],
    *,
    opinion: bool = False,
) -> list[Check]:
    """Every check of one brief, in a fixed order."""
    lex = lexicon(language)
    said = statements_of(summary, key_points)
    return [
        check_quoted_terms(said, quoted_terms(index), lex),
        check_loaded_words(said, lex),
        check_commentary(said, commentary_sentences(index, lex, opinion=opinion), lex),
        check_disputes(points, dispute_sentences(index, lex)),
        check_attribution(said, index, lex),
    ]


# --- a comparison -------------------------------------------------------------------


@dataclass(frozen=True)
class Voiced:
    """One statement of a comparison in its own voice (not credited to one source):
    where it is, its text, and the sentence ids it cites in each source."""

    where: str  # "summary", "agreement 2", "conflict 1 topic"
    text: str
    cites: dict[str, tuple[int, ...]]


def check_comparison(
    said: Sequence[Voiced], indexes: dict[str, SentenceIndex], language: str | None
) -> list[Check]:
    """The checks of a comparison's own voice (its summary, agreements and conflict
    topics; a source's version and its unique claims are credited to it by their
    shape): quoted terms of any source, loaded words, and an agreement resting only on
    the sources' commentary. Details name the source of each sentence id."""
    lex = lexicon(language)
    terms = {
        term: f"{name} S{n}" for name, index in indexes.items()
        for term, n in quoted_terms(index).items()
    }  # fmt: skip
    # a term one source quotes and another uses in its own voice is that source's word
    owns = [own_voice(index.text) for index in indexes.values()]
    terms = {t: at for t, at in terms.items() if not any(pattern(t).search(o) for o in owns)}
    flat = [Said(s.where, s.text, ()) for s in said]
    hits = [_quoted_detail(st.where, t, terms[t]) for st, t in _own_terms(flat, terms, lex)]
    quoted = Check(name="quoted_terms", passed=not hits, details=hits)
    commentary = {name: commentary_sentences(index, lex) for name, index in indexes.items()}
    details: list[str] = []
    for statement in said:
        cited = [(name, n) for name, ids in statement.cites.items() for n in ids]
        if not cited or not all(n in commentary[name] for name, n in cited):
            continue
        if found(lex.outlet, statement.text) or found(lex.reporting, statement.text):
            continue
        ids = ", ".join(f"{name} S{n}" for name, n in cited)
        details.append(
            f"{statement.where} states the outlets' commentary ({ids}) as fact: say whose "
            "view it is"
        )
    return [
        quoted,
        check_loaded_words(flat, lex),
        Check(name="commentary", passed=not details, details=details),
    ]


def verdict(results: Sequence[Check]) -> str:
    """One line for a reader: ``quoted terms passed · commentary flagged (2) · ...``."""
    return " · ".join(
        f"{c.name.replace('_', ' ')} " + ("passed" if c.passed else f"flagged ({len(c.details)})")
        for c in results
    )
