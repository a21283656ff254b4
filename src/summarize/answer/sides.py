"""Who asserts and who disputes: each contested point's sides grounded in the text,
and one point per dispute.

``settle(points, index, lex)`` runs on every path's contested points (a brief, a part,
the merge, the disputes follow-up, and the final list) after they are cited:

1. **Names from the text.** A name in ``asserted_by`` or ``disputed_by`` must be a
   party that the cited sentences or their neighbours (two either side, and the rest
   of their paragraph) name, matched leniently: words compared by their first five
   letters ("the Pentagon" ~ "Pentagon", "Swedish prosecutors" ~ "Swedish
   Prosecution Authority", "Поризкова" ~ "Поризковой"), in Chinese and Korean as a
   substring. A sentence id ("S18"), a placeholder ("X") or a party named nowhere near
   is dropped, with a warning.
2. **The speaker, where the sentence says it.** A cited sentence that reports a denial
   ("X denied …", "… X rejected", "X, who denies …") names who disputes; one that
   reports an accusation or a claim ("X accused …", "…, X said", "according to X")
   names who asserts; one that has someone questioning or doubting it ("as US
   lawmakers are debating … whether it is feasible") names who disputes. The speaker
   is found by the cues of the lexicon (``summarize.answer.cues``), in each of its
   languages. It fills an empty side, and
   a point whose sides are the wrong way round is swapped, with a warning. A party on
   both sides stays only on the side the text gives it. An asserter the model took
   from a party merely named in the cited sentences ("a Wikileaks conference") gives
   way to the one the sentence has asserting ("accused … by a woman"), and so does
   the outlet's own voice when the sentence has someone else say it ("as one CEO
   told me"). An ``opinion`` in the outlet's own words ("нам кажется") is the outlet's.
3. **The kind.** A disputing party is kept only where the cited sentences, or the
   ones before them, report a disagreement (a denial, an allegation, a criticism);
   the outlet's own voice is kept. A ``disputed`` point with no disputing party left
   is ``one_sided``, or ``opinion`` when it rests on the outlet's own commentary; a
   ``one_sided`` point with a disputing party left is ``disputed``. An ``inconsistent``
   point (a self-contradiction) that cites one sentence with no contrast cue ("but",
   "although", "despite") takes the kind its sides and sentences give instead.
4. **Not a point.** A question ("Must have been complicated conversations?"), a
   fragment (fewer than three words), or a copy of a cited sentence that reports no
   disagreement, claim or view is dropped, with a warning; in the article's final
   list, so is a ``one_sided`` point no one disputes whose sentences report no one's
   claim or view (the article's own account), or that no one in the text asserts,
   on sentences that report no disagreement.
5. **Once.** Points citing the same sentences, or restating one proposition (80 % of
   their words the same), become one: the first, with the others' evidence and sides.
   So do points that share a cited sentence and the same parties on each side, or
   the same parties the other way round (one dispute told from both sides: the
   first point's sides are kept).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from summarize.answer.cues import Lexicon, matcher_of
from summarize.answer.neutrality import own_voice
from summarize.answer.parties import (
    CJK,
    grounded,
    is_own_voice,
    namelike,
    roles,
    same_party,
    text_stems,
    words,
)

if TYPE_CHECKING:
    from summarize.schema import ContestedPoint
    from summarize.text.sentences import SentenceIndex


LEDE = 3  # the article's first sentences: they name its parties, for every point
NEAR = 2  # sentences either side of a cited one that may name its parties
REPEATED_WORDS = 0.8  # this share of both claims' words the same: one proposition


class Context:
    """The text around a point's cited sentences, where its parties must be named."""

    def __init__(self, index: SentenceIndex, ids: Iterable[int]) -> None:
        sentences = index.sentences
        chosen: set[int] = set()
        for n in ids:
            if not 1 <= n <= len(sentences):
                continue
            first = n
            while first > 1 and not sentences[first - 1].paragraph:
                first -= 1
            last = n
            while last < len(sentences) and not sentences[last].paragraph:
                last += 1
            chosen.update(range(max(1, min(first, n - NEAR)), max(last, n + NEAR) + 1))
        chosen.update(range(1, min(LEDE, len(sentences)) + 1))  # the lede names the parties
        kept = [sentences[n - 1] for n in sorted(chosen) if n <= len(sentences)]
        self.text = " ".join(index.original(s) for s in kept)
        # the stems of the joined text are its sentences' (a word never spans the
        # space between them), each sentence's worked out once per article
        stems: dict[int, set[str]] = index.memo.setdefault("stems", {})
        self.stems: set[str] = set()
        for sentence in kept:
            if (found := stems.get(sentence.id)) is None:
                found = stems[sentence.id] = text_stems(index.original(sentence))
            self.stems |= found


