"""Retrieval metrics, exact and vectorised: average precision as scikit-learn computes it, precision and
recall at k, rank correlations as scipy computes them, and the overlap of two top-k lists.

Average precision with ties, as ``sklearn.metrics.average_precision_score(y_true, scores)``:
for each distinct score t (high to low) the recall gained at t times the precision at t, where
the precision at t counts every image scoring >= t. Written per positive i, that is

    AP = (1 / P) * sum over positives i of  #(positives scoring >= s_i) / #(images scoring >= s_i)

which needs only the rank of each positive's score among all scores: one sort of the scores,
one binary search per positive. Whole-set evaluation (:mod:`deepviz.core.evaluation`) does the
same for a block of queries at once.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "average_precision",
    "average_precision_ranked",
    "kendall_tau",
    "order_keys",
    "overlap_at_k",
    "positives_in_top_k",
    "precision_at_k",
    "rankdata_average",
    "recall_at_k",
    "spearman",
]


def average_precision(y_true: ArrayLike, scores: ArrayLike) -> float:
    """sklearn's ``average_precision_score(y_true, scores)`` for one binary ranking; NaN with no positive.

    ``y_true`` (n,) bool or 0/1, ``scores`` (n,) float: higher is more relevant; equal scores are
    one threshold, as scikit-learn treats them.
    """
    y = np.asarray(y_true).astype(bool)
    s = _tie_safe(np.asarray(scores, dtype=np.float64))
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError(f"y_true and scores must be 1-D of one length, got {y.shape} and {s.shape}")
    positives = np.sort(s[y])
    if len(positives) == 0:
        return math.nan
    at_least_all = len(s) - np.searchsorted(np.sort(s), positives, side="left")
    at_least_pos = len(positives) - np.searchsorted(positives, positives, side="left")
    return float(np.mean(at_least_pos / at_least_all))


def average_precision_ranked(is_member: ArrayLike, sims: ArrayLike) -> float:
    """:func:`average_precision` of a ranking already in order: ``sims`` (n,) non-increasing, ``is_member``
    (n,) bool per rank. Costs one binary search per member instead of a sort."""
    y = np.asarray(is_member, dtype=bool)
    desc = -_tie_safe(np.asarray(sims, dtype=np.float64))  # ascending
    if y.shape != desc.shape or y.ndim != 1:
        raise ValueError(f"is_member and sims must be 1-D of one length, got {y.shape} and {desc.shape}")
    ranks = np.flatnonzero(y)
    if len(ranks) == 0:
        return math.nan
    at_least_all = np.searchsorted(desc, desc[ranks], side="right")  # the whole tie group counts
    at_least_pos = np.searchsorted(desc[ranks], desc[ranks], side="right")
    return float(np.mean(at_least_pos / at_least_all))


def positives_in_top_k(is_member: ArrayLike, k: int) -> int:
    """How many of the first ``k`` entries of a ranking (a bool per rank, best first) are members."""
    return int(np.count_nonzero(np.asarray(is_member, dtype=bool)[: max(k, 0)]))


def precision_at_k(is_member: ArrayLike, k: int) -> float:
    """Members among the first ``k`` ranks / ``k`` (``k`` capped at the ranking's length)."""
    ranked = np.asarray(is_member, dtype=bool)
    top = min(k, len(ranked))
    return positives_in_top_k(ranked, top) / top if top > 0 else math.nan


def recall_at_k(is_member: ArrayLike, k: int) -> float:
    """Members among the first ``k`` ranks / all members; NaN with no member."""
    ranked = np.asarray(is_member, dtype=bool)
    total = int(np.count_nonzero(ranked))
    return positives_in_top_k(ranked, k) / total if total else math.nan


def overlap_at_k(order_a: ArrayLike, order_b: ArrayLike, k: int) -> float:
    """The share of ids two rankings both put in their first ``k`` (``k`` capped at their length)."""
    a, b = np.asarray(order_a), np.asarray(order_b)
    top = min(k, len(a), len(b))
    if top <= 0:
        return math.nan
    return len(np.intersect1d(a[:top], b[:top], assume_unique=True)) / top


def rankdata_average(values: ArrayLike) -> NDArray[np.float64]:
    """1-based ranks with ties given their mean rank, as ``scipy.stats.rankdata(values)``."""
    x = np.asarray(values)
    order = np.argsort(x, kind="stable")
    sorted_x = x[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_x[1:] != sorted_x[:-1])))
    ends = np.append(starts[1:], len(x))
    mean_rank = (starts + 1 + ends) / 2.0  # ranks start+1 .. end, averaged
    group = np.repeat(np.arange(len(starts)), ends - starts)
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = mean_rank[group]
    return ranks


