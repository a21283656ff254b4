"""The output schema and the strict schema sent to the model."""

from __future__ import annotations

import json

from summarize.request.drafts import DraftBrief, strict_json_schema
from summarize.schema import ArticleSummary


def test_strict_schema_is_inside_openais_subset():
    schema = strict_json_schema(DraftBrief)

    def walk(node, depth=0):
        assert depth <= 10
        if isinstance(node, dict):
            assert "default" not in node
            assert "maxItems" not in node
            if node.get("type") == "object":
                assert node["additionalProperties"] is False
                assert sorted(node["required"]) == sorted(node["properties"])
            for value in node.values():
                walk(value, depth + 1)
        elif isinstance(node, list):
            for item in node:
                walk(item, depth + 1)

    walk(schema)
    bounded = strict_json_schema(DraftBrief, limits=True)
    assert bounded["properties"]["contested_points"]["maxItems"] == 8
    assert "maxLength" not in json.dumps(bounded)


def test_article_summary_is_json_serialisable():
    brief = ArticleSummary.model_validate(
        {
            "summary": "s",
            "language": "en",
            "meta": {"model": "m", "prompt_version": "p"},
        }
    )
    assert ArticleSummary.model_validate_json(brief.model_dump_json()) == brief
