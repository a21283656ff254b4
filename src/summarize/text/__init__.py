"""text: the article as text, before any request: its numbered sentences and where a
quote sits in them (``sentences``, ``grounding``), where text may be cut
(``boundaries``), parts that fit a token budget (``chunking``), and token counts
(``tokens``).

May import: the core modules (``errors``, ``schema``, ``clock``, ``sync``, ``progress``),
``model``, ``options``.
"""
