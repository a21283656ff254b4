"""A scripted stand-in for a chat model, for hand-built tests and benchmarks.

Not a recording: it answers from the prompt itself, by rule. For a brief (or a part
of a long article) it cites the first long sentences between the BEGIN and END
markers by their ids ([S12] -> 12), with a quote copied from one of them; for a merge
request it merges the listed points that share a claim and cites the ids the part
briefs give. Usage is counted with tiktoken on the messages, the way a server bills
them.
"""

from __future__ import annotations

import json
import re
from typing import Any

try:
    from summarize.text.tokens import get_encoding
except ImportError:  # a baseline from before the layer folders (bench/baseline.py)
    from summarize.tokens import get_encoding  # type: ignore[import-not-found,no-redef]

_BLOCK = re.compile(r"BEGIN (ARTICLE-[0-9a-f]{16})\n(.*)\nEND \1", re.DOTALL)
_LINE = re.compile(r"^\[S(\d+)\] (.*)$", re.MULTILINE)
_CITED = re.compile(r"\[((?:S\d+(?:, )?)+)\]")
_POINT = re.compile(r"^- (P\d+) \((\w+)\): (.*?)(?: Asserted by: (.*?)\.)?(?: Disputed by: .*)?$")
_WORD = re.compile(r"\b[A-Z][a-z]{4,}\b")
# "Hints from the article's wording (...): S29 reports a denial; S13 and S24 report
# accusations." in the prompt (summarize.answer.neutrality.hints)
_HINTS = re.compile(r"^Hints from the article's wording.*$", re.MULTILINE)


def block_of(body: dict[str, Any]) -> str:
    """The text between the BEGIN and END markers of the last user message."""
    user = next(m for m in body["messages"] if m["role"] == "user")["content"]
    match = _BLOCK.search(user)
    assert match, "no BEGIN/END block in the prompt"
    return match.group(2)


def hinted_points(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A disputed point for the sentences the prompt's hints name (denials,
    accusations, criticism, the outlet's view), as a model that reads them does (three
    sentences a point)."""
    user = next(m for m in body["messages"] if m["role"] == "user")["content"]
    match = _HINTS.search(user)
    ids = [int(n) for n in re.findall(r"\bS(\d+)\b", match.group(0))] if match else []
    return [
        {
            "claim": "A party in the article denies what another reports.",
            "kind": "disputed",
            "asserted_by": ["one party"],
            "disputed_by": ["another party"],
            "refs": ids[i : i + 3],
            "quote": "",
        }
        for i in range(0, len(ids), 3)
    ]


_NAMED = re.compile(r"Their wording suggests disputes: (.*?)\.\n")


def is_disputes(body: dict[str, Any]) -> bool:
    """The follow-up on disputes a brief left out (summarize.pipeline.disputes)."""
    user = next(m for m in body["messages"] if m["role"] == "user")["content"]
    return bool(_NAMED.search(user))


def disputes_answer(body: dict[str, Any]) -> dict[str, Any]:
    """What a small model answers the follow-up with: a point for each named sentence,
    its claim copied from the sentence, and one more point citing a neighbour that was
    shown for context but not named (the library drops it)."""
    user = next(m for m in body["messages"] if m["role"] == "user")["content"]
    named = [int(n) for n in re.findall(r"S(\d+)", _NAMED.search(user).group(1))]  # type: ignore[union-attr]
    lines = dict(sentences_of(block_of(body), shortest=0))
    points = [
        {
            "claim": lines.get(n, "A party disputes this.")[:300],
            "kind": "disputed",
            "asserted_by": ["a party in the article"],
            "disputed_by": [],
            "refs": [n],
            "quote": "",
        }
        for n in named
    ]
    context = [n for n in lines if n not in named]
    if context:
        points.append({**points[0], "claim": lines[context[0]][:300], "refs": [context[0]]})
    return {"contested_points": points}


def is_merge(body: dict[str, Any]) -> bool:
    return str(body["messages"][0]["content"]).startswith("You merge")


def sentences_of(block: str, shortest: int = 40) -> list[tuple[int, str]]:
    """(id, text) of the numbered sentences in ``block`` at least ``shortest`` long."""
    return [
        (int(m.group(1)), m.group(2)) for m in _LINE.finditer(block) if len(m.group(2)) >= shortest
    ]


def brief_answer(block: str) -> dict[str, Any]:
    """A brief citing the block's first two long sentences; the claim names a keyword."""
    sentences = sentences_of(block)[:2] or sentences_of(block, 1)[:1]
    points = []
    for number, sentence in sentences:
        word = (_WORD.findall(sentence) or ["the text"])[0]
        points.append(
            {
                "claim": f"A statement about {word} is one-sided.",
                "kind": "one_sided",
                "asserted_by": ["the outlet"],
                "disputed_by": [],
                "refs": [number],
                "quote": " ".join(sentence.split()[:6]),
            }
        )
    return {
        "language": "en",
        "summary": [
            {"text": "The outlet reports: " + text[:200], "refs": [number]}
            for number, text in sentences[:1]
        ],
        "key_points": [{"text": text[:100], "refs": [number]} for number, text in sentences],
        "contested_points": points,
    }


