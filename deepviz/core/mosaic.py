"""Map tiles as arrays: the grid cut into square tiles, each cell a tiny box-downsampled copy of its image.

A tile pyramid has one level per cell size ``px`` (``LEVELS``: 1, 2, 4 and 8 pixels per cell).
Every tile is ``TILE_PX`` pixels square (the grid's right and bottom edge tiles are cut to the
grid), so it holds ``TILE_PX // px`` cells a side: zoomed out, a few tiles cover a 1M-image map.
Tile (ty, tx) of level ``px`` shows cells [ty·B, ty·B + B) × [tx·B, tx·B + B) with B = TILE_PX // px.

Each image's pixels come from ``CELL_PX``-square copies (``(N, CELL_PX, CELL_PX, 3)`` uint8, each
its thumbnail box-downsampled); a level's cell is that copy box-downsampled again to ``px``, with
one rounding, so every level is the mean of the same thumbnail pixels.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BACKGROUND", "CELL_PX", "LEVELS", "TILE_PX", "box_downsample", "cells_per_tile", "id_by_cell", "mosaic",
           "tile_counts", "tile_ids"]

CELL_PX = 8
LEVELS: tuple[int, ...] = (1, 2, 4, 8)
TILE_PX = 256
BACKGROUND = (244, 244, 242)  # an empty cell: the page's background (web/src/mapDraw.ts BACKGROUND)


def box_downsample(pixels: np.ndarray, px: int) -> np.ndarray:
    """(K, S, S, C) uint8 -> (K, px, px, C) uint8: each output pixel the rounded mean of its (S/px)² block.

    ``S`` must be a multiple of ``px``.
    """
    k, s, s2, c = pixels.shape
    if s != s2 or s % px:
        raise ValueError(f"cannot box-downsample {s}x{s2} squares to {px} px: the side must be a multiple of {px}")
    f = s // px
    if f == 1:
        return np.ascontiguousarray(pixels, dtype=np.uint8)
    sums = pixels.reshape(k, px, f, px, f, c).sum(axis=(2, 4), dtype=np.uint32)
    area = f * f
    out: np.ndarray = ((sums + area // 2) // area).astype(np.uint8)
    return out


def cells_per_tile(px: int) -> int:
    """Cells along a tile's side at level ``px``."""
    return TILE_PX // px


def tile_counts(rows: int, cols: int, px: int) -> tuple[int, int]:
    """(tile rows, tile cols) of level ``px`` for a rows x cols grid."""
    b = cells_per_tile(px)
    return -(-rows // b), -(-cols // b)


def id_by_cell(cells: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """(N, 2) int [row, col] cells -> (rows, cols) int32 image id of each cell, -1 where none."""
    out = np.full((rows, cols), -1, dtype=np.int32)
    cells = np.asarray(cells)
    if len(cells):
        out[cells[:, 0], cells[:, 1]] = np.arange(len(cells), dtype=np.int32)
    return out


def mosaic(ids: np.ndarray, pixels: np.ndarray, px: int) -> np.ndarray:
    """(h, w) int image ids (-1: empty) and (N, CELL_PX, CELL_PX, 3) uint8 cell pixels -> (h·px, w·px, 3)
    uint8: each image's pixels downsampled to ``px`` at its cell, empty cells in ``BACKGROUND``."""
    h, w = ids.shape
    flat = ids.reshape(-1)
    present = flat >= 0
    cells = np.empty((h * w, px, px, 3), dtype=np.uint8)
    cells[:] = BACKGROUND
    if present.any():
        # A sorted gather reads a memory map front to back, not in the grid's scattered order.
        wanted = flat[present]
        order = np.argsort(wanted, kind="stable")
        gathered = np.empty((len(wanted), *pixels.shape[1:]), dtype=np.uint8)
        gathered[order] = pixels[wanted[order]]
        cells[present] = box_downsample(gathered, px)
    tile: np.ndarray = cells.reshape(h, w, px, px, 3).transpose(0, 2, 1, 3, 4).reshape(h * px, w * px, 3)
    return tile


def tile_ids(id_grid: np.ndarray, px: int, ty: int, tx: int) -> np.ndarray:
    """The (h, w) block of ``id_grid`` ((rows, cols) ids) that tile (ty, tx) of level ``px`` shows."""
    b = cells_per_tile(px)
    return id_grid[ty * b : (ty + 1) * b, tx * b : (tx + 1) * b]
