"""The map's tile pyramid on disk: every image's cell pixels, and the stored grid's tiles packed like thumbnails.

    tiles/pixels.npy              (N, CELL_PX, CELL_PX, 3) uint8: image i's smallest thumbnail box-downsampled;
                                  it only grows (its first N rows never change), like colors.npy
    tiles/grid-HASH/PX.bin        the PNG tiles of level PX (pixels per cell) back to back, tile
    tiles/grid-HASH/PX.offsets.npy  (T + 1,) int64 offsets: tile (ty, tx) is index ty * tile_cols + tx

The folder is named by the grid file it mosaics (itself named by its content): a build that
re-grids writes a new folder and the old one is deleted once no manifest names it, so tiles can
never show another grid's cells. Each level's files are the thumbnails' packed format (PNG in place of JPEG)
(:mod:`deepviz.storage.thumbs`), read through one memory map.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from deepviz.core.mosaic import tile_counts
from deepviz.errors import UnknownName
from deepviz.storage.manifest import TileInfo
from deepviz.storage.thumbs import bin_path, offsets_path

TILES_DIR = "tiles"
PIXELS = f"{TILES_DIR}/pixels.npy"


def folder_for(grid_file: str) -> str:
    """The tiles folder of the grid stored in ``grid_file`` (``grid-HASH.npy`` -> ``tiles/grid-HASH``)."""
    return f"{TILES_DIR}/{Path(grid_file).stem}"


class TileStore:
    """Read-only access to a project's packed tiles of its stored grid, memory-mapped, by level and tile."""

    def __init__(self, root: Path, info: TileInfo, rows: int, cols: int) -> None:
        self.root = root
        self.info = info
        self.rows, self.cols = rows, cols
        self._maps: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _open(self, px: int) -> tuple[np.ndarray, np.ndarray]:
        if px not in self._maps:
            if px not in self.info.levels:
                raise UnknownName(f"no tile level of {px} px per cell; the levels are {list(self.info.levels)}")
            folder = self.root / self.info.folder
            offsets = np.load(offsets_path(folder, px), mmap_mode="r")
            path = bin_path(folder, px)
            data = np.memmap(path, dtype=np.uint8, mode="r") if path.stat().st_size else np.zeros(0, np.uint8)
            self._maps[px] = data, offsets
        return self._maps[px]

    def get(self, px: int, ty: int, tx: int) -> bytes:
        """PNG bytes of tile (ty, tx) of level ``px``; IndexError for a tile outside the grid."""
        data, offsets = self._open(px)
        t_rows, t_cols = tile_counts(self.rows, self.cols, px)
        if not (0 <= ty < t_rows and 0 <= tx < t_cols):
            raise IndexError(f"tile ({ty}, {tx}) is outside level {px}'s {t_rows} x {t_cols} tiles")
        i = ty * t_cols + tx
        return bytes(data[offsets[i] : offsets[i + 1]])

    def pixels(self, n: int) -> np.ndarray:
        """(n, CELL_PX, CELL_PX, 3) uint8 memory map of the images' cell pixels."""
        array: np.ndarray = np.load(self.root / self.info.pixels, mmap_mode="r")
        return array[:n]
