"""The 2-D map: t-SNE (openTSNE) of the L2-normalised features, PCA first for wide features."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

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
# A float32 copy of the features larger than this is never made: PCA then comes from the
# covariance matrix, summed block by block straight from the (float16, memory-mapped) rows:
# exact, and its memory is D x D plus one block (1M x 1280 would need 5.1 GB as float32, twice).
PCA_COPY_MAX_BYTES = 1 << 30
PCA_BLOCK_ROWS = 1 << 16
# Past this many rows the principal axes are fitted on a seeded sample of this many rows, and every
# row is projected on them: the covariance of 100k x 1280 rows took 8.1 s here, of a 20k sample
# 1.6 s, and the top 50 axes of clustered features barely move (bench/bench_tsne.py --variants
# now,pcaall measures the layout's 10-NN preservation and label accuracy with both).
PCA_FIT_ROWS = 20_000
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
# Rows of the rest placed per kNN query batch (bounds the (rows, k) index arrays).
PLACE_BLOCK_ROWS = 1 << 16
# Seeded jitter added to new rows' start, as a fraction of the old map's spread: rows that
# share neighbours must not start on one point, and 1e-3 of the spread moves none visibly.
INIT_JITTER = 1e-3


def reduce_dims(features: ArrayLike, n_components: int = PCA_DIMS, seed: int = 0) -> NDArray[np.float32]:
    """(N, D) -> (N, min(n_components, D, N)) float32 PCA projection, or the features
    themselves as float32 when D <= n_components. ``features`` may be a float16 memory map:
    past ``PCA_FIT_ROWS`` rows the axes come from a seeded sample of rows and every row is
    projected block by block (``pca_by_blocks``), so no float32 copy of the whole set is made."""
    x = features if isinstance(features, np.ndarray) else np.asarray(features)
    n, d = x.shape
    k = min(n_components, d, n)
    if d <= n_components:
        return np.asarray(x, dtype=np.float32)
    if n > PCA_FIT_ROWS or n * d * 4 > PCA_COPY_MAX_BYTES:
        return pca_by_blocks(x, k, fit_rows=PCA_FIT_ROWS, seed=seed)
    from sklearn.decomposition import PCA  # heavy, and no stubs

    solver = "randomized" if n > PCA_EXACT_MAX_N else "full"
    projected: NDArray[np.floating] = PCA(n_components=k, svd_solver=solver, random_state=seed).fit_transform(
        np.asarray(x, dtype=np.float32)
    )
    return projected.astype(np.float32)


def pca_by_blocks(
    x: NDArray[np.floating], k: int, block_rows: int = PCA_BLOCK_ROWS, fit_rows: int = 0, seed: int = 0
) -> NDArray[np.float32]:
    """(N, D) rows of any float dtype -> (N, k) float32 projection on the top ``k`` principal
    axes, from the D x D covariance summed over blocks of rows (float64 sums of float32 block
    products): the same subspace as an exact SVD, in two passes over ``x`` and O(D^2) memory.
    With ``fit_rows`` (0: all) below N, the axes and the mean come from that many rows drawn at
    random (seeded, read in file order), and only the projection passes over every row.
    Each axis's sign is fixed so that its largest loading is positive (deterministic)."""
    n = x.shape[0]
    fit = x
    if 0 < fit_rows < n:
        fit = x[np.sort(np.random.default_rng(seed).choice(n, size=fit_rows, replace=False))]
    mean, axes = _principal_axes(fit, k, block_rows)
    out = np.empty((n, k), np.float32)
    for start in range(0, n, block_rows):
        block = np.asarray(x[start:start + block_rows], dtype=np.float32)
        out[start:start + block_rows] = (block - mean) @ axes
    return out


def _principal_axes(x: NDArray[np.floating], k: int, block_rows: int) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """The mean (D,) and the top ``k`` principal axes (D, k) of the rows of ``x``, as float32."""
    n, d = x.shape
    total = np.zeros(d, np.float64)
    gram = np.zeros((d, d), np.float64)
    for start in range(0, n, block_rows):
        block = np.asarray(x[start:start + block_rows], dtype=np.float32)
        total += block.sum(axis=0, dtype=np.float64)
        gram += block.T @ block
    mean = total / n
    cov = gram / n - np.outer(mean, mean)
    _, vectors = np.linalg.eigh(cov)  # ascending eigenvalues
    axes = vectors[:, ::-1][:, :k]
    axes *= np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(k)])
    return mean.astype(np.float32), axes.astype(np.float32)


