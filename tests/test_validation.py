"""Parsing model answers: JSON extraction, schema errors, language tags."""

from __future__ import annotations

import json

import pytest

from summarize.answer.repairs import DraftProblems, extract_json, normalize_language, parse_draft


def test_extract_json_variants():
    assert extract_json('{"a": 1}') == {"a": 1}
    assert extract_json('```json\n{"a": 1}\n```') == {"a": 1}
    assert extract_json('<think>hmm</think>Here you go: {"a": 1} done') == {"a": 1}
    # llama.cpp's JSON grammar lets raw control characters into strings.
    assert extract_json('{"a": "line one\nline two\tend"}') == {"a": "line one\nline two\tend"}
    with pytest.raises(DraftProblems, match="not valid JSON"):
        extract_json("no json here")
    with pytest.raises(DraftProblems, match="empty"):
        extract_json("   ")


def test_parse_draft_lists_every_schema_error():
    with pytest.raises(DraftProblems) as info:
        parse_draft(json.dumps({"language": "en", "summary": "", "key_points": []}))
    assert any("contested_points" in p for p in info.value.problems)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "en"),
        ("EN-us", "en-US"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("English", "en"),
        ("bcp-47", None),
        ("x", None),
        ("", None),
    ],
)
def test_normalize_language(tag, expected):
    assert normalize_language(tag) == expected
