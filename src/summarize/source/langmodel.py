"""py3langid's classifier, unpacked once per machine instead of at every start.

py3langid ships its model as an LZMA-compressed npz (4.6 MB, 68 MB unpacked) and
unpacks it in every process that classifies: 0.65 s of CPU, a quarter of what a new
Ray or Spark worker spends before its first request (#30), and of every CLI run. The
first load here writes the unpacked arrays to summarize's cache, one ``.npy`` each
under ``cache_home()/langid/<sha256 of the model file>/``; later processes map them
(``np.load``, memory-mapped, no pickle) in a few milliseconds, and processes on one
machine share their pages. The classifier is py3langid's own class, built from the
same arrays, so every answer is the one py3langid gives. A cache that cannot be
written or read (read-only home, truncated file, another layout) costs only the
time: the model is then unpacked as py3langid does, and a broken entry is rewritten.
"""

from __future__ import annotations

import functools
import hashlib
import lzma
import os
import shutil
import tempfile
import uuid
from array import array
from pathlib import Path
from typing import TYPE_CHECKING, Any

from summarize.paths import cache_home

if TYPE_CHECKING:
    import numpy as np

# The arrays of py3langid's model file (py3langid.modelio.save_model), in its order.
ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")
_TYPECODES = {2: "H", 4: "I", 8: "L"}  # as py3langid.modelio turns them into arrays


@functools.cache
def identifier() -> Any | None:
    """py3langid's ``LanguageIdentifier`` for its bundled model (None: not installed)."""
    try:
        from py3langid import langid  # type: ignore[import-untyped]
    except ImportError:
        return None
    model = Path(langid.MODEL_DIR) / langid.MODEL_FILE
    try:
        arrays = cached_arrays(model, cache_home() / "langid")
    except (OSError, ValueError, KeyError, lzma.LZMAError):
        return langid.LanguageIdentifier.from_model_file(model)
    return built(langid.LanguageIdentifier, arrays)


def cached_arrays(model: Path, root: Path) -> dict[str, np.ndarray]:
    """The model's arrays: mapped from ``root``'s entry for this model file, or unpacked
    and written there first (an unreadable entry is removed and written again)."""
    folder = root / _digest(model)
    if folder.is_dir():
        try:
            return _mapped(folder)
        except (OSError, ValueError):
            shutil.rmtree(folder, ignore_errors=True)
    arrays = unpacked(model)
    _write(folder, arrays)
    return arrays


def unpacked(model: Path) -> dict[str, np.ndarray]:
    """The arrays of py3langid's LZMA-compressed npz file, streamed through a temporary
    file as py3langid does (the 68 MB npz is never held in memory as well)."""
    import numpy as np

    with tempfile.TemporaryFile(suffix=".npz") as tmp:
        with lzma.open(model) as source:
            shutil.copyfileobj(source, tmp, length=1 << 20)
        tmp.seek(0)
        with np.load(tmp, allow_pickle=False) as data:
            return _checked({name: data[name] for name in ARRAYS})


def built(cls: Any, arrays: dict[str, np.ndarray]) -> Any:
    """``cls`` (py3langid's ``LanguageIdentifier``) from the arrays, as py3langid's own
    ``from_model_file`` builds it."""
    import numpy as np

    return cls(
        np.asarray(arrays["ptc"]),
        np.asarray(arrays["pc"]),
        arrays["classes"].tolist(),
        _as_array(arrays["nextmove"]),
        arrays["out_feat"].tolist(),
        tk_row=_as_array(arrays["nextmove_row"]),
    )


def _mapped(folder: Path) -> dict[str, np.ndarray]:
    import numpy as np

    return _checked(
        {
            name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            for name in ARRAYS
        }
    )


def _checked(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``arrays`` if their shapes fit together as a model's; ValueError if not."""
    ptc, pc, classes = arrays["ptc"], arrays["pc"], arrays["classes"]
    states = len(arrays["nextmove_row"])
    fits = (
        ptc.ndim == 2
        and ptc.shape[1] == len(pc) == len(classes) > 0
        and arrays["nextmove"].size % 256 == 0
        and len(arrays["out_feat"]) == states > 0
        and arrays["nextmove"].dtype.itemsize in _TYPECODES
        and arrays["nextmove_row"].dtype.itemsize in _TYPECODES
    )
    if not fits:
        raise ValueError("the language model's arrays do not fit together")
    return arrays


def _write(folder: Path, arrays: dict[str, np.ndarray]) -> None:
    """Each array as ``folder/<name>.npy``, made in a folder of its own and renamed into
    place: a reader never sees half an entry, and of two writers one wins."""
    import numpy as np

    staging = folder.parent / f".{folder.name}.{uuid.uuid4().hex}"
    try:
        folder.parent.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # cache_home()
        folder.parent.mkdir(exist_ok=True, mode=0o700)
        staging.mkdir(mode=0o700)
        for name, value in arrays.items():
            np.save(staging / f"{name}.npy", value, allow_pickle=False)
        os.replace(staging, folder)
    except OSError:
        pass  # unwritable, or another process wrote it first: the arrays are in hand
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(functools.partial(f.read, 1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _as_array(values: np.ndarray) -> array[int]:
    """A numpy array of unsigned ints as the stdlib ``array`` py3langid walks."""
    import numpy as np

    out: array[int] = array(_TYPECODES[values.dtype.itemsize])
    out.frombytes(np.ascontiguousarray(values).tobytes())
    return out
