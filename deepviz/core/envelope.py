"""A sorted similarity curve reduced to what a chart of a given width draws: its per-pixel-column envelope.

The page's rank axis (web/src/rankScale.ts) is linear, or logarithmic with x = log(1 + p) / log(1 + n)
of the plot width. Ranks at least a pixel apart are drawn one point each; past them every pixel
column holds many ranks, and a sorted (non-increasing) curve enters a column at its first rank's
similarity (the column's max) and leaves at its last's (the min). So a chart of 1,000 px needs at
most ~2,000 points, whatever N is, and loses no spike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Envelope:
    """The points of a curve as drawn: ``x`` (K,) float32 pixels from the plot's left edge,
    ``sims`` (K,) float32 similarity, ``first``/``last`` (K,) int64 the span of ranks each point stands for
    (one rank for a head point; a column's ranks for each of its two points)."""

    x: NDArray[np.float32]
    sims: NDArray[np.float32]
    first: NDArray[np.int64]
    last: NDArray[np.int64]


def position_to_x(p: float, plot_width: float, n: int, log: bool) -> float:
    """Pixel x of rank position ``p`` (rank r spans [r, r + 1)), as rankScale.ts's positionToX."""
    m = max(1, n)
    q = min(max(p, 0.0), float(m))
    return math.log1p(q) / math.log1p(m) * plot_width if log else q / m * plot_width


def x_to_position(x: float, plot_width: float, n: int, log: bool) -> float:
    """The rank position at pixel ``x`` (inverse of :func:`position_to_x`), as rankScale.ts's xToPosition."""
    m = max(1, n)
    f = min(max(x, 0.0), plot_width) / max(1.0, plot_width)
    return min(float(m), math.expm1(f * math.log1p(m))) if log else f * m


def envelope(sims: NDArray[np.float32], plot_width: float, log: bool) -> Envelope:
    """The points that draw ``sims`` (N,) non-increasing on a ``plot_width`` px axis (linear or log)."""
    n = len(sims)
    xs: list[float] = []
    first: list[int] = []
    last: list[int] = []
    shown: list[int] = []  # the rank whose similarity each point shows
    r = 0
    while r < n and position_to_x(r + 1.5, plot_width, n, log) - position_to_x(r + 0.5, plot_width, n, log) >= 1:
        xs.append(position_to_x(r + 0.5, plot_width, n, log))
        first.append(r)
        last.append(r)
        shown.append(r)
        r += 1
    c = math.floor(position_to_x(r, plot_width, n, log))
    while r < n and c < math.ceil(plot_width):
        end = min(n - 1, math.ceil(x_to_position(c + 1, plot_width, n, log)) - 1)
        if end >= r:
            xs += [c + 0.5, c + 0.5]
            first += [r, r]
            last += [end, end]
            shown += [r, end]  # enters at the column's max, leaves at its min
            r = end + 1
        c += 1
    at = np.asarray(shown, dtype=np.int64)
    return Envelope(
        np.asarray(xs, dtype=np.float32),
        np.asarray(sims[at], dtype=np.float32),
        np.asarray(first, dtype=np.int64),
        np.asarray(last, dtype=np.int64),
    )
