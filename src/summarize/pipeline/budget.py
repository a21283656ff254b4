"""Every token-budget decision: window and answer limits, what the prompt around the
article costs, whether an article fits one call, part sizes, what a merge can show,
whether a re-ask can carry the previous answer, and whether a request fits at all.

The prompts are built by ``summarize.request.prompts``, for planning here and for
sending alike: a plan measures the builder's prompt with an empty article (and a fixed
marker, so that the parts do not change from run to run), and ``measured`` counts the
very messages that go out, just before they do.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from summarize.errors import ContextLengthError, InputError
from summarize.pipeline.partials import LIMITS, Partial, point_line, render_partials
from summarize.request import prompts
from summarize.schema import ContestedPoint, Usage
from summarize.text.chunking import Cutter
from summarize.text.tokens import (
    FALLBACK_CONTEXT_WINDOW,
    FALLBACK_MAX_OUTPUT,
    counts,
    model_limits,
)

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
PREFIX_CHARS_PER_TOKEN = 8  # more characters than a token of any text holds on average
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


def spelled_out(run: Run) -> bool:
    """Whether the plan leaves room for the schema spelled out in the prompt: unless
    every request is sure to go in strict ``json_schema`` mode (forced, or OpenAI's own
    API), where the hint is never sent, and a part holds some 700 more tokens of
    article. Not on what an earlier run found: the same article under the same options
    is cut into the same parts on every run."""
    return not getattr(run.client, "surely_strict", False)  # a Completer may not say


def prompt_overhead(run: Run, kind: Kind) -> int:
    """Tokens of the prompt around the article text (or the part briefs) of a request
    of ``kind``, schema hint included: the request's own builder, given no article."""
    shared = {"output_language": LONGEST_LANGUAGE, "boundary": PLANNING_BOUNDARY}
    hint = spelled_out(run)
    if kind == "merge":
        messages = prompts.merge(hint, parts=999, partials="", **shared)
    elif kind == "part":  # the whole article's hints: as long as any part's
        messages = prompts.part(
            hint, number=999, parts=999, hints=run.hints(), article="", **shared
        )
    else:
        compact = run.templates[0] == "compact.system"
        messages = prompts.brief(hint, compact=compact, hints=run.hints(), article="", **shared)
    return run.count_messages(messages) + BOUNDARY_MARGIN


def text_budget(run: Run, kind: Kind) -> int:
    """Tokens left for article text (or part briefs) in a request of ``kind``."""
    return run.window - run.output_tokens - prompt_overhead(run, kind)


def fits_one_call(run: Run) -> bool:
    """Whether the whole article, as numbered sentences, fits one brief request. A long
    article is not counted whole: when the sentences that make up the first
    ``PREFIX_CHARS_PER_TOKEN`` characters per token of room are over the room already,
    it does not fit (a prefix never has fewer tokens than the room it overflows)."""
    room = text_budget(run, "brief")
    index = run.sentences
    limit = room * PREFIX_CHARS_PER_TOKEN
    if len(index.text) > limit:
        prefix = index.within(0, limit)
        if prefix and run.count(index.render(prefix)) > room:
            return False
    shown = index.render()
    if len(shown.encode("utf-8", "surrogatepass")) <= room:
        return True  # a token is at least one byte: no need to count them
    return run.count(shown) <= room


