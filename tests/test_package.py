"""The public surface and the cost of importing it."""

from __future__ import annotations

import subprocess
import sys

import pytest

import summarize


def test_public_surface_is_exactly_all():
    assert summarize.__all__ == sorted(summarize.__all__)
    public = {n for n in dir(summarize) if not n.startswith("_")}
    # Submodules become attributes once imported; everything else must be in __all__.
    import types

    names = {n for n in public if not isinstance(getattr(summarize, n), types.ModuleType)}
    assert names == set(summarize.__all__)


@pytest.mark.slow
def test_import_is_light():
    code = (
        "import sys, summarize, summarize.cli; "
        "print(any(m in sys.modules for m in ('openai', 'pydantic', 'tiktoken')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