def merge_answer(block: str) -> dict[str, Any]:
    """Merge points with the same claim; one summary line per part."""
    by_claim: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    for line in block.splitlines():
        match = _POINT.match(line)
        if match:
            by_claim.setdefault(match.group(3), []).append(match.group(1))
            kinds[match.group(3)] = match.group(2)
    summaries = [
        line[len("Summary: ") :] for line in block.splitlines() if line.startswith("Summary: ")
    ]

    def statement(summary: str, length: int) -> dict[str, Any]:
        cited = _CITED.search(summary)
        refs = [int(n) for n in re.findall(r"\d+", cited.group(1))] if cited else []
        return {"text": _CITED.sub("", summary)[:length].strip(), "refs": refs}

    summary, length = [], 0
    for line in summaries:  # about 400 characters in all, as a merge shrinks its parts
        if length >= 400:
            break
        summary.append(statement(line, 60))
        length += len(summary[-1]["text"])
    return {
        "language": "en",
        "summary": summary,
        "key_points": [statement(s, 80) for s in summaries[:5]],
        "contested_points": [
            {
                "claim": claim,
                "kind": kinds[claim],
                "asserted_by": ["the outlet"],
                "disputed_by": [],
                "sources": ids,
            }
            for claim, ids in by_claim.items()
        ],
    }


def is_compare(body: dict[str, Any]) -> bool:
    return str(body["messages"][0]["content"]).startswith("You compare")


def compare_answer(block: str) -> dict[str, Any]:
    """Cites the first sentences of each report: one conflict, one agreement, ..."""
    reports: dict[str, list[int]] = {}
    name = ""
    for line in block.splitlines():
        if line.startswith("SOURCE: "):
            name = line[len("SOURCE: ") :]
            reports[name] = []
        elif name and (m := _LINE.match(line)) and len(m.group(2)) >= 40:
            reports[name].append(int(m.group(1)))
    names = list(reports)
    first, second = names[0], names[1]

    def nth(source: str, n: int) -> list[int]:
        ids = reports[source]
        return [ids[min(n, len(ids) - 1)]] if ids else []

    return {
        "summary": f"{first} and {second} report the same story with differences.",
        "agreements": [
            {
                "fact": "Both report the event.",
                "quotes": [{"source": n, "refs": nth(n, 1)} for n in names],
            }
        ],
        "conflicts": [
            {
                "topic": "How the story opens.",
                "versions": [
                    {"source": n, "claim": f"{n} opens differently.", "refs": nth(n, 0)}
                    for n in names
                ],
            }
        ],
        "unique_claims": [{"source": first, "claim": "Only here.", "refs": nth(first, 2)}],
        "framing": [
            {"source": n, "voices": ["the outlet"], "loaded_terms": [], "commentary": nth(n, 3)}
            for n in names
        ],
    }


def usage_of(body: dict[str, Any], content: str) -> tuple[int, int]:
    enc = get_encoding("o200k_base")
    prompt = sum(len(enc.encode_ordinary(m["content"])) + 8 for m in body["messages"])
    return prompt, len(enc.encode_ordinary(content))


def completion(body: dict[str, Any]) -> dict[str, Any]:
    """The chat.completion body this fake model answers ``body`` with."""
    block = block_of(body)
    if is_compare(body):
        answer = compare_answer(block)
    elif is_disputes(body):
        answer = disputes_answer(body)
    elif is_merge(body):
        answer = merge_answer(block)
    else:
        answer = brief_answer(block)
        answer["contested_points"] = (hinted_points(body) + answer["contested_points"])[:8]
    content = json.dumps(answer, ensure_ascii=False)
    prompt_tokens, completion_tokens = usage_of(body, content)
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
