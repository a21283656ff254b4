"""Score article extraction on the saved sample pages, as the public benchmark does.

    python bench/extraction.py [--out bench/results/extraction.json]

Each page fixtures/articles/<id>.html has its true article body beside it in
<id>.txt. As in the article-extraction benchmark (scrapinghub), text is cut into
words (``\\w+``, lower-cased) and 4-word shingles; per page, precision is the share
of the extracted shingles found in the truth (counted with multiplicity) and recall
the share of the true shingles found in the extract; both are averaged over pages
and F1 is computed from the two means. Compared in the same run: trafilatura's
defaults (the baseline), trafilatura set for precision, and summarize's
``read_article``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
PAGES = sorted((ROOT / "fixtures/articles").glob("*.html"))
_WORD = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return Counter(tuple(words[i : i + n]) for i in range(max(len(words) - n + 1, 1)))


def page_score(extracted: str, truth: str) -> tuple[float, float]:
    """(precision, recall) of one page's extract."""
    got, want = shingles(extracted), shingles(truth)
    common = sum((got & want).values())
    return common / max(sum(got.values()), 1), common / max(sum(want.values()), 1)


def score(extract: Callable[[Path], str]) -> dict[str, object]:
    """Mean precision, mean recall and their F1 over the sample pages."""
    rows = {}
    started = time.perf_counter()
    for page in PAGES:
        precision, recall = page_score(extract(page), page.with_suffix(".txt").read_text())
        rows[page.stem] = {"precision": round(precision, 4), "recall": round(recall, 4)}
    seconds = time.perf_counter() - started
    p = statistics.fmean(r["precision"] for r in rows.values())
    r = statistics.fmean(r["recall"] for r in rows.values())
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "seconds_per_page": round(seconds / len(PAGES), 3),
        "pages": rows,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/extraction.json")
    args = parser.parse_args()

    import trafilatura

    from summarize.source.article import read_article

    def html(page: Path) -> str:
        return page.read_text(encoding="utf-8", errors="replace")

    results = {
        "trafilatura defaults (baseline)": score(lambda p: trafilatura.extract(html(p)) or ""),
        "trafilatura favor_precision": score(
            lambda p: trafilatura.extract(html(p), favor_precision=True) or ""
        ),
        "summarize.read_article": score(lambda p: read_article(p).text),
    }
    base = results["trafilatura defaults (baseline)"]["f1"]
    for name, row in results.items():
        print(
            f"{name:34} P {row['precision']:.4f}  R {row['recall']:.4f}  F1 {row['f1']:.4f}  "
            f"({row['f1'] / base:.3f}x baseline, {row['seconds_per_page']:.2f} s/page)"
        )
    print(f"{len(PAGES)} pages: " + ", ".join(p.stem for p in PAGES))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
