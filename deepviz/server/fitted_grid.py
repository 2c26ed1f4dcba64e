"""Map grids shaped like the page's map pane, gridded from the project's stored t-SNE layout.

A project stores one grid, of the aspect it was built with (``--aspect``, 1.5 by default), and
that grid never changes. A pane of another shape would show it as a band with empty space
around it, so the page asks for a grid of its pane's aspect: the server lays the same t-SNE
coordinates on a grid of that shape with the same method (the fast kd-split above
``gridmod.FITTED_KDSPLIT_MAX`` images, as the page is waiting) and keeps it.

* Aspects are snapped to ``ASPECTS``, steps of 2^(1/4) (19 %): at most ~9 % of the pane's
  longer side stays empty, and a pane being dragged asks for a handful of grids, not one
  per pixel.
* Small projects are gridded during the request (a few hundred ms at most). Above
  ``SYNC_LIMIT`` images the grid is computed on one background thread and the request is
  answered "not yet": the page keeps showing the stored grid and asks again.
* Grids are kept in memory (the last ``KEEP`` ones) and, when a folder is given, on disk,
  named by the layout file (itself named by its content), the method and the aspect, and
  written atomically: a restarted server at 1M images does not grid again.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepviz.atomic import save_npy
from deepviz.core import grid as gridmod
from deepviz.storage.project import Project

# width / height of the grids served: 2^(k/4) for k = -8..8, from 1/4 (a tall pane) to 4.
ASPECTS: tuple[float, ...] = tuple(round(2 ** (k / 4), 3) for k in range(-8, 9))
SYNC_LIMIT = 10_000  # kdsplit: ~1 s at 10k points, ~11 s at 100k (bench_grid.py)
KEEP = 4


def snap_aspect(aspect: float) -> float:
    """The value of ``ASPECTS`` nearest to ``aspect`` in log scale (outside their range: the end one)."""
    if not (math.isfinite(aspect) and aspect > 0):
        raise ValueError(f"aspect must be a positive width / height ratio, got {aspect}")
    return min(ASPECTS, key=lambda a: abs(math.log(a / aspect)))


@dataclass(frozen=True)
class FittedGrid:
    """(N, 2) int32 [row, col] cells of a rows x cols grid of ``aspect`` (width / height)."""

    aspect: float
    rows: int
    cols: int
    cells: np.ndarray

    def to_bytes(self) -> bytes:
        return np.ascontiguousarray(self.cells, dtype="<i4").tobytes()


class FittedGrids:
    """The grids of one served project, by snapped aspect; ``get`` answers one or None (not ready yet)."""

    def __init__(self, project: Project, folder: Path | None = None) -> None:
        self.project = project
        self.folder = folder
        n = project.n
        stored = project.manifest.grid.method
        self.method = "kdsplit-fast" if n > gridmod.FITTED_KDSPLIT_MAX else stored if stored in gridmod.METHODS else "kdsplit"
        self.seed = project.manifest.settings.seed
        self._kept: OrderedDict[float, FittedGrid] = OrderedDict()
        self._running: set[float] = set()
        self._lock = threading.Lock()
        self._failed: dict[float, str] = {}

    def get(self, aspect: float) -> FittedGrid | None:
        """The grid for ``aspect`` snapped; None while it is being computed in the background.

        Raises RuntimeError with the reason when computing it failed.
        """
        key = snap_aspect(aspect)
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
            if key in self._failed:
                raise RuntimeError(self._failed[key])
        found = self._stored(key) or self._from_disk(key)
        if found is not None:
            return self._keep(found)
        if self.project.n <= SYNC_LIMIT:
            return self._keep(self._compute(key))
        self._start(key)
        return None

    def _stored(self, key: float) -> FittedGrid | None:
        """The project's own grid when the snapped aspect gives its shape (nothing to compute)."""
        rows, cols = self.project.grid_shape
        if gridmod.grid_shape(self.project.n, key) != (rows, cols):
            return None
        return FittedGrid(key, rows, cols, np.asarray(self.project.grid))

    def _path(self, key: float) -> Path | None:
        if self.folder is None:
            return None
        layout = Path(self.project.manifest.files.layout).stem
        return self.folder / f"{layout}-{self.method}-s{self.seed}-a{key:.3f}.npy"

    def _from_disk(self, key: float) -> FittedGrid | None:
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        rows, cols = gridmod.grid_shape(self.project.n, key)
        try:
            cells = np.load(path)
        except (OSError, ValueError):
            return None  # unreadable: computed again and rewritten
        if cells.shape != (self.project.n, 2) or (cells.size and (cells[:, 0].max() >= rows or cells[:, 1].max() >= cols)):
            return None
        return FittedGrid(key, rows, cols, cells)

    def _compute(self, key: float) -> FittedGrid:
        n = self.project.n
        shape = gridmod.grid_shape(n, key)
        xy = np.asarray(self.project.layout, dtype=np.float64)
        cells = gridmod.gridify(xy, shape, method=self.method, seed=self.seed)
        path = self._path(key)
        if path is not None:
            try:
                save_npy(path, cells)
            except OSError:
                pass  # a read-only cache only costs the next server the computation
        return FittedGrid(key, shape[0], shape[1], cells)

    def _keep(self, grid: FittedGrid) -> FittedGrid:
        with self._lock:
            self._kept[grid.aspect] = grid
            self._kept.move_to_end(grid.aspect)
            while len(self._kept) > KEEP:
                self._kept.popitem(last=False)
        return grid

    def _start(self, key: float) -> None:
        """Compute ``key``'s grid on a background thread, one at a time (a pane dragged across
        several aspects queues them; the page asks again for the one it still wants)."""
        with self._lock:
            if key in self._running:
                return
            self._running.add(key)
        threading.Thread(target=self._background, args=(key,), name=f"deepviz-grid-{key}", daemon=True).start()

    _one_at_a_time = threading.Lock()

    def _background(self, key: float) -> None:
        try:
            with self._one_at_a_time:
                self._keep(self._compute(key))
        except (ValueError, MemoryError, OSError) as err:
            with self._lock:
                self._failed[key] = f"could not grid the layout at aspect {key}: {err}"
        finally:
            with self._lock:
                self._running.discard(key)
