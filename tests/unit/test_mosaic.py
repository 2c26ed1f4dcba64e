"""Map tiles as arrays: each cell of a tile is its image's thumbnail box-downsampled, at its grid cell."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from deepviz.core.mosaic import BACKGROUND, CELL_PX, LEVELS, box_downsample, cells_per_tile, id_by_cell, mosaic, tile_counts, tile_ids
from deepviz.images.tiles import cell_pixels, cell_pixels_many, encode_tile


def _naive_box(img: np.ndarray, px: int) -> np.ndarray:
    """(S, S, 3) -> (px, px, 3): each output pixel the rounded mean of its block, one loop per pixel."""
    f = img.shape[0] // px
    out = np.empty((px, px, 3), np.uint8)
    for y in range(px):
        for x in range(px):
            block = img[y * f : (y + 1) * f, x * f : (x + 1) * f].reshape(-1, 3).astype(np.int64)
            out[y, x] = (block.sum(axis=0) + f * f // 2) // (f * f)
    return out


def test_box_downsample_is_the_rounded_block_mean() -> None:
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    for px in (1, 2, 4, 8, 16, 32):
        got = box_downsample(imgs, px)
        assert got.shape == (5, px, px, 3)
        for k in range(5):
            np.testing.assert_array_equal(got[k], _naive_box(imgs[k], px))


def test_box_downsample_refuses_a_side_that_does_not_divide() -> None:
    with pytest.raises(ValueError, match="multiple of 3"):
        box_downsample(np.zeros((1, 8, 8, 3), np.uint8), 3)


def _jpeg(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=88)
    return buf.getvalue()


def test_every_tile_equals_the_box_downsampled_thumbnails_it_mosaics() -> None:
    rng = np.random.default_rng(1)
    n, rows, cols = 700, 30, 25  # 750 cells: 50 stay empty; level 8 has 2 x 1 tiles of 32 cells a side
    thumbs = [_jpeg(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)) for _ in range(n)]
    cells = np.stack(np.divmod(rng.permutation(rows * cols)[:n], cols), axis=1).astype(np.int32)
    pixels = np.stack([cell_pixels(j) for j in thumbs])
    decoded = [np.asarray(Image.open(io.BytesIO(j)).convert("RGB")) for j in thumbs]
    ids = id_by_cell(cells, rows, cols)
    for px in LEVELS:
        t_rows, t_cols = tile_counts(rows, cols, px)
        b = cells_per_tile(px)
        for ty in range(t_rows):
            for tx in range(t_cols):
                tile = mosaic(tile_ids(ids, px, ty, tx), pixels, px)
                for r in range(ty * b, min(rows, ty * b + b)):
                    for c in range(tx * b, min(cols, tx * b + b)):
                        got = tile[(r - ty * b) * px : (r - ty * b + 1) * px, (c - tx * b) * px : (c - tx * b + 1) * px]
                        i = ids[r, c]
                        if i < 0:
                            assert (got == BACKGROUND).all()
                        else:  # the thumbnail boxed to the cell pixels, then to the level: the way the build does it
                            np.testing.assert_array_equal(got, _naive_box(_naive_box(decoded[i], CELL_PX), px))


def test_a_tile_is_cut_to_the_grid_at_its_edges() -> None:
    pixels = np.zeros((1, CELL_PX, CELL_PX, 3), np.uint8)
    ids = id_by_cell(np.array([[0, 0]]), 40, 70)
    assert tile_counts(40, 70, 8) == (2, 3)
    assert mosaic(tile_ids(ids, 8, 1, 2), pixels, 8).shape == ((40 - 32) * 8, (70 - 64) * 8, 3)
    assert mosaic(tile_ids(ids, 1, 0, 0), pixels, 1).shape == (40, 70, 3)


def test_an_encoded_tile_keeps_its_pixels_exactly() -> None:
    pixels = np.random.default_rng(2).integers(0, 256, (40, 24, 3), dtype=np.uint8)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(encode_tile(pixels))).convert("RGB")), pixels)


def test_many_thumbnails_at_once_give_each_ones_own_cell_pixels() -> None:
    """The build's batched path: the same pixels as cell_pixels, whatever the side or the bytes."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(3)
    sides = [32, 32, 64, 30, 32, 16, 64]  # mixed: grouped by side, and a side (30) Pillow resizes
    jpegs = [_jpeg(rng.integers(0, 256, (s, s, 3), dtype=np.uint8)) for s in sides]
    jpegs += [b"", b"not a jpeg", _jpeg(rng.integers(0, 256, (32, 48, 3), dtype=np.uint8))]  # grey cells; not square
    want = np.stack([cell_pixels(j) for j in jpegs])
    np.testing.assert_array_equal(cell_pixels_many(jpegs), want)
    with ThreadPoolExecutor(2) as pool:
        for parts in (1, 2, 3, 10, 20):
            np.testing.assert_array_equal(cell_pixels_many(jpegs, mapper=pool.map, parts=parts), want)
    assert cell_pixels_many([]).shape == (0, 8, 8, 3)