def _fix_sides(
    point: ContestedPoint,
    cited: Sequence[tuple[str, str]],
    lex: Lexicon,
    notes: list[str],
    context: tuple[str, set[str]] | None = None,
) -> None:
    """Sides filled, swapped or cleared from what the ``cited`` sentences (each with
    the sentence before it) say of who disputes and who asserts."""
    found = [roles(text, lex, before) for text, before in cited]
    deniers = [d for d, _ in found if d]
    # who denies it and then "said" so ('… denied doing anything wrong. "…," they
    # said') is still on the disputing side
    asserters = [a for _, a in found if a and not any(same_party(a, d) for d in deniers)]
    if deniers and not asserters:
        asserters = _accusers(cited, found, lex)
    said_denier, said_asserter = roles(point.claim, lex)  # what the claim says of them
    if not deniers and said_denier and any(same_party(a, said_denier) for a in asserters):
        deniers = [a for a in asserters if same_party(a, said_denier)]  # '"…," they said'
        asserters = [a for a in asserters if a not in deniers]
    if not deniers and not asserters and context is not None:
        # the claim's own words, where the text names the same party: fill, never swap
        fill = [(w, side) for w, side in ((said_denier, 0), (said_asserter, 1))
                if w and grounded(w, *context)]  # fmt: skip
    else:
        fill = [(w, 0) for w in deniers] + [(w, 1) for w in asserters]
        _swap(point, deniers, asserters, notes)
        _correct_asserters(point, cited, asserters, deniers, lex, notes)
    for name in [n for n in point.asserted_by if on(point.disputed_by, n)]:
        # a party on both sides keeps the side the text gives it
        denies = any(same_party(name, d) for d in deniers)
        if denies:
            point.asserted_by = [n for n in point.asserted_by if not same_party(n, name)]
        else:
            point.disputed_by = [n for n in point.disputed_by if not same_party(n, name)]
        notes.append(f"{name} was on both sides; kept as {'disputing' if denies else 'asserting'}")
    for who, side in fill:
        if on(point.disputed_by, who) or on(point.asserted_by, who):
            continue
        if side == 0:
            point.disputed_by = [*point.disputed_by, who]
            notes.append(f"disputed_by: {who} added from the text")
        elif not point.asserted_by:
            point.asserted_by = [who]
            notes.append(f"asserted_by filled from the text: {who}")


def _correct_asserters(
    point: ContestedPoint,
    cited: Sequence[tuple[str, str]],
    asserters: list[str],
    deniers: list[str],
    lex: Lexicon,
    notes: list[str],
) -> None:
    """``asserted_by`` replaced by the asserters the cited sentences name ("Assange was
    accused of rape by a woman": the woman) when each of the model's is merely named
    in those sentences ("a Wikileaks conference"), and none is one of the text's
    asserters, one it has denying, or the outlet's own voice; or when the model's are
    only the outlet's own voice, which reports what the sentence has them say. A name
    the model took from the sentences around (what "the companies said" refers to)
    stays."""
    named = point.asserted_by
    asserters = [a for a in asserters if namelike(a)]
    if not asserters or not named:
        return
    if all(is_own_voice(n, lex) for n in named):
        # "Neo-banks ease the pain, as one neo-bank CEO told me": the outlet reports a
        # claim the sentence gives to someone else; it is theirs
        point.asserted_by = list(dict.fromkeys(asserters))
        notes.append(
            f"asserted_by {', '.join(named)} replaced by {', '.join(point.asserted_by)}: "
            "the text has them say it, the outlet only reports it"
        )
        return
    if any(is_own_voice(n, lex) for n in named):
        return
    if any(on(asserters, n) or on(deniers, n) for n in named):
        return
    text = " ".join(sentence for sentence, _ in cited)
    if not all(grounded(n, text, text_stems(text)) for n in named):
        return
    point.asserted_by = list(dict.fromkeys(asserters))
    notes.append(
        f"asserted_by {', '.join(named)} replaced by {', '.join(point.asserted_by)}: "
        "the text has them assert it"
    )


