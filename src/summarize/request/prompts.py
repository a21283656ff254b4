"""Every prompt, built in one place: the templates of ``prompts/``, versioned, and one
builder per request the pipeline sends (``brief``, ``part``, ``merge``, ``disputes``,
``comparison``, and the re-ask's ``reask``).

Each builder returns the messages exactly as they are sent; the token budget
(``summarize.pipeline.budget``) measures what the same builder returns, so what is
measured is what goes out. ``with_hint`` spells the draft's JSON schema out in the
prompt, for structured-output modes that do not enforce it.

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
from typing import TYPE_CHECKING, Any

from summarize.request.drafts import (
    DraftBrief,
    DraftComparison,
    DraftDisputes,
    DraftMerge,
    schema_pair,
)
from summarize.text.sentences import neutral_line

if TYPE_CHECKING:
    from pydantic import BaseModel

    from summarize.model.protocol import Message
    from summarize.schema import ArticleSummary
    from summarize.text.sentences import SentenceIndex


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


def messages(system: str, user: str) -> list[Message]:
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


def _hint(draft: type[BaseModel], with_hint: bool) -> str:
    return schema_hint(schema_pair(draft)[1]) if with_hint else ""


# --- one builder per request ------------------------------------------------------


def brief(
    with_hint: bool,
    *,
    output_language: str,
    hints: str,
    boundary: str,
    article: str,
    compact: bool = False,
) -> list[Message]:
    """The brief of a whole article (``compact``: the demo model's short prompt)."""
    system, user = ("compact.system", "compact.user") if compact else BRIEF
    text = load(user).render(
        output_language=output_language,
        schema_hint="" if compact else _hint(DraftBrief, with_hint),
        hints=hints,
        boundary=boundary,
        article=article,
    )
    return messages(system, text)


def part(
    with_hint: bool,
    *,
    number: int,
    parts: int,
    output_language: str,
    hints: str,
    boundary: str,
    article: str,
) -> list[Message]:
    """The brief of part ``number`` of ``parts`` of a long article."""
    text = load("map.user").render(
        part=str(number),
        parts=str(parts),
        output_language=output_language,
        schema_hint=_hint(DraftBrief, with_hint),
        hints=hints,
        boundary=boundary,
        article=article,
    )
    return messages("brief.system", text)


def merge(
    with_hint: bool, *, parts: int, output_language: str, boundary: str, partials: str
) -> list[Message]:
    """The merge of ``parts`` part briefs (``partials``) into one brief."""
    text = load("reduce.user").render(
        parts=str(parts),
        output_language=output_language,
        schema_hint=_hint(DraftMerge, with_hint),
        boundary=boundary,
        partials=partials,
    )
    return messages("reduce.system", text)


def disputes(
    with_hint: bool,
    *,
    cues: str,
    boundary: str,
    sentences: str,
    output_language: str,
    compact: bool = False,
) -> list[Message]:
    """The follow-up on disputes a brief left out: the named sentences alone."""
    text = load("disputes.user").render(
        cues=cues,
        schema_hint=_hint(DraftDisputes, with_hint),
        boundary=boundary,
        sentences=sentences,
        output_language=output_language,
    )
    return messages("compact.system" if compact else "brief.system", text)


def comparison(
    with_hint: bool, *, names: list[str], output_language: str, boundary: str, reports: str
) -> list[Message]:
    """The comparison of several reports (``reports``: their ``report`` blocks)."""
    text = load("compare.user").render(
        count=str(len(names)),
        names=", ".join(neutral_line(name) for name in names),
        output_language=output_language,
        schema_hint=_hint(DraftComparison, with_hint),
        boundary=boundary,
        reports=reports,
    )
    return messages("compare.system", text)


def report(name: str, body: str) -> str:
    """One source's block in a comparison: its ``SOURCE`` line (the name on one neutral
    line: a file name with newlines cannot add a line of its own), then ``body``."""
    return f"SOURCE: {neutral_line(name)}\n{body}"


def source_brief(brief: ArticleSummary, index: SentenceIndex) -> str:
    """A source's brief and the sentences it cites, for a comparison whose full texts
    do not fit one request."""
    lines = ["Brief:"]
    for statement in [*brief.summary_sentences, *brief.key_points]:
        ids = ", ".join(f"S{e.sentence}" for e in statement.evidence if e.sentence)
        lines.append(f"- {neutral_line(statement.text)}" + (f" [{ids}]" if ids else ""))
    for point in brief.contested_points:
        ids = ", ".join(f"S{e.sentence}" for e in point.evidence if e.sentence)
        lines.append(f"- Claim ({point.kind}): {neutral_line(point.claim)} [{ids}]")
    cited = sorted({e.sentence for e in brief.evidence() if e.sentence})
    sentences = [s for n in cited if (s := index.get(n)) is not None]
    lines += ["Cited sentences:", index.render(sentences)]
    return "\n".join(lines)


def reask(errors: list[str]) -> Message:
    """The message after an unusable answer: what to fix."""
    listed = "\n".join(f"- {error}" for error in errors)
    return {"role": "user", "content": load("reask").render(errors=listed)}


BRIEF = ("brief.system", "brief.user")
