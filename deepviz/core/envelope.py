"""A sorted similarity curve reduced to what a drawing of it can show: one min/max pair per column.

A ranking's similarities are non-increasing, so over a run of ranks ``[a, b)`` the curve enters at
its maximum ``sims[a]`` and leaves at its minimum ``sims[b - 1]``. An envelope of a million ranks at
a few thousand columns therefore loses nothing a picture of that width could show.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def column_edges(n: int, columns: int, *, log: bool = False) -> NDArray[np.int64]:
    """Rank boundaries ``[e0=0, e1, ..., ek=n]`` of at most ``columns`` non-empty columns over ``n`` ranks.

    On a log axis column ``c`` covers the ranks whose ``log1p(rank) / log1p(n)`` falls in it (the
    page's rank axis, ``web/src/rankScale.ts``), so the head gets one column per rank.
    """
    if n <= 0:
        return np.zeros(1, dtype=np.int64)
    f = np.linspace(0.0, 1.0, max(1, columns) + 1)
    edges = np.expm1(f * np.log1p(n)) if log else f * n
    # Every column holds at least one rank: rounding up and dropping repeats merges empty ones.
    return np.unique(np.clip(np.ceil(edges - 1e-9), 0, n).astype(np.int64))


def envelope(sims: NDArray[np.floating], edges: NDArray[np.int64]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """(high, low) of the non-increasing curve ``sims`` over each column ``[edges[i], edges[i+1])``."""
    start, stop = edges[:-1], edges[1:]
    high = np.asarray(sims[start], dtype=np.float32)
    low = np.asarray(sims[stop - 1], dtype=np.float32)
    return high, low