def _accusers(
    cited: Sequence[tuple[str, str]], found: Sequence[tuple[str | None, str | None]], lex: Lexicon
) -> list[str]:
    """Who made the accusation a cited sentence's denial answers, where the sentence
    before it says so of the same party ("Assange was accused of rape by a woman. He
    has always denied the allegations": the woman)."""
    accusers: list[str] = []
    for (_, before), (denier, _) in zip(cited, found, strict=True):
        if denier is None or not before:
            continue
        accused, accuser = roles(before, lex)
        if accuser and accused and same_party(accused, denier) and not same_party(accuser, denier):
            accusers.append(accuser)
    return accusers


def on(side: list[str], who: str) -> bool:
    """Whether ``who`` is one of the parties of ``side``."""
    return any(same_party(name, who) for name in side)


def _swap(
    point: ContestedPoint, deniers: list[str], asserters: list[str], notes: list[str]
) -> None:
    """Swap the sides when the text puts a party of one on the other, and none the right way."""
    asserted, disputed = point.asserted_by, point.disputed_by
    wrong = [w for w in deniers if on(asserted, w) and not on(disputed, w)]
    wrong += [w for w in asserters if on(disputed, w) and not on(asserted, w)]
    right = [w for w in deniers if on(disputed, w)] + [w for w in asserters if on(asserted, w)]
    if wrong and not right:
        point.asserted_by, point.disputed_by = disputed, asserted
        role = "deny" if wrong[0] in deniers else "assert"
        notes.append(f"sides swapped: the text has {wrong[0]} {role} it")


def _copied(claim: str, cited: Sequence[str]) -> bool:
    """Whether ``claim`` is one of the ``cited`` sentences, word for word (90 %)."""
    mine = words(claim)
    return any(
        len(mine) >= 0.9 * len(theirs) and _overlap(mine, theirs) >= 0.9
        for theirs in map(words, cited)
        if theirs
    )


def _overlap(a: Sequence[str], b: Sequence[str]) -> float:
    """The share of the longer one's words that the other has too."""
    x, y = set(a), set(b)
    return len(x & y) / max(len(x), len(y)) if x and y else 0.0


def repeats(a: ContestedPoint, b: ContestedPoint) -> bool:
    """Whether two points are one: the same cited sentences, or 80 % the same words."""
    ids_a = {e.sentence for e in a.evidence}
    if ids_a and ids_a == {e.sentence for e in b.evidence}:
        return True
    return _overlap(words(a.claim), words(b.claim)) >= REPEATED_WORDS


def _same_dispute(a: ContestedPoint, b: ContestedPoint) -> bool | None:
    """Whether ``b`` is ``a``'s dispute told again: they cite a sentence in common, and
    their parties agree, side by side (False) or the other way round (True: "Big
    Machine denies it" after "Swift accuses Big Machine", its sides swapped); None if
    they are two points. Parties agree when each pair of sides names a party in
    common, or is empty on both ("Swift v. Big Machine" and "Swift v. Braun", or
    "Swift says Braun bullied her" with no one disputing, are two points)."""
    if not {e.sentence for e in a.evidence if e.sentence} & {
        e.sentence for e in b.evidence if e.sentence
    }:
        return None
    if _agree(a.asserted_by, b.asserted_by) and _agree(a.disputed_by, b.disputed_by):
        return False
    if _agree(a.asserted_by, b.disputed_by) and _agree(a.disputed_by, b.asserted_by):
        return True
    return None


def _agree(x: list[str], y: list[str]) -> bool:
    """Both sides empty, or a party of one on the other."""
    return (not x and not y) or any(on(x, name) for name in y)


_REPORTS = ("denial", "denial_weak", "allegation", "criticism", "claiming", "outlet_voice",
            "commentary_labels")  # fmt: skip


def _not_a_point(point: ContestedPoint, cited: Sequence[str], lex: Lexicon) -> str | None:
    claim = point.claim.strip().strip("\"'“”«»„ ")
    if claim.endswith(("?", "？")):
        return "a question is not a contested point"
    if len(words(claim)) < 3 and not CJK.search(claim):
        return "a fragment is not a contested point"
    if _copied(claim, cited) and not any(matcher_of(lex).holds(text, _REPORTS) for text in cited):
        return "a copied sentence that reports no dispute, claim or view"
    return None


