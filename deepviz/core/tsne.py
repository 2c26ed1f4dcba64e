"""The 2-D map: t-SNE (openTSNE) of the L2-normalised features, PCA first for wide features."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Below a few thousand points Barnes-Hut gradients are faster than FFT here (9 s vs 1.6 s
# at 1k), above it FFT wins by far (102 s vs 325 s at 100k x 512): measured on 2 cores.
FFT_THRESHOLD = 5000
# Features wider than this are PCA-projected first: the kNN search that dominates t-SNE at
# 1280 or 4096 dimensions becomes cheap, with little change to the neighbourhoods.
PCA_DIMS = 50
# Up to this many rows PCA uses the exact SVD; above, the randomized one, whose cost grows
# with the few components kept rather than with the full width (not measured here).
PCA_EXACT_MAX_N = 2000
# openTSNE needs 3 * perplexity < N with perplexity >= 1, so 4 points is the smallest map.
MIN_TSNE_N = 4
# The optimisation's length and the kNN index's effort, chosen by bench/bench_tsne.py on 100k
# clustered 1280-d features and on the demo set, against openTSNE's defaults (250 + 500
# iterations, 50 Annoy trees): see SCHEDULE's comments for what each change bought and cost.
@dataclass(frozen=True)
class Schedule:
    """How long t-SNE runs and how hard its kNN search tries."""

    ee_iter: int  # early exaggeration: used for a fresh map only (see ``tsne_layout`` on continuing one)
    n_iter: int  # the main phase
    n_trees: int  # Annoy trees of the approximate kNN index (openTSNE's default is 50)


SCHEDULE = Schedule(ee_iter=125, n_iter=350, n_trees=10)
# From this many rows the kNN graph comes from an approximate (Annoy) index, exact below (openTSNE's "auto" rule).
APPROX_KNN_MIN_N = 1000
# A new row starts at the mean position of this many nearest old rows in feature space.
INIT_NEIGHBOURS = 5
# Seeded jitter added to new rows' start, as a fraction of the old map's spread: rows that
# share neighbours must not start on one point, and 1e-3 of the spread moves none visibly.
INIT_JITTER = 1e-3


def reduce_dims(features: ArrayLike, n_components: int = PCA_DIMS, seed: int = 0) -> NDArray[np.float32]:
    """(N, D) -> (N, min(n_components, D, N)) float32 PCA projection, or the features
    themselves as float32 when D <= n_components."""
    x = np.asarray(features, dtype=np.float32)
    n, d = x.shape
    k = min(n_components, d, n)
    if d <= n_components:
        return x
    from sklearn.decomposition import PCA  # heavy, and no stubs

    solver = "randomized" if n > PCA_EXACT_MAX_N else "full"
    projected: NDArray[np.floating] = PCA(n_components=k, svd_solver=solver, random_state=seed).fit_transform(x)
    return projected.astype(np.float32)


def tsne_layout(
    features: ArrayLike,
    *,
    seed: int = 0,
    perplexity: float = 30.0,
    n_jobs: int = 1,
    verbose: bool = False,
    previous: NDArray[np.floating] | None = None,
) -> NDArray[np.float32]:
    """(N, D) L2-normalised features -> (N, 2) float32 t-SNE coordinates, deterministic for a seed.

    ``previous`` ((M, 2), M <= N) is the layout of the first M rows from an earlier run:
    the optimisation then starts from it, with each new row placed among its nearest old
    neighbours, so adding images to a project moves the map as little as t-SNE allows.
    Neither input is modified.

    Fewer than 4 images cannot make a t-SNE; they get their first two principal
    components instead (a line or a point), which is honest and still drawable.
    """
    feats = np.asarray(features, dtype=np.float32)
    n = feats.shape[0]
    if n == 0:
        return np.zeros((0, 2), np.float32)
    x = reduce_dims(feats, seed=seed)
    if n < MIN_TSNE_N:
        return _tiny_layout(x)
    from openTSNE import TSNE  # heavy, and no stubs

    # openTSNE needs 3 * perplexity < N for its neighbour graph.
    perp = float(min(perplexity, max(1.0, (n - 1) / 3.0)))
    tsne = TSNE(
        n_components=2,
        perplexity=perp,
        # Euclidean distance between unit rows is a monotone function of cosine, and PCA
        # keeps Euclidean geometry (it would not keep cosine: it centres the data).
        metric="euclidean",
        initialization=_initial_from(previous, x) if previous is not None else ("pca" if _spread(x) else "random"),
        # Continuing from a converged map needs no early exaggeration: that phase exists to
        # untangle a random start, and here it would shuffle the map the user already knows
        # (measured on the demo set, 40 images added: 10-NN kept 0.88 without it, 0.72 with it).
        early_exaggeration_iter=SCHEDULE.ee_iter if previous is None else 0,
        n_iter=SCHEDULE.n_iter,
        neighbors="annoy" if n >= APPROX_KNN_MIN_N else "exact",
        knn_kwargs={"n_trees": SCHEDULE.n_trees} if n >= APPROX_KNN_MIN_N else None,
        negative_gradient_method="fft" if n >= FFT_THRESHOLD else "bh",
        random_state=seed,
        n_jobs=n_jobs,
        verbose=verbose,
    )
    with _quiet_openTSNE_init_warning():
        return np.asarray(tsne.fit(x), dtype=np.float32)


def _spread(x: NDArray[np.float32]) -> bool:
    """Whether the rows differ at all: PCA of identical rows (every image with the same features,
    as a constant imported file gives) divides by a zero variance, so those start at random."""
    return bool(np.ptp(x, axis=0).max() > 0)


@contextmanager
def _quiet_openTSNE_init_warning() -> Iterator[None]:
    """openTSNE warns about any initialisation wider than its default; a previous map is
    wide on purpose (its scale is the converged one), so the warning would only alarm."""
    logger = logging.getLogger("openTSNE.tsne")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _initial_from(
    previous: NDArray[np.floating], x: NDArray[np.float32], k: int = INIT_NEIGHBOURS
) -> NDArray[np.float64]:
    """(N, 2) starting positions: ``previous`` for the old rows, and for each new row the mean
    position of its ``k`` nearest old rows in the (reduced) feature space ``x`` (N, d)."""
    from sklearn.neighbors import NearestNeighbors

    m = previous.shape[0]
    init = np.empty((x.shape[0], 2), np.float64)
    init[:m] = previous
    if x.shape[0] > m:
        nn = NearestNeighbors(n_neighbors=min(k, m)).fit(x[:m])
        idx: NDArray[np.intp] = nn.kneighbors(x[m:], return_distance=False)
        init[m:] = previous[idx].mean(axis=1)
        # Tiny seeded jitter: new rows that share neighbours must not start on one point.
        spread = previous.std() * INIT_JITTER or INIT_JITTER
        init[m:] += np.random.default_rng(0).normal(scale=spread, size=(x.shape[0] - m, 2))
    return init


def _tiny_layout(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """(N, d) with N < 4 -> (N, 2) float32: the first two principal components, zero-padded."""
    centred = x - x.mean(axis=0)
    out = np.zeros((x.shape[0], 2), np.float32)
    if x.shape[0] > 1:
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        proj = centred @ vt[:2].T
        out[:, : proj.shape[1]] = proj
    return out
