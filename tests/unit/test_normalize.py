"""L2 normalisation: unit rows, direction kept, zero and NaN rows refused with the row named."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from deepviz.core.normalize import ZeroFeatureError, l2_normalize


@settings(max_examples=50, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 20), st.integers(1, 16)), elements=st.floats(-1e3, 1e3, width=32)))
def test_rows_have_unit_norm_and_keep_direction(x: np.ndarray) -> None:
    norms = np.linalg.norm(x.astype(np.float64), axis=1)
    x = x[norms > 1e-3]
    if not len(x):
        return
    y = l2_normalize(x)
    np.testing.assert_allclose(np.linalg.norm(y, axis=1), 1.0, rtol=1e-5)
    # Same direction: the cosine between input and output rows is 1.
    cos = np.einsum("ij,ij->i", x.astype(np.float64), y) / np.linalg.norm(x.astype(np.float64), axis=1)
    np.testing.assert_allclose(cos, 1.0, rtol=1e-5)


def test_float16_output_and_preallocated_out() -> None:
    x = np.random.default_rng(0).normal(size=(100, 7))
    out = np.empty((100, 7), np.float16)
    l2_normalize(x, out=out)
    np.testing.assert_allclose(np.linalg.norm(out.astype(np.float64), axis=1), 1.0, atol=2e-3)


def test_matches_sklearn_normalize() -> None:
    from sklearn.preprocessing import normalize

    x = np.random.default_rng(1).normal(size=(50, 9))
    np.testing.assert_allclose(l2_normalize(x, out_dtype=np.float64), normalize(x), rtol=1e-12)


def test_zero_row_is_refused_with_its_index() -> None:
    x = np.ones((4, 3))
    x[2] = 0
    with pytest.raises(ZeroFeatureError, match="row 2"):
        l2_normalize(x)


def test_nan_row_is_refused_with_its_index() -> None:
    x = np.ones((4, 3))
    x[3, 1] = np.nan
    with pytest.raises(ValueError, match="row 3"):
        l2_normalize(x)
