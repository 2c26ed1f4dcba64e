"""Atomic file writes: a reader sees the old file or the new one, never half of either."""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# mkstemp creates files readable by their owner only; a project's files get the permissions
# the user's umask gives any other file they create (read once: os.umask can only be read by setting it).
_FILE_MODE = 0o666 & ~_read_umask()


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, _FILE_MODE)
    try:
        yield Path(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _fsync(path: str) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def save_npy(path: str | Path, array: np.ndarray) -> None:
    """Write ``array`` as .npy atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, np.ascontiguousarray(array), allow_pickle=False)


@contextmanager
def content_named(folder: Path, stem: str, suffix: str) -> Iterator[tuple[Path, list[str]]]:
    """Yield (temporary path, names): once the block has written the file there, it is renamed to
    ``{stem}-{first 16 hex of its sha256}{suffix}`` in ``folder`` and that name is appended to ``names``.

    A file named by its content is never rewritten in place: a reader of the old project keeps
    the old file, and writing the same content twice gives the same name (so a build that
    changes nothing commits nothing).
    """
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=folder)
    os.close(fd)
    os.chmod(tmp, _FILE_MODE)
    names: list[str] = []
    try:
        yield Path(tmp), names
        digest = hashlib.sha256()
        with open(tmp, "rb+") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
            os.fsync(f.fileno())
        final = f"{stem}-{digest.hexdigest()[:16]}{suffix}"
        os.replace(tmp, folder / final)
        names.append(final)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_npy_named(folder: Path, stem: str, array: np.ndarray) -> str:
    """Write ``array`` as a content-named .npy in ``folder`` (see :func:`content_named`); returns its name."""
    with content_named(folder, stem, ".npy") as (tmp, name):
        with open(tmp, "wb") as f:
            np.save(f, np.ascontiguousarray(array), allow_pickle=False)
    return name[0]