def settle(
    points: Sequence[ContestedPoint],
    index: SentenceIndex,
    lex: Lexicon,
    *,
    commentary: frozenset[int] = frozenset(),
    opinion_piece: bool = False,
    whole: bool = True,
) -> tuple[list[ContestedPoint], list[str]]:
    """``points`` with grounded, rightly-sided parties, one per dispute, and the
    warnings that say what changed (``commentary``: the ids of the outlet's own
    commentary, whose one-sided points are ``opinion``; ``opinion_piece``: the article
    is opinion, so a point nobody asserts is the author's; ``whole``: the points are
    the article's, not a part's, which the merge weighs again: then a ``one_sided``
    point that no one disputes and whose sentences report no one's claim or view, the
    article's own account, is dropped)."""
    warnings: list[str] = []
    kept: list[ContestedPoint] = []
    for number, original in enumerate(points, start=1):
        name = f"contested point {number}"
        point = _settled(original, index, lex, commentary, opinion_piece, name, warnings)
        if point is None:
            continue
        same = next((other for other in kept if repeats(other, point)), None)
        mirrored = False
        if same is None:
            same, mirrored = next(
                ((o, m) for o in kept if (m := _same_dispute(o, point)) is not None), (None, False)
            )
        if same is None:
            kept.append(point)
            continue
        if mirrored:  # the same dispute seen from the other side: the first one's sides
            point.asserted_by, point.disputed_by = point.disputed_by, point.asserted_by
        _merge_into(same, point)
        warnings.append(
            f"{name}: merged into the point before it ({same.claim[:60]!r}): the same dispute"
            + (", its sides the other way round" if mirrored else "")
        )
    if whole:
        kept = [p for p in kept if not _unreported(p, index, lex, warnings)]
    return kept, warnings


def _unreported(
    point: ContestedPoint, index: SentenceIndex, lex: Lexicon, warnings: list[str]
) -> bool:
    """Whether ``point`` is ``one_sided``, disputed by no one, and rests only on
    sentences that report no claim, dispute or view: the article telling what
    happened ("Swedish prosecutors dropped the investigation"), not a contested point."""
    if point.kind != "one_sided" or point.disputed_by:
        return False
    cited = [
        index.original(s) for e in point.evidence if e.sentence and (s := index.get(e.sentence))
    ]
    if not cited:
        return False
    matcher = matcher_of(lex)
    if point.asserted_by or any(matcher.holds(own_voice(t), _DISAGREEMENT) for t in cited):
        if any(matcher.holds(text, _REPORTS) for text in cited):
            return False
        why = "whose sentences report no one's claim or view"
    else:  # no one asserts it, and nothing there reports a disagreement
        why = "that no one in the text asserts, on sentences that report no disagreement"
    warnings.append(
        f"dropped: a one_sided point {why} (the article's own account): {point.claim[:80]!r}"
    )
    return True


_LISTS = ("asserted_by", "disputed_by", "evidence")


