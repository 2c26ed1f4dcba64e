"""Concepts: named sets of image ids the user makes ("faces", "peppers"), kept in ``concepts.json``.

The file is the user's work, so it is treated with more care than anything a build can make again:

- every change is a read-modify-write of the file as it is on disk *now*, under a lock of its
  own (``.concepts.lock``), so a CLI and a server editing at once both keep their changes;
- the new file replaces the old one atomically (``deepviz.atomic``): a crash leaves one or the other;
- a build never writes or deletes it (it is not a content-named file, and the build's clean-up
  touches only its own files), and image ids never change in an incremental build, so a rebuild
  keeps every concept; ids beyond the project's images are refused when a concept is saved.

Format: ``{"format": "deepviz-concepts", "version": 1, "concepts": {NAME: {"ids": [...], "source": ...,
"created": ..., "updated": ...}}}``, ids sorted and unique.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deepviz.atomic import atomic_path
from deepviz.errors import ProjectError, UnknownName, UsageError

__all__ = ["CONCEPTS", "Concept", "ConceptStore", "check_name", "ids_of_label", "ids_of_paths"]

CONCEPTS = "concepts.json"
LOCK = ".concepts.lock"
FORMAT = "deepviz-concepts"
MAX_NAME = 100
LOCK_SECONDS = 10


class Concept(BaseModel):
    """One concept: its image ids (sorted, unique), how it was made, when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ids: list[int] = Field(description="Image ids, ascending, no repeats")
    source: str = Field(default="", description="How it was made, e.g. 'lasso', 'label:Flags', 'top-10 of 42'")
    created: str
    updated: str


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str = FORMAT
    version: int = 1
    concepts: dict[str, Concept] = {}


def check_name(name: str) -> str:
    """``name`` stripped, or UsageError saying what a name may be."""
    clean = name.strip()
    if not clean or len(clean) > MAX_NAME or any(unicodedata.category(c).startswith("C") for c in clean):
        raise UsageError(f"{name!r} is not a concept name; use 1 to {MAX_NAME} printable characters, e.g. faces")
    return clean


