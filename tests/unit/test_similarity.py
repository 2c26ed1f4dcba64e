"""rank and ranks_of against an independent float64 computation, tie order and permutation properties."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from deepviz.core.similarity import has_fast_kernel, order_by_similarity, rank, ranks_of, similarities


def unit_rows(n: int, d: int, seed: int = 0, dtype: type = np.float16) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(dtype)


def reference_rank(features: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float64 dot products, ordered by (-similarity, id) with a stable lexsort."""
    sims = features.astype(np.float64) @ query.astype(np.float64)
    order = np.lexsort((np.arange(len(sims)), -sims))
    return order, sims[order]


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
@pytest.mark.parametrize("block_rows", [None, 1, 7, 1000])
def test_rank_matches_float64_reference(dtype: type, block_rows: int | None) -> None:
    feats = unit_rows(500, 24, seed=1, dtype=dtype)
    query = feats[17].astype(np.float32)
    order, sims = rank(feats, query, block_rows=block_rows)
    ref_order, ref_sims = reference_rank(feats, query)
    assert order.dtype == np.int32 and sims.dtype == np.float32
    assert order.shape == sims.shape == (500,)
    np.testing.assert_allclose(sims, ref_sims, atol=1e-6)
    # The orders may differ only between ids whose similarities agree to float32 rounding.
    by_id = features_dot(feats, query)
    np.testing.assert_allclose(by_id[order], ref_sims, atol=1e-6)
    assert np.all(np.diff(sims) <= 0)
    assert sorted(order.tolist()) == list(range(500))
    assert order[0] == ref_order[0] == 17


def features_dot(feats: np.ndarray, query: np.ndarray) -> np.ndarray:
    return feats.astype(np.float64) @ query.astype(np.float64)


def test_float16_blocks_equal_a_float32_copy() -> None:
    feats = unit_rows(300, 40, seed=2)
    query = unit_rows(1, 40, seed=3, dtype=np.float32)[0]
    blocked = similarities(feats, query, block_rows=13)
    whole = feats.astype(np.float32) @ query
    np.testing.assert_allclose(blocked, whole, rtol=0, atol=1e-6)


def test_every_float16_value_converts_exactly() -> None:
    bits = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
    values = bits.view(np.float16).reshape(-1, 1)
    finite = np.isfinite(values[:, 0])
    got = similarities(values[finite], np.ones(1, np.float32), block_rows=4096)
    np.testing.assert_array_equal(got, values[finite, 0].astype(np.float32))


def test_ties_are_ordered_by_lower_id_first() -> None:
    sims = np.array([0.5, 0.9, 0.5, 0.1, 0.9, 0.5, -1.0, 0.1], dtype=np.float32)
    order, ranked = order_by_similarity(sims)
    assert order.tolist() == [1, 4, 0, 2, 5, 3, 7, 6]
    assert ranked.tolist() == sims[order].tolist()


def test_duplicate_rows_rank_by_id() -> None:
    base = unit_rows(6, 8, seed=4)
    feats = np.concatenate([base, base, base])  # ids i, i+6, i+12 are identical rows
    order, sims = rank(feats, base[2].astype(np.float32))
    assert order[:3].tolist() == [2, 8, 14]
    assert sims[0] == sims[1] == sims[2]


def test_all_equal_is_identity_order() -> None:
    feats = np.tile(unit_rows(1, 5, seed=5), (1000, 1))
    order, _ = rank(feats, feats[0].astype(np.float32))
    assert order.tolist() == list(range(1000))


def test_empty_features() -> None:
    order, sims = rank(np.zeros((0, 4), np.float16), np.ones(4, np.float32) / 2)
    assert order.shape == sims.shape == (0,)


def test_wrong_query_length_says_what_to_do() -> None:
    with pytest.raises(ValueError, match="embed the query with the extractor"):
        rank(unit_rows(3, 4), np.ones(5, np.float32))


