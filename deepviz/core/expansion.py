"""Average query expansion (the paper's suggestion, after Chum et al. 2007): the query averaged with
its top-k neighbours and made unit length again, a new query that is ranked like any other."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from deepviz.core.normalize import ZeroFeatureError
from deepviz.core.similarity import Features

__all__ = ["expand_query", "top_neighbours"]


def top_neighbours(order: ArrayLike, k: int, exclude: int | None = None) -> NDArray[np.int64]:
    """The first ``k`` ids of a ranking ``order`` (N,), ``exclude`` (the query itself) skipped."""
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    ids = np.asarray(order, dtype=np.int64)
    head = ids[: k + 1]
    if exclude is not None:
        head = head[head != exclude]
    return head[:k]


def expand_query(features: Features, query: ArrayLike, neighbours: ArrayLike) -> NDArray[np.float32]:
    """(D,) unit ``query`` and the ids of its neighbours in ``features`` (N, D), rows L2-normalised ->
    (D,) float32, the mean of the query and those rows, L2-normalised (summed in float64)."""
    q = np.asarray(query, dtype=np.float64)
    ids = np.asarray(neighbours, dtype=np.int64)
    if q.shape != (features.shape[1],):
        raise ValueError(f"the query has shape {q.shape} but the features have {features.shape[1]} dimensions")
    total = q + np.asarray(features[np.sort(ids)], dtype=np.float64).sum(axis=0)
    norm = float(np.linalg.norm(total))
    if not norm > 1e-12:
        raise ZeroFeatureError("the query and its neighbours cancel out (their mean is the zero vector); use another k")
    # The mean's direction is the sum's: dividing by k + 1 first would change nothing after normalising.
    unit: NDArray[np.float32] = (total / norm).astype(np.float32)
    return unit
