"""Part briefs of a long article and the pure steps of merging them.

The flow that makes and merges them is ``summarize.pipeline.mapreduce``. The map step
briefs each part like a short article, citing the article's own sentence ids (global,
so nothing is shifted). The reduce step sees the part briefs as text, each statement
with the ids it cites and an id on every contested point, and answers with merged points
that name the ids they stand for. Evidence is never re-quoted by the reducer: a
merged point carries the union of the already grounded evidence of its ids, so a
merge cannot invent a quote. A point the reducer leaves out is kept as it was found,
with a warning; nothing found in a part is dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass, field

from summarize.answer.repairs import DraftProblems
from summarize.request.drafts import DraftMerge, DraftMergedPoint
from summarize.schema import ContestedPoint, Evidence, Statement

# A part brief longer than asked (kept whole in the part) shows the merge this much,
# so that a model's long lists cannot crowd the merge request out of its window.
SHOWN_SUMMARY = 6
SHOWN_KEY_POINTS = 8
# (summary sentences, key points) of each part the merge is shown: the first that fits
# the window. A tight window shows fewer rather than losing the article.
LIMITS: tuple[tuple[int, int], ...] = (
    (SHOWN_SUMMARY, SHOWN_KEY_POINTS), (4, 5), (3, 3), (2, 2), (1, 1), (1, 0),
)  # fmt: skip
_ID = re.compile(r"^\s*\[?P(\d+)\]?\s*$", re.IGNORECASE)


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
    """One contested point as the reduce prompt lists it."""
    who = f" Asserted by: {', '.join(point.asserted_by)}." if point.asserted_by else ""
    if point.disputed_by:
        who += f" Disputed by: {', '.join(point.disputed_by)}."
    return f"- {name} ({point.kind}): {point.claim}{who}"


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
        summary = " ".join(s.cited() for s in partial.summary[: limit[0]])
        lines = [f"[{partial.label(parts)}]", f"Summary: {summary}"]
        if partial.key_points and limit[1]:
            lines.append("Key points:")
            lines += [f"- {kp.cited()}" for kp in partial.key_points[: limit[1]]]
        names = [by_point[id(p)] for p in partial.points]
        listed = [n for n in names if shown is None or n in shown]
        if listed:
            lines.append("Contested points:")
            lines += [point_line(name, ids[name]) for name in listed]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _union(*lists: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for items in lists:
        for item in items:
            if item.strip() and item.strip().casefold() not in {s.casefold() for s in seen}:
                seen[item.strip()] = None
    return list(seen)


def merge_points(
    draft: DraftMerge, ids: dict[str, ContestedPoint], hidden: frozenset[str] = frozenset()
) -> tuple[list[ContestedPoint], list[str], list[str]]:
    """Merged points from the reducer's answer, with problems (for a re-ask) and warnings.

    Returns ``(points, problems, warnings)``. Points the answer leaves out, and the
    ``hidden`` ones the prompt had no room for, are appended unchanged; an id used
    twice counts for its first point only.
    """
    points: list[ContestedPoint] = []
    problems: list[str] = []
    used: set[str] = set()
    for number, merged in enumerate(draft.contested_points):
        names: list[str] = []
        for raw in merged.sources:
            match = _ID.match(raw)
            name = f"P{int(match.group(1))}" if match else raw
            if name not in ids or name in hidden:
                problems.append(
                    f"contested_points.{number}.sources: {raw!r} is not one of the ids "
                    f"P1-P{len(ids)}"
                    if ids
                    else f"contested_points.{number}: there are no "
                    "part points to merge; answer with an empty contested_points list"
                )
            elif name not in used:
                used.add(name)
                names.append(name)
        if not names:
            if not merged.sources:
                problems.append(f"contested_points.{number}.sources: list the ids it merges")
            continue
        points.append(_merged_point(merged, [ids[name] for name in names]))
    warnings = []
    if hidden:
        warnings.append(
            f"{len(hidden)} contested point(s) were kept as found in their parts, unmerged: "
            "the merge request had no room to list them"
        )
    for name, point in ids.items():
        if name in hidden:
            points.append(point)
        elif name not in used:
            points.append(point)
            warnings.append(
                f"the merge step left out contested point {name} ({point.claim[:60]!r}); "
                "kept as found in its part"
            )
    return points, problems, warnings


def _merged_point(merged: DraftMergedPoint, originals: list[ContestedPoint]) -> ContestedPoint:
    """A merged point: the reducer's wording, the union of its originals' parties and
    their already grounded evidence (never re-quoted)."""
    evidence: dict[tuple[int, int], Evidence] = {}
    for original in originals:
        for item in original.evidence:
            evidence.setdefault((item.start, item.end), item)
    return ContestedPoint(
        claim=merged.claim.strip() or originals[0].claim,
        kind=merged.kind,
        asserted_by=_union(merged.asserted_by, *(o.asserted_by for o in originals)),
        disputed_by=_union(merged.disputed_by, *(o.disputed_by for o in originals)),
        evidence=sorted(evidence.values(), key=lambda e: (e.start, e.end)),
    )


def check_merge(draft: DraftMerge) -> None:
    """Raise DraftProblems if the merged brief has no summary at all."""
    if not any(s.text.strip() for s in draft.summary):
        raise DraftProblems(["summary: it is empty; summarise the whole article"])


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
