"""What one article's run carries: its completer, deadline, limits and accounting.

A ``Run`` is made by ``Summarizer.new_run()`` for each article (or comparison) and
handed to the stages (``brief``, ``mapreduce``, ``reask``, ``comparing``). Nothing in
it outlives the article.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from summarize.answer import neutrality
from summarize.progress import Reporter
from summarize.schema import CutText, Usage
from summarize.text.sentences import SentenceIndex
from summarize.text.tokens import count_messages, count_tokens

if TYPE_CHECKING:
    import tiktoken

    from summarize.clock import Deadline
    from summarize.model.protocol import Completer, Message
    from summarize.source.article import Article


@dataclass
class Run:
    """Everything one article's requests share: completer, deadline, limits, accounting."""

    client: Completer
    deadline: Deadline
    encoding: tiktoken.Encoding
    window: int  # the context window, in tokens
    output_tokens: int  # reserved for each answer
    boundary: str  # the random marker around the article in the prompt
    article: Article
    model: str
    language: str | None = None  # the output language asked for (None: the article's)
    max_reasks: int = 2
    max_requests: int = 200  # a longer plan for one article is refused (budget.check_plan)
    cost: Callable[[Usage], float | None] | None = None  # USD of a usage, where known
    concurrency: int = 8
    allow_partial: bool = False
    # system and user templates of a one-call brief (the demo model gets compact ones)
    templates: tuple[str, str] = ("brief.system", "brief.user")
    warnings: list[str] = field(default_factory=list)
    cut: list[CutText] = field(default_factory=list)  # runaway fields of the parts' answers
    map_usage: Usage = field(default_factory=Usage)
    reduce_usage: Usage = field(default_factory=Usage)
    followup_usage: Usage = field(default_factory=Usage)  # summarize.pipeline.disputes
    chunks: int = 1
    depth: int = 0
    coverage: float = 1.0
    progress: Reporter = field(default_factory=Reporter)  # events for on_progress=

    @functools.cached_property
    def sentences(self) -> SentenceIndex:
        """The article's numbered sentences, built once."""
        return SentenceIndex(self.article.text)

    @functools.cached_property
    def wording(self) -> neutrality.Wording:
        """The article's cue sentences and opinion, read once (``neutrality.wording``)."""
        return neutrality.wording(self.sentences, self.article)

    @property
    def cues(self) -> dict[int, str]:
        """The sentences the hints name (``neutrality.cue_sentences``)."""
        return self.wording.cues

    @property
    def opinion(self) -> bool:
        """Whether the article is wholly opinion (its URL or section says so)."""
        return self.wording.opinion

    def hints(self, within: range | None = None, offset: int = 0) -> str:
        """What the prompt tells the model of the article's cues (of the part ``within``,
        its ids shown less ``offset``)."""
        return self.wording.hints(within, offset)

    @property
    def checks_language(self) -> str | None:
        """The language whose lexicon checks the brief: the article's, else the output's."""
        return self.article.language or self.language

    @property
    def checks_support(self) -> bool:
        """Whether statements can be checked word for word against the sentences they
        cite: not when they are written in another language than the article's."""
        if not self.language or not self.article.language:
            return True
        asked, own = (t.split("-")[0].lower() for t in (self.language, self.article.language))
        return asked == own

    def count(self, text: str) -> int:
        return count_tokens(text, self.encoding)

    def count_messages(self, messages: list[Message], *, under: int | None = None) -> int:
        return count_messages(messages, self.encoding, under=under)

    def total_usage(self) -> Usage:
        return self.map_usage + self.reduce_usage + self.followup_usage

    def output_language(self) -> str:
        """The output language, as the prompts say it."""
        if self.language:
            return f"the language with BCP-47 tag {self.language!r}"
        if self.article.language:
            return f"the article's language (BCP-47 tag {self.article.language!r})"
        return "the article's own language"
