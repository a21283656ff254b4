"""Turn the model's raw answer into a grounded brief, or into a list of problems.

``parse_draft`` checks JSON and schema; the checks here flag or repair what a model
gets wrong besides its citations (``summarize.answer.citations`` resolves those). The problems
they report are what a re-ask tells the model.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Sequence, Set
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from summarize.request.caps import Fitting, fit
from summarize.request.drafts import (
    DraftBrief,
    DraftMerge,
    DraftMergedPoint,
    DraftPoint,
    DraftStatement,
)

_D = TypeVar("_D", DraftBrief, DraftMerge)
_M = TypeVar("_M", bound=BaseModel)
_I = TypeVar("_I")
_FENCE = re.compile(r"^```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?```\s*$", re.DOTALL)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_BCP47 = re.compile(
    r"^[a-z]{2,3}(?:-[a-z]{4})?(?:-(?:[a-z]{2}|[0-9]{3}))?(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*$",
    re.IGNORECASE,
)
_MARKER = re.compile(r"(?:BEGIN|END)?\s*ARTICLE-[0-9a-f]{16}")
_LANGUAGE_NAMES = {
    "arabic": "ar", "chinese": "zh", "dutch": "nl", "english": "en", "french": "fr",
    "german": "de", "hindi": "hi", "italian": "it", "japanese": "ja", "korean": "ko",
    "polish": "pl", "portuguese": "pt", "russian": "ru", "spanish": "es",
    "turkish": "tr", "ukrainian": "uk",
}  # fmt: skip


class DraftProblems(Exception):
    """The answer is not a usable draft; ``problems`` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def extract_json(raw: str) -> Any:
    """Parse the JSON object in ``raw``, tolerating code fences, think blocks and chatter."""
    text = _THINK.sub("", raw).strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    if not text:
        raise DraftProblems(["the answer was empty; it must be one JSON object"])
    # strict=False: grammar-constrained servers let raw newlines and tabs into strings.
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError as first:
        start, end = text.find("{"), text.rfind("}")
        if 0 <= start < end:
            try:
                return json.loads(text[start : end + 1], strict=False)
            except json.JSONDecodeError:
                pass
        raise DraftProblems(
            [
                f"the answer is not valid JSON ({first.msg} at line {first.lineno} "
                f"column {first.colno}); answer with one JSON object only"
            ]
        ) from first


def parse_draft(raw: str) -> DraftBrief:
    """Validate ``raw`` against the draft schema; raise DraftProblems listing every error."""
    draft = parse_as(raw, DraftBrief)
    if not summary_text(draft):
        raise DraftProblems(["summary: must not be empty"])
    return draft


def summary_text(draft: DraftBrief | DraftMerge) -> str:
    """The draft's summary sentences, joined."""
    return " ".join(s.text.strip() for s in draft.summary if s.text.strip())


def parse_as(raw: str, model: type[_M]) -> _M:
    """Validate ``raw`` against ``model``; raise DraftProblems listing every error.

    Fields longer than their caps are fitted first (``summarize.request.caps``): a long
    field never fails an answer; what was long or cut is in ``draft.fitting``."""
    data = extract_json(raw)
    if not isinstance(data, dict):
        raise DraftProblems([f"the answer must be a JSON object, not {type(data).__name__}"])
    fitting = Fitting()
    data = fit(model, data, fitting)
    try:
        draft = model.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or 'answer'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        ]
        raise DraftProblems(problems) from exc
    if fitting.warnings and hasattr(draft, "fitted"):
        draft.fitted(fitting)
    return draft


def normalize_language(tag: str) -> str | None:
    """Return a BCP-47 tag in canonical case, or None if ``tag`` is not one."""
    tag = tag.strip().replace("_", "-")
    if tag.lower() in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[tag.lower()]
    if not _BCP47.match(tag):
        return None
    first, *rest = tag.split("-")
    parts = [first.lower()]
    for sub in rest:
        if len(sub) == 2:
            parts.append(sub.upper())
        elif len(sub) == 4 and sub.isalpha():
            parts.append(sub.title())
        else:
            parts.append(sub.lower())
    return "-".join(parts)


