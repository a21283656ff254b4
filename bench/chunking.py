"""Benchmark summarize.text.chunking against other chunkers on the same texts, in one process.

    python bench/chunking.py [--quick] [--out bench/results/chunking.json]

Texts are generated (seeded) from the sample articles in fixtures/articles/:
news-like paragraphs at 10k, 100k and 1M tokens; long paragraphs of 20-120
sentences; mixed Chinese (generated from a fixed character list) and Russian; and
1M tokens with no punctuation or line breaks. Each chunker runs at 512 and 2048
tokens (o200k_base). Every chunk is re-counted on its own text with tiktoken, so a
chunker that counts differently cannot hide limit violations.

Reported per run: tokens/s, ratio to semchunk, limit violations, share of chunk
ends on a sentence or paragraph boundary, fill (mean tokens / limit), peak Python
memory (tracemalloc; tiktoken's Rust buffers are not included), and whether the
chunks cover the text. Peers that are not installed are skipped (semchunk,
langchain-text-splitters and chonkie: ``pip install semchunk
langchain-text-splitters chonkie``).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import random
import re
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:  # a baseline's src may come first (bench/baseline.py)
    sys.path.append(str(ROOT / "src"))

try:
    from summarize.text.chunking import chunk_text
    from summarize.text.tokens import get_encoding
except ImportError:  # the layout before #31
    from summarize.chunking import chunk_text  # type: ignore[import-not-found,no-redef]
    from summarize.tokens import get_encoding  # type: ignore[import-not-found,no-redef]

ENC = get_encoding("o200k_base")  # also puts the encoding where tiktoken looks for it
Spans = list[tuple[int, int]]
_SENTENCE = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[A-ZА-ЯЁ\"“])")
_CHINESE = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工"
    "也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物"
    "现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表"
)


def _sentences() -> list[str]:
    out = []
    for path in sorted((ROOT / "fixtures/articles").glob("*.txt")):
        for para in path.read_text(encoding="utf-8").split("\n"):
            out += [s.strip() for s in _SENTENCE.split(para) if len(s.strip()) > 20]
    return out


def _chinese_sentence(rng: random.Random) -> str:
    words = [
        "".join(rng.choice(_CHINESE) for _ in range(rng.randint(1, 3)))
        for _ in range(rng.randint(8, 30))
    ]
    for _ in range(rng.randint(0, 2)):
        words.insert(rng.randrange(len(words)), "，")
    return "".join(words) + rng.choice("。。。！？")


def _build(tokens: int, paragraph: Callable[[], str]) -> str:
    parts, total = [], 0
    while total < tokens:
        para = paragraph()
        parts.append(para)
        total += len(ENC.encode_ordinary(para)) + 1
    return "\n\n".join(parts)


def texts(quick: bool) -> dict[str, str]:
    rng = random.Random(20261122)
    sents = _sentences()
    russian = [s for s in sents if re.search("[а-яА-Я]", s)]

    def news() -> str:
        return " ".join(rng.choice(sents) for _ in range(rng.randint(1, 6)))

    def long_paragraph() -> str:
        return " ".join(rng.choice(sents) for _ in range(rng.randint(20, 120)))

    def mixed() -> str:
        if rng.random() < 0.5:
            return "".join(_chinese_sentence(rng) for _ in range(rng.randint(2, 8)))
        return " ".join(rng.choice(russian) for _ in range(rng.randint(2, 8)))

    big = 100_000 if quick else 1_000_000
    out = {
        "news-10k": _build(10_000, news),
        "news-100k": _build(100_000, news),
        f"news-{big // 1000}k": _build(big, news),
        "long-paragraphs-100k": _build(100_000, long_paragraph),
        "zh-ru-100k": _build(100_000, mixed),
    }
    words = re.sub(r"[^\w\s]", " ", " ".join(sents)).split()
    flat, total = [], 0
    while total < big:
        batch = [rng.choice(words) for _ in range(10_000)]
        flat += batch
        total += len(ENC.encode_ordinary(" ".join(batch)))
    out[f"no-punctuation-{big // 1000}k"] = " ".join(flat)
    return out


# --- chunkers: each returns (start, end) spans in the text --------------------------


def ours(text: str, limit: int) -> Spans:
    return [(c.start, c.end) for c in chunk_text(text, limit, encoding=ENC)]


def semchunk_chunker(limit: int) -> Callable[[str, int], Spans] | None:
    try:
        import semchunk
    except ImportError:
        return None

    def run(text: str, _limit: int) -> Spans:
        # A new chunker per run: semchunk memoises counts, and a repeat on the same
        # text would time its cache, not its chunking.
        chunker = semchunk.chunkerify(ENC, limit)
        _, offsets = chunker(text, offsets=True)
        return list(offsets)

    return run


def langchain_chunker(limit: int) -> Callable[[str, int], Spans] | None:
    try:
        from langchain_text_splitters import RecursiveCharacterTextSplitter
    except ImportError:
        return None

    def run(text: str, _limit: int) -> Spans:
        splitter = RecursiveCharacterTextSplitter.from_tiktoken_encoder(
            encoding_name="o200k_base", chunk_size=limit, chunk_overlap=0, add_start_index=True
        )
        docs = splitter.create_documents([text])
        return [
            (d.metadata["start_index"], d.metadata["start_index"] + len(d.page_content))
            for d in docs
        ]

    return run


def chonkie_chunker(limit: int) -> Callable[[str, int], Spans] | None:
    try:
        from chonkie import RecursiveChunker
    except ImportError:
        return None

    def run(text: str, _limit: int) -> Spans:
        chunker = RecursiveChunker(tokenizer=ENC, chunk_size=limit)
        return [(c.start_index, c.end_index) for c in chunker.chunk(text)]

    return run


# --- metrics ------------------------------------------------------------------------

_END = re.compile(r"[.!?…。！？][\"'”’»)\]」』）]*\s*$")


def on_boundary(text: str, end: int) -> bool:
    """A chunk end is aligned if a sentence ends there or a line break follows."""
    if end >= len(text):
        return True
    before = text[max(0, end - 8) : end]
    after = text[end : end + 8]
    return bool(_END.search(before)) or "\n" in before[-1:] or after.lstrip(" \t")[:1] in "\r\n"


def measure(name: str, run: Callable[[str, int], Spans], text: str, limit: int) -> dict:
    tokens = len(ENC.encode_ordinary(text))
    # One traced run for memory (tracemalloc slows code down), then untraced timings.
    gc.collect()
    tracemalloc.start()
    spans = run(text, limit)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    times = []
    for _ in range(1 if tokens >= 500_000 else 3):
        gc.collect()
        started = time.perf_counter()
        run(text, limit)
        times.append(time.perf_counter() - started)
    counts = [len(ENC.encode_ordinary(text[a:b])) for a, b in spans]
    inner_ends = [b for _, b in spans[:-1]]
    covered = sorted(spans) == spans and all(
        text[b:a2].strip() == "" for (_, b), (a2, _) in itertools.pairwise(spans)
    )
    seconds = statistics.median(times)
    return {
        "chunker": name,
        "limit": limit,
        "tokens": tokens,
        "seconds": round(seconds, 4),
        "mtok_per_s": round(tokens / seconds / 1e6, 3),
        "chunks": len(spans),
        "violations": sum(c > limit for c in counts),
        "aligned": round(
            sum(on_boundary(text, e) for e in inner_ends) / max(len(inner_ends), 1), 4
        ),
        "fill": round(statistics.fmean(counts) / limit, 4) if counts else 0.0,
        "peak_mb": round(peak / 1e6, 1),
        "covers_text": covered,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k instead of 1M tokens")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/chunking.json")
    parser.add_argument("--only", default="", help="run only texts whose name contains this")
    args = parser.parse_args()

    corpus = {k: v for k, v in texts(args.quick).items() if args.only in k}
    rows = []
    for limit in (512, 2048):
        chunkers: list[tuple[str, Callable[[str, int], Spans] | None]] = [
            ("summarize", ours),
            ("semchunk", semchunk_chunker(limit)),
            ("langchain", langchain_chunker(limit)),
            ("chonkie", chonkie_chunker(limit)),
        ]
        for text_name, text in corpus.items():
            base = None
            for name, run in chunkers:
                if run is None:
                    continue
                if name == "langchain" and len(text) > 1_500_000:
                    continue  # minutes per run at 1M tokens; measured at 100k instead
                row = {"text": text_name, **measure(name, run, text, limit)}
                if name == "semchunk":
                    base = row["mtok_per_s"]
                rows.append(row)
            for row in rows:
                if row["text"] == text_name and row["limit"] == limit and base:
                    row["vs_semchunk"] = round(row["mtok_per_s"] / base, 2)
            for row in rows:
                if row["text"] == text_name and row["limit"] == limit:
                    print(
                        f"{text_name:24} {limit:5} {row['chunker']:10} "
                        f"{row['mtok_per_s']:7.2f} Mtok/s  x{row.get('vs_semchunk', 0):5.2f}  "
                        f"viol {row['violations']:4}  aligned {row['aligned']:.3f}  "
                        f"fill {row['fill']:.3f}  peak {row['peak_mb']:6.1f} MB  "
                        f"covers {row['covers_text']}",
                        flush=True,
                    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
