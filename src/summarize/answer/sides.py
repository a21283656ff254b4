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
   names who asserts. The speaker is found by the cues of the lexicon
   (``summarize.answer.cues``), in each of its languages. It fills an empty side, and
   a point whose sides are the wrong way round is swapped, with a warning. A party on
   both sides stays only on the side the text gives it.
3. **The kind.** A ``disputed`` point with no disputing party left is ``one_sided``,
   or ``opinion`` when it rests on the outlet's own commentary.
4. **Not a point.** A question ("Must have been complicated conversations?"), a
   fragment (fewer than three words), or a copy of a cited sentence that reports no
   disagreement, claim or view is dropped, with a warning.
5. **Once.** Points citing the same sentences, or restating one proposition (80 % of
   their words the same), become one: the first, with the others' evidence and sides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from summarize.answer.cues import Lexicon, matcher_of, pattern
from summarize.answer.neutrality import own_voice

if TYPE_CHECKING:
    from summarize.schema import ContestedPoint
    from summarize.text.sentences import SentenceIndex

_WORD = re.compile(r"\w+(?:['’]\w+)?")
_CJK = re.compile(r"[\u3400-\u9fff\uac00-\ud7af]")
_SENTENCE_ID = re.compile(r"^\s*\[?S\d+\]?\s*$", re.IGNORECASE)
_CLAUSE_MARK = re.compile(r"[,;:()\[\]\"“”«»„—–]|\s-\s|[，。；：、「」『』]")
_STEM = 5  # letters a word is compared by
LEDE = 3  # the article's first sentences: they name its parties, for every point
NEAR = 2  # sentences either side of a cited one that may name its parties
REPEATED_WORDS = 0.8  # this share of both claims' words the same: one proposition


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that begin a clause without being its subject, end a subject (auxiliaries,
# adverbs, relative pronouns), or are no party at all; in each lexicon language.
_LEADING = _set(
    "but and however then also yet so meanwhile still instead later earlier while when "
    "although though since because after before as if now separately "
    "aber und doch jedoch dann auch mais et puis aussi cependant pero y también sin "
    "embargo но и однако а также затем 但 而 并 此前 另外 그러나 하지만 또한"
)
_STOPS = _set(
    "has have had is was were are be been being will would could can may might must "
    "shall should did does do who which that whom whose also still repeatedly "
    "consistently always flatly strongly publicly again later previously firmly "
    "categorically vehemently swiftly quickly immediately reportedly not never "
    "hat haben hatte hatten ist sind war waren wurde wurden wird habe welche welcher "
    "ont avait avaient est sont était qui que ha han había habían es son fue quien "
    "который которая которые уже также ранее не"
)
_PREPOSITIONS = _set(
    "despite in on at for with after before during from by to of about over under "
    "against amid among trotz nach vor mit malgré après avant pendant pese durante "
    "несмотря после до во в на"
)
_ARTICLES = _set("the a an der die das den dem des le la les l el los las un une")
_PRONOUNS = _set(
    "he she they it we i you this these those one someone him her them "
    "er sie es wir ich man il elle ils elles on nous je él ella ellos ellas nosotros yo "
    "он она они оно мы я 他 她 他们 她们 我们 我 它 그 그녀 그들 우리"
)
_PLACEHOLDERS = _set("x y z someone somebody unknown n/a none") | {"the article"}
_AFTER_CUES = frozenset(  # the speaker comes after these
    ("according to", "laut", "selon", "según", "по словам", "по данным", "согласно", "据",
     "根据", "에 따르면")
)  # fmt: skip

_KO_SUBJECT = re.compile(r"^(\S+?)(?:측은|측이|은|는|이|가)$")


def words(text: str) -> list[str]:
    """``text``'s words, folded."""
    return [w.casefold() for w in _WORD.findall(text)]


_POSSESSIVE_END = re.compile(r"['’]s$")


def _stems(text: str) -> set[str]:
    """The stems of ``text``'s words, a possessive's without its "'s" ("NASA's": NASA)."""
    return {_POSSESSIVE_END.sub("", w)[:_STEM] for w in words(text) if len(w) >= 2 or _CJK.match(w)}


def _significant(name: str, *, capitalised: bool = False) -> list[str]:
    """The words of ``name`` that can name a party (folded, a possessive without its
    "'s": "NASA's Administrator" names NASA and its administrator): three letters or
    more, a capitalised pair ("Xi", "UN"), or CJK; with ``capitalised``, only those
    written with a capital."""
    return [
        w.casefold()
        for w in (_POSSESSIVE_END.sub("", w) for w in _WORD.findall(name))
        if w.casefold() not in _ARTICLES
        and (len(w) >= 3 or _CJK.match(w) or (len(w) == 2 and w[0].isupper()))
        and (not capitalised or w[0].isupper())
    ]


def same_party(a: str, b: str) -> bool:
    """Whether two names name one party, leniently: the words of one (by their stems)
    are all in the other ("Pentagon" ~ "the Pentagon", "Swedish prosecutors" ~
    "Swedish Prosecution Authority"), or, in Chinese and Korean, one is inside the other."""
    if _CJK.search(a) or _CJK.search(b):
        bare_a, bare_b = re.sub(r"\s", "", a), re.sub(r"\s", "", b)
        if bare_a and bare_b and (bare_a in bare_b or bare_b in bare_a):
            return True
    # one speaks for the other too: "NASA's Administrator Jim Bridenstine" ~ "NASA"
    x, y = ({w[:_STEM] for w in _significant(name)} for name in (a, b))
    return bool(x and y) and (x <= y or y <= x)


def grounded(name: str, context: str, context_stems: set[str]) -> bool:
    """Whether ``name`` is a party ``context`` names (``context_stems``: its stems):
    its head word or its last proper name is there, by its stem ("Wikileaks co-founder
    Julian Assange" where the text says "Assange"; not "Syrian Observatory" where it
    says only "Syrian")."""
    if _SENTENCE_ID.match(name) or name.strip().casefold() in _PLACEHOLDERS:
        return False
    tokens = _significant(name)
    if not tokens:
        return False
    if _CJK.search(name):
        bare = re.sub(r"\s", "", context)
        if any(_CJK.match(t) and t[:6] in bare for t in tokens):
            return True
    # its head ("defence ministries", "Julian Assange") or its last proper name
    heads = [tokens[-1], *_significant(name, capitalised=True)[-1:]]
    if any(t[:_STEM] in context_stems for t in heads):
        return True
    return any(_spelled_out(a, context) for a in _WORD.findall(name) if _ACRONYM.match(a))


_ACRONYM = re.compile(r"^(?=(?:\w*[A-Z]){2})[A-Za-z]{2,6}$")  # MoD, UN, NATO: two capitals


def _spelled_out(acronym: str, context: str) -> bool:
    """Whether ``context`` has ``acronym`` itself, or words whose initials spell it
    ("MoD": "Ministry of Defense")."""
    letters = acronym.casefold()
    found = _WORD.findall(context)
    if acronym in found:
        return True
    initials = "".join(w[0].casefold() for w in found)
    return letters in initials and any(
        "".join(w[0].casefold() for w in found[i : i + len(letters)]) == letters
        and found[i][0].isupper()
        for i in range(len(found) - len(letters) + 1)
    )


def _subject(clause: str) -> str | None:
    """The subject that opens ``clause`` (the text before a cue): a name, or a short
    noun phrase; None for a pronoun, nothing, or a clause too long to be one."""
    tokens = clause.split()
    while tokens and tokens[0].casefold().strip(".") in _LEADING:
        tokens = tokens[1:]
    if not tokens or tokens[0].casefold() in _PREPOSITIONS:
        return None  # "Despite Mr. Trump's announcement": no subject opens it
    if re.search(r"[가-힣]", clause):  # Korean: the word marked as topic or subject
        marked = [m.group(1) for t in tokens if (m := _KO_SUBJECT.match(t))]
        return marked[0] if marked and len(marked[0]) >= 3 else None
    kept: list[str] = []
    for token in tokens:
        bare = token.strip(".'’").casefold()
        if bare in _STOPS or (bare.endswith("ly") and len(kept) >= 1 and not token[0].isupper()):
            break
        kept.append(token)
    while kept and kept[-1].casefold() in _TRAILING:  # "Le Kremlin a (démenti)"
        kept = kept[:-1]
    while kept and kept[0].casefold() in _ARTICLES:
        kept = kept[1:]
    kept = _name_run(kept)
    if not kept or len(kept) > 5:
        return None
    phrase = " ".join(kept).strip(" .'’")
    bare = re.split(r"['’]", phrase)[0] if len(kept) == 1 else phrase  # "I've", "She's"
    if bare.casefold() in _PRONOUNS or not _significant(phrase):
        return None
    return phrase


_TRAILING = frozenset({"a"})  # French "a" (has) before a participle cue


def _name_run(tokens: list[str]) -> list[str]:
    """A subject that opens with a name ends with it (one small word may join two
    capitalised ones: "Ministry of Defense", "Министерство обороны России"), or with
    the plural noun right after it: "Taylor Swift (posted on Twitter)", "Western
    countries (have)", "Russian and Syrian defence ministries"."""
    if not tokens or not tokens[0][:1].isupper() or _CJK.match(tokens[0]):
        return tokens
    end = 1
    while end < len(tokens) and (
        tokens[end][:1].isupper()
        or (end + 1 < len(tokens) and tokens[end + 1][:1].isupper())  # "Ministry of Defense"
    ):  # fmt: skip
        end += 1
    for look in range(end, min(end + 2, len(tokens))):
        if tokens[look][:1].islower() and tokens[look].casefold().endswith("s"):
            return tokens[: look + 1]
    return tokens[:end]


def _cjk_subject(before: str) -> str | None:
    tail = _CLAUSE_MARK.split(before)[-1].strip()
    for lead in sorted(_LEADING, key=len, reverse=True):
        if _CJK.match(lead) and tail.startswith(lead):
            tail = tail[len(lead) :]
    tail = tail[-10:]
    return None if not tail or tail in _PRONOUNS else tail


def speaker(sentence: str, cue_start: int, cue_end: int, cue: str) -> str | None:
    """Who the cue at ``sentence[cue_start:cue_end]`` is said of: the subject of its
    clause ("The Pentagon rejected"), the name after it ("according to X", "said
    X"), or the one a relative clause hangs on ("Assange, who denies")."""
    before, after = sentence[:cue_start], sentence[cue_end:]
    if cue.casefold() in _AFTER_CUES:
        return _subject(_CLAUSE_MARK.split(after)[0])
    if _CJK.search(cue) and not re.search(r"[가-힣]", cue):
        return _cjk_subject(before)
    pieces = _CLAUSE_MARK.split(before)
    clause = pieces[-1].strip()
    if clause.casefold() in ("who", "which", "qui", "que", "der", "die", "который", "которая"):
        clause = pieces[-2].strip() if len(pieces) > 1 else ""
    found = _subject(clause) if clause else None
    if found is None and not clause and len(pieces) > 1:  # "The company, X Ltd, denies"
        found = _subject(pieces[-2].strip())
    if found is None and not clause:  # '"…," the ministry said' / 'said X'
        found = _subject(_CLAUSE_MARK.split(after)[0])
    return found


def _passive(before: str) -> bool:
    tail = words(before[-24:])
    return bool(tail) and tail[-1] in {"was", "were", "been", "being", "is", "are", "wurde", "été"}


def roles(sentence: str, lex: Lexicon, before: str = "") -> tuple[str | None, str | None]:
    """(who disputes, who asserts) as ``sentence`` says, in its own voice (quotations
    blanked): the speaker of a denial disputes; the speaker of an accusation or a claim
    asserts, and the one accused ("X accused Y of …", "Y was accused of … by X") is on
    the disputing side. A pronoun ("He has always denied") is the subject the sentence
    ``before`` opens with. None for a side the sentence does not name."""
    sentence = own_voice(sentence)
    held = matcher_of(lex).holds(sentence, ("denial", "allegation", "claiming"))
    for kind in ("denial", "allegation", "claiming"):
        if kind not in held:
            continue
        for cue in getattr(lex, kind):
            match = pattern(cue).search(sentence)
            if match is None:
                continue
            who = speaker(sentence, match.start(), match.end(), match.group())
            if who is None and _opens_with_pronoun(sentence[: match.start()]) and before:
                who = _subject(_CLAUSE_MARK.split(own_voice(before))[0])
            if kind == "denial" and who is not None:
                return who, None
            if kind == "allegation":
                after = sentence[match.end() :]
                if _passive(sentence[: match.start()]):  # "Y was accused of … by X"
                    return who, _agent(after)
                if who is not None or _accused(after):
                    return _accused(after), who
            elif who is not None:
                return None, who
    return None, None


_BY = re.compile(r"\b(?:by|von|par|por|от)\s+(.+)", re.IGNORECASE)
_PHRASE_END = re.compile(
    r"\s(?:and|or|following|after|before|during|in|on|at|for|of|over|with|und|et|y|и|"
    r"nach|après|tras|после)\s",
    re.IGNORECASE,
)


def _agent(after: str) -> str | None:
    """The "by X" of a passive accusation."""
    match = _BY.search(_CLAUSE_MARK.split(after)[0])
    return _subject(_PHRASE_END.split(match.group(1))[0]) if match else None


_OBJECT = re.compile(r"^\s*((?:\S+\s+){0,4}?\S+)\s+(?:of|over|for|de|d'|в|wegen)\s", re.IGNORECASE)


def _accused(after: str) -> str | None:
    """The one an accusation is made against, in its frame: "accused China of …",
    "accusing Big Machine of …", "accusé le gouvernement de …" (not "accused US
    unilateralism and …", an adjective)."""
    match = _OBJECT.match(_CLAUSE_MARK.split(after)[0])
    return _subject(match.group(1)) if match else None


def _own_voice(name: str, lex: Lexicon) -> bool:
    """Whether ``name`` names the outlet or the author ("the author", "the outlet")."""
    folded = name.strip().casefold()
    return any(folded == cue.casefold() for cue in (*lex.author, *lex.outlet))


def _opens_with_pronoun(clause: str) -> bool:
    first = clause.split()[:1]
    return bool(first) and first[0].casefold() in _PRONOUNS


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
                found = stems[sentence.id] = _stems(index.original(sentence))
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
    asserters = [a for _, a in found if a]
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


_REPORTS = ("denial", "denial_weak", "allegation", "criticism", "claiming", "outlet_voice",
            "commentary_labels")  # fmt: skip


def _not_a_point(point: ContestedPoint, cited: Sequence[str], lex: Lexicon) -> str | None:
    claim = point.claim.strip().strip("\"'“”«»„ ")
    if claim.endswith(("?", "？")):
        return "a question is not a contested point"
    if len(words(claim)) < 3 and not _CJK.search(claim):
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
) -> tuple[list[ContestedPoint], list[str]]:
    """``points`` with grounded, rightly-sided parties, one per dispute, and the
    warnings that say what changed (``commentary``: the ids of the outlet's own
    commentary, whose one-sided points are ``opinion``; ``opinion_piece``: the article
    is opinion, so a point nobody asserts is the author's)."""
    warnings: list[str] = []
    kept: list[ContestedPoint] = []
    for number, original in enumerate(points, start=1):
        name = f"contested point {number}"
        point = _settled(original, index, lex, commentary, opinion_piece, name, warnings)
        if point is None:
            continue
        same = next((other for other in kept if repeats(other, point)), None)
        if same is None:
            kept.append(point)
            continue
        _merge_into(same, point)
        warnings.append(
            f"{name}: merged into the point before it ({same.claim[:60]!r}): the same dispute"
        )
    return kept, warnings


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
    voiced = (own and point.kind in ("opinion", "disputed", "one_sided")) or (
        opinion_piece and not point.asserted_by
    )
    if voiced and not any(_own_voice(n, lex) for n in point.asserted_by):
        author = lex.author[0] if lex.author else "the author"
        point.asserted_by = [author, *point.asserted_by]
        warnings.append(f"{name}: asserted_by {author!r} added: the outlet's own voice")
    if point.kind == "disputed" and not point.disputed_by:
        point.kind = "opinion" if own else "one_sided"
        warnings.append(f"{name}: no one disputes it in the text; kind is {point.kind}")
    return point


def _grounded_names(
    names: list[str], side: str, context: Context, lex: Lexicon, name: str, warnings: list[str]
) -> list[str]:
    """``names`` the text gives near the point, each once; a warning for each dropped."""
    kept: list[str] = []
    for party in names:
        if not (_own_voice(party, lex) or grounded(party, context.text, context.stems)):
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
