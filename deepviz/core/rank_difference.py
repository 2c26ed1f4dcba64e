"""How differently two rankings of one query place each image, as one byte per image (for colouring the map).

An image's difference is the signed log ratio of its two ranks among the other images,
``ln((1 + rank_a) / (1 + rank_b))``, divided by ``ln(N - 1)`` (the largest it can be) and clipped
to [-1, 1]. A log ratio, not ``|rank_a - rank_b|``: moving from rank 3 to rank 300 matters, moving
from 500,300 to 500,000 does not, and the absolute difference would light up the whole tail.
Negative means the first ranking puts the image nearer the top, positive the second.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["NO_VALUE", "SAME", "rank_difference_codes", "rank_log_ratio", "ranks_among_others"]

SAME = 127
"""The code of an image both rankings put at the same rank; 0 is "far nearer the top in a", 254 "in b"."""
NO_VALUE = 255
"""The code of the query itself, which is in neither ranking."""


def ranks_among_others(ranks: ArrayLike, query: int) -> NDArray[np.int64]:
    """(N,) rank of each id in a ranking that includes ``query`` -> its rank among the other N - 1 (the query's own: -1)."""
    r = np.asarray(ranks, dtype=np.int64)
    mine = r[query]
    out: NDArray[np.int64] = r - (r > mine)
    out[query] = -1
    return out


def rank_log_ratio(ranks_a: ArrayLike, ranks_b: ArrayLike) -> NDArray[np.float64]:
    """(N,) ranks in a and in b (0 = top) -> (N,) ``ln((1 + a) / (1 + b))`` in float64."""
    a = np.asarray(ranks_a, dtype=np.float64)
    b = np.asarray(ranks_b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"the rankings differ in length ({a.shape} vs {b.shape})")
    ratio: NDArray[np.float64] = np.log1p(a) - np.log1p(b)
    return ratio


def rank_difference_codes(ranks_a: ArrayLike, ranks_b: ArrayLike, query: int | None = None) -> NDArray[np.uint8]:
    """(N,) ranks of each id in two rankings of one query (``query`` included, as :class:`Ranking.ranks`
    holds them) -> (N,) uint8: ``SAME + round(127 * clip(ln((1 + a) / (1 + b)) / ln(N - 1), -1, 1))``,
    with a and b the ranks among the other images, and ``NO_VALUE`` at ``query``."""
    a, b = np.asarray(ranks_a), np.asarray(ranks_b)
    if query is not None:
        a, b = ranks_among_others(a, query), ranks_among_others(b, query)
        a[query] = b[query] = 0  # its code is set below; 0 keeps the log finite
    others = len(a) - (query is not None)
    scale = math.log(others) if others > 1 else 1.0
    scaled = np.clip(rank_log_ratio(a, b) / scale, -1.0, 1.0)
    codes = (SAME + np.rint(SAME * scaled)).astype(np.uint8)
    if query is not None:
        codes[query] = NO_VALUE
    return codes
