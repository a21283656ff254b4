"""Parties in the text: whether a name is one the text gives, whether two names are
one party, and who a sentence says disputes or asserts (``roles``).

Read by ``summarize.answer.sides``, which settles each contested point's sides with
it. Every rule is in each lexicon language: the cues come from the lexicon
(``summarize.answer.cues``), the small words of a clause (articles, auxiliaries,
pronouns, prepositions) are listed here.
"""

from __future__ import annotations

import functools
import re

from summarize.answer.cues import Lexicon, matcher_of, pattern
from summarize.answer.neutrality import own_voice

_WORD = re.compile(r"\w+(?:['’]\w+)?")
CJK = re.compile(r"[\u3400-\u9fff\uac00-\ud7af]")
# sentence ids, alone or listed: "S18", "[S3]", "S.13 and S.24", "S4, S5"
_SENTENCE_ID = re.compile(
    r"^\s*(?:\[?S\.?\s?\d+\]?(?:\s*(?:,|;|&|and|und|et|y|и)\s*)?)+\s*$", re.IGNORECASE
)
# a party's name has at most this many words ("Mathieu Boulegue from the Center for
# European Policy Analysis": 9); more is a sentence of the text
NAME_WORDS = 14
_CLAUSE_MARK = re.compile(r"[,;:()\[\]\"“”«»„—–]|\s-\s|[，。；：、「」『』]")
_STEM = 5  # letters a word is compared by


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# the verbs that make a "name" a clause, in each lexicon language
_AUXILIARIES = _set(
    "has have had is was were are will would did does "
    "hat haben hatte hatten ist sind war waren wurde wurden wird "
    "ont avait avaient sont était ha han había habían fue"
)


