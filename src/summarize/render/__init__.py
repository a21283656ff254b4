"""render: briefs and comparisons for people: readable text (``text``) and Markdown
with footnotes (``markdown``).

May import: the core modules and ``answer`` (the checks' verdict line).
"""
