"""Write the golden Markdown files in fixtures/golden/ from the recorded cassettes.

    python scripts/golden.py

Each file is what ``summarize ... --format markdown`` prints for a recorded run
(replayed offline from fixtures/cassettes/; testkit/golden.py says which), so a change
to the Markdown output shows up as a diff to review. Re-run after re-recording a
cassette or changing ``summarize.render.markdown``. It runs with a cache directory of
its own, as the tests do: what this machine's runs remembered (an endpoint's mode)
would change the prompts, and so the estimated tokens of a looped answer.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="summarize-golden-")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testkit.golden import GOLDEN, GOLDEN_DIR, rendered  # noqa: E402


def main() -> int:
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    for name in GOLDEN:
        path = GOLDEN_DIR / f"{name}.md"
        path.write_text(rendered(name), encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
