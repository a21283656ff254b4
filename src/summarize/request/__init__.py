"""request: what is asked of the model: the prompt templates and every prompt built
from them, in one place (``prompts``), the drafts the model fills and their JSON
schemas (``drafts``), and the sizes asked for, with how an answer is fitted to them
(``caps``).

May import: the core modules, ``model``, ``options``, ``text``, ``source``.
"""
