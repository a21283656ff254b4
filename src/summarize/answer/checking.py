"""The one path every answer goes through: parsed, repaired, cited, checked.

A brief (of a whole article or of one part), a merge of part briefs, the follow-up on
disputes and a comparison each have their check here, and they share its steps:

1. an answer cut off at the token limit cannot be used (``DraftProblems``, re-asked);
2. parsed and fitted to the draft's schema (``summarize.answer.repairs``);
3. echoed instructions flagged, forged article markers and foreign links removed,
   repeated key points dropped;
4. every statement's cited sentence ids resolved into evidence
   (``summarize.answer.citations``);
5. for a whole-article answer, the deterministic checks of neutrality and completeness
   (``summarize.answer.neutrality``), whose flags are re-asked once (``soft``).

The result is a ``Candidate``: the draft, what it yields and what a re-ask would ask
to fix. ``salvage`` turns a looping answer into one, from what came before the loop.
The loop that asks, checks and re-asks is ``summarize.pipeline.reask``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from summarize.answer import neutrality, opinion, sides
from summarize.answer.citations import (
    Citations,
    SourceCitations,
    cite_points,
    cite_statements,
    merge_points,
)
from summarize.answer.cues import lexicon
from summarize.answer.mending import mend
from summarize.answer.repairs import (
    DraftProblems,
    drop_echoed,
    drop_echoes,
    drop_repeated_key_points,
    echo_test,
    json_closings,
    marker_problems,
    parse_as,
    parse_draft,
    prepare_echoes,
    remove_foreign_urls,
    scrub_markers,
    summary_text,
)
from summarize.model.loops import loop_start
from summarize.model.protocol import Mode, Reply
from summarize.request import prompts
from summarize.request.drafts import (
    DraftBrief,
    DraftComparison,
    DraftDisputes,
    DraftMerge,
    schema_text,
    shift_refs,
)

if TYPE_CHECKING:
    from summarize.schema import Check, ContestedPoint, CutText, Statement
    from summarize.text.sentences import SentenceIndex

T = TypeVar("T")
_D = TypeVar("_D", DraftBrief, DraftMerge)
# Checks whose flags are re-asked once. A dispute left out is not: it gets the focused
# follow-up of ``summarize.pipeline.disputes`` instead of a whole brief again.
SOFT = frozenset(neutrality.CHECKS) - {"disputes"}
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
    extra: Any = None  # what the check derived besides (a comparison's grounding)
    summary: list[Statement] = field(default_factory=list)  # with evidence
    key_points: list[Statement] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)  # summarize.answer.neutrality's
    # what the flagged checks ask to fix: re-asked after the first answer only, then
    # kept as warnings (a check can be wrong; it must not cost the article)
    soft: list[str] = field(default_factory=list)
    cut: list[CutText] = field(default_factory=list)  # runaway fields, with their full text

    def __post_init__(self) -> None:
        """A draft's long and cut fields (``summarize.request.caps``) come first."""
        fitting = getattr(self.value, "fitting", None)
        if fitting is not None and (fitting.warnings or fitting.cut):
            self.repairs = [*fitting.warnings, *self.repairs]
            self.cut = [*fitting.cut, *self.cut]

    @property
    def rank(self) -> tuple[int, int, int]:
        """Lower is better: fewest problems, then fewest flagged checks, then most
        grounded points."""
        return (len(self.problems), len(self.soft), -len(self.points))


CheckFn = Callable[[Reply], Candidate[T]]


class Article(Protocol):
    """What an answer about one article is checked against (a ``Run`` is one)."""

    @property
    def sentences(self) -> SentenceIndex: ...

    @property
    def output_tokens(self) -> int: ...

    @property
    def checks_support(self) -> bool:
        """Whether statements are in the article's language, so checkable word for word."""
        ...

    @property
    def opinion(self) -> bool: ...

    @property
    def checks_language(self) -> str | None: ...


def _cut_off(reply: Reply, limit: int, advice: str) -> None:
    if reply.finish_reason == "length":
        raise DraftProblems([f"the answer was cut off at the limit of {limit} tokens: {advice}"])


_REASK_ECHO_FIELDS = (
    ("summary", "text", "summary sentence"),
    ("key_points", "text", "key point"),
    ("points", "claim", "contested point"),
)


