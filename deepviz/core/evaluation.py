"""Labels as ground truth: every labelled image is a query, scored exactly and block by block.

Definitions (the README states the same):

- For a query q, every *other* image is ranked by the dot product of the stored features.
- Its positives are the other images with q's label; AP(q) is scikit-learn's
  ``average_precision_score`` over those N - 1 images, ties as scikit-learn treats them.
- A query whose class has one image has no positive: it is skipped and counted.
- precision@k is the share of positives in the first k of the ranking (ties broken by lower
  id, as the server ranks); recall@k the share of the positives found there.

The similarity matrix is never held whole: a block of queries times all images at a time,
sized by ``block_bytes``, so a million images evaluate in bounded memory. Within a block AP
needs only each positive's rank among the scores (see :mod:`deepviz.core.metrics`): one
row-wise sort and one vectorised binary search for the whole block.

The block's similarities are a matrix product, whose float32 sums may differ in the last bit
from a single ranking's; two images whose similarities to a query are that close can swap.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from deepviz.core.metrics import order_keys
from deepviz.core.similarity import Features, to_float32

__all__ = ["ClassScores", "QueryScores", "by_class", "evaluate_queries", "similarity_blocks"]

DEFAULT_BLOCK_BYTES = 256 << 20
DEFAULT_COPY_BYTES = 1 << 30
# Bytes per (query, image) pair a block holds: similarities, their keys and sorted keys, the
# combined 64-bit search keys, the positive mask and the tie counter.
_BYTES_PER_PAIR = 4 + 4 + 4 + 8 + 1 + 4 + 2
_COLUMN_BYTES = 64 << 20  # float32 bytes of feature rows converted at a time


@dataclass(frozen=True)
class QueryScores:
    """Per query: ``ids`` (Q,) int64 image ids, ``ap`` (Q,) float64, ``hits`` (Q,) positives in the
    top ``k``, ``positives`` (Q,) how many positives each has; ``n`` images in the ranking set."""

    ids: NDArray[np.int64]
    ap: NDArray[np.float64]
    hits: NDArray[np.int64]
    positives: NDArray[np.int64]
    k: int
    n: int

    @property
    def top(self) -> int:
        """The k actually used: at most the N - 1 other images."""
        return max(min(self.k, self.n - 1), 1)

    @property
    def precision(self) -> NDArray[np.float64]:
        return self.hits / self.top

    @property
    def recall(self) -> NDArray[np.float64]:
        return self.hits / np.maximum(self.positives, 1)


@dataclass(frozen=True)
class ClassScores:
    """One class: its label code, how many queries it has, mean AP and mean precision@k over them."""

    code: int
    n: int
    map: float
    precision_at_k: float


def evaluate_queries(
    features: Features,
    labels: NDArray[np.integer],
    k: int,
    *,
    queries: NDArray[np.integer] | None = None,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
    copy_bytes: int = DEFAULT_COPY_BYTES,
) -> QueryScores:
    """AP and hits in the top ``k`` of every query in ``queries`` (default: every image with a label
    shared by another image), against all N images of ``features``.

    ``features``  (N, D) float16 (a memory map) or float32 rows
    ``labels``    (N,) int class codes; negative means unlabelled (never a query nor a positive)
    ``block_bytes``  memory a block of queries may take (see ``_BYTES_PER_PAIR``)
    ``copy_bytes``   float16 features this small are converted to float32 once, not once per block
    """
    codes = np.asarray(labels, dtype=np.int64)
    n = features.shape[0]
    if codes.shape != (n,):
        raise ValueError(f"labels has shape {codes.shape} but there are {n} feature rows")
    ids = _counted_queries(codes) if queries is None else np.asarray(queries, dtype=np.int64)
    sizes = np.bincount(codes[codes >= 0], minlength=1)
    positives = np.where(codes[ids] >= 0, sizes[np.maximum(codes[ids], 0)] - 1, 0).astype(np.int64)
    ap = np.empty(len(ids), dtype=np.float64)
    hits = np.empty(len(ids), dtype=np.int64)
    top = max(min(k, n - 1), 1)
    step = max(1, block_bytes // (_BYTES_PER_PAIR * max(n, 1)))
    if features.dtype != np.float32 and features.size * 4 <= copy_bytes and len(ids) > step:
        converted = np.empty(features.shape, dtype=np.float32)
        to_float32(np.asarray(features), converted)
        features = converted
    for start, sims in similarity_blocks(features, ids, step):
        chunk = ids[start : start + len(sims)]
        ap[start : start + len(chunk)], hits[start : start + len(chunk)] = _score_block(sims, chunk, codes, top)
    return QueryScores(ids=ids, ap=ap, hits=hits, positives=positives, k=k, n=n)


def _counted_queries(codes: NDArray[np.int64]) -> NDArray[np.int64]:
    """Ids of images whose label at least one other image has."""
    sizes = np.bincount(codes[codes >= 0], minlength=1)
    ok = (codes >= 0) & (sizes[np.maximum(codes, 0)] > 1)
    return np.flatnonzero(ok).astype(np.int64)


def similarity_blocks(features: Features, ids: NDArray[np.int64], step: int) -> Iterator[tuple[int, NDArray[np.float32]]]:
    """(start, (B, N) float32 similarities of queries ``ids[start:start+B]`` to every image)."""
    n, d = features.shape
    columns = max(1, _COLUMN_BYTES // (4 * max(d, 1)))
    buf = np.empty((min(columns, n), d), dtype=np.float32)
    for start in range(0, len(ids), step):
        chunk = ids[start : start + step]
        rows = np.empty((len(chunk), d), dtype=np.float32)
        to_float32(np.asarray(features[np.sort(chunk)]), rows)
        rows = rows[np.argsort(np.argsort(chunk))]  # back to the order of ``chunk``
        sims = np.empty((len(chunk), n), dtype=np.float32)
        if features.dtype == np.float32:
            np.matmul(rows, np.asarray(features).T, out=sims)
        else:
            for c in range(0, n, columns):
                block = buf[: min(columns, n - c)]
                to_float32(features[c : c + len(block)], block)
                np.matmul(rows, block.T, out=sims[:, c : c + len(block)])
        yield start, sims


def _score_block(
    sims: NDArray[np.float32], chunk: NDArray[np.int64], codes: NDArray[np.int64], top: int
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """AP and top-``top`` hits of each row of ``sims`` (query ``chunk[b]``, itself excluded)."""
    b, n = sims.shape
    row = np.arange(b)
    keys = order_keys(sims, in_place=True)  # -0.0 and 0.0 become one key; order as the floats
    keys[row, chunk] = 0  # the query itself: below every real score (-inf's key is 0x007fffff)
    positive = codes[None, :] == codes[chunk][:, None]
    positive[row, chunk] = False
    ap = _block_ap(keys, positive)
    hits = _block_hits(keys, positive, top)
    return ap, hits


def _block_ap(keys: NDArray[np.uint32], positive: NDArray[np.bool_]) -> NDArray[np.float64]:
    b, n = keys.shape
    rows, cols = np.nonzero(positive)
    count = np.bincount(rows, minlength=b)
    shift = np.uint64(32)
    flat_sorted = (np.arange(b, dtype=np.uint64)[:, None] << shift) | np.sort(keys, axis=1).astype(np.uint64)
    wanted = (rows.astype(np.uint64) << shift) | keys[rows, cols].astype(np.uint64)
    # Images scoring >= each positive's score (rows are sorted ascending; the query sits at key 0, below all).
    at_least_all = n - (np.searchsorted(flat_sorted.ravel(), wanted, side="left") - rows * n)
    pos_sorted = np.sort(wanted)
    first = np.concatenate(([0], np.cumsum(count)[:-1]))
    at_least_pos = count[rows] - (np.searchsorted(pos_sorted, wanted, side="left") - first[rows])
    total = np.bincount(rows, weights=at_least_pos / at_least_all, minlength=b)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _block_hits(keys: NDArray[np.uint32], positive: NDArray[np.bool_], top: int) -> NDArray[np.int64]:
    """Positives among the first ``top`` of each row, equal scores taken in id order (as a ranking does)."""
    b, n = keys.shape
    kth = np.partition(keys, n - top, axis=1)[:, n - top][:, None]  # the top-th largest key
    above = keys > kth
    tied = keys == kth
    room = top - above.sum(axis=1)
    taken = tied & (np.cumsum(tied, axis=1, dtype=np.int32) <= room[:, None])
    hits: NDArray[np.int64] = ((above | taken) & positive).sum(axis=1).astype(np.int64)
    return hits


def by_class(scores: QueryScores, codes: NDArray[np.integer]) -> list[ClassScores]:
    """Mean AP and precision@k of each class over its queries, by label code."""
    q_codes = np.asarray(codes, dtype=np.int64)[scores.ids]
    present = np.unique(q_codes)
    index = np.searchsorted(present, q_codes)
    n = np.bincount(index, minlength=len(present))
    ap = np.bincount(index, weights=scores.ap, minlength=len(present)) / np.maximum(n, 1)
    p = np.bincount(index, weights=scores.precision, minlength=len(present)) / np.maximum(n, 1)
    return [ClassScores(int(c), int(m), float(a), float(pk)) for c, m, a, pk in zip(present, n, ap, p)]
