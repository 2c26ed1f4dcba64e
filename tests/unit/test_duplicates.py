"""Near-duplicates: every pair over the threshold, exactly as a brute-force comparison finds them."""

from __future__ import annotations

import numpy as np
import pytest

from deepviz.core.duplicates import duplicate_groups, near_duplicate_pairs, redundant_members


def features(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    x[10] = x[3] + 0.01 * rng.standard_normal(d)  # planted near-duplicates: 3~10, and a chain 20~21~22
    x[21] = x[20] + 0.02 * rng.standard_normal(d)
    x[22] = x[21] + 0.02 * rng.standard_normal(d)
    x[30] = x[31]  # an exact duplicate
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float16)


@pytest.mark.parametrize("block_bytes", [1, 4000, 1 << 30])
def test_pairs_are_exactly_the_brute_force_ones(block_bytes: int) -> None:
    x = features(60, 16, 0)
    pairs = near_duplicate_pairs(x, 0.995, block_bytes=block_bytes)
    x32 = x.astype(np.float32)
    sims = x32 @ x32.T
    i, j = np.nonzero(np.triu(sims >= np.float32(0.995), k=1))
    assert list(zip(pairs.first, pairs.second)) == list(zip(i, j))
    assert np.allclose(pairs.sims, sims[i, j], atol=1e-6)
    assert (3, 10) in set(zip(pairs.first.tolist(), pairs.second.tolist()))


def test_groups_join_chains() -> None:
    x = features(60, 16, 1)
    groups = duplicate_groups(near_duplicate_pairs(x, 0.99), 60)
    assert [20, 21, 22] in groups and [3, 10] in groups and [30, 31] in groups
    assert duplicate_groups(near_duplicate_pairs(x, 1.01), 60) == []


def test_redundant_members_keep_the_first_of_each_group() -> None:
    mask = redundant_members([[20, 21, 22], [10, 3]], 25)
    assert np.flatnonzero(mask).tolist() == [10, 21, 22]
    assert not redundant_members([], 4).any()
