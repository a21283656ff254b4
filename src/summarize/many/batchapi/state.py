"""A Batch API job's state directory: ``job.json``, ``articles.jsonl``,
``answers.jsonl`` and the phases' input files, written so a crash loses nothing."""

from __future__ import annotations

import datetime
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from summarize.errors import ConfigurationError, SummarizeError
from summarize.paths import cache_home

STATE_VERSION = 1


class BatchJobError(SummarizeError):
    """A Batch API job cannot go on: unknown id, a batch that failed validation, ..."""


class BatchCancelledError(BatchJobError):
    """The article's request was in a batch that was cancelled before it ran (with
    ``cancel_batch`` or outside summarize): it is not sent again."""


MIN_PREFIX = 6  # characters of a job id that name it, if no other job starts so


def _find(root: Path, wanted: str) -> Path | None:
    """The job directory ``wanted`` names: a job id exactly, a unique prefix of one of
    at least ``MIN_PREFIX`` characters, or the exact id of one of its batches."""
    if not root.is_dir():
        return None
    jobs = sorted(path.parent for path in root.glob("*/job.json"))
    exact = [job for job in jobs if job.name == wanted]
    if exact:
        return exact[0]
    if len(wanted) >= MIN_PREFIX:
        prefixed = [job for job in jobs if job.name.startswith(wanted)]
        if len(prefixed) == 1:
            return prefixed[0]
        if len(prefixed) > 1:
            some = ", ".join(job.name for job in prefixed[:3])
            raise BatchJobError(
                f"{wanted!r} starts {len(prefixed)} job ids ({some}, ...): pass more of the id"
            )
    for job in jobs:  # a batch id the job sent, matched whole
        try:
            batches = _read_state(job / "job.json").get("batches", [])
        except BatchJobError:
            continue
        if any(isinstance(b, dict) and b.get("id") == wanted for b in batches):
            return job
    return None


def _read_state(path: Path) -> dict[str, Any]:
    """A job's state, or a ``BatchJobError`` naming the file when it is broken."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BatchJobError(
            f"{path} cannot be read ({exc}): the job's state is damaged; submit the "
            "articles again as a new job"
        ) from exc
    if not isinstance(state, dict):
        raise BatchJobError(f"{path} is not a job's state (not a JSON object)")
    return state


def default_root() -> Path:
    """``$XDG_CACHE_HOME/summarize/batches`` (``~/.cache`` when unset)."""
    return cache_home() / "batches"


@dataclass
class BatchStatus:
    """Where a job stands: its phase, its batches and their counts."""

    job: str
    phase: int
    batches: list[dict[str, Any]]
    articles: int
    finished: bool
    cancelled: bool = False

    @property
    def ready(self) -> bool:
        """Every batch of the current phase has ended (completed, failed, expired...)."""
        return all(b.get("ended") for b in self.batches if b["phase"] == self.phase)


class BatchJob:
    """A job's state directory: ``job.json``, ``articles.jsonl``, ``answers.jsonl``."""

    def __init__(self, directory: Path, state: dict[str, Any]) -> None:
        self.directory = directory
        self.state = state

    @property
    def id(self) -> str:
        return str(self.state["id"])

    @classmethod
    def create(
        cls, root: Path, options: dict[str, Any], articles: Iterable[dict[str, Any]]
    ) -> BatchJob:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
        job_id = f"sb-{stamp}-{secrets.token_hex(3)}"
        directory = root / job_id
        try:
            root.mkdir(parents=True, exist_ok=True, mode=0o700)
            directory.mkdir(mode=0o700)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot make the batch job directory {directory} ({exc.strerror or exc}): "
                "pass --state-dir (state_dir=) or set XDG_CACHE_HOME"
            ) from exc
        count = 0
        fd = os.open(directory / "articles.jsonl", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for row in articles:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
        job = cls(
            directory,
            {
                "version": STATE_VERSION,
                "id": job_id,
                "created": stamp,
                "options": options,
                "salt": secrets.token_hex(16),
                "articles": count,
                "phase": 0,
                "batches": [],
            },
        )
        job.save()
        return job

    @classmethod
    def load(cls, job_or_batch_id: str, root: Path | None = None) -> BatchJob:
        """The job named by its id, by a unique prefix of it (at least
        ``MIN_PREFIX`` characters), or by the exact id of a batch it sent."""
        root = root or default_root()
        wanted = job_or_batch_id.strip()
        directory = _find(root, wanted) if wanted and "/" not in wanted else None
        if directory is None:
            raise BatchJobError(
                f"no batch job {job_or_batch_id!r} under {root}: pass the id that "
                "'summarize batch submit' printed (or at least its first "
                f"{MIN_PREFIX} characters), and the same --state-dir if you gave one"
            )
        path = directory / "job.json"
        state = _read_state(path)
        if state.get("version") != STATE_VERSION:
            raise BatchJobError(
                f"{path} was written by another version of summarize "
                f"(state version {state.get('version')}, this one reads {STATE_VERSION})"
            )
        return cls(directory, state)

    def save(self) -> None:
        path = self.directory / "job.json"
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(self.state, indent=1))
        os.replace(temporary, path)  # atomic: a crash leaves the old state or the new

    def articles(self) -> Iterator[dict[str, Any]]:
        with (self.directory / "articles.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                yield json.loads(line)

    def answers(self) -> dict[str, list[dict[str, Any]]]:
        """Every downloaded output and error line, by custom_id, each line once."""
        found: dict[str, list[dict[str, Any]]] = {}
        seen: set[str] = set()
        path = self.directory / "answers.jsonl"
        if not path.exists():
            return found
        with path.open(encoding="utf-8") as handle:
            for raw in handle:
                if not raw.endswith("\n"):
                    break  # a torn last line: its batch is downloaded again
                line = json.loads(raw)
                if line["id"] in seen:
                    continue
                seen.add(line["id"])
                found.setdefault(line["custom_id"], []).append(line)
        return found

    def add_answers(self, lines: list[dict[str, Any]]) -> None:
        """Append lines; a torn last line (a crash mid-write) is cut off first. The batch
        stays marked not downloaded until this returns, so it is fetched again."""
        path = self.directory / "answers.jsonl"
        if path.exists():
            with path.open("r+b") as torn:
                data = torn.read()
                if data and not data.endswith(b"\n"):
                    torn.truncate(data.rfind(b"\n") + 1)
        text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    def status(self) -> BatchStatus:
        return BatchStatus(
            job=self.id,
            phase=self.state["phase"],
            batches=self.state["batches"],
            articles=self.state["articles"],
            finished=bool(self.state.get("finished")),
            cancelled=bool(self.state.get("cancelled")),
        )
