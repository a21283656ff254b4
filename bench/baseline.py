"""A benchmark's baseline, measured in the same run: the same script, importing
``summarize`` from an earlier commit.

    python bench/overhead.py --baseline 01006c1

checks the commit out once into a detached git worktree (in the system's temp folder,
kept for later runs), runs the benchmark script of *this* checkout in a subprocess with
that worktree's ``src`` first on ``sys.path`` (``--src``), reads the rows it writes as
JSON (``--json``), and hands them back for the ratio table. testkit/ (the fake model
server) is this checkout's in both runs, so both answer the same requests alike.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def worktree(revision: str) -> Path:
    """A detached worktree of ``revision`` (made once, then reused)."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short=10", revision],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    place = Path(tempfile.gettempdir()) / f"summarize-baseline-{sha}"
    if not (place / "src" / "summarize").is_dir():
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force", str(place), sha],
            check=True, capture_output=True,
        )  # fmt: skip
    return place


def use_src(argv: list[str]) -> None:
    """Put ``--src PATH`` (when given) first on ``sys.path``; call before importing
    summarize."""
    if "--src" in argv:
        sys.path.insert(0, argv[argv.index("--src") + 1])


def run_against(script: Path, revision: str, args: list[str]) -> dict[str, Any]:
    """The JSON rows ``script`` writes when run with ``revision``'s code."""
    src = worktree(revision) / "src"
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [sys.executable, str(script), "--src", str(src), "--json", out.name, *args],
            check=True,
        )
        return dict(json.loads(Path(out.name).read_text(encoding="utf-8")))
