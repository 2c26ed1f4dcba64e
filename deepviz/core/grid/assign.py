"""gridify: check a layout, normalise it to cell units and hand it to one of the METHODS."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from deepviz.core.grid.geometry import Solver, normalise
from deepviz.core.grid.greedy import greedy
from deepviz.core.grid.kdsplit import kdsplit
from deepviz.core.grid.kdsplit_fast import kdsplit_fast
from deepviz.core.grid.optimal import optimal
from deepviz.core.grid.shape import check_layout, check_shape, grid_shape

_SOLVERS: dict[str, Solver] = {
    "kdsplit": kdsplit,
    "kdsplit-fast": kdsplit_fast,
    "greedy": greedy,
    "optimal": optimal,
}
METHODS: tuple[str, ...] = tuple(_SOLVERS)
# What "auto" picks for a build (bench/bench_grid.py, 2 cores): the exact assignment stays within
# seconds up to 2,500 points (lapjv); kdsplit then, 1.8 s at 100k (10-NN kept 0.629) and 8.5 s at
# 1M (0.615; its fast effort above 250,000 points, kdsplit.py); above 1M kdsplit-fast (0.8 s at
# 1M, 10-NN kept 0.595). The server grids other pane shapes while the user waits, so it
# switches to kdsplit-fast sooner (``FITTED_KDSPLIT_MAX``).
OPTIMAL_AUTO_MAX = 2500
KDSPLIT_AUTO_MAX = 1_000_000
FITTED_KDSPLIT_MAX = 200_000


def auto_method(n: int) -> str:
    """The method ``--grid auto`` uses for ``n`` points: the best one that stays affordable."""
    if n <= OPTIMAL_AUTO_MAX:
        return "optimal"
    return "kdsplit" if n <= KDSPLIT_AUTO_MAX else "kdsplit-fast"


def gridify(
    xy: ArrayLike,
    shape: tuple[int, int] | None = None,
    *,
    aspect: float = 1.0,
    method: str = "kdsplit",
    seed: int = 0,
) -> NDArray[np.int32]:
    """(N, 2) float layout [x, y] -> (N, 2) int32 [row, col], a distinct grid cell per point.

    ``shape`` is (rows, cols) with rows * cols >= N; by default ``grid_shape(N, aspect)``.
    x maps to columns, y to rows (row 0 = smallest y): pass a "y up" layout flipped.
    The result is a bijection from points onto a subset of the cells; ``xy`` is not modified.

    Methods (see ``METHODS``):

    ``"optimal"``       exact assignment minimising the total squared distance between the
                        normalised layout and the cell centres (lapjv if installed, else
                        scipy). O(N^3) time, O(N^2) memory: refused above 20,000 points.
    ``"greedy"``        the deepviz paper's method: each point in turn takes the nearest free
                        cell among its 50 nearest cells (any nearest free cell if all are taken).
                        Points are visited in an order shuffled by ``seed`` so that a sorted
                        input does not let its first class take the best cells.
    ``"kdsplit-fast"``  recursive halving of the grid along its longer side, each half
                        receiving the points that lie furthest towards it, in proportion to
                        its cells. O(N log N), ~1 s at 1M points; 10-30% more
                        displacement than optimal on clustered layouts.
    ``"kdsplit"``       the default, near optimal and ~9 s at 1M points: kd-split of the
                        layout warped to spread evenly over the grid, then exact assignments
                        inside overlapping 8x8 windows of cells (4x4 windows, more passes
                        and a narrower warp kernel above 250,000 points, kdsplit.Effort).
                        Up to 2,500 points the warp comes from an exact coarse assignment
                        of a sample and the windows minimise the total squared distance;
                        above, it is built level by
                        level from kdsplit on a half-size sample, and the windows work on
                        the warped positions, which keeps more neighbours together. Either
                        way, should the warped result cost more total squared distance than
                        kdsplit-fast's, kdsplit-fast's result refined is returned, so kdsplit
                        is never worse by it than kdsplit-fast; on 100k-1M-point clustered
                        maps it also keeps more of each point's nearest neighbours together.

    ``seed`` shuffles greedy's visiting order and picks kdsplit's sample; optimal and
    kdsplit-fast ignore it. Every method is deterministic for a given seed.
    """
    solver = _solver(method)
    pts = check_layout(xy)
    n = pts.shape[0]
    rows, cols = grid_shape(n, aspect) if shape is None else check_shape(shape, n)
    if n == 0:
        return np.empty((0, 2), dtype=np.int32)
    pos = normalise(pts, (rows, cols))
    return solver(pos, (rows, cols), seed).astype(np.int32, copy=False)


def _solver(method: str) -> Solver:
    try:
        return _SOLVERS[method]
    except KeyError:
        raise ValueError(f"unknown gridify method {method!r}; valid methods: {', '.join(METHODS)}") from None
