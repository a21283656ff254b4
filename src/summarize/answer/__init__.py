"""answer: everything that checks an answer: parsing and repairs (``repairs``),
citations resolved into evidence in the article or in each compared source
(``citations``), the deterministic checks of neutrality and completeness with their
lexicons (``neutrality``), and the one path every answer goes through (``checking``).

May import: the core modules, ``model``, ``options``, ``text``, ``source``, ``request``.
"""