def _settled(
    original: ContestedPoint,
    index: SentenceIndex,
    lex: Lexicon,
    commentary: frozenset[int],
    opinion_piece: bool,
    name: str,
    warnings: list[str],
) -> ContestedPoint | None:
    """One point settled (steps 1-4 of the module's docstring); None if it is none."""
    point = original.model_copy(  # its lists are changed in place; its Evidence never
        update={side: list(getattr(original, side)) for side in _LISTS}
    )
    ids = [e.sentence for e in point.evidence if e.sentence is not None]
    cited = [index.original(s) for n in ids if (s := index.get(n)) is not None]
    previous = [index.original(s) if (s := index.get(n - 1)) else "" for n in ids if index.get(n)]
    why = _not_a_point(point, cited, lex)
    if why is not None:
        warnings.append(f"{name}: dropped, {why}: {point.claim[:80]!r}")
        return None
    context = Context(index, ids)
    for side in ("asserted_by", "disputed_by"):
        setattr(point, side, _grounded_names(getattr(point, side), side, context, lex, name,
                                             warnings))  # fmt: skip
    notes: list[str] = []
    _fix_sides(point, list(zip(cited, previous, strict=True)), lex, notes,
               (context.text, context.stems))  # fmt: skip
    warnings += [f"{name}: {note}" for note in notes]
    own = bool(ids) and set(ids) <= commentary
    if point.kind == "inconsistent" and _no_contrast(cited, lex):
        point.kind = "disputed" if point.disputed_by else "opinion" if own else "one_sided"
        warnings.append(
            f"{name}: one sentence with no contrast (but, although) is no self-contradiction; "
            f"kind is {point.kind}"
        )
    voiced = (
        (own and point.kind in ("opinion", "disputed", "one_sided"))
        or (opinion_piece and not point.asserted_by)
        or (point.kind == "opinion" and _in_outlet_voice(cited, lex))
    )
    if voiced and not any(is_own_voice(n, lex) for n in point.asserted_by):
        author = lex.author[0] if lex.author else "the author"
        point.asserted_by = [author, *point.asserted_by]
        warnings.append(f"{name}: asserted_by {author!r} added: the outlet's own voice")
    _unshown_disputers(point, cited, previous, lex, name, warnings)
    if point.kind == "disputed" and not point.disputed_by:
        point.kind = "opinion" if own else "one_sided"
        warnings.append(f"{name}: no one disputes it in the text; kind is {point.kind}")
    elif point.kind == "one_sided" and point.disputed_by:
        point.kind = "disputed"
        warnings.append(f"{name}: {point.disputed_by[0]} disputes it in the text; kind is disputed")
    return point


def _in_outlet_voice(cited: Sequence[str], lex: Lexicon) -> bool:
    """Whether a cited sentence gives the outlet's own view in its own words ("Но нам
    кажется, Поризкова слегка лукавит": "but it seems to us"), outside quotations: an
    opinion resting on it is the outlet's, whoever else the model named."""
    return any(matcher_of(lex).holds(own_voice(text), ("outlet_voice",)) for text in cited)


def _no_contrast(cited: Sequence[str], lex: Lexicon) -> bool:
    """Whether the point rests on one sentence with no contrast cue ("but", "although"):
    a self-contradiction needs two statements, or one that sets two things against each
    other. The 1.5B model called "The campaign … cost the state roughly $449,000." one."""
    return len(cited) == 1 and not matcher_of(lex).holds(cited[0], ("contrast",))


_DISAGREEMENT = ("denial", "allegation", "criticism")


def _unshown_disputers(
    point: ContestedPoint,
    cited: Sequence[str],
    previous: Sequence[str],
    lex: Lexicon,
    name: str,
    warnings: list[str],
) -> None:
    """``disputed_by`` cleared when neither the cited sentences nor the ones before them
    report any disagreement (a denial, an allegation, a criticism): a party the text
    names there ("House Democrats limited their inquiry to the Ukraine scandal":
    Ukraine) is not shown disputing anything. The outlet's own voice stays: an
    opinion piece's author rebuts in words no lexicon lists."""
    others = [n for n in point.disputed_by if not is_own_voice(n, lex)]
    if not others or not cited:
        return
    if any(matcher_of(lex).holds(text, _DISAGREEMENT) for text in (*cited, *previous) if text):
        return
    point.disputed_by = [n for n in point.disputed_by if n not in others]
    warnings.append(
        f"{name}: disputed_by {', '.join(others)} dropped: its sentences report no denial, "
        "allegation or criticism"
    )


def _grounded_names(
    names: list[str], side: str, context: Context, lex: Lexicon, name: str, warnings: list[str]
) -> list[str]:
    """``names`` the text gives near the point, each once; a warning for each dropped."""
    kept: list[str] = []
    for party in names:
        if not (is_own_voice(party, lex) or grounded(party, context.text, context.stems)):
            warnings.append(
                f"{name}: {side} {party!r} dropped: no party of that name near the "
                "sentences it cites"
            )
        elif not any(party.casefold() == n.casefold() for n in kept):
            kept.append(party)
    return kept


def _merge_into(into: ContestedPoint, point: ContestedPoint) -> None:
    """``point``'s evidence and parties added to ``into``, the point it repeats."""
    seen = {e.sentence for e in into.evidence}
    into.evidence += [e for e in point.evidence if e.sentence not in seen]
    into.evidence.sort(key=lambda e: (e.sentence or 0, e.start))
    for side in ("asserted_by", "disputed_by"):
        mine = getattr(into, side)
        mine += [n for n in getattr(point, side) if not any(same_party(n, m) for m in mine)]
