"""Exact similarity rankings: every image ordered by the dot product of its normalised features with a query."""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from typing import cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

Features = NDArray[np.float16 | np.float32]
"""(N, D) float16 or float32 feature rows, L2-normalised (a memory map is fine)."""

# float32 bytes per block when converting float16 rows: small enough to stay in cache
# between the conversion and the matvec (larger blocks were several times slower here).
_BLOCK_BYTES = 1 << 19


def similarities(features: Features, query: ArrayLike, *, block_rows: int | None = None) -> NDArray[np.float32]:
    """(N, D) float16/float32 rows · (D,) query -> (N,) float32 dot products, accumulated in float32.

    float32 features are multiplied in one call. float16 ones (the memory map of a project) go
    through the numba kernel of :mod:`deepviz.core.halfdot` when the ``fast`` extra is installed,
    one pass at memory speed; otherwise (or with ``block_rows``) they are converted block by block,
    because float16 arithmetic in numpy is ~30x slower than float32 and a full float32 copy of a
    big set may not fit in memory.
    """
    x, q = _check(features, query)
    if x.dtype == np.float32 and block_rows is None:
        sims: NDArray[np.float32] = x @ q
        return sims
    if x.dtype == np.float16 and block_rows is None and has_fast_kernel():
        from deepviz.core.halfdot import dot_float16

        out32 = np.empty(len(x), dtype=np.float32)
        dot_float16(cast(NDArray[np.float16], x), q, out32)
        return out32
    n, d = x.shape
    rows = block_rows or max(1, _BLOCK_BYTES // (4 * max(d, 1)))
    out = np.empty(n, dtype=np.float32)
    buf = np.empty((min(rows, n), d), dtype=np.float32)
    for start in range(0, n, rows):
        block = x[start : start + rows]
        as32 = buf[: len(block)]
        to_float32(block, as32)
        np.dot(as32, q, out=out[start : start + len(block)])
    return out


def rank(
    features: Features, query: ArrayLike, *, block_rows: int | None = None
) -> tuple[NDArray[np.int32], NDArray[np.float32]]:
    """Order every row of ``features`` by similarity to ``query``, most similar first.

    ``features``  (N, D) float16 or float32, rows L2-normalised (a memory map is fine)
    ``query``     (D,) float32, unit norm
    Returns ``order`` (N,) int32 ids sorted by similarity high -> low, ties by lower id
    first, and ``sims`` (N,) float32, the similarity of ``order[k]``, so non-increasing.
    """
    sims = similarities(features, query, block_rows=block_rows)
    return order_by_similarity(sims)


def order_by_similarity(sims: NDArray[np.float32]) -> tuple[NDArray[np.int32], NDArray[np.float32]]:
    """(N,) float32 similarities by id -> (order, sorted sims) as :func:`rank` returns them.

    One sort of (N,) uint64 keys, each a similarity's bits made to sort high -> low above its id,
    so ties come out by lower id with no second pass (and numpy's SIMD sort of integers is faster
    than its argsort of floats).
    """
    n = len(sims)
    if n >= 1 << 32:
        raise ValueError(f"{n} images is more than the 2**32 an id key can hold")
    keys = _descending_key(sims).astype(np.uint64) << np.uint64(32)
    keys |= np.arange(n, dtype=np.uint64)
    keys.sort()
    order = (keys & np.uint64(0xFFFFFFFF)).astype(np.int32)
    ranked = _similarity_of_key((keys >> np.uint64(32)).astype(np.uint32))
    return order, ranked


def _descending_key(sims: NDArray[np.float32]) -> NDArray[np.uint32]:
    """(N,) uint32 keys whose ascending order is the similarities' descending order (-0.0 as +0.0)."""
    bits = (np.asarray(sims, dtype=np.float32) + np.float32(0.0)).view(np.uint32)  # -0.0 + 0.0 is +0.0
    negative = bits >= np.uint32(0x80000000)
    keys: NDArray[np.uint32] = np.where(negative, bits, ~bits & np.uint32(0x7FFFFFFF))
    return keys


def _similarity_of_key(keys: NDArray[np.uint32]) -> NDArray[np.float32]:
    """Inverse of :func:`_descending_key`."""
    negative = keys >= np.uint32(0x80000000)
    bits: NDArray[np.uint32] = np.where(negative, keys, ~keys & np.uint32(0x7FFFFFFF))
    return bits.view(np.float32)


def ranks_of(order: ArrayLike) -> NDArray[np.int32]:
    """(N,) permutation of ids (as :func:`rank` returns) -> (N,) int32 rank of each id (0 = most similar)."""
    ids = np.asarray(order)
    ranks = np.empty(len(ids), dtype=np.int32)
    ranks[ids] = np.arange(len(ids), dtype=np.int32)
    return ranks


def spearman(ranks_a: ArrayLike, ranks_b: ArrayLike) -> float:
    """Spearman's rho of two rankings of the same N images, given each image's (N,) rank in both.

    Ranks from :func:`rank` are a permutation (ties are broken by id), so
    rho = 1 - 6 sum(d^2) / (N (N^2 - 1)) is the exact formula (summed in float64: ~1e-16 relative).
    """
    a = np.asarray(ranks_a, dtype=np.int64)
    b = np.asarray(ranks_b, dtype=np.int64)
    if a.shape != b.shape:
        raise ValueError(f"rankings differ in length ({len(a)} vs {len(b)})")
    n = len(a)
    if n < 2:
        return 1.0
    d = (a - b).astype(np.float64)
    return 1.0 - 6.0 * float(np.dot(d, d)) / (n * (float(n) * n - 1.0))


def _check(features: Features, query: ArrayLike) -> tuple[Features, NDArray[np.float32]]:
    if features.ndim != 2:
        raise ValueError(f"features must be a 2-D (N, D) array, got shape {features.shape}")
    q = np.asarray(query, dtype=np.float32)
    if q.shape != (features.shape[1],):
        raise ValueError(
            f"the query has shape {q.shape} but the features have {features.shape[1]} dimensions; "
            "embed the query with the extractor that made this feature set"
        )
    return features, q


def to_float32(block: Features, out: NDArray[np.float32]) -> None:
    """Copy ``block`` (e.g. float16 rows) into the float32 array ``out`` of the same shape.

    float16 goes through a lookup table of all 65536 values: exact, and twice as fast as numpy's cast here.
    """
    if block.dtype == np.float16:
        np.take(_float16_table(), np.ascontiguousarray(block).view(np.uint16), out=out)
    else:
        out[...] = block


@lru_cache(maxsize=1)
def _float16_table() -> NDArray[np.float32]:
    """(65536,) float32: the exact value of every float16 bit pattern."""
    return np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float32)


@lru_cache(maxsize=1)
def has_fast_kernel() -> bool:
    """Whether numba (``pip install 'deepviz[fast]'``) is there, and works, to rank float16 at memory speed.

    Imports it (~1 s): a numba built for another numpy refuses to import, and the numpy path is then used.
    """
    if importlib.util.find_spec("numba") is None:
        return False
    try:
        import deepviz.core.halfdot  # noqa: F401
    except ImportError:
        return False
    return True
