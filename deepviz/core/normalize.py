"""L2 normalisation of feature rows, the one place that defines what a similarity is made of."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray


class ZeroFeatureError(ValueError):
    """A feature row is all zeros and so has no direction to normalise."""


_BLOCK_ROWS = 1 << 15  # keeps the float64 temporaries to a few hundred MB at any D


def l2_normalize(
    features: ArrayLike,
    *,
    out_dtype: DTypeLike = np.float32,
    out: NDArray[np.floating] | None = None,
) -> NDArray[np.floating]:
    """(N, D) features -> (N, D) ``out_dtype`` copy whose rows have unit L2 norm.

    The norm is computed in float64 so that float16 inputs and very large or very
    small magnitudes do not lose the direction. Zero or non-finite rows are refused,
    because cosine similarity is undefined for them and a silent NaN would poison
    every ranking that touches the row.

    ``out`` may be a preallocated (N, D) array (e.g. a memory-mapped .npy being
    written) so that a million rows never exist twice in memory.
    """
    x = np.asarray(features)
    if x.ndim != 2:
        raise ValueError(f"features must be a 2-D (N, D) array, got shape {x.shape}")
    if out is None:
        out = np.empty(x.shape, dtype=out_dtype)
    elif out.shape != x.shape:
        raise ValueError(f"out has shape {out.shape}, features have {x.shape}")
    for start in range(0, x.shape[0], _BLOCK_ROWS):
        block = np.asarray(x[start : start + _BLOCK_ROWS], dtype=np.float64)
        out[start : start + block.shape[0]] = _normalize_block(block, start)
    return out


def _normalize_block(block: NDArray[np.float64], offset: int) -> NDArray[np.float64]:
    """(B, D) float64 rows -> unit rows; ``offset`` makes error messages name global rows."""
    finite = np.isfinite(block).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise ValueError(
            f"{bad.size} feature row(s) contain NaN or inf (first: row {offset + bad[0]}); "
            "fix or drop those rows before building"
        )
    norms = np.sqrt(np.einsum("ij,ij->i", block, block))
    zero = norms == 0
    if zero.any():
        bad = np.flatnonzero(zero)
        raise ZeroFeatureError(
            f"{bad.size} feature row(s) are all zeros (first: row {offset + bad[0]}) and cannot "
            "be L2-normalised; drop those images or use features that are never zero"
        )
    unit: NDArray[np.float64] = block / norms[:, None]
    return unit