def without_echoes_of(candidate: Candidate[T], asked: str, article: str) -> Candidate[T]:
    """``candidate`` without the statements and points that repeat ``asked`` (the re-ask
    it answers: its list of problems) instead of the article, a warning for each: the
    1.5B model wrote a check's advice back as a contested point ("The article quotes it
    (S8): keep it in quotation marks or say whose word it is")."""
    echo = echo_test(asked, article)
    had_summary = bool(candidate.summary)
    for field_name, attribute, name in _REASK_ECHO_FIELDS:
        kept, dropped = drop_echoed(
            getattr(candidate, field_name), attribute, name, echo, "the re-ask's list of problems"
        )
        if dropped:
            setattr(candidate, field_name, kept)
            candidate.repairs += dropped
    if had_summary and not candidate.summary:
        # nothing of it is left: unusable (the 135M model's brief in CI on 7 December)
        raise DraftProblems(
            ["summary: it only repeated the list of problems; summarise the article"]
        )
    return candidate


def _echo_source(system: str, draft: type[BaseModel]) -> str:
    """What a model is shown besides the article: the prompt and the schema's words."""
    return prompts.instructions(system) + "\n" + schema_text(draft)


def _cleaned(draft: _D, system: str, shown: str, article: str) -> tuple[_D, list[str], list[str]]:
    """Step 3: the draft without forged markers, repeated key points and links the
    ``article`` does not carry; the problems to re-ask, and the repairs made. Echoes of
    the instructions are text that is not in what the model was ``shown``."""
    # Echoes are dropped, not re-asked: with the bundled 135M model a re-ask rarely helps.
    echoed: list[str]
    repeated: list[str]
    draft, echoed = drop_echoes(draft, _echo_source(system, type(draft)), shown)
    problems = marker_problems(draft)
    draft, repairs = scrub_markers(draft)
    draft, repeated = drop_repeated_key_points(draft)
    repairs += [*echoed, *repeated]
    draft, unlinked = remove_foreign_urls(draft, article)
    return draft, problems, repairs + unlinked


def settle_points(
    article: Article, points: list[ContestedPoint], *, whole: bool = True
) -> tuple[list[ContestedPoint], list[str]]:
    """``sides.settle`` on ``points``: parties grounded and on the right side, one point
    per dispute; and the warnings that say what changed (``whole``: the article's
    points, not a part's)."""
    if not points:
        return points, []
    index, lex = article.sentences, lexicon(article.checks_language)
    commentary = neutrality.commentary_sentences(index, lex, opinion=article.opinion)
    piece = article.opinion or opinion.detected(index, lex).likely
    return sides.settle(
        points, index, lex, commentary=frozenset(commentary), opinion_piece=piece, whole=whole
    )


def _candidate(
    reply: Reply,
    draft: _D,
    article: Article,
    citations: Citations,
    problems: list[str],
    repairs: list[str],
    *,
    allowed: range | None = None,
    points: list[ContestedPoint] | None = None,
    whole: bool = True,
) -> Candidate[_D]:
    """Step 4: the summary and key points cited, then the contested points (unless
    ``points`` are made already, as a merge's are), as a ``Candidate`` (``whole``:
    its points are the article's, not a part's or a group of parts')."""
    index, support = article.sentences, article.checks_support
    summary = cite_statements(
        draft.summary, "summary", index, citations, allowed=allowed, check_support=support
    )
    key_points = cite_statements(
        draft.key_points, "key_points", index, citations, allowed=allowed, check_support=support
    )
    if points is None and isinstance(draft, DraftBrief):
        points = cite_points(
            draft.contested_points, index, citations, allowed=allowed, check_support=support
        )
    notes: list[str]
    kept, notes = settle_points(article, points or [], whole=whole)
    return Candidate(
        draft,
        kept,
        reply.mode,
        problems + citations.problems,
        [*repairs, *citations.warnings, *notes],
        summary=summary,
        key_points=key_points,
    )


def check_brief(
    reply: Reply,
    article: Article,
    *,
    allowed: range | None = None,
    offset: int = 0,
    system: str = "brief.system",
) -> Candidate[DraftBrief]:
    """One brief answer, checked; DraftProblems if it cannot be used at all.

    ``allowed``: the sentence ids of the part being briefed (None: the article's), which
    its prompt showed less ``offset`` (numbered from S1). A part is checked for
    neutrality as part of the whole, after the merge."""
    _cut_off(
        reply,
        article.output_tokens,
        "write a shorter summary, fewer key points and at most 5 contested points",
    )
    index = article.sentences
    text = index.text if allowed is None else index.span(allowed)
    draft = shift_refs(parse_draft(reply.text), offset)
    draft, problems, repairs = _cleaned(draft, system, text, text)
    if not summary_text(draft):
        raise DraftProblems(
            ["summary: it only repeated the article's marker; summarise the article"]
        )
    candidate = _candidate(
        reply, draft, article, Citations(), problems, repairs, allowed=allowed,
        whole=allowed is None,
    )  # fmt: skip
    if allowed is None:
        with_checks(article, candidate)
    return candidate


