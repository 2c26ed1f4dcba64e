"""int8 features for a static site: each row scaled to [-127, 127], and how far a similarity can move.

A browser ranks a static site's queries from these rows with plain typed arrays
(web/src/staticRanking.ts): row ``i`` is ``scale[i] * q[i]``, and the similarity of ``i`` and ``j``
is their dot product, as the server's exact float32 one of the stored rows.

Error bound. With ``e_i = ||x_i - x̂_i||`` (the row's rounding error, at most ``sqrt(D) * scale_i / 2``,
so at most ``sqrt(D) / 254`` for a row of norm <= 1),

    |x̂_i · x̂_j - x_i · x_j| = |x̂_i · (x̂_j - x_j) + (x̂_i - x_i) · x_j| <= ||x̂_i|| e_j + e_i ||x_j||

by Cauchy-Schwarz, so ``max ||x̂|| * max e + max e * max ||x||`` bounds every pair's error.
:func:`similarity_error_bound` computes it from the data: typical deep features spread their
mass over many dimensions and their bound is ~0.01-0.02, far under the a-priori worst case.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# Rows converted at once: float32 blocks of a few MB, whatever N is.
_BLOCK_ROWS = 1 << 13


def quantise(features: NDArray[np.floating]) -> tuple[NDArray[np.int8], NDArray[np.float32]]:
    """(N, D) float rows -> ((N, D) int8 ``q``, (N,) float32 ``scale``) with ``x ≈ scale[:, None] * q``.

    A row's scale is its largest magnitude / 127, so every row uses the whole int8 range; an
    all-zero row gets scale 1 (and stays zero).
    """
    n, d = features.shape
    q = np.empty((n, d), dtype=np.int8)
    scale = np.empty(n, dtype=np.float32)
    for start in range(0, n, _BLOCK_ROWS):
        block = np.asarray(features[start : start + _BLOCK_ROWS], dtype=np.float32)
        top = np.abs(block).max(axis=1, initial=0.0)
        s = np.where(top > 0, top / 127.0, 1.0).astype(np.float32)
        q[start : start + len(block)] = np.clip(np.rint(block / s[:, None]), -127, 127).astype(np.int8)
        scale[start : start + len(block)] = s
    return q, scale


def dequantise(q: NDArray[np.int8], scale: NDArray[np.float32]) -> NDArray[np.float32]:
    """The float32 rows the browser multiplies: ``scale[:, None] * q``."""
    out: NDArray[np.float32] = q.astype(np.float32) * scale[:, None]
    return out


def similarity_error_bound(features: NDArray[np.floating], q: NDArray[np.int8], scale: NDArray[np.float32]) -> float:
    """The largest amount any similarity of two quantised rows can differ from the exact float32
    dot product of the original rows (see the module's note), computed block by block."""
    err = norm = norm_hat = 0.0
    for start in range(0, len(q), _BLOCK_ROWS):
        x = np.asarray(features[start : start + _BLOCK_ROWS], dtype=np.float32)
        x_hat = dequantise(q[start : start + _BLOCK_ROWS], scale[start : start + _BLOCK_ROWS])
        err = max(err, float(np.linalg.norm(x - x_hat, axis=1).max(initial=0.0)))
        norm = max(norm, float(np.linalg.norm(x, axis=1).max(initial=0.0)))
        norm_hat = max(norm_hat, float(np.linalg.norm(x_hat, axis=1).max(initial=0.0)))
    return norm_hat * err + err * norm


def a_priori_bound(d: int) -> float:
    """The bound for any rows of norm <= 1 in ``d`` dimensions, whatever the data: each of
    ``d`` coordinates is off by at most half a step of 1/127, so e <= sqrt(d) / 254 and the
    bound is 2e + e^2."""
    e = float(np.sqrt(d)) / 254.0
    return 2 * e + e * e
