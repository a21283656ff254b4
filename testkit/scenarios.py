"""What the cassettes in fixtures/cassettes/ record: scripts/record.py runs these
scenarios against a real server, and tests/test_recorded.py replays them."""

from __future__ import annotations

from typing import Any

# name -> (article under fixtures/, summarize() options)
SCENARIOS: dict[str, tuple[str, dict[str, Any]]] = {
    "xi-putin-ntv": ("articles/xi-putin-ntv.txt", {}),
    "xi-putin-fine-line": ("articles/xi-putin-fine-line.txt", {}),
    "emirates-boeing": ("articles/374ac9a59a85.txt", {}),
    "russian-model-in-english": ("articles/c82b3d1d540b.txt", {"language": "en"}),
    # A 3,072-token window (the server has 8,192) forces the long-article path: parts
    # briefed concurrently, then merged.
    "trade-war-in-parts": (
        "articles/702d1da63b8e.txt",
        # (parts and their re-asks queue on one server: slow on 2 cores)
        {"context_window": 3072, "max_output_tokens": 1024, "allow_partial": True, "timeout": 1800},
    ),
    # A saved web page: the text the model sees is extracted from the HTML.
    "emirates-boeing-page": ("articles/374ac9a59a85.html", {}),
}
# name -> ([(source name, article under fixtures/)], compare() options)
COMPARISONS: dict[str, tuple[list[tuple[str, str]], dict[str, Any]]] = {
    "compare-xi-putin": (
        [("NTV", "articles/xi-putin-ntv.txt"), ("Fine Line", "articles/xi-putin-fine-line.txt")],
        {"timeout": 1800},  # three requests queue on one llama.cpp slot: slow on 2 cores
    ),
}
# name -> ([(id, article under fixtures/)], Batch API job options). The Batch API is
# testkit/batchserver.py (llama.cpp has none); every completion in it is recorded.
BATCHES: dict[str, tuple[list[tuple[str, str]], dict[str, Any]]] = {
    "batch-api-in-phases": (
        [("fine-line", "articles/xi-putin-fine-line.txt"),
         ("trade-war", "articles/702d1da63b8e.txt")],
        {"context_window": 3072, "max_output_tokens": 1024,
         "structured_output": "json_object+schema", "timeout": 1800},
    ),
}  # fmt: skip
