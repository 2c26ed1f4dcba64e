"""Retrieval metrics against their references: scikit-learn's average precision, scipy's rank correlations."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.stats import kendalltau, rankdata, spearmanr
from sklearn.metrics import average_precision_score

from deepviz.core.evaluation import by_class, evaluate_queries
from deepviz.core.metrics import (
    average_precision,
    average_precision_ranked,
    kendall_tau,
    overlap_at_k,
    precision_at_k,
    rankdata_average,
    recall_at_k,
    spearman,
)


def test_average_precision_by_hand() -> None:
    # Ranked: 0.9 (pos), 0.8 (neg), 0.8 (pos), 0.1 (pos). Thresholds 0.9, 0.8, 0.1:
    # recall 1/3 at precision 1/1, then 2/3 at 2/3 (the tie is one threshold), then 1 at 3/4.
    y = [1, 0, 1, 1]
    s = [0.9, 0.8, 0.8, 0.1]
    expected = (1 / 3) * 1 + (1 / 3) * (2 / 3) + (1 / 3) * (3 / 4)
    assert average_precision(y, s) == pytest.approx(expected, abs=1e-15)
    assert average_precision_score(y, s) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("seed", range(5))
def test_average_precision_matches_sklearn_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(100):
        n = int(rng.integers(2, 80))
        y = rng.random(n) < rng.random()
        y[rng.integers(n)] = True
        scores = rng.integers(0, int(rng.integers(1, 8)), n) / 4 - 0.5  # few distinct values: many ties, and -0.0
        expected = average_precision_score(y, scores)
        assert average_precision(y, scores) == pytest.approx(expected, abs=1e-12)
        order = np.lexsort((np.arange(n), -scores))
        assert average_precision_ranked(y[order], scores[order]) == pytest.approx(expected, abs=1e-12)


def test_average_precision_without_positives_is_nan() -> None:
    assert math.isnan(average_precision([0, 0], [0.2, 0.1]))


def test_precision_recall_at_k() -> None:
    ranked = np.array([1, 0, 1, 0, 0, 1], dtype=bool)
    assert precision_at_k(ranked, 3) == pytest.approx(2 / 3)
    assert recall_at_k(ranked, 3) == pytest.approx(2 / 3)
    assert precision_at_k(ranked, 100) == pytest.approx(3 / 6)  # k capped at the ranking's length
    assert recall_at_k(ranked, 6) == 1.0


def test_overlap_at_k() -> None:
    assert overlap_at_k([3, 1, 2, 0], [1, 3, 0, 2], 2) == 1.0
    assert overlap_at_k([3, 1, 2, 0], [0, 2, 1, 3], 2) == 0.0
    assert overlap_at_k([3, 1, 2, 0], [3, 0, 2, 1], 3) == pytest.approx(2 / 3)


@pytest.mark.parametrize("seed", range(4))
def test_rank_correlations_match_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(50):
        n = int(rng.integers(2, 200))
        a = rng.integers(0, int(rng.integers(2, 20)), n).astype(np.float32)
        b = a * rng.random() + rng.integers(0, 5, n)  # correlated, tied on both sides
        assert np.array_equal(rankdata_average(a), rankdata(a))
        for ours, theirs in ((spearman, spearmanr), (kendall_tau, kendalltau)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # scipy warns on a constant input, then returns NaN, as we do
                expected = theirs(a, b).statistic
            got = ours(a, b)
            assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected, abs=1e-12)


def test_kendall_on_a_large_set_matches_scipy() -> None:
    rng = np.random.default_rng(7)
    a = rng.random(50_000).astype(np.float32)
    b = (a + rng.random(50_000)).astype(np.float16)  # float16 rounding makes ties
    assert kendall_tau(a, b) == pytest.approx(kendalltau(a, b).statistic, abs=1e-12)


def _exact_features(n: int, d: int, seed: int) -> np.ndarray:
    """Rows of multiples of 1/8: every dot product is exact in float32 whatever the summation order,
    so the blocked matrix product and the reference agree bit for bit, ties included."""
    rng = np.random.default_rng(seed)
    return (rng.integers(-3, 4, (n, d)) / 8).astype(np.float16)


@pytest.mark.parametrize("block_bytes", [1, 50_000, 1 << 30])
def test_whole_set_evaluation_matches_sklearn_per_query(block_bytes: int) -> None:
    n = 240
    x = _exact_features(n, 5, 1)
    labels = np.random.default_rng(2).integers(0, 6, n)
    labels[:3] = [99, -1, -1]  # a class of one (skipped) and two unlabelled images
    scores = evaluate_queries(x, labels, 7, block_bytes=block_bytes)
    assert 0 not in scores.ids and 1 not in scores.ids and 2 not in scores.ids
    assert len(scores.ids) == n - 3
    sims = x.astype(np.float32) @ x.astype(np.float32).T
    for i, q in enumerate(scores.ids):
        others = np.flatnonzero(np.arange(n) != q)
        expected = average_precision_score(labels[others] == labels[q], sims[q, others])
        assert scores.ap[i] == pytest.approx(expected, abs=1e-12)
        ranked = others[np.lexsort((others, -sims[q, others]))]  # the server's order: ties by lower id
        assert scores.hits[i] == np.count_nonzero(labels[ranked[:7]] == labels[q])
        assert scores.positives[i] == np.count_nonzero(labels[others] == labels[q])


def test_class_figures_are_means_over_their_queries() -> None:
    n = 120
    x = _exact_features(n, 4, 3)
    labels = np.repeat(np.arange(4), n // 4)
    scores = evaluate_queries(x, labels, 5)
    classes = by_class(scores, labels)
    assert [c.code for c in classes] == [0, 1, 2, 3] and all(c.n == 30 for c in classes)
    for c in classes:
        mine = labels[scores.ids] == c.code
        assert c.map == pytest.approx(scores.ap[mine].mean())
        assert c.precision_at_k == pytest.approx(scores.precision[mine].mean())
