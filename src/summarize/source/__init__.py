"""source: reading an article from where the caller has it: a text, a file, stdin, a
saved page or a URL, checked before anything is sent (``article``, ``files``), and its
short name (``names``).

May import: the core modules, ``model``, ``options``, ``text``.
"""
