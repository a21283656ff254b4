"""Stand-ins for the services summarize talks to, and the cassette transport.

Shared by ``tests/``, ``bench/`` and ``scripts/`` (none of them imports another);
never imported by ``src/``:

- ``fakemodel``: a scripted model that answers like a real one (long fields,
  paraphrased quotes, wrong ids, loops);
- ``fakeserver``: an OpenAI-compatible chat-completions server on loopback around it,
  with injectable faults and latency;
- ``batchserver``: the Batch API's files and batches endpoints, written from OpenAI's
  API reference (not recorded from OpenAI);
- ``hubserver``: the Hugging Face Hub's download endpoints, written from
  huggingface_hub's client code;
- ``cassette``: recording and replaying HTTP exchanges (``httpx2`` transports);
- ``scenarios``: what each recorded cassette is.
"""
