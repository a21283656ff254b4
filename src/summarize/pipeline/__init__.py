"""pipeline: the route an article takes: the ``Summarizer`` (``summarizer``), its
endpoint and resources (``endpoint``), one article's shared state (``run``), every
token-budget decision (``budget``), the ask-check-re-ask loop (``reask``), a brief in
one request (``single``), a long article in parts and a merge (``mapreduce``,
``partials``), the follow-up on disputes (``disputes``), and comparing sources
(``compare``).

May import: every layer below it: the core modules, ``model``, ``options``, ``text``,
``source``, ``request``, ``answer``.
"""
