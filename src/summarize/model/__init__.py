"""model: talking to a model: the ``Completer`` protocol (``protocol``), the openai SDK
client (``client``, ``streamed``), parameters learned per endpoint (``params``), HTTP
errors as typed errors (``httperrors``), retries and the deadline (``retrying``), rate
limits (``ratelimit``), the loop guard (``loops``), prices (``pricing``), and the
embedded engine (``local/``).

May import: the core modules only (``errors``, ``schema``, ``clock``, ``sync``,
``progress``).
"""
