"""What a run cost: OpenAI's list prices by model, or the prices the caller gives.

Only OpenAI's own API has known prices; for any other endpoint a cost is shown only
when the caller gives ``price_in`` / ``price_out`` (USD per million tokens) or a table
(``prices=``). ``summarize.pipeline.summarizer.Summarizer.cost`` decides which applies.
"""

from __future__ import annotations

from summarize.schema import Usage

# USD per million tokens (input, output), OpenAI list prices of standard (not batch)
# processing as of 2025-08; override with prices=. Longest matching prefix wins.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5": (1.25, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "o4-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
}


def price_of(
    model: str, usage: Usage, prices: dict[str, tuple[float, float]] | None = None
) -> float | None:
    """Cost of ``usage`` in USD, or None for a model without a price."""
    table = PRICES if prices is None else prices
    name = model.rsplit("/", 1)[-1].lower()
    matches = [prefix for prefix in table if name.startswith(prefix)]
    if not matches:
        return None
    return at(usage, *table[max(matches, key=len)])


def at(usage: Usage, per_in: float, per_out: float) -> float:
    """Cost of ``usage`` at ``per_in`` and ``per_out`` USD per million tokens."""
    return (usage.prompt_tokens * per_in + usage.completion_tokens * per_out) / 1_000_000
