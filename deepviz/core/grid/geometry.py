"""Cell units: the normalised layout every method works in, cell centres, and the cost they share."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

# A layout ``xy`` is (N, 2) float: column 0 is x (grows to the right), column 1 is y.
# x maps to grid columns and y to grid rows, row 0 holding the smallest y. That is
# screen orientation for a "y down" layout; flip y first (``xy * [1, -1]``) for "y up".
#
# Normalisation ("cell units"): each axis is min-max scaled independently so that the
# layout's bounding box spans the outermost cell centres, x -> [0, cols - 1] and
# y -> [0, rows - 1]; cell (r, c) has its centre at (row, col) = (r, c). Per-axis
# scaling (rather than preserving the layout's aspect) makes the points cover the whole
# grid, so no method is forced to push points into a band the layout never reaches. An
# axis with no spread is placed in the middle of the grid.

Shape = tuple[int, int]
"""(rows, cols) of a grid."""

Positions = NDArray[np.float64]
"""(N, 2) float64 [row, col] points in cell units (see the notes above)."""

Cells = NDArray[np.int64]
"""(N, 2) int64 [row, col], one distinct cell per point."""

Solver = Callable[[Positions, Shape, int], Cells]
"""A gridify method: (positions, shape, seed) -> cells; inputs are never modified."""


def normalise(pts: NDArray[np.float64], shape: Shape) -> Positions:
    """(N, 2) [x, y] layout -> (N, 2) float64 [row, col] in cell units (see the notes above)."""
    rows, cols = shape
    out = np.empty_like(pts)
    for axis, extent, dst in ((1, rows, 0), (0, cols, 1)):
        v = pts[:, axis]
        lo, hi = v.min(), v.max()
        if hi > lo:
            out[:, dst] = (v - lo) * ((extent - 1) / (hi - lo))
        else:
            out[:, dst] = (extent - 1) / 2
    return out


def cell_centres(shape: Shape) -> NDArray[np.float64]:
    """(rows * cols, 2) float64 [row, col] of every cell, row-major."""
    rows, cols = shape
    r, c = np.divmod(np.arange(rows * cols), cols)
    return np.column_stack([r, c]).astype(np.float64)


def squared_cost(pos: Positions, cells: Cells) -> float:
    """Total squared distance between (N, 2) positions and their (N, 2) cells: what
    ``optimal`` minimises, and what decides between kdsplit's candidate assignments."""
    return float(((pos - cells) ** 2).sum())


def scaled_to(shape: Shape, coarse: Shape) -> NDArray[np.float64]:
    """(2,) factors taking cell units of ``shape`` to those of the smaller grid ``coarse``."""
    rows, cols = shape
    return np.array([(coarse[0] - 1) / (rows - 1), (coarse[1] - 1) / (cols - 1)])
