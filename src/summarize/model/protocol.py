"""What the pipeline needs from a model: the ``Completer`` protocol and its values.

A completer turns messages into one ``Reply`` in a structured-output ``Mode``.
``summarize.model.client.ModelClient`` is the one that calls an OpenAI(-compatible)
endpoint; ``summarize.many.batchapi.replay.BatchClient`` answers from Batch API output;
tests bring their own. This is how httpx separates its transports from its client.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from summarize.clock import Deadline
    from summarize.schema import Usage

Message = dict[str, str]


class Mode(str, enum.Enum):
    """Structured-output modes, strongest first."""

    JSON_SCHEMA = "json_schema"
    JSON_OBJECT_SCHEMA = "json_object+schema"
    JSON_OBJECT = "json_object"
    TEXT = "text"

    @property
    def strict(self) -> bool:
        return self is Mode.JSON_SCHEMA

    def next(self) -> Mode | None:
        order = list(Mode)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None


@dataclass
class Reply:
    """One model answer."""

    text: str
    finish_reason: str | None
    mode: Mode


class Deferred(Exception):
    """Requests a run could not make now: they go into the next Batch API batch.

    ``requests`` maps each request's ``custom_id`` to its body. Not a SummarizeError:
    it passes through error handling, and the map and merge steps gather every part's
    requests before raising it, so one batch carries all of them.
    """

    def __init__(self, requests: dict[str, dict[str, Any]]) -> None:
        super().__init__(f"{len(requests)} request(s) deferred to a batch")
        self.requests = requests

    @classmethod
    def merge(cls, items: list[Deferred]) -> Deferred:
        return cls({k: v for item in items for k, v in item.requests.items()})


class Completer(Protocol):
    """Anything that answers chat messages for the pipeline."""

    def mode_known(self) -> bool:
        """Whether the structured-output mode is settled (no probing needed)."""
        ...

    async def complete(
        self,
        messages_for: Callable[[bool], list[Message]],
        schema: dict[str, Any],
        bounded_schema: dict[str, Any],
        *,
        deadline: Deadline,
        usage: Usage,
        warnings: list[str],
    ) -> Reply:
        """One answer; ``messages_for(strict)`` builds the messages for the mode tried
        (``strict``: the mode enforces the schema, so it is not spelled out).

        ``schema`` is the strict schema, ``bounded_schema`` the one with list limits.
        Raises a ``SummarizeError`` (or ``Deferred``) when there is no answer."""
        ...
