"""The English loaded words taken from a published subjectivity lexicon (#29).

    pip download --no-deps textblob==0.20.1 && unzip -o textblob-0.20.1-*.whl 'textblob/en/*'
    python scripts/lexicon_pattern.py textblob/en/en-sentiment.xml

The lexicon is Pattern's English adjective lexicon (Tom De Smedt, Walter Daelemans;
``en-sentiment.xml`` version 1.3, as shipped in TextBlob 0.20.1), under the Public
Domain Dedication and License (PDDL). Each adjective sense has a polarity (-1 to +1)
and a subjectivity (0 to 1). An adjective is taken when every one of its senses is
fully subjective (1.0) and strongly polar (|polarity| >= 0.8): words that judge in any
sense ("appalling", "brilliant", "ruthless"), not those that may also describe
("cold", "base", "rank"). Prints the words not already in the English lexicon's
``loaded`` list, one per line, to be added to it (all 67 were, unedited).
"""

from __future__ import annotations

import collections
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBJECTIVITY, POLARITY = 1.0, 0.8


def judging(path: Path) -> list[str]:
    senses: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
    for word in ET.parse(path).getroot().iter("word"):
        if word.get("pos") == "JJ":
            polarity, subjectivity = word.get("polarity", "0"), word.get("subjectivity", "0")
            senses[str(word.get("form")).lower()].append((float(polarity), float(subjectivity)))
    return sorted(
        form
        for form, found in senses.items()
        if " " not in form and "-" not in form
        and all(s >= SUBJECTIVITY and abs(p) >= POLARITY for p, s in found)
    )  # fmt: skip


def main() -> int:
    have = json.loads((ROOT / "src/summarize/answer/lexicons/en.json").read_text("utf-8"))
    for word in judging(Path(sys.argv[1])):
        if word not in have["loaded"]:
            print(word)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
