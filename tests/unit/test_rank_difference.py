"""The rank-difference codes the map is coloured by, against a direct numpy computation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepviz.core.rank_difference import NO_VALUE, SAME, rank_difference_codes, rank_log_ratio, ranks_among_others
from deepviz.core.similarity import rank, ranks_of


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_ranks_among_others_drop_the_query() -> None:
    ranks = np.array([2, 0, 4, 1, 3])
    assert ranks_among_others(ranks, 0).tolist() == [-1, 0, 3, 1, 2]


def test_codes_match_a_reference_from_two_feature_sets() -> None:
    rng = np.random.default_rng(3)
    n, q = 300, 17
    fa, fb = _unit(rng, n, 8), _unit(rng, n, 12)
    ra, rb = ranks_of(rank(fa, fa[q])[0]), ranks_of(rank(fb, fb[q])[0])
    codes = rank_difference_codes(ra, rb, q)
    # Reference: the other images' ranks by similarity (high first, ties by id) from scipy, then the formula.
    others = np.flatnonzero(np.arange(n) != q)
    sims_a, sims_b = fa[others] @ fa[q], fb[others] @ fb[q]
    ref_a = np.argsort(np.lexsort((others, -sims_a))).astype(float)
    ref_b = np.argsort(np.lexsort((others, -sims_b))).astype(float)
    want = SAME + np.rint(SAME * np.clip(np.log((1 + ref_a) / (1 + ref_b)) / math.log(n - 1), -1, 1))
    assert codes[q] == NO_VALUE
    assert np.array_equal(codes[others], want.astype(np.uint8))
    assert codes.dtype == np.uint8 and codes.shape == (n,)


def test_same_ranking_is_all_same_and_direction_is_signed() -> None:
    ranks = np.arange(10)
    assert set(rank_difference_codes(ranks, ranks).tolist()) == {SAME}
    top_in_a = rank_difference_codes(np.array([0, 9]), np.array([9, 0]))
    assert top_in_a[0] < SAME < top_in_a[1]
    assert top_in_a[0] == 0 and top_in_a[1] == 254  # ln(10)/ln(2) clips to the ends


def test_log_ratio_rejects_unequal_lengths() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        rank_log_ratio(np.arange(3), np.arange(4))