def marker_problems(draft: DraftBrief | DraftMerge) -> list[str]:
    """Re-ask lines for article boundary markers copied into the brief."""
    texts = [(f"summary.{i}.text", s.text) for i, s in enumerate(draft.summary)]
    texts += [(f"key_points.{i}.text", p.text) for i, p in enumerate(draft.key_points)]
    points: Sequence[DraftPoint | DraftMergedPoint] = draft.contested_points
    texts += [(f"contested_points.{i}.claim", p.claim) for i, p in enumerate(points)]
    return [
        f"{where}: contains the article marker {m.group(0).strip()!r}; markers are not content"
        for where, text in texts
        if (m := _MARKER.search(text))
    ]


def scrub_markers(draft: _D) -> tuple[_D, list[str]]:
    """Remove key points and contested points that contain article markers, and markers
    from the summary; return the cleaned draft and a warning per repair."""
    warnings = []
    kept_points = [p for p in draft.key_points if not _MARKER.search(p.text)]
    if len(kept_points) < len(draft.key_points):
        warnings.append(
            f"dropped {len(draft.key_points) - len(kept_points)} key point(s) that only "
            "repeated the article's boundary marker"
        )
    kept_contested = [p for p in draft.contested_points if not _MARKER.search(p.claim)]
    if len(kept_contested) < len(draft.contested_points):
        warnings.append(
            f"dropped {len(draft.contested_points) - len(kept_contested)} contested point(s) "
            "whose claim repeated the article's boundary marker"
        )
    summary = [
        s.model_copy(update={"text": _MARKER.sub("", s.text)}) if _MARKER.search(s.text) else s
        for s in draft.summary
    ]
    if summary != draft.summary:
        warnings.append("removed the article's boundary marker from the summary")
    cleaned = draft.model_copy(
        update={"summary": summary, "key_points": kept_points, "contested_points": kept_contested}
    )
    return cleaned, warnings


