"""The one loop of ask -> check -> re-ask: the best usable answer, or a typed error.

``ask()`` sends a request, hands the reply to the caller's ``check`` (which parses,
validates and grounds it into a ``Candidate``, or raises ``DraftProblems`` when the
answer cannot be used at all), and re-asks with the problems spelled out, at most
``max_reasks`` times. The best candidate wins: fewest problems, then most grounded
points. With none usable it raises ``OutputTruncatedError`` (the last answer was cut
off or looped) or ``ValidationFailedError``, from the last problems. Briefs, merges
and comparisons all go through it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from summarize.answer.repairs import DraftProblems
from summarize.errors import OutputTruncatedError, SummarizeError, ValidationFailedError
from summarize.model.loops import json_closings, loop_start
from summarize.model.protocol import Message, Mode, Reply
from summarize.pipeline import budget
from summarize.request import prompts

if TYPE_CHECKING:
    from summarize.pipeline.run import Run
    from summarize.progress import Stage
    from summarize.schema import Check as CheckResult
    from summarize.schema import ContestedPoint, CutText, Statement, Usage

T = TypeVar("T")
# The lists an answer may not have reached when it looped: read as empty, and said so.
BRIEF_LISTS = ("key_points", "contested_points")
COMPARISON_LISTS = ("agreements", "conflicts", "unique_claims", "framing")


@dataclass
class Candidate(Generic[T]):
    """A parsed answer, what it yields, and what a re-ask would ask to fix."""

    value: T
    points: list[ContestedPoint]
    mode: Mode
    problems: list[str]
    repairs: list[str]
    extra: Any = None  # what the caller's check derived (a comparison's grounding)
    summary: list[Statement] = field(default_factory=list)  # with evidence
    key_points: list[Statement] = field(default_factory=list)
    checks: list[CheckResult] = field(
        default_factory=list
    )  # summarize.answer.neutrality, on the answer
    # what the flagged checks ask to fix: re-asked after the first answer only, then
    # kept as warnings (a check can be wrong; it must not cost the article)
    soft: list[str] = field(default_factory=list)
    cut: list[CutText] = field(default_factory=list)  # runaway fields, with their full text

    def __post_init__(self) -> None:
        """A draft's long and cut fields (``summarize.request.caps``) come first in the repairs."""
        fitting = getattr(self.value, "fitting", None)
        if fitting is not None and (fitting.warnings or fitting.cut):
            self.repairs = [*fitting.warnings, *self.repairs]
            self.cut = [*fitting.cut, *self.cut]

    @property
    def rank(self) -> tuple[int, int, int]:
        """Lower is better: fewest problems, then fewest flagged checks, then most
        grounded points."""
        return (len(self.problems), len(self.soft), -len(self.points))


Check = Callable[[Reply], Candidate[T]]
Build = Callable[[bool], list[Message]]  # with_hint -> the messages


@dataclass
class _Tally(Generic[T]):
    """What the attempts so far left: the best candidate, the last answer and problems."""

    best: Candidate[T] | None = None
    last: Reply | None = None
    problems: DraftProblems | None = None
    answers: int = 0  # of this request: ``usage`` may be shared by the parts of an article

    def keep(self, candidate: Candidate[T]) -> None:
        if self.best is None or candidate.rank <= self.best.rank:
            self.best = candidate


async def ask(
    run: Run,
    build: Build,
    check: Check[T],
    schemas: tuple[dict[str, Any], dict[str, Any]],
    usage: Usage,
    *,
    warnings: list[str] | None = None,
    label: str = "",
    stage: Stage = "briefing",
    detail: str | None = None,
    reasks: int | None = None,
) -> Candidate[T]:
    """One request and its re-asks: the best usable answer, or a typed error.

    ``build(with_hint)`` gives the messages (the schema spelled out when the mode does
    not enforce it); ``label`` prefixes messages (``"part 2 of 5: "``); ``stage`` and
    ``detail`` (default: the label) are what the progress events say of the request;
    ``reasks``: at most this many re-asks (default and cap: the run's ``max_reasks``)."""
    most = run.max_reasks if reasks is None else min(reasks, run.max_reasks)
    warnings = run.warnings if warnings is None else warnings
    progress, what = run.progress, label.removesuffix(": ")
    tally: _Tally[T] = _Tally()
    followup: list[Message] = []

    def messages_for(mode: Mode) -> list[Message]:
        return [*build(not mode.strict), *followup]

    try:
        for number in range(1, most + 2):
            if number == 1:
                progress.stage(stage, what if detail is None else detail)
            reply = await run.client.complete(
                messages_for, *schemas, deadline=run.deadline, usage=usage, warnings=warnings
            )
            usage.attempts += 1
            tally.answers += 1
            tally.last = reply
            progress.stage("checking", what)
            problems = _problems_of(reply, check, tally, first=number == 1)
            if problems is None:
                break
            tally.problems = problems
            if number > most:
                break
            warnings.append(
                f"attempt {number} re-asked: {len(problems.problems)} "
                f"problem(s), first: {problems.problems[0]}"
            )
            progress.stage("re-asking", label + problems.problems[0])
            followup[:] = _followup(run, build, reply, problems.problems)
    except SummarizeError as exc:
        _annotate(exc, tally.last, label)
        raise
    if tally.best is not None:
        return tally.best
    raise _failure(run, tally, label) from tally.problems


