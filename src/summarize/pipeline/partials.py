"""Part briefs of a long article and the pure steps of merging them.

The flow that makes and merges them is ``summarize.pipeline.mapreduce``. The map step
briefs each part like a short article, numbered from S1 in its prompt; its answer is
read back into the article's own sentence ids, which the merge sees. The reduce step
sees the part briefs as text, each statement with the ids it cites and an id on every
contested point, and answers with merged points that name the ids they stand for.
Evidence is never re-quoted by the reducer: a merged point carries the union of the
already grounded evidence of its ids, so a merge cannot invent a quote. A point the
reducer leaves out is kept as it was found, with a warning; nothing found in a part is
dropped silently.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, field

from summarize.schema import ContestedPoint, Statement
from summarize.text.sentences import neutral_line

# A part brief longer than asked (kept whole in the part) shows the merge this much,
# so that a model's long lists cannot crowd the merge request out of its window.
SHOWN_SUMMARY = 6
SHOWN_KEY_POINTS = 8
# (summary sentences, key points) of each part the merge is shown: the first that fits
# the window. A tight window shows fewer rather than losing the article.
LIMITS: tuple[tuple[int, int], ...] = (
    (SHOWN_SUMMARY, SHOWN_KEY_POINTS), (4, 5), (3, 3), (2, 2), (1, 1), (1, 0),
)  # fmt: skip


@dataclass
class Partial:
    """The brief of one part of the article (or of several parts, once collapsed)."""

    first: int  # index of the first chunk covered
    last: int  # index of the last chunk covered
    start: int  # character offsets in the whole article
    end: int
    summary: list[Statement]
    key_points: list[Statement]
    points: list[ContestedPoint]
    language: str | None = None
    warnings: list[str] = field(default_factory=list)

    def label(self, parts: int) -> str:
        if self.first == self.last:
            return f"Part {self.first + 1} of {parts}"
        return f"Parts {self.first + 1}-{self.last + 1} of {parts}"


def number_points(partials: list[Partial]) -> dict[str, ContestedPoint]:
    """Ids P1, P2, ... for every contested point, in article order."""
    ids: dict[str, ContestedPoint] = {}
    for partial in partials:
        for point in partial.points:
            ids[f"P{len(ids) + 1}"] = point
    return ids


def point_line(name: str, point: ContestedPoint) -> str:
    """One contested point as the reduce prompt lists it. Every field the model wrote is
    put on one neutral line (``neutral_line``): a part brief cannot forge the merge
    prompt's structure (a line of its own, a sentence id, the boundary, a chat turn)."""
    asserted = ", ".join(neutral_line(p) for p in point.asserted_by)
    disputed = ", ".join(neutral_line(p) for p in point.disputed_by)
    who = f" Asserted by: {asserted}." if asserted else ""
    if disputed:
        who += f" Disputed by: {disputed}."
    return f"- {name} ({point.kind}): {neutral_line(point.claim)}{who}"


def _cited(statement: Statement) -> str:
    """A part brief's statement for the merge prompt: its text on one neutral line, then
    the ids it cites (written by us)."""
    ids = [f"S{e.sentence}" for e in statement.evidence if e.sentence is not None]
    text = neutral_line(statement.text)
    return f"{text} [{', '.join(ids)}]" if ids else text


def render_partials(
    partials: list[Partial],
    parts: int,
    ids: dict[str, ContestedPoint],
    shown: Set[str] | None = None,
    limit: tuple[int, int] = LIMITS[0],
) -> str:
    """The part briefs as compact text for the reduce prompt (no quotes: ids carry them).

    Only the points named in ``shown`` are listed, when it is given; of each part, the
    first ``limit`` summary sentences and key points."""
    by_point = {id(point): name for name, point in ids.items()}
    blocks = []
    for partial in partials:
        summary = " ".join(_cited(s) for s in partial.summary[: limit[0]])
        lines = [f"[{partial.label(parts)}]", f"Summary: {summary}"]
        if partial.key_points and limit[1]:
            lines.append("Key points:")
            lines += [f"- {_cited(kp)}" for kp in partial.key_points[: limit[1]]]
        names = [by_point[id(p)] for p in partial.points]
        listed = [n for n in names if shown is None or n in shown]
        if listed:
            lines.append("Contested points:")
            lines += [point_line(name, ids[name]) for name in listed]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def group_partials(sizes: list[int], budget: int) -> list[list[int]]:
    """Consecutive groups of partial indexes whose rendered sizes fit ``budget`` together."""
    groups: list[list[int]] = [[]]
    total = 0
    for index, size in enumerate(sizes):
        if groups[-1] and total + size > budget:
            groups.append([])
            total = 0
        groups[-1].append(index)
        total += size
    return groups