def measured(run: Run, messages: list[Message]) -> list[Message]:
    """``messages``, as they are about to be sent, counted; a ``ContextLengthError``
    before anything is sent when the prompt alone fills the context window. (A prompt
    that leaves the answer less than planned is sent: for models whose tokenizer is not
    tiktoken's, the count is an estimate, and the server decides.) Counted only when
    its bytes do not already say it fits."""
    tokens = run.count_messages(messages, under=run.window)
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
    cutter = Cutter(index.text, encoding=run.encoding)  # counted once, cut maybe twice
    cuts: list[tuple[int, int]] = []
    while True:
        chunks = cutter.chunks(size)
        run.deadline.check()  # --timeout covers preparing a long article too
        seen, cuts = cuts, [(c.start, c.end) for c in chunks]
        if cuts != seen:  # a smaller size often cuts the same chunks: counted already
            parts = [part for c in chunks if (part := index.within(c.start, c.end))]
            counts = _counted(run, parts)
            shown = max(counts)
        if shown <= budget or size <= MIN_CHUNK_TOKENS:
            check_plan(run, len(parts), sum(counts) + len(parts) * prompt_overhead(run, "part"))
            return parts
        size = max(MIN_CHUNK_TOKENS, size - (shown - budget) - size // 50)


def _counted(run: Run, parts: list[list[Sentence]]) -> list[int]:
    """Each part's tokens as the model is shown it; a long article's running count of
    the text counted so far goes to the status line ("preparing: k of n MB")."""
    index, counted = run.sentences, []
    shown = len(index.text) >= PREPARING_SHOWN and run.progress.active
    size = len(index.text.encode("utf-8", "surrogatepass")) if shown else 0
    rendered = [index.render(part, offset=part[0].id - 1) for part in parts]  # as sent
    for part, tokens in zip(parts, counts(rendered, run.encoding), strict=True):
        counted.append(tokens)
        if shown:
            run.progress.preparing(part[-1].end, len(index.text), size)
    return counted


PREPARING_SHOWN = 1_000_000  # characters: a shorter article is prepared at once


SAMPLE_CHARS = 200_000  # of a long article, counted to estimate its tokens


def check_estimate(run: Run) -> None:
    """``check_plan`` on the parts a long article needs, estimated from its length and
    the tokens per character of its opening (ids included), before it is indexed or
    counted whole: a huge article is refused at once. The estimate is lowered by a
    margin, so only a plan clearly over the limit is refused here; the exact plan
    (``parts_of``) is checked again."""
    text = run.article.text
    if len(text) <= SAMPLE_CHARS:
        return
    sample = text[:SAMPLE_CHARS]
    tokens = len(text) * run.count(sample) / len(sample) * ID_TOKENS
    overhead = _overhead_without_text(run)
    room = max(run.window - run.output_tokens - overhead, MIN_CHUNK_TOKENS)
    parts = math.floor(tokens / room * ESTIMATE_MARGIN)
    if parts > 1:
        check_plan(run, parts, int(tokens) + parts * overhead)


ESTIMATE_MARGIN = 0.85


ID_TOKENS = 1.12  # numbered sentences' tokens per token of text (news prose), at least


def _overhead_without_text(run: Run) -> int:
    shared = {"output_language": LONGEST_LANGUAGE, "boundary": PLANNING_BOUNDARY}
    messages = prompts.part(True, number=999, parts=999, hints="", article="", **shared)
    return run.count_messages(messages) + BOUNDARY_MARGIN


def planned_requests(parts: int, run: Run) -> int:
    """Requests a plan of ``parts`` takes at least: each part, the merges (a level per
    group of part briefs that fits a request), and the disputes follow-up."""
    if parts <= 1:
        return 1
    per_merge = max(2, (run.window - run.output_tokens) // MERGED_BRIEF_TOKENS)
    merges, level = 0, parts
    while level > 1:
        level = math.ceil(level / per_merge)
        merges += level
    return parts + merges + 1


MERGED_BRIEF_TOKENS = 900  # a part brief as the merge is shown it, about


def check_plan(run: Run, parts: int, tokens: int) -> None:
    """Refuse, before the first request, a plan of more than ``run.max_requests``
    requests, saying its parts, its prompt ``tokens`` and (where known) its cost."""
    requests = planned_requests(parts, run)
    if requests <= run.max_requests:
        return
    estimate = Usage(prompt_tokens=tokens, completion_tokens=parts * run.output_tokens // 2)
    price = run.cost(estimate) if run.cost is not None else None
    cost = f"about ${price:,.2f}" if price is not None else "cost unknown"
    raise InputError(
        f"this article needs about {requests} requests ({parts} parts of up to "
        f"{run.window - run.output_tokens:,} tokens, about {tokens:,} prompt tokens, "
        f"{cost}), more than max_requests={run.max_requests}: raise max_requests= "
        "(--max-requests) to brief it, or brief a shorter text"
    )


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
