"""Near-duplicates, found exactly: every pair of images whose features' dot product reaches a threshold.

The similarity matrix is walked in blocks of rows against every row, keeping only its upper
triangle, so memory stays bounded and no pair is missed or counted twice; pairs are
joined into groups by connected components (a group may chain: a~b and b~c put a, b, c together).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from deepviz.core.evaluation import similarity_blocks
from deepviz.core.similarity import Features

__all__ = ["DuplicatePairs", "duplicate_groups", "near_duplicate_pairs", "redundant_members"]

DEFAULT_BLOCK_BYTES = 128 << 20


@dataclass(frozen=True)
class DuplicatePairs:
    """``first`` < ``second`` (P,) int64 ids, ``sims`` (P,) float32 their similarity, by first then second."""

    first: NDArray[np.int64]
    second: NDArray[np.int64]
    sims: NDArray[np.float32]


def near_duplicate_pairs(features: Features, threshold: float, *, block_bytes: int = DEFAULT_BLOCK_BYTES) -> DuplicatePairs:
    """Every pair i < j with ``features[i] · features[j] >= threshold`` (float32 sums of the stored rows).

    Blocks of rows against every row, as the whole-set evaluation does (float16 rows converted a
    chunk at a time), so memory stays within ``block_bytes`` plus one chunk of converted rows.
    """
    n = features.shape[0]
    step = max(1, block_bytes // (5 * max(n, 1)))
    firsts, seconds, sims = [], [], []
    for start, block in similarity_blocks(features, np.arange(n, dtype=np.int64), step):
        rows = np.arange(start, start + len(block))
        block[np.arange(n)[None, :] <= rows[:, None]] = -np.inf  # keep column > row: the upper triangle
        r, c = np.nonzero(block >= np.float32(threshold))
        firsts.append(r + start)
        seconds.append(c)
        sims.append(block[r, c])
    if not firsts:
        empty = np.empty(0, dtype=np.int64)
        return DuplicatePairs(empty, empty, np.empty(0, dtype=np.float32))
    return DuplicatePairs(
        np.concatenate(firsts).astype(np.int64), np.concatenate(seconds).astype(np.int64), np.concatenate(sims).astype(np.float32)
    )


def duplicate_groups(pairs: DuplicatePairs, n: int) -> list[list[int]]:
    """The connected groups of ``pairs`` over ``n`` images: each sorted, largest group first (ties by first id)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if len(pairs.first) == 0:
        return []
    graph = coo_matrix((np.ones(len(pairs.first), dtype=np.int8), (pairs.first, pairs.second)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    involved = np.union1d(pairs.first, pairs.second)
    groups: dict[int, list[int]] = {}
    for i in involved.tolist():
        groups.setdefault(int(component[i]), []).append(i)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def redundant_members(groups: list[list[int]], n: int) -> NDArray[np.bool_]:
    """(N,) bool: True for every image of a group but its first (lowest id), the ones hidden to keep one of each."""
    mask = np.zeros(n, dtype=bool)
    for g in groups:
        mask[sorted(g)[1:]] = True
    return mask
