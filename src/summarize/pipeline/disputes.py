"""The follow-up on disputes a brief left out: one short, focused request.

A small model told "S29 reports a denial" in a long prompt often still leaves the
denial out, and asked again for the whole brief it writes the whole brief again,
slowly, and leaves it out again. So when the brief's contested points cite none of
some sentences the hints name (a denial, an accusation, criticism, the outlet's own
view; ``summarize.answer.neutrality.cue_sentences``), those sentences alone, each with its
neighbours, are sent in one more request that asks only for the contested points they
show. Its points are cited and checked like the brief's; the ones citing a named
sentence are added, the others dropped with a warning. At most one such request per
brief, never re-asked: an answer that cannot be used leaves the brief as it was, with
a warning. An article whose wording has no such cue gets no follow-up, so it cannot
be pushed into inventing a dispute.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from summarize.answer import neutrality
from summarize.answer.checking import Candidate, check_disputes, settle_points
from summarize.answer.citations import content_words
from summarize.errors import OutputTruncatedError, ValidationFailedError
from summarize.pipeline import reask
from summarize.request import prompts
from summarize.request.drafts import DraftDisputes, request_schemas

if TYPE_CHECKING:
    from summarize.model.protocol import Message
    from summarize.pipeline.run import Run
    from summarize.schema import ContestedPoint

TEMPLATES = ("disputes.user",)
CONTEXT = 1  # neighbouring sentences shown on each side of a named one
MAX_ADDED = 5  # contested points the follow-up may add


def left_out(run: Run, points: Iterable[ContestedPoint]) -> dict[int, str]:
    """The cue sentences (id -> kind) that none of ``points`` cites."""
    cited = {e.sentence for p in points for e in p.evidence}
    return {n: kind for n, kind in run.cues.items() if n not in cited}


def missing(run: Run, points: Iterable[ContestedPoint]) -> dict[int, str]:
    """The cue sentences a follow-up asks about: those ``points`` leave out, at most
    ``neutrality.MAX_HINTS``."""
    return neutrality.first_cues(left_out(run, points))


async def follow_up(run: Run, best: Candidate[Any]) -> bool:
    """Ask for the contested points of the cue sentences ``best`` left out, and add
    them to ``best.points``; whether a request was sent."""
    named = missing(run, best.points)
    if not named:
        return False
    add(run, best, named, await ask(run, named))
    return True


async def ask(run: Run, named: dict[int, str]) -> Candidate[DraftDisputes] | str:
    """The follow-up's answer on the cue sentences ``named``, or why there is none. It
    needs only the sentences, so a long article's is asked beside its merge."""
    ids = ", ".join(f"S{n}" for n in named)
    try:
        return await reask.ask(
            run,
            _prompt(run, named),
            lambda reply: check_disputes(reply, run),
            request_schemas(DraftDisputes, len(run.sentences)),
            run.followup_usage,
            stage="re-asking",
            detail=f"the disputes the brief left out ({ids})",
            reasks=0,
        )
    except (ValidationFailedError, OutputTruncatedError) as exc:
        return str(exc)


def add(
    run: Run, best: Candidate[Any], named: dict[int, str], answer: Candidate[DraftDisputes] | str
) -> None:
    """Add ``answer``'s points on the sentences of ``named`` that ``best`` still leaves
    out (a merge asked beside the follow-up may have cited some itself)."""
    ids = ", ".join(f"S{n}" for n in named)
    if isinstance(answer, str):
        best.repairs.append(f"disputes follow-up on {ids}: no usable answer: {answer}")
        return
    still = {n: kind for n, kind in named.items() if n in left_out(run, best.points)}
    if still != named:
        cited = ", ".join(f"S{n}" for n in named if n not in still)
        best.repairs.append(f"disputes follow-up: {cited} cited by the merged brief itself")
    _add(best, answer, still, ", ".join(f"S{n}" for n in still) or ids, run)


def _prompt(run: Run, missing: dict[int, str]) -> reask.Build:
    """The follow-up's messages: the named sentences with their neighbours."""
    index = run.sentences
    ids = sorted({m for n in missing for m in range(n - CONTEXT, n + CONTEXT + 1)})
    shown = [s for n in ids if (s := index.get(n)) is not None]

    def build(with_hint: bool) -> list[Message]:
        return prompts.disputes(
            with_hint,
            compact=run.templates[0] == "compact.system",
            cues=neutrality.describe(missing),
            boundary=run.boundary,
            sentences=index.render(shown),
            output_language=run.output_language(),
        )

    return build


def _add(
    best: Candidate[Any],
    answer: Candidate[DraftDisputes],
    missing: dict[int, str],
    named: str,
    run: Run,
) -> None:
    """Add the follow-up's points that cite a named sentence; say what was dropped. A
    point citing another sentence but made of a named one's words is re-cited to it."""
    best.repairs += [f"disputes follow-up: {p}" for p in answer.problems]
    best.repairs += [f"disputes follow-up: {w}" for w in answer.repairs]
    best.cut += [
        c.model_copy(update={"field": "disputes follow-up: " + c.field}) for c in answer.cut
    ]
    added = 0
    claims = {p.claim.casefold() for p in best.points}
    for number, point in enumerate(answer.points, start=1):
        if not any(e.sentence in missing for e in point.evidence):
            point = _recited(point, missing, run, best.repairs, number)
        if point.claim.casefold() in claims:
            best.repairs.append(f"disputes follow-up: dropped point {number}, a repeat")
        elif not any(e.sentence in missing for e in point.evidence):
            best.repairs.append(
                f"disputes follow-up: dropped point {number}, it cites none of {named}: "
                f"{point.claim[:80]!r}"
            )
        elif added >= MAX_ADDED:
            best.repairs.append(f"disputes follow-up: dropped point {number}, over {MAX_ADDED}")
        else:
            best.points.append(point)
            claims.add(point.claim.casefold())
            added += 1
    best.repairs.append(
        f"disputes follow-up on {named} (not cited by the brief's contested points): "
        f"added {added} contested point(s)"
    )
    if added:  # the brief's points and the follow-up's, sided and one per dispute
        best.points, settled = settle_points(run, best.points)
        best.repairs += settled


def _recited(
    point: ContestedPoint, missing: dict[int, str], run: Run, repairs: list[str], number: int
) -> ContestedPoint:
    """``point`` cited to the named sentence holding most of its claim's content words
    (at least 2, and more than half), as small models copy a sentence and cite its
    neighbour; else as it was."""
    own = content_words(point.claim)
    scored = [
        (len(own & content_words(run.sentences.original(s))), n)
        for n in missing
        if (s := run.sentences.get(n)) is not None
    ]
    shared, best = max(scored, default=(0, 0))
    if shared < 2 or 2 * shared <= len(own):
        return point
    evidence, _, _ = run.sentences.evidence([best])
    was = ", ".join(f"S{e.sentence}" for e in point.evidence)
    repairs.append(
        f"disputes follow-up: point {number} cited {was}; re-cited S{best}, which holds its words"
    )
    return point.model_copy(update={"evidence": evidence})