def check_merge(
    reply: Reply,
    article: Article,
    partials: str,
    ids: dict[str, ContestedPoint],
    hidden: frozenset[str] = frozenset(),
    *,
    whole: bool = True,
) -> Candidate[DraftMerge]:
    """One merge answer (of the part briefs shown as ``partials``), checked: its points
    made from the part points it names by id (``merge_points``: never re-quoted);
    DraftProblems if it cannot be used at all. ``whole``: the final merge, not one
    of a group of parts."""
    _cut_off(reply, article.output_tokens, "write a shorter summary and fewer key points")
    index = article.sentences
    draft = parse_as(reply.text, DraftMerge)
    draft, problems, repairs = _cleaned(draft, "reduce.system", partials, index.text)
    if not summary_text(draft):
        raise DraftProblems(["summary: it is empty; summarise the whole article"])
    points, id_problems, warnings = merge_points(draft, ids, hidden)
    citations = Citations(problems=id_problems, warnings=warnings)
    candidate = _candidate(
        reply, draft, article, citations, problems, repairs, points=points, whole=whole
    )
    with_checks(article, candidate)  # a dispute the parts left out: the follow-up's
    return candidate


def prepare(article: Article) -> None:
    """Work out ahead what the checks of answers on the whole article read and no part's
    check does (the article's quoted terms, the follow-up's echo material): run in a
    thread beside a long article's part requests, it is done when their answers come
    back, not after them. It only fills caches, so the results are the same."""
    neutrality.quoted_terms(article.sentences)
    prepare_echoes(_echo_source("brief.system", DraftDisputes), article.sentences.text)


def check_disputes(reply: Reply, article: Article) -> Candidate[DraftDisputes]:
    """The follow-up's answer: its contested points, cited (never re-asked)."""
    if reply.finish_reason == "length":
        raise DraftProblems([f"the answer was cut off at {article.output_tokens} tokens"])
    draft = parse_as(reply.text, DraftDisputes)
    text = article.sentences.text
    draft, echoed = drop_echoes(draft, _echo_source("brief.system", DraftDisputes), text)
    citations = Citations(warnings=echoed)
    points = cite_points(
        draft.contested_points,
        article.sentences,
        citations,
        check_support=article.checks_support,
        recite=False,  # the follow-up re-cites among the sentences it named
    )
    return Candidate(draft, points, reply.mode, citations.problems, citations.warnings)


def check_comparison(
    reply: Reply, indexes: dict[str, SentenceIndex], language: str | None, output_tokens: int
) -> Candidate[DraftComparison]:
    """A comparison's answer: every citation resolved in the source it is credited to
    (``SourceCitations``), then the checks of its own voice; ``extra`` holds the
    grounded fields."""
    if reply.finish_reason == "length":
        raise DraftProblems([f"the answer was cut off at {output_tokens} tokens: be shorter"])
    draft = parse_as(reply.text, DraftComparison)
    if not draft.summary.strip():
        raise DraftProblems(["summary: it is empty; write the joint account"])
    sources = SourceCitations(indexes)
    grounded = sources.comparison(draft)
    candidate = Candidate(draft, [], reply.mode, sources.problems, sources.warnings, extra=grounded)
    candidate.checks = neutrality.check_comparison(sources.voiced(grounded), indexes, language)
    candidate.soft = [f"{c.name}: {d}" for c in candidate.checks for d in c.details]
    return candidate


def with_checks(
    article: Article, candidate: Candidate[Any], *, soft: frozenset[str] = SOFT
) -> None:
    """Step 5 on a whole-article answer: the statements mended where a check's advice
    can be followed by rule (``summarize.answer.mending``), then the checks go to
    ``candidate.checks``; what the flagged ones named in ``soft`` ask to fix, to
    ``candidate.soft``."""
    language, index = article.checks_language, article.sentences
    candidate.summary, said = mend(
        candidate.summary, "summary sentence", index, language, opinion=article.opinion
    )
    candidate.key_points, listed = mend(
        candidate.key_points, "key point", index, language, opinion=article.opinion
    )
    candidate.repairs += [*said, *listed]
    candidate.checks = neutrality.run_checks(
        article.sentences,
        article.checks_language,
        candidate.summary,
        candidate.key_points,
        candidate.points,
        opinion=article.opinion,
    )
    candidate.soft = [
        f"{check.name}: {detail}"
        for check in candidate.checks
        if check.name in soft
        for detail in check.details
    ]


def salvage(reply: Reply, check: CheckFn[T]) -> Candidate[T]:
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