def _problems_of(
    reply: Reply, check: Check[T], tally: _Tally[T], *, first: bool
) -> DraftProblems | None:
    """Check one reply; its problems (None: usable as it is). The flagged checks count
    on the ``first`` answer only."""
    try:
        candidate = salvage(reply, check) if reply.finish_reason == "loop" else check(reply)
    except DraftProblems as exc:
        return exc
    tally.keep(candidate)
    problems = candidate.problems + (candidate.soft if first else [])
    return DraftProblems(problems) if problems else None


def _followup(run: Run, build: Build, reply: Reply, problems: list[str]) -> list[Message]:
    """The messages after the prompt on the next attempt: the previous answer (if it
    fits the window and did not loop) and the list of problems to fix."""
    errors = "\n".join(f"- {p}" for p in problems)
    again: Message = {"role": "user", "content": prompts.load("reask").render(errors=errors)}
    answer: Message = {"role": "assistant", "content": reply.text}
    # A loop sent back is a loop continued: small models pick up where they stopped.
    if reply.finish_reason != "loop" and budget.reask_fits(run, build(True), [answer, again]):
        return [answer, again]
    return [again]


def _annotate(exc: SummarizeError, last: Reply | None, label: str) -> None:
    """Give a typed error the last answer and the label of the part it failed."""
    if exc.raw_output is None and last is not None:
        exc.raw_output = last.text
    if label and not exc.message.startswith(label):
        exc.message = label + exc.message
        exc.args = (exc.message, *exc.args[1:])


def _failure(run: Run, tally: _Tally[Any], label: str) -> SummarizeError:
    """The typed error for attempts that gave no usable answer."""
    problems = tally.problems.problems if tally.problems else []
    message = (
        f"{label}no usable answer from {run.model} after {tally.answers} "
        "attempt(s): " + "; ".join(problems[:3])
    )
    raw = tally.last.text if tally.last else None
    if tally.last is not None and tally.last.finish_reason in ("length", "loop"):
        return OutputTruncatedError(message, raw_output=raw)
    return ValidationFailedError(message, errors=problems, raw_output=raw)


def salvage(reply: Reply, check: Check[T]) -> Candidate[T]:
    """A looping answer: what came before the loop, closed as JSON and checked like any
    answer, with the loop as a problem (re-asked; kept only if nothing better comes).

    The longest closing that passes the check wins; a shorter one drops an unfinished
    last item. A brief's (or a comparison's) lists the loop never reached are read as
    empty, and said so."""
    loop = (
        f"the answer started repeating itself and was stopped after {len(reply.text)} "
        "characters: write each point once, then close the JSON object"
    )
    first_problems: list[str] = []
    for closed in json_closings(reply.text[: loop_start(reply.text)]):
        data = json.loads(closed)
        lists = COMPARISON_LISTS if any(k in data for k in COMPARISON_LISTS) else BRIEF_LISTS
        missing = [k for k in lists if k not in data]
        tries: list[tuple[dict[str, Any], list[str]]] = [(data, [])]
        if missing and "summary" in data:
            tries.append(({**data, **{key: [] for key in missing}}, missing))
        for answer, filled in tries:
            try:
                candidate = check(
                    Reply(text=json.dumps(answer), finish_reason="stop", mode=reply.mode)
                )
            except DraftProblems as exc:
                first_problems = first_problems or exc.problems
                continue
            note = "the answer repeated itself and was stopped; kept what came before the loop"
            if filled:
                note += f" (it never reached {' or '.join(filled)})"
            candidate.problems.insert(0, loop)
            candidate.repairs.append(note)
            return candidate
    raise DraftProblems([loop, *first_problems])