def spearman(a: ArrayLike, b: ArrayLike) -> float:
    """Spearman's rho of two score vectors over the same items, as ``scipy.stats.spearmanr(a, b)``."""
    ra, rb = rankdata_average(a), rankdata_average(b)
    ra -= ra.mean()
    rb -= rb.mean()
    denom = math.sqrt(float(ra @ ra) * float(rb @ rb))
    return float(ra @ rb) / denom if denom else math.nan


def kendall_tau(a: ArrayLike, b: ArrayLike) -> float:
    """Kendall's tau-b with ties, as ``scipy.stats.kendalltau(a, b)``, in O(n log n).

    Pairs are counted with Knight's method: sort by (a, b), then the discordant pairs are the
    inversions of b, counted by a bottom-up merge whose every level is one vectorised search.
    """
    x, y = _dense(np.asarray(a)), _dense(np.asarray(b))
    n = len(x)
    if len(y) != n:
        raise ValueError(f"a and b must have one length, got {n} and {len(y)}")
    order = np.lexsort((y, x))
    x, y = x[order], y[order]
    total = n * (n - 1) // 2
    tied_x, tied_y = _tied_pairs(x), _tied_pairs(y)
    tied_xy = _tied_pairs(x * np.int64(n + 1) + y)
    discordant = _inversions(y)
    denom = math.sqrt(float(total - tied_x) * float(total - tied_y))
    if denom == 0:
        return math.nan
    return float(total - tied_x - tied_y + tied_xy - 2 * discordant) / denom


def _dense(values: NDArray[np.generic]) -> NDArray[np.int64]:
    """Values -> 0-based dense ranks (equal values share one), int64."""
    _, inverse = np.unique(values, return_inverse=True)
    dense: NDArray[np.int64] = inverse.astype(np.int64).ravel()
    return dense


def _tied_pairs(sorted_or_not: NDArray[np.int64]) -> int:
    counts = np.unique(sorted_or_not, return_counts=True)[1].astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def _inversions(y: NDArray[np.int64]) -> int:
    """Pairs i < j with y[i] > y[j]: merge sort bottom up, each level counted for all blocks at once."""
    n = len(y)
    span = np.int64(max(int(y.max(initial=0)) + 1, 1))
    idx = np.arange(n, dtype=np.int64)
    arr = y.copy()
    count = 0
    width = 1
    while width < n:
        block = idx // (2 * width)
        right = (idx // width) % 2 == 1
        keys = block * span + arr  # each half is sorted, so the left halves' keys are sorted overall
        left_keys = keys[~right]
        # Left entries of the same block that are <= each right entry; earlier blocks' left halves are full.
        le = np.searchsorted(left_keys, keys[right], side="right") - block[right] * width
        count += int((width - le).sum())
        merged = np.sort(block * span + arr)  # one sort orders every block of 2 * width
        arr = merged - (merged // span) * span
        width *= 2
    return count


def order_keys(scores: NDArray[np.float32], *, in_place: bool = False) -> NDArray[np.uint32]:
    """float32 -> uint32 keys in the same order (equal floats give equal keys; -0.0 counts as 0.0).

    The sign bit is flipped for a positive float and every bit for a negative one. ``in_place``
    reuses the memory of ``scores`` (which must be a float32 array the caller gives up).
    """
    floats = np.asarray(scores, dtype=np.float32)
    if not in_place:
        floats = floats.copy()
    floats += np.float32(0)  # -0.0 -> 0.0
    bits = floats.view(np.uint32)
    mask = bits >> np.uint32(31)
    np.negative(mask, out=mask)  # 0 -> 0, 1 -> 0xFFFFFFFF
    mask |= np.uint32(1 << 31)
    bits ^= mask
    return bits


def _tie_safe(scores: NDArray[np.floating]) -> NDArray[np.floating]:
    """``scores + 0.0``: turns -0.0 into 0.0 (equal as floats, different as bits); NaN is refused."""
    if np.isnan(scores).any():
        raise ValueError("scores hold NaN; a feature row is not finite — rebuild the feature set")
    safe: NDArray[np.floating] = scores + scores.dtype.type(0)
    return safe
