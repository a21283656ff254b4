"""model.local: the embedded local model: llama.cpp's server as a child process
(``server``), the child's own entry point (``engine``, never imported by the library),
and the catalogue of GGUF models (``catalogue``).

May import: the core modules and ``model``.
"""
