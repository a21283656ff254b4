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

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from summarize.answer.checking import Candidate, CheckFn, salvage, without_echoes_of
from summarize.answer.repairs import DraftProblems
from summarize.errors import OutputTruncatedError, SummarizeError, ValidationFailedError
from summarize.model.protocol import Message, Reply
from summarize.pipeline import budget
from summarize.request import prompts

if TYPE_CHECKING:
    from summarize.pipeline.run import Run
    from summarize.progress import Stage
    from summarize.schema import Usage

T = TypeVar("T")


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
    check: CheckFn[T],
    schemas: tuple[dict[str, Any], dict[str, Any]],
    usage: Usage,
    *,
    warnings: list[str] | None = None,
    label: str = "",
    stage: Stage = "briefing",
    detail: str | None = None,
    reasks: int | None = None,
    shown: Callable[[str], str] = str,
) -> Candidate[T]:
    """One request and its re-asks: the best usable answer, or a typed error.

    ``build(with_hint)`` gives the messages (the schema spelled out when the mode does
    not enforce it); ``label`` prefixes messages (``"part 2 of 5: "``); ``stage`` and
    ``detail`` (default: the label) are what the progress events say of the request;
    ``reasks``: at most this many re-asks (default and cap: the run's ``max_reasks``);
    ``shown``: a problem as the re-ask writes it (a part's own ids; default: as is)."""
    most = run.max_reasks if reasks is None else min(reasks, run.max_reasks)
    warnings = run.warnings if warnings is None else warnings
    progress, what = run.progress, label.removesuffix(": ")
    tally: _Tally[T] = _Tally()
    followup: list[Message] = []

    def messages_for(strict: bool) -> list[Message]:
        # what is sent is what the budget measures, and it must fit the window
        return budget.measured(run, [*build(not strict), *followup])

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
            problems = _problems_of(reply, _unechoed(check, followup, run), tally, first=number < 2)
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
            followup[:] = _followup(run, build, reply, list(map(shown, problems.problems)))
    except SummarizeError as exc:
        _annotate(exc, tally.last, label)
        raise
    if tally.best is not None:
        return tally.best
    raise _failure(run, tally, label) from tally.problems


def _unechoed(check: CheckFn[T], followup: list[Message], run: Run) -> CheckFn[T]:
    """``check``, and after a re-ask (``followup``: what it sent after the prompt) the
    answer's statements that echo it dropped (``answer.checking.without_echoes_of``)."""
    if not followup:
        return check
    text = str(followup[-1]["content"])
    return lambda reply: without_echoes_of(check(reply), text, run.sentences.text)


def _problems_of(
    reply: Reply, check: CheckFn[T], tally: _Tally[T], *, first: bool
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
    again = prompts.reask(problems)
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