def _clip(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# a web address in text (its end before brackets and quotes); also read by neutrality
LINK = re.compile(r"(?:https?://|www\.)[^\s<>\"'()\[\]]+", re.IGNORECASE)


def clean_links(text: str, article: str, where: str, warnings: list[str]) -> str:
    """``text`` without the links that ``article`` does not contain; a warning for each.

    A model can be talked into adding links by an article (prompt injection) or make
    them up; either way a link the article does not carry is not the article's.
    """
    if not LINK.search(text):
        return text

    def drop(match: re.Match[str]) -> str:
        url = match.group(0).rstrip(".,;:!?")
        if url in article:
            return match.group(0)
        warnings.append(f"{where}: removed a link that is not in the article: {_clip(url)!r}")
        return match.group(0)[len(url) :]

    return re.sub(r"[ \t]{2,}", " ", LINK.sub(drop, text)).strip()


def remove_foreign_urls(draft: _D, article: str) -> tuple[_D, list[str]]:
    """The brief with ``clean_links`` applied to its summary, key points and claims."""
    warnings: list[str] = []
    points = [
        p.model_copy(
            update={"claim": clean_links(p.claim, article, f"contested_points.{i}.claim", warnings)}
        )
        for i, p in enumerate(draft.contested_points)
    ]

    def statements(items: list[DraftStatement], where: str) -> list[DraftStatement]:
        return [
            item.model_copy(
                update={"text": clean_links(item.text, article, f"{where}.{i}", warnings)}
            )
            for i, item in enumerate(items)
        ]

    cleaned = draft.model_copy(
        update={
            "summary": statements(draft.summary, "summary"),
            "key_points": statements(draft.key_points, "key_points"),
            "contested_points": points,
        }
    )
    return cleaned, warnings


_WORDS = re.compile(r"\w+")
_ECHO_WORDS = 6  # this many words in a row from the instructions is copying them


def _runs(text: str, n: int = _ECHO_WORDS) -> Iterator[tuple[str, ...]]:
    """Each run of ``n`` words in a row of ``text``, casefolded, in order."""
    words = _WORDS.findall(text.casefold())
    return zip(*(words[i:] for i in range(n)), strict=False)


def _shingles(text: str, n: int = _ECHO_WORDS) -> set[tuple[str, ...]]:
    return set(_runs(text, n))


@functools.lru_cache(maxsize=16)
def _instruction_shingles(instructions: str) -> frozenset[tuple[str, ...]]:
    return frozenset(_shingles(instructions))


@functools.lru_cache(maxsize=16)
def _copied(instructions: str, article: str) -> frozenset[tuple[str, ...]]:
    """The runs of six words of ``instructions`` that ``article`` does not have: worked
    out once per prompt and article (each answer and re-ask of a run reads them)."""
    return _instruction_shingles(instructions).difference(_runs(article))  # no set of the article


@functools.lru_cache(maxsize=16)
def _vocabulary(text: str) -> frozenset[str]:
    return frozenset(_content_words(text))


@functools.lru_cache(maxsize=16)
def _prompt_vocabulary(instructions: str) -> frozenset[str]:
    """The instructions' content words, and the parts of those written with an
    underscore: a field name or kind written out ("one_sided": "sided")."""
    words = _vocabulary(instructions)
    parts = {p for w in words if "_" in w for p in w.split("_") if len(p) >= _CONTENT}
    return words | parts


def prepare_echoes(instructions: str, article: str) -> None:
    """Work out ahead what ``drop_echoes`` reads of ``instructions`` and ``article``
    (each cached): for a long article, while its first requests are in flight."""
    _copied(instructions, article)
    _prompt_vocabulary(instructions)
    _vocabulary(article)


def echo_problems(draft: DraftBrief | DraftMerge, instructions: str, article: str) -> list[str]:
    """Re-ask lines for a summary or key point that copies the instructions, not the article.

    Small models sometimes answer with the system prompt itself; text that runs six
    words in a row with the instructions, and is not also in the article, is not a
    summary of the article.
    """
    copied = _copied(instructions, article)
    texts = [("summary", summary_text(draft))]
    texts += [(f"key_points.{i}", p.text) for i, p in enumerate(draft.key_points)]
    return [
        f"{where}: it repeats these instructions instead of summarising the article"
        for where, text in texts
        if len(_shingles(text) & copied) >= 2
    ]


_ECHO_SHORT = 12  # words: a statement this short is judged by its vocabulary
_CONTENT = 4  # letters: shorter words are not counted where they come from


def _content_words(text: str) -> list[str]:
    return [w for w in _WORDS.findall(text.casefold()) if len(w) >= _CONTENT]


def echoes(
    text: str,
    copied: frozenset[tuple[str, ...]],
    prompt: Set[str],
    article: Set[str],
) -> bool:
    """Whether ``text`` comes from the prompt or the schema, not from the article: six
    words in a row with them twice (``copied``: their runs of six words that the article
    does not have), or, for a short statement, its content words nearly all the
    ``prompt``'s and at most half the ``article``'s ("One contested point as the model
    writes it.", "One one_sided claim")."""
    if len(_shingles(text) & copied) >= 2:
        return True
    words = _content_words(text)
    if not words or len(_WORDS.findall(text)) > _ECHO_SHORT:
        return False
    if any("_" in w and w in prompt and w not in article for w in words):
        return True  # a field name or a kind ("one_sided") is never the article's prose
    from_prompt = sum(w in prompt for w in words) / len(words)
    from_article = sum(w in article for w in words) / len(words)
    return from_prompt >= 0.8 and from_article <= 0.5


def echo_test(instructions: str, article: str) -> Callable[[str], bool]:
    """``echoes`` for one set of ``instructions`` (a re-ask's problem list) and article."""
    copied = _copied(instructions, article)
    prompt, words = _prompt_vocabulary(instructions), _vocabulary(article)
    return lambda text: echoes(text, copied, prompt, words)


_ECHO_FIELDS = (("summary", "text", "summary sentence"), ("key_points", "text", "key point"),
                ("contested_points", "claim", "contested point"))  # fmt: skip


def drop_echoes(draft: _M, instructions: str, article: str) -> tuple[_M, list[str]]:
    """``draft`` without the summary sentences, key points and contested points that
    repeat the ``instructions`` (the prompt and the schema's descriptions) instead of
    the ``article``; a warning for each one dropped."""
    echo = echo_test(instructions, article)
    update: dict[str, list[Any]] = {}
    warnings: list[str] = []
    for field, attribute, name in _ECHO_FIELDS:
        items = getattr(draft, field, None)
        if not items:
            continue
        kept, dropped = drop_echoed(items, attribute, name, echo, "the instructions or the schema")
        warnings += dropped
        if dropped:
            update[field] = kept
    return (draft.model_copy(update=update) if update else draft), warnings


def drop_echoed(
    items: Sequence[_I], attribute: str, name: str, echo: Callable[[str], bool], source: str
) -> tuple[list[_I], list[str]]:
    """``items`` whose ``attribute`` (their text) does not ``echo`` what the model was
    shown (``source``, as the warnings name it), and a warning for each dropped."""
    kept: list[_I] = []
    warnings: list[str] = []
    for number, item in enumerate(items, start=1):
        text = getattr(item, attribute)
        if echo(text):
            warnings.append(
                f"{name} {number}: dropped, it repeats {source}, not the article: {text[:60]!r}"
            )
        else:
            kept.append(item)
    return kept, warnings


def drop_repeated_key_points(draft: _D) -> tuple[_D, list[str]]:
    """Drop key points that repeat an earlier one (case and spacing aside), with a
    warning each: small models list the same point again and again."""
    seen: set[str] = set()
    kept: list[DraftStatement] = []
    warnings: list[str] = []
    for number, point in enumerate(draft.key_points, start=1):
        key = _said(point.text)
        if key in seen:
            warnings.append(f"key point {number}: dropped, it repeats an earlier one")
            continue
        seen.add(key)
        kept.append(point)
    if not warnings:
        return draft, []
    return draft.model_copy(update={"key_points": kept}), warnings


class _Said(Protocol):
    text: str


_S = TypeVar("_S", bound=_Said)


def _said(text: str) -> str:
    """A statement as compared for repeats: case and spacing aside."""
    return " ".join(text.lower().split())


def said_once(summary: list[_S], key_points: list[_S]) -> tuple[list[_S], list[_S], list[str]]:
    """The brief's summary sentences and key points with each sentence said once: a
    summary sentence that repeats an earlier one, or a key point that repeats a summary
    sentence, is dropped with a warning. Done on the finished brief, after its last
    request: the 1.5B model's brief of 0ec95c7261d1 gave one sentence as its last
    summary sentence and again as its key point (key points that repeat each other are
    dropped from each answer, ``drop_repeated_key_points``)."""
    seen: set[str] = set()
    warnings: list[str] = []
    sentences: list[_S] = []
    for number, sentence in enumerate(summary, start=1):
        if (key := _said(sentence.text)) in seen:
            warnings.append(f"summary sentence {number}: dropped, it repeats an earlier one")
            continue
        seen.add(key)
        sentences.append(sentence)
    points: list[_S] = []
    for number, point in enumerate(key_points, start=1):
        if _said(point.text) in seen:
            warnings.append(f"key point {number}: dropped, it repeats a summary sentence")
            continue
        points.append(point)
    return sentences, points, warnings


# --- an answer cut off by a loop, closed as JSON ------------------------------------


def close_json(text: str) -> str | None:
    """The longest prefix of a cut-off JSON object that ends after a complete value
    (or inside an object's string value, which is then ended), with the brackets it
    leaves open closed; None if there is no such prefix."""
    return next(json_closings(text), None)


def json_closings(text: str, limit: int = 16) -> Iterator[str]:
    """Closed prefixes of a cut-off JSON object, longest first, at most ``limit``.

    Used on an answer stopped because it looped: what came before the loop is kept (and
    then validated and grounded like any answer). A shorter closing drops an incomplete
    last item, for when the longest one misses a required field."""
    start = text.find("{")
    if start < 0:
        return
    stack: list[str] = []  # "{" or "["
    expect_key: list[bool] = []  # per open object: is the next string a key?
    in_string = escape = False
    string_is_key = False
    cuts: list[tuple[int, str]] = []  # (end, the brackets still open there)
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_string = False
                if not string_is_key:
                    cuts.append((i + 1, "".join(stack)))
            continue
        if ch == '"':
            in_string = True
            string_is_key = bool(stack) and stack[-1] == "{" and expect_key[-1]
        elif ch in "{[":
            stack.append(ch)
            expect_key.append(ch == "{")
        elif ch in "}]":
            if not stack:
                break
            stack.pop()
            expect_key.pop()
            if not stack:
                yield text[start : i + 1]
                return
            cuts.append((i + 1, "".join(stack)))
        elif ch == ":" and stack and stack[-1] == "{":
            expect_key[-1] = False
        elif ch == "," and stack and stack[-1] == "{":
            expect_key[-1] = True
    body = text[start:]
    if in_string and not string_is_key and stack and stack[-1] == "{":
        # cut inside a field's value (a summary that loops): end the string there; a
        # cut list item is dropped instead, as its list has others
        yield body[: len(body) - escape] + '"' + _closers("".join(stack))
        limit -= 1
    for end, open_brackets in reversed(cuts[-limit:] if limit > 0 else []):
        yield text[start:end] + _closers(open_brackets)


def _closers(open_brackets: str) -> str:
    return "".join("}" if b == "{" else "]" for b in reversed(open_brackets))
