"""Finished slices of an in-progress build, one atomic .npz each, so a crash loses at most one slice.

A chunk holds, for a run of image files in processing order: which decoded (``ok``) and
why the others did not (``reasons``), original sizes, each extractor's raw features for
the decoded ones, their packed thumbnails and mean colours. A rerun reads the chunks that exist,
skips their files, and the commit streams them into the project one at a time.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deepviz.atomic import atomic_path
from deepviz.filenames import canonical

_CHUNK_GLOB = "chunk-*.npz"


@dataclass
class Chunk:
    """One slice of processed files.

    ``paths``     (M,) str relative paths, processing order
    ``ok``        (M,) bool, decoded successfully
    ``reasons``   (M,) str, reject reason ('' where ok)
    ``width``, ``height``  (M,) int32 original size (0 where rejected)
    ``features``  {extractor name: (K, D) float32 raw features of the K ok rows}
    ``thumbs``    {size: ((B,) uint8 JPEG bytes back to back, (K + 1,) int64 offsets)}
    ``colors``    (K, 3) uint8 mean RGB of the K ok rows' centre crops
    """

    paths: np.ndarray
    ok: np.ndarray
    reasons: np.ndarray
    width: np.ndarray
    height: np.ndarray
    features: dict[str, np.ndarray]
    thumbs: dict[int, tuple[np.ndarray, np.ndarray]]
    colors: np.ndarray


def config_key(extractors: list[str], crop_size: int, thumb_sizes: tuple[int, ...]) -> str:
    """What a chunk was made with; chunks made with other settings are not reused."""
    return json.dumps({"extractors": extractors, "crop": crop_size, "thumbs": list(thumb_sizes)}, sort_keys=True)


class ChunkStore:
    """The ``.work`` folder of a project being built."""

    def __init__(self, folder: Path, config: str) -> None:
        self.folder = folder
        self.config = config

    def files(self) -> list[Path]:
        return sorted(self.folder.glob(_CHUNK_GLOB))

    def discard_stale(self) -> int:
        """Delete chunks made with different settings; returns how many."""
        stale = 0
        for path in self.files():
            with np.load(path) as z:
                if str(z["config"]) != self.config:
                    path.unlink()
                    stale += 1
        return stale

    def discard_failed(self) -> int:
        """Delete chunks holding any file that did not decode (so a rerun retries them); returns how many."""
        failed = 0
        for path in self.files():
            with np.load(path) as z:
                bad = not z["ok"].all()
            if bad:
                path.unlink()
                failed += 1
        return failed

    def done_paths(self) -> set[str]:
        done: set[str] = set()
        for path in self.files():
            with np.load(path) as z:
                # Respelled as a scan spells them today: chunks of a build interrupted before names were escaped count.
                done.update(canonical(p) for p in z["paths"].tolist())
        return done

    def write(self, chunk: Chunk) -> Path:
        seq = len(self.files())
        path = self.folder / f"chunk-{seq:07d}.npz"
        arrays: dict[str, Any] = {  # np.savez's keyword stubs are narrower than its **arrays
            "config": np.array(self.config),
            "paths": chunk.paths,
            "ok": chunk.ok,
            "reasons": chunk.reasons,
            "width": chunk.width,
            "height": chunk.height,
            "colors": chunk.colors,
        }
        for name, feats in chunk.features.items():
            arrays[f"features/{name}"] = feats
        for size, (blob, offsets) in chunk.thumbs.items():
            arrays[f"thumbs/{size}"] = blob
            arrays[f"thumb_offsets/{size}"] = offsets
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
        return path

    def read(self) -> Iterator[Chunk]:
        """Every chunk's file list and outcomes in processing order (no features, no thumbnails)."""
        for path in self.files():
            with np.load(path) as z:
                yield Chunk(
                    paths=z["paths"], ok=z["ok"], reasons=z["reasons"], width=z["width"], height=z["height"],
                    features={}, thumbs={}, colors=z["colors"],
                )

    def read_features(self, name: str) -> Iterator[np.ndarray]:
        """(K, D) float32 raw features of extractor ``name``, chunk by chunk, one in memory at a time."""
        for path in self.files():
            with np.load(path) as z:
                yield z[f"features/{name}"]

    def read_thumbs(self, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(blob, offsets) of the ``size`` px thumbnails, chunk by chunk."""
        for path in self.files():
            with np.load(path) as z:
                yield z[f"thumbs/{size}"], z[f"thumb_offsets/{size}"]

    def read_colors(self) -> Iterator[np.ndarray]:
        """(K, 3) uint8 mean colours of the decoded images, chunk by chunk."""
        for path in self.files():
            with np.load(path) as z:
                yield z["colors"]

    def discard_all(self) -> None:
        """Delete every chunk (the work is redone)."""
        for path in self.files():
            path.unlink()
