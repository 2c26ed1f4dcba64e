"""The mean colour of a crop: integer sums give numpy's float64 mean, rounded, on any crop."""
from __future__ import annotations

import numpy as np
import pytest

from deepviz.images.thumbs import mean_color


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (128, 128), (224, 224), (4096, 4)])
def test_mean_colour_is_the_rounded_float_mean(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    crops = [
        rng.integers(0, 256, (*shape, 3), dtype=np.uint8),
        np.full((*shape, 3), 255, np.uint8),  # the largest sums
        rng.integers(0, 256, (shape[1], shape[0], 3), dtype=np.uint8).transpose(1, 0, 2),  # not contiguous
    ]
    for crop in crops:
        expected = np.round(crop.reshape(-1, 3).astype(np.float64).mean(axis=0)).astype(np.uint8)
        np.testing.assert_array_equal(mean_color(crop), expected)


def test_halves_round_to_even_as_before() -> None:
    crop = np.array([[[0, 1, 2], [1, 2, 3]]], np.uint8)  # means 0.5, 1.5, 2.5
    np.testing.assert_array_equal(mean_color(crop), [0, 2, 2])
