"""Average query expansion against a plain numpy reference (float64 mean of the query and its top k)."""

from __future__ import annotations

import numpy as np
import pytest

from deepviz.core.expansion import expand_query, top_neighbours
from deepviz.core.normalize import ZeroFeatureError
from deepviz.core.similarity import rank


def test_expanded_ranking_matches_numpy() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(400, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    stored = x.astype(np.float16)
    q, k = 31, 7
    query = stored[q].astype(np.float32)
    order, _ = rank(stored, query)
    got = expand_query(stored, query, top_neighbours(order, k, exclude=q))
    # Reference, written out independently: similarities in float64, the query left out, ties by id.
    x64 = stored.astype(np.float64)
    sims = x64 @ x64[q]
    others = np.flatnonzero(np.arange(len(x)) != q)
    nearest = others[np.lexsort((others, -sims[others]))][:k]
    mean = (x64[q] + x64[nearest].sum(axis=0)) / (k + 1)
    want = mean / np.linalg.norm(mean)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert abs(float(np.linalg.norm(got)) - 1) < 1e-6
    new_order, _ = rank(stored, got)
    ref_order = np.lexsort((np.arange(len(x)), -(x64 @ want)))
    assert np.array_equal(new_order[:50], ref_order[:50])


def test_top_neighbours_skip_the_query_wherever_it_is() -> None:
    assert top_neighbours([4, 2, 7, 1], 2, exclude=4).tolist() == [2, 7]
    assert top_neighbours([2, 4, 7, 1], 2, exclude=4).tolist() == [2, 7]
    assert top_neighbours([2, 7, 1], 2).tolist() == [2, 7]
    assert top_neighbours([2, 7], 0, exclude=2).tolist() == []


def test_k_zero_is_the_query_itself_and_opposites_cancel() -> None:
    x = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    assert np.array_equal(expand_query(x, x[2], []), x[2])
    with pytest.raises(ZeroFeatureError, match="cancel out"):
        expand_query(x, x[0], [1])
