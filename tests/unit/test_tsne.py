"""tsne_layout: shapes and determinism, the tiny-input fallback, and continuing an earlier map."""
from __future__ import annotations

import numpy as np
import pytest

from deepviz.core.tsne import PCA_DIMS, reduce_dims, tsne_layout


def _unit_clusters(n: int, d: int = 64, k: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, d) float32 unit rows in k well-separated clusters, and the (n,) cluster of each."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, k, size=n)
    x = (rng.normal(size=(k, d)) * 4)[label] + rng.normal(size=(n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), label


def _knn(xy: np.ndarray, k: int) -> np.ndarray:
    d = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(d, np.inf)
    return np.argsort(d, axis=1)[:, :k]


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_fewer_than_four_points_get_a_drawable_layout(n: int) -> None:
    feats, _ = _unit_clusters(max(n, 1), d=8)
    xy = tsne_layout(feats[:n])
    assert xy.shape == (n, 2) and xy.dtype == np.float32 and np.isfinite(xy).all()
    if n == 2:  # two distinct points stay apart
        assert np.linalg.norm(xy[0] - xy[1]) > 0


def test_reduce_dims_projects_only_wide_features() -> None:
    feats, _ = _unit_clusters(200, d=80)
    wide = reduce_dims(feats, seed=1)
    assert wide.shape == (200, PCA_DIMS) and wide.dtype == np.float32
    narrow = reduce_dims(feats[:, :20])
    np.testing.assert_array_equal(narrow, feats[:, :20])


@pytest.mark.slow
def test_layout_is_deterministic_and_keeps_clusters_apart() -> None:
    feats, label = _unit_clusters(150)
    before = feats.copy()
    xy = tsne_layout(feats, seed=3)
    assert xy.shape == (150, 2) and xy.dtype == np.float32
    np.testing.assert_array_equal(xy, tsne_layout(feats, seed=3))
    np.testing.assert_array_equal(feats, before)
    # a point's 5 nearest map neighbours come from its own cluster
    assert (label[_knn(xy, 5)] == label[:, None]).mean() > 0.95


@pytest.mark.slow
def test_continuing_a_layout_keeps_the_old_points_near_where_they_were() -> None:
    feats, _ = _unit_clusters(240, seed=1)
    # the earlier map, mirrored: a fresh run (PCA start) would not find this orientation
    old = tsne_layout(feats[:200], seed=2) * np.array([-1, 1], np.float32)
    previous = old.copy()
    grown = tsne_layout(feats, seed=2, previous=previous)
    np.testing.assert_array_equal(previous, old)  # the previous map is not modified
    assert grown.shape == (240, 2) and np.isfinite(grown).all()
    moved = np.abs(grown[:200] - old).mean() / old.std()
    fresh = tsne_layout(feats, seed=2)
    moved_fresh = np.abs(fresh[:200] - old).mean() / old.std()
    # measured: 0.13 continued, 0.89 fresh
    assert moved < 0.3 < moved_fresh


def test_identical_rows_still_get_a_layout_without_a_warning() -> None:
    """A constant feature file (every image the same vector) must not divide by zero in PCA."""
    feats = np.tile(np.array([[0.6, 0.8, 0.0]], np.float32), (12, 1))
    xy = tsne_layout(feats, seed=0)
    assert xy.shape == (12, 2) and np.isfinite(xy).all()
