"""The language classifier unpacked once per machine (summarize.source.langmodel).

py3langid unpacks its 68 MB model at every start; summarize keeps the unpacked arrays
in its cache and maps them. The answers must stay py3langid's own, and a broken or
unwritable cache must cost time only, never a wrong answer or an error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from summarize.source import langmodel
from tests.support import ARTICLES

langid = pytest.importorskip("py3langid.langid")
MODEL = Path(langid.MODEL_DIR) / langid.MODEL_FILE

SAMPLES = [
    (ARTICLES / "xi-putin-ntv.txt").read_text(encoding="utf-8")[:1200],
    "Das ist ein ganz normaler deutscher Satz über die Wahl und den Bundestag.",
    "Это русское предложение о параде в Москве, и оно довольно длинное.",
    "Le président a déclaré que le gouvernement ne reculerait pas sur la réforme.",
    "国务院新闻办公室今天举行新闻发布会，介绍经济运行情况。",
    b"bytes: \xff\xfe not UTF-8 at all \x00\x01",
]


@pytest.fixture(scope="module")
def own() -> object:
    """py3langid's classifier as py3langid loads it."""
    return langid.LanguageIdentifier.from_model_file(MODEL)


def _classifier(arrays: dict[str, np.ndarray]) -> object:
    return langmodel.built(langid.LanguageIdentifier, arrays)


def _same_answers(mine: object, own: object) -> None:
    for text in SAMPLES:
        assert mine.classify(text) == own.classify(text), text  # type: ignore[attr-defined]
        assert mine.rank(text)[:5] == own.rank(text)[:5], text  # type: ignore[attr-defined]


def test_a_later_start_maps_the_cached_arrays_and_answers_as_py3langid(
    tmp_path: Path, own: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = langmodel.cached_arrays(MODEL, tmp_path)
    entries = list(tmp_path.iterdir())
    assert len(entries) == 1
    assert sorted(p.stem for p in entries[0].iterdir()) == sorted(langmodel.ARRAYS)
    _same_answers(_classifier(first), own)

    def unpack(model: Path) -> dict[str, np.ndarray]:
        raise AssertionError("the model was unpacked again")

    monkeypatch.setattr(langmodel, "unpacked", unpack)
    later = langmodel.cached_arrays(MODEL, tmp_path)
    assert isinstance(later["ptc"], np.memmap)
    assert isinstance(later["nextmove"], np.memmap)
    _same_answers(_classifier(later), own)


def test_a_truncated_cache_file_is_written_again_and_the_answers_stay_right(
    tmp_path: Path, own: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    langmodel.cached_arrays(MODEL, tmp_path)
    (entry,) = tmp_path.iterdir()
    target = entry / "nextmove.npy"
    target.write_bytes(target.read_bytes()[: 1 << 16])
    unpacks = []
    real = langmodel.unpacked
    monkeypatch.setattr(langmodel, "unpacked", lambda m: unpacks.append(m) or real(m))
    _same_answers(_classifier(langmodel.cached_arrays(MODEL, tmp_path)), own)
    assert len(unpacks) == 1
    assert target.stat().st_size > 1 << 20  # whole again
    monkeypatch.setattr(langmodel, "unpacked", lambda m: pytest.fail("unpacked a third time"))
    langmodel.cached_arrays(MODEL, tmp_path)


def test_arrays_that_do_not_fit_together_are_not_used(
    tmp_path: Path, own: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache entry of another layout (here: one label too few) is no model."""
    langmodel.cached_arrays(MODEL, tmp_path)
    (entry,) = tmp_path.iterdir()
    classes = np.load(entry / "classes.npy")
    np.save(entry / "classes.npy", classes[:-1])
    with pytest.raises(ValueError, match="do not fit"):
        langmodel._mapped(entry)
    _same_answers(_classifier(langmodel.cached_arrays(MODEL, tmp_path)), own)
    assert len(np.load(entry / "classes.npy")) == len(classes)


def test_an_unwritable_cache_costs_time_not_the_answer(tmp_path: Path, own: object) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder would be")
    _same_answers(_classifier(langmodel.cached_arrays(MODEL, blocked / "langid")), own)
    assert blocked.read_text().startswith("a file")


def test_of_two_writers_one_wins_and_no_staging_folder_is_left(tmp_path: Path) -> None:
    arrays = langmodel.cached_arrays(MODEL, tmp_path)
    (entry,) = tmp_path.iterdir()
    langmodel._write(entry, arrays)  # the entry is there already: a second writer's
    assert [p.name for p in tmp_path.iterdir()] == [entry.name]


def test_the_library_s_language_detection_goes_through_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """detect_language uses the mapped classifier (and the conftest's own cache home)."""
    from summarize.source.article import detect_language

    langmodel.identifier.cache_clear()
    try:
        assert detect_language(SAMPLES[1]) == "de"
        assert detect_language(SAMPLES[2]) == "ru"
        assert isinstance(langmodel.identifier().nb_ptc, np.ndarray)
        monkeypatch.setattr(langmodel, "unpacked", lambda m: pytest.fail("unpacked again"))
        langmodel.identifier.cache_clear()
        assert detect_language(SAMPLES[3]) == "fr"
    finally:
        langmodel.identifier.cache_clear()
