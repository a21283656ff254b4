"""Every token-budget decision: window and answer limits, what the prompt around the
article costs, whether an article fits one call, part sizes, what a merge can show,
and whether a re-ask can carry the previous answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from summarize.answer import neutrality
from summarize.errors import ContextLengthError
from summarize.pipeline.partials import LIMITS, Partial, point_line, render_partials
from summarize.request import prompts
from summarize.request.drafts import DraftBrief, DraftMerge, schema_pair
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


def prompt_overhead(run: Run, template: str) -> int:
    """Tokens of the prompt around the article text, schema hint included."""
    system = {"reduce.user": "reduce.system", "compact.user": "compact.system"}.get(
        template, "brief.system"
    )
    bounded = schema_pair(DraftMerge if template == "reduce.user" else DraftBrief)[1]
    values = {
        "output_language": "the language with BCP-47 tag 'zh-Hant-TW'",
        "schema_hint": prompts.schema_hint(bounded),
        # Fixed, not the random boundary: the budget (and so the parts) must not
        # change from run to run; the margin covers any boundary's tokens.
        "boundary": "ARTICLE-0123456789abcdef",
        "article": "",
        "partials": "",
        "part": "999",
        "parts": "999",
        # the whole article's hints: as long as any part's
        "hints": neutrality.hints(run.cues, opinion=run.opinion),
    }
    user = prompts.load(template).render(**values)
    return run.count_messages(prompts.messages(system, user)) + BOUNDARY_MARGIN


def text_budget(run: Run, template: str) -> int:
    """Tokens left for article text (or part briefs) under ``template``."""
    return run.window - run.output_tokens - prompt_overhead(run, template)


def fits_one_call(run: Run) -> bool:
    """Whether the whole article, as numbered sentences, fits one brief request."""
    return run.count(run.sentences.render()) <= text_budget(run, run.templates[1])


def parts_of(run: Run) -> list[list[Sentence]]:
    """The article's sentences in parts that each fit a map request, ids included.

    Parts are cut by the chunker on the article text; a part holds the sentences that
    start in its chunk."""
    budget = text_budget(run, "map.user")
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
