"""The 2-D map: t-SNE (openTSNE) of the L2-normalised features, PCA first for wide features."""
from __future__ import annotations

import numpy as np

# Below a few thousand points Barnes-Hut gradients are faster than FFT here (9 s vs 1.6 s
# at 1k), above it FFT wins by far (102 s vs 325 s at 100k x 512): measured on 2 cores.
FFT_THRESHOLD = 5000
PCA_DIMS = 50


def reduce_dims(features: np.ndarray, n_components: int = PCA_DIMS, seed: int = 0) -> np.ndarray:
    """(N, D) -> (N, min(n_components, D, N)) float32 PCA projection; the kNN search that
    dominates t-SNE at 1280 or 4096 dimensions becomes cheap, with little neighbourhood change."""
    n, d = features.shape
    k = min(n_components, d, n)
    if d <= n_components:
        return np.asarray(features, dtype=np.float32)
    from sklearn.decomposition import PCA

    solver = "randomized" if n > 2000 else "full"
    return PCA(n_components=k, svd_solver=solver, random_state=seed).fit_transform(
        np.asarray(features, dtype=np.float32)
    ).astype(np.float32)


def tsne_layout(
    features: np.ndarray,
    *,
    seed: int = 0,
    perplexity: float = 30.0,
    n_jobs: int = 1,
    verbose: bool = False,
) -> np.ndarray:
    """(N, D) L2-normalised features -> (N, 2) float32 t-SNE coordinates, deterministic for a seed.

    Fewer than 4 images cannot make a t-SNE; they get their first two principal
    components instead (a line or a point), which is honest and still drawable.
    """
    n = features.shape[0]
    if n == 0:
        return np.zeros((0, 2), np.float32)
    x = reduce_dims(features, seed=seed)
    if n < 4:
        return _tiny_layout(x)
    from openTSNE import TSNE

    # openTSNE needs 3 * perplexity < N for its neighbour graph.
    perp = float(min(perplexity, max(1.0, (n - 1) / 3.0)))
    tsne = TSNE(
        n_components=2,
        perplexity=perp,
        # Euclidean distance between unit rows is a monotone function of cosine, and PCA
        # keeps Euclidean geometry (it would not keep cosine: it centres the data).
        metric="euclidean",
        initialization="pca",
        negative_gradient_method="fft" if n >= FFT_THRESHOLD else "bh",
        random_state=seed,
        n_jobs=n_jobs,
        verbose=verbose,
    )
    return np.asarray(tsne.fit(x), dtype=np.float32)


def _tiny_layout(x: np.ndarray) -> np.ndarray:
    centred = x - x.mean(axis=0)
    out = np.zeros((x.shape[0], 2), np.float32)
    if x.shape[0] > 1:
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        proj = centred @ vt[:2].T
        out[:, : proj.shape[1]] = proj
    return out
