"""Gold annotations of the 12 sample articles, made by reading each one (see
fixtures/gold/README.md). Sentence ids are those of summarize.text.sentences.SentenceIndex;
``python scripts/gold_spec.py`` writes fixtures/gold/*.json with each cited sentence's
exact text, so the files stay checkable if the sentence splitter changes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from summarize.text.sentences import SentenceIndex  # noqa: E402

ANNOTATOR = "summarize developers, by reading the article (2026-12-01)"

# article -> (uncontested, opinion, contested points, quoted terms, commentary sentence ids)
# a point: (claim, kind, importance, [sentence ids])
SPEC: dict[str, dict] = {
    "xi-putin-ntv.txt": {
        "opinion": False,
        "points": [
            (
                "Ukraine reported violations of the ceasefire; Russia's defence ministry denied "
                "it and blamed Ukrainian forces.",
                "disputed",
                "core",
                [28, 29],
            ),
            (
                "Western countries accuse China of supporting Russia economically and "
                "diplomatically; China presents itself as neutral.",
                "disputed",
                "core",
                [23, 24],
            ),
            (
                "Xi says China stands by Russia against US 'harassment'.",
                "one_sided",
                "minor",
                [8, 14],
            ),
        ],
        "quoted_terms": [
            "harassment",
            "no-limits partnership",
            "stabilizing factor",
            "warm and fruitful",
            "productive",
            "Mutually Beneficial",
        ],
        "commentary": [15, 16, 39, 40, 41, 43, 45, 47, 49],
    },
    "xi-putin-fine-line.txt": {
        "opinion": False,
        "points": [
            (
                "Boulegue (Center for European Policy Analysis) says Russia needs China much more "
                "than the opposite.",
                "opinion",
                "core",
                [18],
            ),
            (
                "Experts caution the relationship is more nuanced than it appears, with "
                "competitive aspects under the camaraderie.",
                "opinion",
                "core",
                [8, 9],
            ),
        ],
        "quoted_terms": ["unbreakable", "friends of steel"],
        "commentary": [12, 16, 19],
    },
    "04a6711caa7c.txt": {
        "opinion": True,
        "points": [
            (
                "Trump said people are not buying impeachment; the author reads the election "
                "results and polls as the opposite.",
                "disputed",
                "core",
                [10, 29, 32],
            ),
            (
                "The author argues Democrats should widen and lengthen the impeachment inquiry.",
                "opinion",
                "core",
                [38, 44],
            ),
            (
                "The author says records of several calls were inappropriately placed on a "
                "classified server.",
                "one_sided",
                "minor",
                [38],
            ),
        ],
        "quoted_terms": [],
        "commentary": "all",
    },
    "0ec95c7261d1.txt": {
        "opinion": True,
        "points": [
            (
                "Ryu Hwa-young denies the relationship and accuses LJ of violence and threats; LJ "
                "rebuts her with evidence and calls it lies.",
                "disputed",
                "core",
                [16, 18, 20, 21],
            ),
            (
                "The columnist holds that publishing the photos without consent is an invasion of "
                "privacy and can be dating violence.",
                "opinion",
                "core",
                [5, 33],
            ),
            (
                "The columnist says the truth must be established rather than fought out in public "
                "opinion.",
                "opinion",
                "minor",
                [40, 42],
            ),
        ],
        "quoted_terms": ["리벤지", "데이트 폭력", "가택침입", "친한 여동생"],
        "commentary": "all",
    },
    "156770d676ce.txt": {
        "opinion": False,
        "points": [
            (
                "Critics ridiculed the 'Meth, we're on it' campaign; Governor Noem says the "
                "backlash "
                "shows it is working.",
                "disputed",
                "core",
                [2, 11],
            ),
        ],
        "quoted_terms": ["needs to be a dinner table conversation"],
        "commentary": [],
    },
    "2f42ef1d3ea0.txt": {
        "opinion": True,
        "points": [
            (
                "The author argues no neo-bank can solve the underlying problems that made them "
                "necessary.",
                "opinion",
                "core",
                [65, 67],
            ),
            (
                "Neo-banks say they are mission-driven and ease customers' financial 'pain'; the "
                "author disputes that they can.",
                "one_sided",
                "core",
                [10, 17],
            ),
            (
                "The author predicts neo-banks will go out of business or become less generous.",
                "opinion",
                "minor",
                [61, 63],
            ),
        ],
        "quoted_terms": ["financial health", "pain", "side hustle", "extra"],
        "commentary": "all",
    },
    "374ac9a59a85.txt": {
        "opinion": False,
        "points": [],
        "quoted_terms": ["end of an era"],
        "commentary": [],
    },
    "42aad16bde92.txt": {
        "opinion": False,
        "points": [
            (
                "Whether a crewed 2024 Moon mission is feasible is debated by lawmakers, after "
                "critical Inspector General reports.",
                "disputed",
                "core",
                [9, 10],
            ),
            (
                "NASA believes the water vapour is further evidence of life's ingredients on "
                "Europa.",
                "one_sided",
                "minor",
                [13],
            ),
        ],
        "quoted_terms": [],
        "commentary": [4],
    },
    "702d1da63b8e.txt": {
        "opinion": False,
        "points": [
            (
                "Trump says his tactics have created leverage and will be worth it; economists "
                "and businesses say they complicate and prolong the talks.",
                "disputed",
                "core",
                [29, 34, 41, 43],
            ),
            (
                "Whether the farm purchases Trump asked for are achievable: analysts cannot see "
                "how the US could supply them.",
                "disputed",
                "core",
                [55, 57],
            ),
            ("Trump says China wants a deal much more than he does.", "one_sided", "minor", [18]),
            (
                "China wants tariffs rolled back before signing; Trump has not offered to.",
                "disputed",
                "minor",
                [37, 60, 61],
            ),
        ],
        "quoted_terms": ["historic", "farm country"],
        "commentary": [11, 12, 51],
    },
    "70cb2d5bca75.txt": {
        "opinion": False,
        "points": [
            (
                "Swift accuses Big Machine of trying to stop her performing her old songs; Big "
                "Machine denies doing anything wrong.",
                "disputed",
                "core",
                [9, 17, 18],
            ),
            (
                "Swift accuses Scooter Braun of years of bullying; Braun denies being unfair to "
                "her.",
                "disputed",
                "core",
                [6, 8],
            ),
            (
                "Big Machine's statement suggests the matter is settled; Dick Clark Productions "
                "denies anything is definitely sorted.",
                "disputed",
                "minor",
                [21, 23],
            ),
        ],
        "quoted_terms": ["worst case scenario", "incessant, manipulative bullying"],
        "commentary": [],
    },
    "c7e39ac49fa1.txt": {
        "opinion": False,
        "points": [
            (
                "Assange was accused of rape and sexual assault; he denies the allegations.",
                "disputed",
                "core",
                [2, 26, 27],
            ),
            (
                "Wikileaks calls the US prosecution belligerent and a threat to the First "
                "Amendment.",
                "one_sided",
                "minor",
                [31],
            ),
        ],
        "quoted_terms": ["history of absconding"],
        "commentary": [17, 18],
    },
    "c82b3d1d540b.txt": {
        "opinion": False,
        "points": [
            (
                "The outlet thinks Porizkova is being a little disingenuous about fearing old age.",
                "opinion",
                "core",
                [17, 18],
            ),
            (
                "Porizkova says people who had cosmetic procedures lie about it.",
                "one_sided",
                "minor",
                [13, 14],
            ),
        ],
        "quoted_terms": [],
        "commentary": [17, 18, 19, 26],
    },
}

# who asserts and who disputes each point, in the order of SPEC's points (2026-12-03,
# by reading the point's sentences and their paragraph): "the author" for the outlet's
# or columnist's own view
SIDES: dict[str, list[tuple[list[str], list[str]]]] = {
    "04a6711caa7c.txt": [(["Trump"], ["the author"]), (["the author"], []), (["the author"], [])],
    "0ec95c7261d1.txt": [(["류화영"], ["엘제이"]), (["the author"], []), (["the author"], [])],
    "156770d676ce.txt": [(["Twitter users", "critics"], ["Noem"])],
    "2f42ef1d3ea0.txt": [
        (["the author"], []), (["neo-banks"], ["the author"]), (["the author"], [])
    ],
    "374ac9a59a85.txt": [],
    "42aad16bde92.txt": [
        (["NASA"], ["Office of the Inspector General", "US lawmakers"]), (["NASA"], [])
    ],
    "702d1da63b8e.txt": [
        (["Trump"], ["Eswar Prasad", "businesses"]),
        (["Trump"], ["Washington-based analysts"]),
        (["Trump"], []),
        (["the Chinese"], ["Trump"]),
    ],
    "70cb2d5bca75.txt": [
        (["Taylor Swift"], ["Big Machine"]),
        (["Taylor Swift"], ["Scooter Braun"]),
        (["Big Machine"], ["Dick Clark Productions"]),
    ],
    "c7e39ac49fa1.txt": [
        (["a woman", "Swedish prosecutors"], ["Assange"]),
        (["Wikileaks", "Kristinn Hrafnsson"], []),
    ],
    "c82b3d1d540b.txt": [(["the outlet"], []), (["Полина"], [])],
    "xi-putin-fine-line.txt": [(["Mathieu Boulegue"], []), (["experts", "Mathieu Boulegue"], [])],
    "xi-putin-ntv.txt": [
        (["Ukraine"], ["Russian Ministry of Defense"]),
        (["Western countries"], ["China"]),
        (["Xi Jinping"], []),
    ],
}  # fmt: skip

# the conflicts between the two reports of one event
CONFLICTS = [
    {
        "topic": "How many times Xi has visited Russia",
        "importance": "core",
        "versions": {"xi-putin-ntv.txt": [12], "xi-putin-fine-line.txt": [7]},
    },
]


def _span(index: SentenceIndex, sentence_id: int) -> dict:
    sentence = index.get(sentence_id)
    assert sentence is not None, sentence_id
    return {"sentence": sentence_id, "text": index.original(sentence)}


def main() -> int:
    articles = ROOT / "fixtures" / "articles"
    out = ROOT / "fixtures" / "gold"
    out.mkdir(exist_ok=True)
    indexes = {}
    for name, spec in SPEC.items():
        index = indexes[name] = SentenceIndex((articles / name).read_text(encoding="utf-8"))
        commentary = spec["commentary"]
        ids = [s.id for s in index.sentences] if commentary == "all" else commentary
        gold = {
            "article": f"fixtures/articles/{name}",
            "annotator": ANNOTATOR,
            "uncontested": not spec["points"],
            "opinion": spec["opinion"],
            "contested_points": [
                {
                    "claim": claim,
                    "kind": kind,
                    "asserted_by": asserted,
                    "disputed_by": disputed,
                    "importance": importance,
                    "evidence": [_span(index, n) for n in refs],
                }
                for (claim, kind, importance, refs), (asserted, disputed) in zip(
                    spec["points"], SIDES[name], strict=True
                )
            ],
            "quoted_terms": spec["quoted_terms"],
            "commentary": [_span(index, n) for n in ids],
        }
        path = out / f"{Path(name).stem}.json"
        path.write_text(json.dumps(gold, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    conflicts = []
    for conflict in CONFLICTS:
        versions = conflict["versions"]
        spans = {a: [_span(indexes[a], n) for n in ids] for a, ids in versions.items()}
        conflicts.append({**conflict, "versions": spans})
    path = out / "conflicts-xi-putin.json"
    path.write_text(json.dumps({"annotator": ANNOTATOR, "conflicts": conflicts},
                               ensure_ascii=False, indent=1) + "\n", encoding="utf-8")  # fmt: skip
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
