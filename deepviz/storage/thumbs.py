"""The thumbnail file format: per size, every JPEG back to back in one blob with an offset index.

A size ``s`` lives in two files: ``{s}.bin`` (every thumbnail's JPEG bytes, back to back,
in id order) and ``{s}.offsets.npy`` ((N + 1,) int64; thumbnail ``i`` is
``bin[offsets[i]:offsets[i + 1]]``). A server hands out any thumbnail with one slice of a
memory map, and a million images make two files, not a million.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from deepviz.errors import UnknownName


def pack(blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Byte strings -> (M,) uint8 concatenation and (len + 1,) int64 offsets starting at 0."""
    lengths = np.fromiter((len(b) for b in blobs), dtype=np.int64, count=len(blobs))
    offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return np.frombuffer(b"".join(blobs), dtype=np.uint8), offsets


def bin_path(folder: Path, size: int) -> Path:
    return folder / f"{size}.bin"


def offsets_path(folder: Path, size: int) -> Path:
    return folder / f"{size}.offsets.npy"


class ThumbnailStore:
    """Read-only access to one project's packed thumbnails, memory-mapped, by id and size."""

    def __init__(self, folder: str | Path, sizes: tuple[int, ...], n: int) -> None:
        self.folder = Path(folder)
        self.sizes = tuple(sizes)
        self._n = n
        self._bins: dict[int, np.ndarray] = {}
        self._offsets: dict[int, np.ndarray] = {}

    def _open(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        if size not in self._bins:
            if size not in self.sizes:
                raise UnknownName(f"no {size}px thumbnails in this project; it has {list(self.sizes)}")
            offsets = np.load(offsets_path(self.folder, size), mmap_mode="r")
            path = bin_path(self.folder, size)
            # A zero-length file cannot be memory-mapped; an empty project has no thumbnails.
            data = np.memmap(path, dtype=np.uint8, mode="r") if path.stat().st_size else np.zeros(0, np.uint8)
            self._offsets[size], self._bins[size] = offsets, data
        return self._bins[size], self._offsets[size]

    def packed(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """(M,) uint8 memory map of every JPEG at ``size`` back to back, and its (N + 1,) int64 offsets."""
        return self._open(size)

    def get(self, image_id: int, size: int) -> bytes:
        """JPEG bytes of image ``image_id`` at ``size`` px (raises IndexError for a bad id)."""
        if not 0 <= image_id < self._n:
            raise IndexError(f"image id {image_id} is out of range; this project has ids 0..{self._n - 1}")
        data, offsets = self._open(size)
        return bytes(data[offsets[image_id] : offsets[image_id + 1]])

    def get_many(self, ids: np.ndarray, size: int) -> tuple[np.ndarray, bytes]:
        """(K,) int ids (any order, repeats allowed) -> ((K + 1,) int64 offsets starting at 0, the
        K thumbnails' JPEG bytes back to back in that order): one slice of the blob per id, as
        :func:`pack` would lay them out. Raises IndexError for a bad id."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) and not (0 <= ids.min() and ids.max() < self._n):
            bad = int(ids[(ids < 0) | (ids >= self._n)][0])
            raise IndexError(f"image id {bad} is out of range; this project has ids 0..{self._n - 1}")
        data, offsets = self._open(size)
        starts, stops = offsets[ids], offsets[ids + 1]
        out = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(stops - starts, out=out[1:])
        return out, b"".join(data[a:b].tobytes() for a, b in zip(starts.tolist(), stops.tolist()))

    def nearest_size(self, size: int) -> int:
        """The stored size closest to ``size`` from above (or the largest), for crisp drawing."""
        bigger = [s for s in self.sizes if s >= size]
        return min(bigger) if bigger else max(self.sizes)
