"""Prompt templates: loaded from the ``prompts/`` files, versioned, rendered.

Each template file starts with a front-matter block giving its ``version``. The
version string reported in ``meta.prompt_version`` (and used in cache keys) names
each template with its declared version and a short hash of its text, so an edit
that forgets to bump the version still changes the key.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from string import Template
from typing import Any


@dataclass(frozen=True)
class PromptTemplate:
    """One template file: its name, declared version, content hash and body."""

    name: str
    version: str
    sha: str
    body: str

    @property
    def tag(self) -> str:
        return f"{self.name}@{self.version}+{self.sha}"

    def render(self, **values: str) -> str:
        """Fill ``${name}`` placeholders; a missing value raises KeyError."""
        return Template(self.body).substitute(values).strip()


def _prompt_dir() -> Traversable:
    packaged = resources.files("summarize").joinpath("prompts")
    if packaged.is_dir():
        return packaged
    # Source checkout or editable install: the repository's top-level prompts/.
    return Path(__file__).resolve().parents[3] / "prompts"


def _parse(name: str, raw: str) -> PromptTemplate:
    lines = raw.splitlines()
    if not lines or lines[0].strip() != "---" or "---" not in (s.strip() for s in lines[1:]):
        raise ValueError(f"prompt template {name!r} lacks its '---' front matter")
    end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    header = {
        key.strip(): value.strip()
        for key, _, value in (line.partition(":") for line in lines[1:end])
        if key.strip()
    }
    if "version" not in header:
        raise ValueError(f"prompt template {name!r} declares no version")
    body = "\n".join(lines[end + 1 :])
    sha = hashlib.sha256(raw.encode()).hexdigest()[:8]
    return PromptTemplate(name=name, version=header["version"], sha=sha, body=body)


@functools.cache
def load(name: str) -> PromptTemplate:
    """Load the template ``prompts/<name>.md``."""
    raw = _prompt_dir().joinpath(f"{name}.md").read_text(encoding="utf-8")
    return _parse(name, raw)


def version_of(*names: str) -> str:
    """The combined version tag of the named templates, for ``meta`` and cache keys."""
    return ",".join(load(name).tag for name in names)


def new_boundary(article: str) -> str:
    """A random marker for the article block that the article itself does not contain."""
    while True:
        boundary = f"ARTICLE-{secrets.token_hex(8)}"
        if boundary not in article:
            return boundary


def messages(system: str, user: str) -> list[dict[str, str]]:
    """A system message from the named template, then the user message."""
    return [
        {"role": "system", "content": load(system).render()},
        {"role": "user", "content": user},
    ]


@functools.cache
def instructions(system: str) -> str:
    """A system prompt with the schema hint's text: what a model must not echo."""
    return load(system).render() + "\n" + load("schema_hint").body


def schema_hint(bounded: dict[str, Any]) -> str:
    """The schema, spelled out in the prompt for modes that do not enforce it."""
    return load("schema_hint").render(schema=json.dumps(bounded, ensure_ascii=False))
