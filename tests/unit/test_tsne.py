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


def test_pca_by_blocks_spans_the_same_axes_as_an_exact_pca() -> None:
    from sklearn.decomposition import PCA

    from deepviz.core.tsne import pca_by_blocks

    rng = np.random.default_rng(4)
    x = (rng.normal(size=(3000, 96)) * np.linspace(3, 0.1, 96)).astype(np.float16)  # distinct variances
    ours = pca_by_blocks(x, 8, block_rows=700)  # blocks that do not divide N
    exact = PCA(n_components=8, svd_solver="full").fit_transform(x.astype(np.float64))
    assert ours.shape == (3000, 8) and ours.dtype == np.float32
    # the same axes up to sign, and the sign rule holds (largest loading positive): deterministic
    for j in range(8):
        assert min(np.abs(ours[:, j] - exact[:, j]).max(), np.abs(ours[:, j] + exact[:, j]).max()) < 1e-3
    np.testing.assert_array_equal(ours, pca_by_blocks(x, 8, block_rows=700))
    # other blocks change only float rounding, never an axis's sign
    np.testing.assert_allclose(ours, pca_by_blocks(x, 8, block_rows=3000), atol=1e-4)


def test_reduce_dims_makes_no_float32_copy_past_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    import deepviz.core.tsne as tsne

    feats, _ = _unit_clusters(400, d=80)
    monkeypatch.setattr(tsne, "PCA_COPY_MAX_BYTES", 1000)  # 400 x 80 x 4 bytes is past it
    seen: list[object] = []
    monkeypatch.setattr(tsne, "pca_by_blocks", lambda x, k, **_: seen.append(x.dtype) or np.zeros((len(x), k), np.float32))
    tsne.reduce_dims(feats.astype(np.float16))
    assert seen == [np.dtype(np.float16)]  # handed the rows as they are, not a float32 copy


def test_pca_fitted_on_a_sample_of_rows_spans_nearly_the_same_axes() -> None:
    """Past PCA_FIT_ROWS the axes come from a sample: on features with distinct variances the
    projection is the full fit's up to sign, within 10 % of each axis's spread (RMS)."""
    from deepviz.core.tsne import pca_by_blocks

    rng = np.random.default_rng(5)
    scale = np.r_[[8.0, 6.0, 4.5, 3.0, 2.0], np.full(59, 0.5)]  # five clear axes, then noise
    x = (rng.normal(size=(6000, 64)) * scale).astype(np.float32)
    full = pca_by_blocks(x, 5)
    sampled = pca_by_blocks(x, 5, fit_rows=1500, seed=3)
    assert sampled.shape == (6000, 5) and sampled.dtype == np.float32
    for j in range(5):
        rms = min(np.sqrt(np.mean((sampled[:, j] - s * full[:, j]) ** 2)) for s in (1, -1))
        assert rms < 0.1 * full[:, j].std(), j
    np.testing.assert_array_equal(sampled, pca_by_blocks(x, 5, fit_rows=1500, seed=3))  # seeded
    assert not np.array_equal(sampled, pca_by_blocks(x, 5, fit_rows=1500, seed=4))  # another sample


def test_reduce_dims_fits_its_axes_on_a_sample_past_the_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    import deepviz.core.tsne as tsne

    feats, _ = _unit_clusters(400, d=80)
    monkeypatch.setattr(tsne, "PCA_FIT_ROWS", 100)
    calls: list[dict[str, int]] = []
    real = tsne.pca_by_blocks
    monkeypatch.setattr(tsne, "pca_by_blocks", lambda x, k, **kw: calls.append(kw) or real(x, k, **kw))
    out = tsne.reduce_dims(feats, seed=2)
    assert out.shape == (400, tsne.PCA_DIMS) and calls == [{"fit_rows": 100, "seed": 2}]


@pytest.mark.slow
def test_a_sampled_layout_places_the_rest_among_their_own_cluster() -> None:
    feats, label = _unit_clusters(1600, k=4, seed=5)
    xy = tsne_layout(feats, seed=1, sample_above=1200)
    assert xy.shape == (1600, 2) and xy.dtype == np.float32 and np.isfinite(xy).all()
    np.testing.assert_array_equal(xy, tsne_layout(feats, seed=1, sample_above=1200))
    # every image's nearest map neighbours, placed or sampled, come from its own cluster
    assert (label[_knn(xy, 5)] == label[:, None]).mean() > 0.95
    assert len(np.unique(xy, axis=0)) == 1600  # placed rows never share a point


@pytest.mark.slow
def test_past_the_sample_size_new_rows_are_placed_and_old_ones_stay() -> None:
    feats, label = _unit_clusters(500, k=4, seed=6)
    old = tsne_layout(feats[:400], seed=2)
    grown = tsne_layout(feats, seed=2, previous=old, sample_above=300)
    np.testing.assert_array_equal(grown[:400], old)
    # a new image lands among old images of its own cluster
    d = ((grown[400:, None, :] - old[None, :, :]) ** 2).sum(axis=2)
    nearest_old = np.argsort(d, axis=1)[:, :5]
    assert (label[:400][nearest_old] == label[400:, None]).mean() > 0.95