# Words that begin a clause without being its subject, end a subject (auxiliaries,
# adverbs, relative pronouns), or are no party at all; in each lexicon language.
_LEADING = _set(
    "but and however then also yet so meanwhile still instead later earlier while when "
    "although though since because after before as if now separately given that "
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
    "который которая которые уже также ранее не "
    # a reporting verb ends a subject too ("The article says US unilateralism …")
    "says said tells told argues argued writes wrote sagt sagte erklärte dit déclare "
    "dice dijo declaró говорит сказал сказала заявил заявила заявили"
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


def text_stems(text: str) -> set[str]:
    """The stems of ``text``'s words, a possessive's without its "'s" ("NASA's": NASA)."""
    return {_POSSESSIVE_END.sub("", w)[:_STEM] for w in words(text) if len(w) >= 2 or CJK.match(w)}


def _significant(name: str, *, capitalised: bool = False) -> list[str]:
    """The words of ``name`` that can name a party (folded, a possessive without its
    "'s": "NASA's Administrator" names NASA and its administrator): three letters or
    more, a capitalised pair ("Xi", "UN"), or CJK; with ``capitalised``, only those
    written with a capital."""
    return [
        w.casefold()
        for w in (_POSSESSIVE_END.sub("", w) for w in _WORD.findall(name))
        if w.casefold() not in _ARTICLES
        and (len(w) >= 3 or CJK.match(w) or (len(w) == 2 and w[0].isupper()))
        and (not capitalised or w[0].isupper())
    ]


def same_party(a: str, b: str) -> bool:
    """Whether two names name one party, leniently: the words of one (by their stems)
    are all in the other ("Pentagon" ~ "the Pentagon", "Swedish prosecutors" ~
    "Swedish Prosecution Authority"), or, in Chinese and Korean, one is inside the other."""
    if CJK.search(a) or CJK.search(b):
        bare_a, bare_b = re.sub(r"\s", "", a), re.sub(r"\s", "", b)
        if bare_a and bare_b and (bare_a in bare_b or bare_b in bare_a):
            return True
    # one speaks for the other too: "NASA's Administrator Jim Bridenstine" ~ "NASA"
    x, y = _name_stems(a), _name_stems(b)
    return bool(x and y) and (x <= y or y <= x)


@functools.lru_cache(maxsize=4096)
def _name_stems(name: str) -> frozenset[str]:
    """The stems of ``name``'s significant words: a point's names are compared with
    every other name of the brief, so each is worked out once."""
    return frozenset(w[:_STEM] for w in _significant(name))


def grounded(name: str, context: str, context_stems: set[str]) -> bool:
    """Whether ``name`` is a party ``context`` names (``context_stems``: its stems):
    its head word or its last proper name is there, by its stem ("Wikileaks co-founder
    Julian Assange" where the text says "Assange"; not "Syrian Observatory" where it
    says only "Syrian")."""
    if _SENTENCE_ID.match(name) or name.strip().casefold() in _PLACEHOLDERS:
        return False
    if len(name.split()) > NAME_WORDS or _AUXILIARIES.intersection(words(name)):
        return False  # a clause, not a name: "The European Union has criticized …"
    tokens = _significant(name)
    if not tokens:
        return False
    if CJK.search(name):
        bare = re.sub(r"\s", "", context)
        if any(CJK.match(t) and t[:6] in bare for t in tokens):
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
    if re.search(r"[가-힣]", clause):  # Korean: the word marked as topic or subject,
        marked = []  # or followed by 역시 ("also": "엘제이 역시 반박하고")
        for i, token in enumerate(tokens):
            if tokens[i + 1 : i + 2] == ["역시"]:
                marked.append(token)
            elif m := _KO_SUBJECT.match(token):
                marked.append(m.group(1))
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
    opening = re.split(r"['’]", kept[0])
    if len(opening) > 1 and opening[0].casefold() in _PRONOUNS:
        return None  # "they've put out another statement": a clause, not a name
    if bare.casefold() in _PRONOUNS or not _significant(phrase) or not namelike(phrase):
        return None  # a pronoun, or a lone adverb left of a comma ("…, particularly accused")
    return phrase


_TRAILING = frozenset({"a"})  # French "a" (has) before a participle cue


def _name_run(tokens: list[str]) -> list[str]:
    """A subject that opens with a name ends with it (one small word may join two
    capitalised ones: "Ministry of Defense", "Министерство обороны России"), or with
    the plural noun right after it: "Taylor Swift (posted on Twitter)", "Western
    countries (have)", "Russian and Syrian defence ministries"."""
    if not tokens or not tokens[0][:1].isupper() or CJK.match(tokens[0]):
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
        if CJK.match(lead) and tail.startswith(lead):
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
    if CJK.search(cue) and not re.search(r"[가-힣]", cue):
        return _cjk_subject(before)
    pieces = _CLAUSE_MARK.split(before)
    clause = pieces[-1].strip()
    if clause.casefold() in ("who", "which", "qui", "que", "der", "die", "который", "которая"):
        clause = pieces[-2].strip() if len(pieces) > 1 else ""
    found = _nearest_subject(clause) if clause else None  # "…, as one CEO told me"
    if found is None and not clause and len(pieces) > 1:  # "The company, X Ltd, denies"
        found = _subject(pieces[-2].strip())
    if found is None and not clause:  # '"…," the ministry said' / 'said X'
        found = _subject(_CLAUSE_MARK.split(after)[0])
    return found


_PASSIVE = frozenset({"was", "were", "been", "being", "is", "are", "wurde", "wurden", "été", "fue"})


def _passive(before: str) -> bool:
    tail = words(before[-24:])
    return bool(tail) and tail[-1] in _PASSIVE


def roles(sentence: str, lex: Lexicon, before: str = "") -> tuple[str | None, str | None]:
    """(who disputes, who asserts) as ``sentence`` says, in its own voice (quotations
    blanked): the speaker of a denial disputes; the speaker of an accusation or a claim
    asserts, and the one accused ("X accused Y of …", "Y was accused of … by X") is on
    the disputing side, as is the one who questions or doubts it ("as US lawmakers are
    debating … whether it is feasible"). A pronoun ("He has always denied") is the
    subject the sentence ``before`` opens with. None for a side the sentence does not
    name."""
    sentence = own_voice(sentence)
    held = matcher_of(lex).holds(
        sentence, ("denial", "allegation", "claiming", "criticism", "doubting")
    )
    if "criticism" in held and (answered := _rebuttal(sentence, lex, held)) is not None:
        return answered
    for kind in ("denial", "allegation", "claiming"):
        if kind not in held:
            continue
        for cue in getattr(lex, kind):
            match = pattern(cue).search(sentence)
            if match is None or _in_a_name(sentence, match.start(), cue):
                continue
            who = speaker(sentence, match.start(), match.end(), match.group())
            if who is None and _opens_with_pronoun(sentence[: match.start()]) and before:
                who = _subject(_CLAUSE_MARK.split(own_voice(before))[0])
            elif who is None and kind == "denial" and before and CJK.search(sentence):
                who = roles(before, lex)[0]  # a dropped subject: the denier before goes on
            if kind == "denial" and who is not None:
                return who, _claimant(sentence, lex, who)
            if kind == "allegation":
                after = sentence[match.end() :]
                if _passive(sentence[: match.start()]):  # "Y was accused of … by X"
                    return who, _agent(after)
                if who is not None or _accused(after):
                    return _accused(after), who
            elif who is not None:
                return None, who
    if "doubting" in held and (doubter := _doubter(sentence, lex)) is not None:
        return doubter, None
    return None, None


def _in_a_name(sentence: str, start: int, cue: str) -> bool:
    """Whether a cue written in lower case stands capitalised inside the sentence: a
    word of a name ("the United States"), not the verb ("states")."""
    before = sentence[:start].rstrip()
    return (
        cue[:1].islower()
        and sentence[start : start + 1].isupper()
        and bool(before)
        and not before.endswith((".", ":", "!", "?", '"', "“", "«", "„", "(", "—"))
    )


# words that open a clause inside another ("… come as US lawmakers are debating"), in
# each lexicon language; not "and", which joins two subjects ("Kyiv and Moscow denied")
_OPENERS = _set(
    "as while when whereas although though since because after before if once until "
    "unless but yet however als während wenn weil obwohl nachdem bevor aber doch jedoch "
    "comme quand lorsque tandis puisque mais mientras cuando porque aunque pero como "
    "пока когда потому хотя но как поскольку"
)


# Chinese: the cue's subject is the one questioned, not the questioner ("受到质疑")
_CJK_PASSIVE = ("受到", "遭到", "被", "引发", "引起", "面临", "面对")


def _doubter(sentence: str, lex: Lexicon) -> str | None:
    """Who ``sentence`` has questioning or doubting what it tells ("… as US lawmakers
    are debating … whether a crewed mission is even feasible": US lawmakers): the
    subject right before the verb of a ``doubting`` cue, or the "by X" of a passive
    ("was questioned by unions"). Not a critic: who "criticised" the plan asserts the
    criticism. None where no such verb has a subject the sentence names."""
    found = [(m, cue) for cue in lex.doubting if (m := pattern(cue).search(sentence))]
    # the earliest first: "mettent en doute", not the "doute" inside it
    for match, cue in sorted(found, key=lambda pair: (pair[0].start(), -pair[0].end())):
        before = sentence[: match.start()]
        clause = _CLAUSE_MARK.split(before)[-1]
        if CJK.search(cue) and not re.search(r"[가-힣]", cue):
            who = None if before.rstrip().endswith(_CJK_PASSIVE) else _cjk_subject(before)
        elif _PASSIVE & {w.casefold() for w in words(clause)} and not match.group().endswith(
            "ing"  # "are debating" is no passive
        ):  # "was criticised by unions", "wurde von Gewerkschaften kritisiert"
            who = _agent(sentence[match.end() :]) or _agent(clause)
        else:
            who = _nearest_subject(clause)
        if who is not None:
            return who
    return None


def _nearest_subject(clause: str) -> str | None:
    """The subject right before a verb: the one after the last word that opens a clause
    within ``clause`` ("The reports come as US lawmakers are": US lawmakers; "…, as
    one neo-bank CEO told me": one neo-bank CEO), else the clause's own."""
    if re.search(r"[가-힣]", clause):
        return _subject(clause)
    tokens = clause.split()
    while tokens and tokens[-1].casefold() in _STOPS | _LEADING:  # "are", "and" before it
        tokens.pop()
    start = max((i + 1 for i, t in enumerate(tokens) if t.casefold() in _OPENERS), default=0)
    found = _subject(" ".join(tokens[start:])) if 1 < start < len(tokens) else None
    return found or _subject(clause)


# "denied Ryu's claims", "류화영의 폭로에 대해 반박": whose claim a denial answers
_OWNER_EN = re.compile(r"((?:[A-Z][\w.-]*\s+){0,3}[A-Z][\w.-]*)['’]s\s+(?:[a-z]+\s+)?$")
_OWNER_KO = re.compile(r"([가-힣A-Za-z]{2,})의\s+$")
_LEADING_ARTICLE = re.compile(r"^(?:(?:The|A|An)(?:\s+|$))+")


def _claimant(sentence: str, lex: Lexicon, denier: str) -> str | None:
    """Who made the claim ``denier`` denies, where the sentence gives it as the owner
    of an accusation or claim ("The Pentagon rejected Russia's accusations": Russia);
    None where it does not."""
    for cue in lex.allegation:
        for match in pattern(cue).finditer(sentence):
            before = sentence[: match.start()]
            owner = _OWNER_EN.search(before) or _OWNER_KO.search(before)
            if owner is None:
                continue
            name = _LEADING_ARTICLE.sub("", owner.group(1))
            if name and namelike(name) and not same_party(name, denier):
                return name
    return None


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


# "…, but X …": the clause that answers a criticism, in each lexicon language
_CONTRAST = re.compile(
    r"[,;]\s*(?:but|yet|however|aber|doch|jedoch|mais|pero|sin embargo|но|однако),?\s+",
    re.IGNORECASE,
)
# where a criticism comes from: "drew criticism from unions", "ridicule across Twitter"
_SOURCE = re.compile(
    r"\b(?:from|by|across|among|von|seitens|par|de la part de|por|de parte de|от|со стороны)"
    r"\s+(.+)",
    re.IGNORECASE,
)


def _rebuttal(sentence: str, lex: Lexicon, held: set[str]) -> tuple[str, str | None] | None:
    """(who answers, who criticises) when ``sentence`` reports a criticism and then, in
    a clause of contrast, the one who answers it: "The tagline drew criticism and
    ridicule across Twitter, but Noem cited the backlash as proof …" (Noem disputes
    the criticism; Twitter, where it came from, asserts it). None for any other shape."""
    cues = [m for c in lex.criticism if (m := pattern(c).search(sentence))]
    cue = min(cues, key=lambda m: m.start()) if cues else None  # the first in the sentence
    contrast = _CONTRAST.search(sentence, cue.end()) if cue else None
    if cue is None or contrast is None:
        return None
    answerer = _answerer(_CLAUSE_MARK.split(sentence[contrast.end() :])[0], lex, held)
    if answerer is None:
        return None
    before = _CLAUSE_MARK.split(sentence[: cue.start()])[-1]
    passive = bool(_PASSIVE & {w.casefold() for w in words(before)})
    source = _SOURCE.search(sentence[cue.end() : contrast.start()])
    if source is None and passive:
        source = _SOURCE.search(before)  # "Der Plan wurde von Gewerkschaften kritisiert"
    critic = _subject(_PHRASE_END.split(source.group(1))[0]) if source else None
    if critic is None and not passive:
        critic = _subject(before.strip())  # "Unions criticised the plan, but …"
    return answerer, critic if critic and not same_party(critic, answerer) else None


def _answerer(clause: str, lex: Lexicon, held: set[str]) -> str | None:
    """Who opens the clause that answers a criticism: the subject of its denial or
    claim ("but the ministry rejected it"), else a name ("but Noem cited …")."""
    for kind in ("denial", "claiming"):
        said = next((m for c in getattr(lex, kind) if (m := pattern(c).search(clause))), None)
        if kind in held and said is not None:
            return _subject(clause[: said.start()])
    tokens = [t for t in clause.split() if t.casefold() not in _ARTICLES]
    named = [t for t in _name_run(tokens) if t[:1].isupper()]
    return _subject(" ".join(named)) if named and named == tokens[: len(named)] else None


_OBJECT = re.compile(r"^\s*((?:\S+\s+){0,4}?\S+)\s+(?:of|over|for|de|d'|в|wegen)\s", re.IGNORECASE)


def _accused(after: str) -> str | None:
    """The one an accusation is made against, in its frame: "accused China of …",
    "accusing Big Machine of …", "accusé le gouvernement de …" (not "accused US
    unilateralism and …", an adjective; not "his alleged role in the release of …", a
    phrase with a preposition in it)."""
    match = _OBJECT.match(_CLAUSE_MARK.split(after)[0])
    if match is None or any(w in _PREPOSITIONS for w in words(match.group(1))):
        return None
    return _subject(match.group(1))


def as_written(name: str, sentence: str) -> str:
    """``name`` with the article ``sentence`` puts before it, in lower case ("according
    to the Sioux Falls Argus Leader": "the Sioux Falls Argus Leader")."""
    match = re.search(r"(?<!\w)(\w+)\s+" + re.escape(name), sentence)
    if match and match.group(1).casefold() in _ARTICLES:
        return f"{match.group(1).casefold()} {name}"
    return name


def is_own_voice(name: str, lex: Lexicon) -> bool:
    """Whether ``name`` names the outlet or the author ("the author", "the outlet")."""
    folded = name.strip().casefold()
    return any(folded == cue.casefold() for cue in (*lex.author, *lex.outlet))


def namelike(name: str) -> bool:
    """Whether ``name`` can be a party's name: no pronoun in it ("saying he"), and not
    a lone adverb ("…, particularly accused …"). "One" before a noun is a number, not
    the pronoun ("as one neo-bank CEO told me")."""
    named = words(name)
    if named[:1] == ["one"] and len(named) > 1:
        named = named[1:]
    if any(w in _PRONOUNS for w in named):
        return False
    return not (name.islower() and " " not in name and name.endswith("ly"))


def _opens_with_pronoun(clause: str) -> bool:
    first = clause.split()[:1]
    return bool(first) and first[0].casefold() in _PRONOUNS
