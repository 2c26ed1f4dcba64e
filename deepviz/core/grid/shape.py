"""Grid sizes for N points, and the argument checks every entry point shares."""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from deepviz.core.grid.geometry import Shape

# The row counts ``grid_shape`` tries, as factors of the ideal sqrt(n / aspect). A row count
# outside the band misses the aspect by a factor over 1.25^2 = 1.56 (score > 0.44), more than
# the share of empty cells it could save (under 1/cols) except on grids of a few cells; the
# band keeps the search to O(sqrt n) candidates. Symmetric in log: 0.8 = 1 / 1.25.
ROWS_TRIED_BELOW = 0.8
ROWS_TRIED_ABOVE = 1.25


def grid_shape(n: int, aspect: float = 1.0) -> Shape:
    """(rows, cols) with rows * cols >= n, cols / rows close to ``aspect`` (width / height).

    Candidates around rows = sqrt(n / aspect) are scored by |log(actual / wanted aspect)|
    plus the fraction of empty cells, so a slightly off aspect is accepted when it saves
    many empty cells but never the other way round. Fewer than ``rows`` cells stay empty.
    ``n == 0`` gives (0, 0).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not (math.isfinite(aspect) and aspect > 0):
        raise ValueError(f"aspect must be a positive width/height ratio, got {aspect}")
    if n == 0:
        return (0, 0)
    ideal = math.sqrt(n / aspect)
    lo = max(1, int(ideal * ROWS_TRIED_BELOW))
    hi = min(n, max(lo, int(math.ceil(ideal * ROWS_TRIED_ABOVE))))
    best: tuple[float, int, int] | None = None
    for rows in range(lo, hi + 1):
        cols = -(-n // rows)
        score = abs(math.log(cols / rows / aspect)) + (rows * cols - n) / n
        if best is None or score < best[0]:
            best = (score, rows, cols)
    assert best is not None
    return (best[1], best[2])


def check_layout(xy: ArrayLike) -> NDArray[np.float64]:
    """Validated (N, 2) float64 layout [x, y]: a view of ``xy`` when it already is one."""
    pts = np.asarray(xy, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"xy must be an (N, 2) array of [x, y] positions, got shape {pts.shape}")
    if not np.isfinite(pts).all():
        bad = np.flatnonzero(~np.isfinite(pts).all(axis=1))
        raise ValueError(
            f"{bad.size} layout row(s) contain NaN or inf (first: row {bad[0]}); "
            "recompute the layout or drop those points before gridifying"
        )
    return pts


def check_shape(shape: tuple[int, int], n: int) -> Shape:
    """Validated (rows, cols) that can hold ``n`` points."""
    try:
        rows, cols = (int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be (rows, cols), got {shape!r}") from None
    if rows < 0 or cols < 0:
        raise ValueError(f"shape must be non-negative (rows, cols), got {shape!r}")
    if rows * cols < n:
        raise ValueError(
            f"a {rows} x {cols} grid has {rows * cols} cells for {n} points; "
            f"pass a larger shape or shape=None to use grid_shape({n}, aspect)"
        )
    return rows, cols
