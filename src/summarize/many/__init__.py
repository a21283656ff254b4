"""many: many articles: live requests with bounded concurrency, resume and a budget
(``live``), the brief cache (``cache``), and the OpenAI Batch API (``batchapi/``).

May import: every layer below it, ``pipeline`` included.
"""
