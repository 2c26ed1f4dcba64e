"""int8 features of a static site: the similarity error bound holds, and is tight enough to rank by."""
from __future__ import annotations

import numpy as np
import pytest

from deepviz.export.quantise import a_priori_bound, dequantise, quantise, similarity_error_bound


def _unit_rows(n: int, d: int, seed: int, heavy: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    if heavy:  # a few large coordinates per row, as ReLU features have
        x = np.maximum(x, 0) ** 3
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float16)


@pytest.mark.parametrize(("d", "heavy", "seed"), [(8, False, 0), (128, False, 1), (512, False, 2), (512, True, 3)])
def test_every_pair_s_similarity_is_within_the_reported_bound(d: int, heavy: bool, seed: int) -> None:
    x = _unit_rows(300, d, seed, heavy)
    q, scale = quantise(x)
    bound = similarity_error_bound(x, q, scale)
    exact = x.astype(np.float32) @ x.astype(np.float32).T
    x_hat = dequantise(q, scale)
    approx = x_hat @ x_hat.T
    assert np.abs(approx - exact).max() <= bound
    assert bound <= a_priori_bound(d)
    if d >= 128:  # spread-out rows in many dimensions: the data's bound is far under the worst case
        assert bound < 0.5 * a_priori_bound(d)


def test_rows_use_the_whole_int8_range_and_zero_rows_stay_zero() -> None:
    x = _unit_rows(50, 16, 4)
    x[7] = 0
    q, scale = quantise(x)
    assert q.dtype == np.int8 and scale.dtype == np.float32
    assert (np.abs(q).max(axis=1)[np.arange(50) != 7] == 127).all()
    assert not q[7].any() and scale[7] == 1.0


def test_blocks_give_the_same_answer_as_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    import deepviz.export.quantise as module

    x = _unit_rows(100, 32, 5)
    whole = quantise(x)
    monkeypatch.setattr(module, "_BLOCK_ROWS", 7)
    blocked = quantise(x)
    assert np.array_equal(whole[0], blocked[0]) and np.array_equal(whole[1], blocked[1])
    assert similarity_error_bound(x, *whole) == pytest.approx(similarity_error_bound(x, *blocked))