class ConceptStore:
    """The concepts of the project folder ``root`` with ``n`` images; each method reads the file afresh."""

    def __init__(self, root: str | Path, n: int) -> None:
        self.root = Path(root)
        self.n = n
        self.path = self.root / CONCEPTS

    def all(self) -> dict[str, Concept]:
        """Every concept, by name (sorted)."""
        return dict(sorted(self._read().concepts.items()))

    def get(self, name: str) -> Concept:
        found = self._read().concepts.get(name)
        if found is None:
            raise UnknownName(f"no concept {name!r} in this project; it has {sorted(self._read().concepts)}")
        return found

    def save(self, name: str, ids: Iterable[int], *, source: str = "", replace: bool = True) -> Concept:
        """Create concept ``name`` with ``ids``; an existing one is replaced (or, with ``replace=False``,
        extended by ``ids``)."""
        name = check_name(name)
        wanted = self._checked_ids(ids)
        with self._editing() as data:
            old = data.concepts.get(name)
            if old is not None and not replace:
                wanted = np.union1d(wanted, old.ids)
            now = _now()
            concept = Concept(
                ids=[int(i) for i in wanted],
                source=source or (old.source if old else ""),
                created=old.created if old else now,
                updated=now,
            )
            data.concepts[name] = concept
        return concept

    def edit(self, name: str, *, add: Iterable[int] = (), remove: Iterable[int] = ()) -> Concept:
        """Add and remove ids of the existing concept ``name``."""
        plus, minus = self._checked_ids(add), self._checked_ids(remove)
        with self._editing() as data:
            old = self._existing(data, name)
            ids = np.setdiff1d(np.union1d(old.ids, plus), minus)
            concept = old.model_copy(update={"ids": [int(i) for i in ids], "updated": _now()})
            data.concepts[name] = concept
        return concept

    def rename(self, name: str, new: str) -> Concept:
        new = check_name(new)
        with self._editing() as data:
            old = self._existing(data, name)
            if new != name and new in data.concepts:
                raise UsageError(f"there is already a concept {new!r}; remove it first or choose another name")
            del data.concepts[name]
            data.concepts[new] = old.model_copy(update={"updated": _now()})
            return data.concepts[new]

    def delete(self, name: str) -> None:
        with self._editing() as data:
            self._existing(data, name)
            del data.concepts[name]

    def _existing(self, data: _File, name: str) -> Concept:
        if name not in data.concepts:
            raise UnknownName(f"no concept {name!r} in this project; it has {sorted(data.concepts)}")
        return data.concepts[name]

    def _checked_ids(self, ids: Iterable[int]) -> np.ndarray:
        given = list(ids)
        bad = [i for i in given if not 0 <= i < self.n]  # in Python first: an id past int64 must not overflow
        if bad:
            raise UsageError(f"image id(s) {bad[:5]} out of range; this project has ids 0..{self.n - 1}")
        return np.unique(np.asarray(given, dtype=np.int64))

    def _read(self) -> _File:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return _File()
        try:
            data = _File.model_validate(json.loads(raw))
        except (ValueError, ValidationError) as err:
            raise ProjectError(
                f"{self.path} is damaged ({str(err).splitlines()[0]}); it is left as it is: fix or move it away, then try again"
            ) from None
        if data.format != FORMAT or data.version != 1:
            raise ProjectError(f"{self.path} is not a deepviz concepts file of version 1 (upgrade deepviz to read it)")
        return data

    @contextmanager
    def _editing(self) -> Iterator[_File]:
        """The file as it is now, under the concepts lock; written back atomically if the block succeeds."""
        lock = FileLock(self.root / LOCK, timeout=LOCK_SECONDS)
        try:
            lock.acquire()
        except Timeout:
            raise ProjectError(f"the concepts of {self.root} have been locked for {LOCK_SECONDS} s by another process; try again") from None
        except OSError as err:
            raise ProjectError(f"cannot write concepts in {self.root} ({err.strerror}); is the folder read-only?") from None
        try:
            data = self._read()
            yield data
            self._write(data)
        finally:
            lock.release()

    def _write(self, data: _File) -> None:
        text = data.model_dump_json() + "\n"
        for attempt in range(3):
            try:
                with atomic_path(self.path) as tmp:
                    tmp.write_text(text, encoding="utf-8")
                return
            except FileNotFoundError:
                # A build starting now deletes every stray '.*.tmp' in the project, ours included: write again.
                if attempt == 2:
                    raise
            except OSError as err:
                raise ProjectError(f"cannot write {self.path} ({err.strerror}); the concepts are unchanged") from None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def ids_of_paths(stored_paths: Iterable[str], wanted: Iterable[str]) -> np.ndarray:
    """Ids of the images whose stored path (as ``deepviz build --list-files`` prints it) is in ``wanted``;
    UsageError naming the first few that are not images of the project."""
    index = {str(p): i for i, p in enumerate(stored_paths)}
    asked = [w.strip() for w in wanted if w.strip()]
    missing = [w for w in asked if w not in index]
    if missing:
        raise UsageError(
            f"{len(missing)} path(s) are not images of this project, e.g. {missing[:3]}; give paths relative to the "
            "image folder as `deepviz build IMAGES --list-files` prints them"
        )
    return np.array(sorted({index[w] for w in asked}), dtype=np.int64)


def ids_of_label(labels: Iterable[object], label: str) -> np.ndarray:
    """Ids of the images labelled ``label``; UsageError listing the labels if none is."""
    values = [None if v is None or v != v else str(v) for v in labels]  # v != v: pandas' NaN
    ids = np.array([i for i, v in enumerate(values) if v == label], dtype=np.int64)
    if len(ids) == 0:
        known = sorted({v for v in values if v is not None})
        raise UsageError(f"no image has the label {label!r}; the labels are {known[:20]}")
    return ids
