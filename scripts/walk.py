"""The article's route through the package: how often a brief moves between files.

    python scripts/walk.py [--verbose]

Briefs fixtures/articles/xi-putin-ntv.txt through ``asummarize`` against a scripted
model (testkit/fakemodel.py, behind httpx's MockTransport: no network), with a profile
hook on every Python call and return, and follows the route as a reader of the source
would: each function of the package is followed the first time it is called (a loop
over sentences is one call, not one per sentence), into its file and back. A
*stay* is a run of that route in one file, a *return* a stay in a file already left
before. The walk down is the part up to the first request handed to the SDK; on it,
the folders (layers) entered are counted too. docs/how-it-works.md gives the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
PACKAGE = str(ROOT / "src" / "summarize")


def _ours(frame: FrameType | None) -> str | None:
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(PACKAGE):
            return name[len(PACKAGE) + 1 :]
        frame = frame.f_back
    return None


def _here(frame: FrameType) -> str | None:
    name = frame.f_code.co_filename
    return name[len(PACKAGE) + 1 :] if name.startswith(PACKAGE) else None


def _caller(frame: FrameType) -> tuple[str, int] | None:
    """The package file and line that (through any library code) called ``frame``."""
    outer = frame.f_back
    while outer is not None:
        here = _here(outer)
        if here is not None:
            return here, outer.f_lineno
        outer = outer.f_back
    return None


def walk() -> tuple[list[str], int, list[tuple[str, str]]]:
    """The stays of one brief (file names), how many came before the first request,
    and the calls that crossed from one folder into another, in order."""
    import httpx2
    import openai
    from testkit import fakemodel
    from testkit.replaying import REPLAY_URL

    from summarize import asummarize

    text = (ROOT / "fixtures" / "articles" / "xi-putin-ntv.txt").read_text(encoding="utf-8")
    stays: list[str] = []
    down: list[int] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        down.append(len(stays))
        return httpx2.Response(200, json=fakemodel.completion(json.loads(request.content)))

    client = openai.AsyncOpenAI(
        base_url=REPLAY_URL,
        api_key="sk-walk",
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler)),
    )

    crossings: list[tuple[str, str]] = []  # (from folder, into folder), calls only
    seen: set[Any] = set()  # the functions followed once
    followed: set[int] = set()  # frames whose call was followed

    def stay(where: str | None) -> None:
        if where is not None and (not stays or stays[-1] != where):
            stays.append(where)

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event not in ("call", "return") or _ours(frame) != _here(frame):
            return  # only the package's own functions
        caller = _caller(frame)
        if event == "call":
            if frame.f_code in seen:
                return
            seen.add(frame.f_code)
            followed.add(id(frame))
            here = _here(frame) or ""
            if caller and not down and folder(caller[0]) != folder(here):
                crossings.append((folder(caller[0]), folder(here)))
            stay(here)
        elif id(frame) in followed:
            followed.discard(id(frame))
            stay(caller[0] if caller else None)

    async def brief() -> None:
        sys.setprofile(profile)
        try:
            await asummarize(text, client=client, model="gpt-4o-mini")
        finally:
            sys.setprofile(None)

    asyncio.run(brief())
    return stays, down[0] if down else len(stays), crossings


def returns(stays: list[str]) -> int:
    seen: set[str] = set()
    count = 0
    for stay in stays:
        count += stay in seen
        seen.add(stay)
    return count


CORE = {"errors.py", "schema.py", "clock.py", "sync.py", "progress.py"}


def folder(path: str) -> str:
    """A file's layer folder; the top-level modules are ``(core)`` or ``(top)``."""
    parts = path.split("/")
    if len(parts) > 1:
        return parts[0]
    return "(core)" if path in CORE else "(top)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list every stay")
    args = parser.parse_args()
    stays, first, crossings = walk()
    way_down = stays[:first]
    print(f"stays: {len(stays)} in {len(set(stays))} files; returns: {returns(stays)}")
    print(f"down to the first request: {len(way_down)} stays, {returns(way_down)} returns")
    route = [stay for stay in stays if folder(stay) != "(core)"]
    route = [s for i, s in enumerate(route) if i == 0 or route[i - 1] != s]
    print(
        f"without the core modules ({', '.join(sorted(CORE))}): {len(route)} stays, "
        f"{returns(route)} returns"
    )
    entered = Counter(into for _, into in crossings)
    print(
        "folders entered by a call on the way down: "
        + ", ".join(f"{name} {count}" for name, count in entered.most_common())
    )
    if args.verbose:
        print("\n".join(stays))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
