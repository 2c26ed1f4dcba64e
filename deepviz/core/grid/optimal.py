"""The exact assignment: minimum total squared displacement, by lapjv when it is installed."""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment  # no stubs in the venv

from deepviz.core.grid.geometry import Cells, Positions, Shape, cell_centres

# Refused above this: the dense M x M float32 cost matrix is 1.6 GB at 20,000 cells and
# lapjv already takes minutes on it; kdsplit comes within a few % of its displacement.
OPTIMAL_MAX_N = 20_000
# Cost rows computed at once: bounds the float64 (rows, M, 2) temporary to 330 MB at the
# 20,000-point limit, instead of N times the row's size.
COST_ROWS_PER_BLOCK = 1024


def optimal(pos: Positions, shape: Shape, seed: int) -> Cells:
    """Exact minimum total squared displacement (see ``gridify``); ``seed`` is unused."""
    n = pos.shape[0]
    if n > OPTIMAL_MAX_N:
        raise ValueError(
            f"method='optimal' is limited to {OPTIMAL_MAX_N} points (it needs an N x N cost "
            f"matrix and cubic time), got {n}; use method='kdsplit', which is near optimal"
        )
    centres = cell_centres(shape)
    m = centres.shape[0]
    # float32 halves the matrix; squared distances in cell units stay exact to ~1e-7 relative
    cost = np.zeros((m, m), dtype=np.float32)
    for start in range(0, n, COST_ROWS_PER_BLOCK):
        block = pos[start : start + COST_ROWS_PER_BLOCK]
        cost[start : start + block.shape[0]] = ((block[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    # rows n..m-1 are dummy points (cost 0 everywhere) that absorb the empty cells
    col = _solve_square(cost)[:n]
    return centres[col].astype(np.int64)


def _solve_square(cost: NDArray[np.float32]) -> NDArray[np.int64]:
    """Column assigned to each row of a square cost matrix, by lapjv when available."""
    try:
        from lapjv import lapjv  # type: ignore[import-not-found, unused-ignore]  # optional: ~10x faster than scipy on large dense problems
    except ImportError:
        cols: NDArray[np.int64] = linear_sum_assignment(cost)[1]
        return cols
    return np.asarray(lapjv(cost)[0], dtype=np.int64)
