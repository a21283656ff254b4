"""Length caps as guards against runaway output, never a reason to lose an answer.

Every string and list of a draft that has a size the prompt asks for carries a
``Cap`` (``Annotated[str, Cap(400)]``). The prompt and the schema say it ("at most
400 characters"; ``maxItems`` for grammar-constrained servers, never ``maxLength``,
which llama.cpp expands into a grammar rule per character). pydantic does not enforce
it. ``fit`` reads an answer before validation instead:

- longer than the cap: kept whole, with a warning;
- more than ``RUNAWAY_TIMES`` the cap (a looping or runaway answer): a string is cut at
  a sentence or word boundary and marked with ``CUT_MARK``, a list keeps its first
  ``cap`` items; a warning says so and the full text goes to ``meta.cut``.

So no article is ever lost only because a field is long.
"""

from __future__ import annotations

import functools
import json
import re
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from summarize.schema import CutText

RUNAWAY_TIMES = 5
CUT_MARK = " […]"
_SENTENCE_END = re.compile(r"[.!?。！？][\"'”’)\]]*\s")


@dataclass(frozen=True)
class Cap:
    """The size a field is asked to keep: characters of a string, items of a list."""

    size: int


def chars(text: str, size: int) -> str:
    """A field description that says its cap."""
    return f"{text} At most {size} characters.".strip()


def cut_text(text: str, size: int) -> str:
    """``text`` cut to at most ``size`` characters at the last sentence end (else the
    last word boundary) past half of it, marked with ``CUT_MARK``."""
    room = max(1, size - len(CUT_MARK))
    head = text[:room]
    ends = [m.end() for m in _SENTENCE_END.finditer(head + " ") if m.end() > room // 2]
    if ends:
        head = head[: ends[-1]]
    elif " " in head[room // 2 :]:
        head = head[: head.rindex(" ")]
    return head.rstrip() + CUT_MARK


def _cap_of(metadata: list[Any]) -> int | None:
    return next((m.size for m in metadata if isinstance(m, Cap)), None)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The draft model of a field, or of its list items."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


class Fitting:
    """What ``fit`` found: warnings, and the full text of what it cut."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.cut: list[CutText] = []

    def string(self, where: str, text: str, cap: int) -> str:
        if len(text) <= cap:
            return text
        if len(text) <= cap * RUNAWAY_TIMES:
            self.warnings.append(
                f"{where}: {len(text)} characters, more than the {cap} asked for; kept whole"
            )
            return text
        cut = cut_text(text, cap)
        self.warnings.append(
            f"{where}: {len(text)} characters, over {RUNAWAY_TIMES} times the {cap} asked "
            f"for (runaway output); cut to {len(cut)}, the full text is in meta.cut"
        )
        self.cut.append(CutText(field=where, length=len(text), cap=cap, text=text))
        return cut

    def items(self, where: str, items: list[Any], cap: int) -> list[Any]:
        if len(items) <= cap:
            return items
        if len(items) <= cap * RUNAWAY_TIMES:
            self.warnings.append(
                f"{where}: {len(items)} items, more than the {cap} asked for; all are kept"
            )
            return items
        self.warnings.append(
            f"{where}: {len(items)} items, over {RUNAWAY_TIMES} times the {cap} asked for "
            f"(runaway output); kept the first {cap}, the full list is in meta.cut"
        )
        full = json.dumps(items, ensure_ascii=False)
        self.cut.append(CutText(field=where, length=len(items), cap=cap, text=full))
        return items[:cap]


@dataclass(frozen=True)
class _Field:
    """What ``fit`` needs of one field: its cap, whether it is a plain string or a list,
    and the draft model inside it."""

    name: str
    cap: int | None
    string: bool
    listed: bool
    inner: type[BaseModel] | None


@functools.cache
def _fields(model: type[BaseModel]) -> tuple[_Field, ...]:
    return tuple(
        _Field(
            name,
            _cap_of(info.metadata),
            info.annotation is str,
            typing.get_origin(info.annotation) is list,
            _model_in(info.annotation),
        )
        for name, info in model.model_fields.items()
    )


def fit(model: type[BaseModel], data: Any, fitting: Fitting, where: str = "") -> Any:
    """``data`` (an answer's JSON, before validation against ``model``) with its capped
    fields fitted; what was long or cut is noted in ``fitting``."""
    if not isinstance(data, dict):
        return data
    fitted = dict(data)
    for field in _fields(model):
        if field.name not in fitted:
            continue
        value, path, cap = fitted[field.name], f"{where}{field.name}", field.cap
        if isinstance(value, str) and cap is not None and field.string:
            value = fitting.string(path, value, cap)
        elif isinstance(value, list):
            if cap is not None and field.listed:
                value = fitting.items(path, value, cap)
            if field.inner is not None:
                inner = field.inner
                value = [fit(inner, item, fitting, f"{path}.{i}.") for i, item in enumerate(value)]
        elif isinstance(value, dict) and field.inner is not None:
            value = fit(field.inner, value, fitting, f"{path}.")
        fitted[field.name] = value
    return fitted


def caps_of(model: type[BaseModel]) -> dict[str, int]:
    """Every cap of ``model`` and the models inside it, by field path (``claim``,
    ``contested_points``, ``contested_points.claim``): for docs and tests."""
    found: dict[str, int] = {}

    def visit(current: type[BaseModel], prefix: str) -> None:
        for name, info in current.model_fields.items():
            cap = _cap_of(info.metadata)
            if cap is not None:
                found[prefix + name] = cap
            inner = _model_in(info.annotation)
            if inner is not None and inner is not current:
                visit(inner, f"{prefix}{name}.")

    visit(model, "")
    return found