def tsne_layout(
    features: ArrayLike,
    *,
    seed: int = 0,
    perplexity: float = 30.0,
    n_jobs: int = 1,
    verbose: bool = False,
    previous: NDArray[np.floating] | None = None,
    sample_above: int = 0,
) -> NDArray[np.float32]:
    """(N, D) L2-normalised features -> (N, 2) float32 t-SNE coordinates, deterministic for a seed.

    ``previous`` ((M, 2), M <= N) is the layout of the first M rows from an earlier run:
    the optimisation then starts from it, with each new row placed among its nearest old
    neighbours, so adding images to a project moves the map as little as t-SNE allows.
    Neither input is modified. ``features`` may be a float16 memory map (see ``reduce_dims``).

    Above ``sample_above`` rows (0: never) the layout is ``sampled_layout``'s: t-SNE of a
    sample, the rest placed by their nearest sampled rows; with ``previous``, the old rows
    stay where they were and the new ones are placed by their nearest old rows.

    Fewer than 4 images cannot make a t-SNE; they get their first two principal
    components instead (a line or a point), which is honest and still drawable.
    """
    n = len(features) if isinstance(features, np.ndarray) else np.asarray(features).shape[0]
    if n == 0:
        return np.zeros((0, 2), np.float32)
    x = reduce_dims(features, seed=seed)
    if n < MIN_TSNE_N:
        return _tiny_layout(x)
    if sample_above and n > sample_above:
        if previous is not None:
            return _place_new_rows(x, previous, sample_above, seed)
        return sampled_layout(x, sample_above, seed=seed, perplexity=perplexity, n_jobs=n_jobs, verbose=verbose)
    init = _initial_from(previous, x) if previous is not None else None
    return np.asarray(_fit(x, seed, perplexity, n_jobs, verbose, init), dtype=np.float32)


def sampled_layout(
    x: NDArray[np.float32], size: int, *, seed: int = 0, perplexity: float = 30.0, n_jobs: int = 1, verbose: bool = False
) -> NDArray[np.float32]:
    """(N, d) reduced rows -> (N, 2) float32: the t-SNE of ``size`` rows drawn at random (seeded),
    and every other row at the median map position of its ``INIT_NEIGHBOURS`` nearest sampled rows
    in ``x``, found with the t-SNE's own approximate (Annoy) index; not optimised further."""
    n = x.shape[0]
    chosen = np.zeros(n, bool)
    chosen[np.random.default_rng(seed).choice(n, size=size, replace=False)] = True
    embedding = _fit(x[chosen], seed, perplexity, n_jobs, verbose, None)
    sampled = np.asarray(embedding, dtype=np.float32)
    out = np.empty((n, 2), np.float32)
    out[chosen] = sampled
    rest = np.flatnonzero(~chosen)
    index = embedding.affinities.knn_index
    for start in range(0, rest.size, PLACE_BLOCK_ROWS):
        rows = rest[start:start + PLACE_BLOCK_ROWS]
        neighbours, _ = index.query(x[rows], INIT_NEIGHBOURS)
        out[rows] = np.median(sampled[neighbours], axis=1)
    return _jittered(out, ~chosen, seed)


def _place_new_rows(
    x: NDArray[np.float32], previous: NDArray[np.floating], size: int, seed: int
) -> NDArray[np.float32]:
    """(N, 2): the first M rows where ``previous`` has them, each new row at the mean position of its
    nearest old rows (a seeded sample of ``size`` old rows when there are more)."""
    m = previous.shape[0]
    old = np.arange(m)
    if m > size:
        old = np.sort(np.random.default_rng(seed).choice(m, size=size, replace=False))
    init = _initial_from(previous[old], np.concatenate([x[old], x[m:]]))
    out = np.empty((x.shape[0], 2), np.float32)
    out[:m] = previous
    out[m:] = init[old.size:]
    return out


def _fit(
    x: NDArray[np.float32], seed: int, perplexity: float, n_jobs: int, verbose: bool, init: NDArray[np.float64] | None
) -> Any:
    """openTSNE's TSNEEmbedding of ``x`` ((N, d), N >= 4), from ``init`` (a continued map) or a fresh start."""
    from openTSNE import TSNE  # heavy, and no stubs

    n = x.shape[0]
    # openTSNE needs 3 * perplexity < N for its neighbour graph.
    perp = float(min(perplexity, max(1.0, (n - 1) / 3.0)))
    tsne = TSNE(
        n_components=2,
        perplexity=perp,
        # Euclidean distance between unit rows is a monotone function of cosine, and PCA
        # keeps Euclidean geometry (it would not keep cosine: it centres the data).
        metric="euclidean",
        initialization=init if init is not None else ("pca" if _spread(x) else "random"),
        # Continuing from a converged map needs no early exaggeration: that phase exists to
        # untangle a random start, and here it would shuffle the map the user already knows
        # (measured on the demo set, 40 images added: 10-NN kept 0.88 without it, 0.72 with it).
        early_exaggeration_iter=SCHEDULE.ee_iter if init is None else 0,
        n_iter=SCHEDULE.n_iter,
        neighbors="annoy" if n >= APPROX_KNN_MIN_N else "exact",
        knn_kwargs={"n_trees": SCHEDULE.n_trees} if n >= APPROX_KNN_MIN_N else None,
        negative_gradient_method="fft" if n >= FFT_THRESHOLD else "bh",
        random_state=seed,
        n_jobs=n_jobs,
        verbose=verbose,
    )
    with _quiet_openTSNE_init_warning():
        return tsne.fit(x)


def _jittered(xy: NDArray[np.float32], moved: NDArray[np.bool_], seed: int) -> NDArray[np.float32]:
    """``xy`` with a tiny seeded jitter on the ``moved`` rows: rows placed from the same
    neighbours must not sit on one point."""
    spread = float(xy.std()) * INIT_JITTER or INIT_JITTER
    xy[moved] += np.random.default_rng(seed).normal(scale=spread, size=(int(moved.sum()), 2)).astype(np.float32)
    return xy


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
