"""Map tiles as served: the stored grid's straight from the build's packed files, a fitted grid's
composed on demand from the images' cell pixels and kept in a bounded cache.

The page mostly shows a grid fitted to its pane (fitted_grid.py), which the build cannot know.
Composing one of its tiles is a gather of at most 65k rows of 192 bytes from ``tiles/pixels.npy``
and a PNG encode: a few milliseconds, once, then served from memory like the stored tiles.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from deepviz.core.mosaic import id_by_cell, mosaic, tile_counts, tile_ids
from deepviz.errors import DeepvizError, UnknownName
from deepviz.images.tiles import encode_tile
from deepviz.server.fitted_grid import KEEP, FittedGrid, FittedGrids
from deepviz.storage.project import Project

CACHE_BYTES = 64 << 20  # composed tiles kept: ~250 screens of level-1 tiles, ~400 tiles of level 8


class NoTiles(DeepvizError):
    """The project was built before map tiles existed."""


class MapTiles:
    """Tiles of the stored grid or of a fitted one, by (aspect, level, tile row, tile column)."""

    def __init__(self, project: Project, fitted: FittedGrids, cache_bytes: int = CACHE_BYTES) -> None:
        self.project = project
        self.fitted = fitted
        self.cache_bytes = cache_bytes
        self._tiles: OrderedDict[tuple[float, int, int, int], bytes] = OrderedDict()
        self._held = 0
        self._ids: OrderedDict[float, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, aspect: float | None, px: int, ty: int, tx: int) -> bytes | None:
        """PNG bytes of the tile; None while the fitted grid of ``aspect`` is being computed.

        Raises NoTiles for a project without tiles, UnknownName for a level it lacks, IndexError
        for a tile outside the grid.
        """
        store = self.project.tiles
        if store is None:
            raise NoTiles("this project has no map tiles (it was built by an earlier deepviz); "
                          "run `deepviz build` on it again to add them")
        if aspect is None:
            return store.get(px, ty, tx)
        grid = self.fitted.get(aspect)
        if grid is None:
            return None
        if (grid.rows, grid.cols) == self.project.grid_shape:
            return store.get(px, ty, tx)  # a fitted grid of the stored shape is the stored grid
        if px not in store.info.levels:
            raise UnknownName(f"no tile level of {px} px per cell; the levels are {list(store.info.levels)}")
        return self._composed(grid, px, ty, tx)

    def _composed(self, grid: FittedGrid, px: int, ty: int, tx: int) -> bytes:
        key = (grid.aspect, px, ty, tx)
        with self._lock:
            if key in self._tiles:
                self._tiles.move_to_end(key)
                return self._tiles[key]
        t_rows, t_cols = tile_counts(grid.rows, grid.cols, px)
        if not (0 <= ty < t_rows and 0 <= tx < t_cols):
            raise IndexError(f"tile ({ty}, {tx}) is outside level {px}'s {t_rows} x {t_cols} tiles")
        store = self.project.tiles
        assert store is not None  # checked by get
        png = encode_tile(mosaic(tile_ids(self._id_grid(grid), px, ty, tx), store.pixels(self.project.n), px))
        with self._lock:
            self._tiles[key] = png
            self._held += len(png)
            while self._held > self.cache_bytes and len(self._tiles) > 1:
                self._held -= len(self._tiles.popitem(last=False)[1])
        return png

    def _id_grid(self, grid: FittedGrid) -> np.ndarray:
        """(rows, cols) int32 image id per cell of ``grid`` (4 MB at 1M images), the last KEEP kept."""
        with self._lock:
            if grid.aspect in self._ids:
                self._ids.move_to_end(grid.aspect)
                return self._ids[grid.aspect]
        ids = id_by_cell(grid.cells, grid.rows, grid.cols)
        with self._lock:
            self._ids[grid.aspect] = ids
            while len(self._ids) > KEEP:
                self._ids.popitem(last=False)
        return ids
