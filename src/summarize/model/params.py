"""Request parameters learned from the endpoint, per endpoint and model, not guessed
from model names.

A 400 naming a parameter the model does not take (``temperature`` on a reasoning
model, ``max_tokens`` where only ``max_completion_tokens`` is known, ``stream_options``)
drops or renames it; the request is sent once more and the fix is remembered for the
rest of the process. Each fix is tried once: a parameter refused again after it is a
``BadRequestError``. A model that reports reasoning tokens (or refuses a temperature)
reasons: its output limit gets ``room`` times the answer's tokens on top, since
``max_completion_tokens`` counts the reasoning too, and twice that room after an answer
cut off mostly by reasoning (asking for a shorter answer would not help).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from summarize.errors import BadRequestError

# Parameters a 400 may name as unsupported, and what replaces each (None: dropped).
LEARNABLE: dict[str, str | None] = {
    "temperature": None,
    "max_tokens": "max_completion_tokens",
    "max_completion_tokens": "max_tokens",
    "stream_options": None,
}
_UNSUPPORTED_WORDS = (
    "unsupported", "not supported", "unrecognized", "unknown", "not permitted",
    "not allowed", "extra inputs", "invalid parameter", "does not support",
)  # fmt: skip
REASONING_ROOM = 2
REASONING_ROOM_MAX = 8

Key = tuple[str, str]  # (endpoint, model)


@dataclass
class Learned:
    """What one endpoint and model taught: parameters to drop or rename, reasoning."""

    drop: set[str] = field(default_factory=set)
    rename: dict[str, str] = field(default_factory=dict)
    reasoning: bool = False
    room: int = REASONING_ROOM


class UnsupportedParam(Exception):
    """The server refused a parameter (or its value) by name: ``param``."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


class ReasoningCutOff(Exception):
    """An answer cut off at the token limit with most of its tokens spent reasoning."""

    def __init__(self, reasoning: int, completion: int) -> None:
        super().__init__(f"{reasoning} of {completion} tokens spent reasoning")
        self.reasoning = reasoning
        self.completion = completion


_learned: dict[Key, Learned] = {}
_lock = threading.Lock()


def forget() -> None:
    """Forget everything learned (tests, or a server upgrade)."""
    with _lock:
        _learned.clear()


def learned(key: Key) -> Learned:
    """What ``key`` taught so far: a copy, changed only through ``_teach``."""
    with _lock:
        known = _learned.get(key, Learned())
        return Learned(set(known.drop), dict(known.rename), known.reasoning, known.room)


def _teach(key: Key, value: Learned) -> None:
    with _lock:
        _learned[key] = value


def refused_param(status: int, param: object, lowered: str) -> str | None:
    """The learnable parameter a 400/422 refuses, by the error's ``param`` or by name
    in its (lower-cased) message ("unsupported value: 'temperature' does not support 0")."""
    if status not in (400, 422):
        return None
    if isinstance(param, str) and param in LEARNABLE:
        return param
    if not any(word in lowered for word in _UNSUPPORTED_WORDS):
        return None
    named = [n for n in LEARNABLE if re.search(rf"\b{n}\b", lowered)]
    # "max_tokens ... use max_completion_tokens instead" names both: the first is refused
    return min(named, key=lowered.find) if named else None


def learn_param(key: Key, model: str, exc: UnsupportedParam) -> str:
    """Drop or rename the parameter the server refused, once; the warning to give."""
    known, name = learned(key), exc.param
    fixed = known.drop | set(known.rename) | set(known.rename.values())
    if name in fixed or name not in LEARNABLE:
        raise BadRequestError(str(exc))  # refused again after the fix: not ours to guess
    replacement = LEARNABLE[name]
    if replacement is not None:
        known.rename[name] = replacement
        change = f"sends {replacement!r} instead"
    else:
        known.drop.add(name)
        change = "no longer sends it"
    if name == "temperature":
        known.reasoning = True  # the models that refuse a temperature are reasoning ones
    _teach(key, known)
    return (
        f"the endpoint refused parameter {name!r} for model {model!r}; {change} "
        "(remembered for this endpoint and model)"
    )


def reasoned(key: Key, reasoning: int, completion: int, finish_reason: str | None) -> None:
    """Learn from an answer that reports ``reasoning`` tokens; raise ReasoningCutOff when
    reasoning took most of an answer cut off at the limit and there is room to give."""
    known = learned(key)
    cut_by_reasoning = finish_reason == "length" and reasoning * 2 >= completion
    if cut_by_reasoning and not (known.reasoning and known.room >= REASONING_ROOM_MAX):
        raise ReasoningCutOff(reasoning, completion)
    if not known.reasoning:
        known.reasoning = True
        _teach(key, known)


def more_room(key: Key, exc: ReasoningCutOff, answer_tokens: int) -> str:
    """More room to reason after an answer cut off by reasoning; the warning to give."""
    known = learned(key)
    if known.reasoning:
        known.room = min(known.room * 2, REASONING_ROOM_MAX)
    known.reasoning = True
    _teach(key, known)
    return (
        f"the model spent {exc.reasoning} of {exc.completion} output tokens reasoning "
        f"and was cut off; asked again with {answer_tokens * (1 + known.room)} output tokens"
    )


LESSONS = (UnsupportedParam, ReasoningCutOff)


def lesson(key: Key, model: str, exc: Exception, answer_tokens: int) -> str:
    """Learn from a refused parameter or an answer cut off by reasoning; the warning."""
    if isinstance(exc, UnsupportedParam):
        return learn_param(key, model, exc)
    assert isinstance(exc, ReasoningCutOff)
    return more_room(key, exc, answer_tokens)