def test_ranks_of_inverts_the_order() -> None:
    order = np.array([3, 0, 2, 1], dtype=np.int32)
    ranks = ranks_of(order)
    assert ranks.tolist() == [1, 3, 2, 0]
    assert ranks.dtype == np.int32


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float32, st.integers(0, 200), elements=st.sampled_from([-1.0, -0.25, 0.0, 0.25, 0.5, 1.0, 0.3333])),
)
def test_order_is_the_lexicographic_sort(sims: np.ndarray) -> None:
    order, ranked = order_by_similarity(sims)
    expected = np.lexsort((np.arange(len(sims)), -sims.astype(np.float64)))
    assert order.tolist() == expected.tolist()
    assert ranked.tolist() == sims[expected].tolist()


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 120), st.integers(1, 16), st.integers(0, 2**31 - 1), st.sampled_from([None, 1, 5, 64]))
def test_rank_is_a_sorted_permutation_and_ranks_invert_it(n: int, d: int, seed: int, block_rows: int | None) -> None:
    feats = unit_rows(n, d, seed=seed)
    query = unit_rows(1, d, seed=seed + 1, dtype=np.float32)[0]
    order, sims = rank(feats, query, block_rows=block_rows)
    assert np.array_equal(np.sort(order), np.arange(n))
    assert np.all(np.diff(sims) <= 0)
    np.testing.assert_allclose(sims, features_dot(feats, query)[order], atol=1e-5)
    ranks = ranks_of(order)
    assert np.array_equal(order[ranks], np.arange(n))
    assert np.array_equal(ranks[order], np.arange(n))
    # Equal similarities are listed by ascending id.
    same = sims[1:] == sims[:-1]
    assert np.all(order[1:][same] > order[:-1][same])


needs_numba = pytest.mark.skipif(not has_fast_kernel(), reason="the fast extra (numba) is not installed")


@needs_numba
def test_fast_kernel_converts_every_finite_float16_exactly() -> None:
    from deepviz.core.halfdot import dot_float16

    values = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    finite = values[np.isfinite(values)].reshape(-1, 1)  # subnormals, zeros of both signs, the largest
    out = np.empty(len(finite), np.float32)
    dot_float16(finite, np.ones(1, np.float32), out)
    np.testing.assert_array_equal(out, finite[:, 0].astype(np.float32))
    dot_float16(finite, np.full(1, -0.5, np.float32), out)
    np.testing.assert_array_equal(out, finite[:, 0].astype(np.float32) * np.float32(-0.5))


@needs_numba
@pytest.mark.parametrize("n", [1, 4095, 4096, 10_001])  # one task, a task edge, several tasks
def test_fast_kernel_equals_the_float32_product(n: int) -> None:
    feats = unit_rows(n, 67, seed=n)
    query = unit_rows(1, 67, seed=9, dtype=np.float32)[0]
    fast = similarities(feats, query)  # the kernel: float16 rows, no block_rows
    exact = feats.astype(np.float64) @ query.astype(np.float64)
    np.testing.assert_allclose(fast, exact, rtol=0, atol=1e-6)  # float32 sums in another order: ~1e-7
    np.testing.assert_allclose(fast, similarities(feats, query, block_rows=512), rtol=0, atol=1e-6)


@needs_numba
def test_fast_kernel_reads_a_memory_map(tmp_path: Path) -> None:
    feats = unit_rows(5000, 31, seed=3)
    np.save(tmp_path / "f.npy", feats)
    mapped = np.load(tmp_path / "f.npy", mmap_mode="r")
    order, sims = rank(mapped, feats[42].astype(np.float32))
    ref_order, ref_sims = reference_rank(feats, feats[42].astype(np.float32))
    assert order[0] == 42
    np.testing.assert_allclose(sims, ref_sims, atol=1e-6)


def test_key_sort_orders_signed_zeros_and_extremes() -> None:
    sims = np.array([0.0, -0.0, 1.0, -1.0, 1e-40, -1e-40, 0.0, np.float32(3.4e38), -np.float32(3.4e38)], np.float32)
    order, ranked = order_by_similarity(sims)
    assert order.tolist() == [7, 2, 4, 0, 1, 6, 5, 3, 8]  # -0.0 and 0.0 tie, so by id
    assert ranked.tolist() == sims[order].tolist()


def test_a_numba_that_does_not_import_means_the_numpy_path(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError, as a build for another numpy does
    monkeypatch.delitem(sys.modules, "deepviz.core.halfdot", raising=False)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: object())  # "installed"
    assert has_fast_kernel.__wrapped__() is False
