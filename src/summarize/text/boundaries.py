"""Where text may be cut: line breaks, sentence ends (abbreviation- and
initial-aware; CJK full stops need no space after them) and clause ends.

``SEAMS`` finds line and sentence boundaries in text; ``CLAUSE_BYTES``,
``CLAUSE_END`` and ``DASH_END`` find clause boundaries in token bytes.
"""

from __future__ import annotations

import re

_ABBREVIATIONS = [
    "Mr",
    "Mrs",
    "Ms",
    "Dr",
    "Prof",
    "Gov",
    "Sen",
    "Rep",
    "Gen",
    "Col",
    "Lt",
    "Sgt",
    "Capt",
    "Cmdr",
    "Adm",
    "Gen",
    "Maj",
    "Brig",
    "Rev",
    "Hon",
    "Pres",
    "Supt",
    "Dept",
    "Univ",
    "Assn",
    "Bros",
    "St",
    "Mt",
    "Ft",
    "Ave",
    "Blvd",
    "Rd",
    "Jr",
    "Sr",
    "Inc",
    "Ltd",
    "Co",
    "Corp",
    "Cos",
    "vs",
    "No",
    "Nos",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Sept",
    "Oct",
    "Nov",
    "Dec",
    "approx",
    "est",
    "cf",
    "al",
    "Fig",
]


def _not_abbreviation() -> str:
    """Lookbehinds (placed after a dot) that reject abbreviations and initials."""
    by_length: dict[int, list[str]] = {}
    for word in _ABBREVIATIONS:
        by_length.setdefault(len(word), []).append(word)
    # A single letter before the dot is an initial or part of "U.S.", "p.m.", "e.g.".
    parts = [r"(?<!\b[A-Za-zА-ЯЁ]\.)"]
    parts += [rf"(?<!\b(?:{'|'.join(sorted(words))})\.)" for _, words in sorted(by_length.items())]
    return "".join(parts)


SEAMS = re.compile(
    # (a cheap first-character test lets the engine skip most positions)
    r"(?=[\r\n.!?…。！？])(?:"
    # line breaks, with the blank lines after them (the cut goes after the last one)
    r"(?P<nl>(?:\r\n|\r|\n)(?:[^\S\r\n]*(?:\r\n|\r|\n))*)"
    # . ! ? ... and closing quotes, then spaces and a word that is not lower case
    r"|(?P<sent>(?:[!?…]|\." + _not_abbreviation() + r")[.!?…]*[\"'”’»)\]]*"
    r"(?=[^\S\r\n]+(?![a-zа-яё])\S))"
    # CJK full stops need no space after them
    r"|(?P<cjk>[。！？]+[」』”’）]*(?=[^\S\r\n]*\S)))"
)
CLAUSE_END = frozenset(b",;:)")
DASH_END = (b"\xe2\x80\x94", b"\xe2\x80\x93")  # em and en dash
CLAUSE_BYTES = re.compile(rb"(?:[,;:)]|\xe2\x80[\x93\x94]) ")
