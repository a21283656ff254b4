"""Every token-budget decision: window and answer limits, what the prompt around the
article costs, whether an article fits one call, part sizes, what a merge can show,
whether a re-ask can carry the previous answer, and whether a request fits at all.

The prompts are built by ``summarize.request.prompts``, for planning here and for
sending alike: a plan measures the builder's prompt with an empty article (and a fixed
marker, so that the parts do not change from run to run), and ``measured`` counts the
very messages that go out, just before they do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from summarize.errors import ContextLengthError
from summarize.pipeline.partials import LIMITS, Partial, point_line, render_partials
from summarize.request import prompts
from summarize.schema import ContestedPoint
from summarize.text.chunking import chunk_text
from summarize.text.tokens import FALLBACK_CONTEXT_WINDOW, FALLBACK_MAX_OUTPUT, model_limits

if TYPE_CHECKING:
    from summarize.model.protocol import Message
    from summarize.pipeline.run import Run
    from summarize.text.sentences import Sentence

DEFAULT_MAX_OUTPUT_TOKENS = 4_096
# The local engine's answers: a brief with quotes is well under this; a small model
# that loops is cut off sooner.
DEFAULT_LOCAL_OUTPUT = 1_536
# Below this, a context window is too small to be worth splitting an article for.
MIN_CHUNK_TOKENS = 256
# A random boundary (4 uses in a prompt) may take more tokens than the fixed one.
BOUNDARY_MARGIN = 48
# Merge levels before giving up: each level shrinks the part briefs by the group size.
MAX_DEPTH = 4
# What a plan measures in place of a run's own values: a marker as long as a random one,
# and a long output language.
PLANNING_BOUNDARY = "ARTICLE-0123456789abcdef"
LONGEST_LANGUAGE = "the language with BCP-47 tag 'zh-Hant-TW'"
Kind = Literal["brief", "part", "merge"]


def limits(model: str, context_window: int | None, max_output: int | None) -> tuple[int, int]:
    """(context window, tokens reserved for the answer) for ``model``."""
    known = model_limits(model)
    window = context_window or (known[0] if known else FALLBACK_CONTEXT_WINDOW)
    model_max = known[1] if known else FALLBACK_MAX_OUTPUT
    output = max_output or min(DEFAULT_MAX_OUTPUT_TOKENS, model_max, window // 4)
    return window, output


def local_output(window: int) -> int:
    """The answer budget of the local engine for a context window of ``window``."""
    return min(DEFAULT_LOCAL_OUTPUT, window // 4)


def prompt_overhead(run: Run, kind: Kind) -> int:
    """Tokens of the prompt around the article text (or the part briefs) of a request
    of ``kind``, schema hint included: the request's own builder, given no article."""
    shared = {"output_language": LONGEST_LANGUAGE, "boundary": PLANNING_BOUNDARY}
    if kind == "merge":
        messages = prompts.merge(True, parts=999, partials="", **shared)
    elif kind == "part":  # the whole article's hints: as long as any part's
        messages = prompts.part(
            True, number=999, parts=999, hints=run.hints(), article="", **shared
        )
    else:
        compact = run.templates[0] == "compact.system"
        messages = prompts.brief(True, compact=compact, hints=run.hints(), article="", **shared)
    return run.count_messages(messages) + BOUNDARY_MARGIN


def text_budget(run: Run, kind: Kind) -> int:
    """Tokens left for article text (or part briefs) in a request of ``kind``."""
    return run.window - run.output_tokens - prompt_overhead(run, kind)


def fits_one_call(run: Run) -> bool:
    """Whether the whole article, as numbered sentences, fits one brief request."""
    return run.count(run.sentences.render()) <= text_budget(run, "brief")


def measured(run: Run, messages: list[Message]) -> list[Message]:
    """``messages``, as they are about to be sent, counted; a ``ContextLengthError``
    before anything is sent when the prompt alone fills the context window. (A prompt
    that leaves the answer less than planned is sent: for models whose tokenizer is not
    tiktoken's, the count is an estimate, and the server decides.)"""
    tokens = run.count_messages(messages)
    if tokens >= run.window:
        raise ContextLengthError(
            f"a request of {tokens} prompt tokens fills {run.model}'s context window of "
            f"{run.window}: pass a larger context_window= if the model has one"
        )
    return messages


def parts_of(run: Run) -> list[list[Sentence]]:
    """The article's sentences in parts that each fit a map request, ids included.

    Parts are cut by the chunker on the article text; a part holds the sentences that
    start in its chunk."""
    budget = text_budget(run, "part")
    if budget < MIN_CHUNK_TOKENS:
        raise ContextLengthError(
            f"{run.model}'s context window of {run.window} tokens leaves only {budget} "
            f"for article text after the prompt and {run.output_tokens} tokens reserved "
            "for the answer: pass a larger context_window= if the model has one, or a "
            "smaller max_output_tokens="
        )
    # Chunks are cut on the original text; the ids the model sees add a few tokens per
    # sentence, so leave room and check.
    index, size = run.sentences, budget
    while True:
        chunks = chunk_text(index.text, size, encoding=run.encoding)
        parts = [part for c in chunks if (part := index.within(c.start, c.end))]
        shown = max(run.count(index.render(part)) for part in parts)
        if shown <= budget or size <= MIN_CHUNK_TOKENS:
            return parts
        size = max(MIN_CHUNK_TOKENS, size - (shown - budget) - size // 50)


def what_fits(
    run: Run, partials: list[Partial], ids: dict[str, ContestedPoint], budget: int
) -> tuple[frozenset[str], tuple[int, int]] | None:
    """What the merge can be shown: the ids of the points that fit beside the part
    briefs, and how many summary sentences and key points of each part (the most of
    ``LIMITS`` that fit); None if not even one sentence of each part fits."""
    for limit in LIMITS:
        shown = points_that_fit(run, partials, ids, budget, limit)
        if shown is not None:
            return shown, limit
    return None


def points_that_fit(
    run: Run,
    partials: list[Partial],
    ids: dict[str, ContestedPoint],
    budget: int,
    limit: tuple[int, int] = LIMITS[0],
) -> frozenset[str] | None:
    """Ids of the points that fit beside the summaries, in order; None if nothing fits."""
    room = budget - run.count(render_partials(partials, run.chunks, ids, set(), limit))
    if room < 0:
        return None
    shown: set[str] = set()
    for name, point in ids.items():
        cost = run.count(point_line(name, point)) + 1
        if cost > room:
            break
        room -= cost
        shown.add(name)
    return frozenset(shown)


def reask_fits(run: Run, prompt: list[Message], followup: list[Message]) -> bool:
    """Whether the prompt, the previous answer and the re-ask leave room for an answer."""
    extra = run.count_messages(followup)
    return run.count_messages(prompt) + extra + run.output_tokens <= run.window
