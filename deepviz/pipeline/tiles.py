"""The build's tile step: every new image's cell pixels from its thumbnail, then the stored grid's tile pyramid.

Both stream from memory maps (thumbnails -> cell pixels -> PNG tiles), a block of images or one
tile at a time, so a million images never become a million Python objects. Decoding and
encoding run on a thread per core (Pillow releases the GIL while it codes).
"""
from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from deepviz.core.mosaic import CELL_PX, LEVELS, TILE_PX, id_by_cell, mosaic, tile_counts, tile_ids
from deepviz.faults import checkpoint
from deepviz.images.tiles import cell_pixels_many, encode_tile
from deepviz.storage import writer
from deepviz.storage.manifest import TileInfo
from deepviz.storage.thumbs import ThumbnailStore
from deepviz.storage.tiles import PIXELS, folder_for

__all__ = ["write_tiles"]

BLOCK = 4096  # images decoded per block: ~800 KB of cell pixels, a few hundred KB of JPEG


def write_tiles(
    root: Path, n: int, grid_file: str, shape: tuple[int, int], thumbs: ThumbnailStore,
    previous: TileInfo | None, previous_n: int,
) -> TileInfo:
    """Bring the project's tiles up to date with its ``n`` images on the grid in ``grid_file``
    ((rows, cols) ``shape``); ``previous`` is the committed manifest's record (of ``previous_n`` images)."""
    keep = min(previous_n, n) if previous is not None and previous.cell_px == CELL_PX else 0
    folder = folder_for(grid_file)
    info = TileInfo(levels=LEVELS, tile_px=TILE_PX, cell_px=CELL_PX, pixels=PIXELS, folder=folder)
    if previous == info and keep == n:
        return previous  # same images, same grid: the committed tiles are these
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        if keep < n:
            size = min(thumbs.sizes)
            blocks = (_decode_block(pool, thumbs, np.arange(s, min(s + BLOCK, n)), size) for s in range(keep, n, BLOCK))
            writer.write_cell_pixels(root, keep, n, blocks, CELL_PX)
        checkpoint("tile-pixels")
        cells = np.load(root / grid_file, mmap_mode="r")[:n]
        ids = id_by_cell(cells, *shape)
        pixels = np.load(root / PIXELS, mmap_mode="r")[:n]
        for px in LEVELS:
            t_rows, t_cols = tile_counts(*shape, px)
            # Submitted a row of tiles at a time: the tiles waiting to be written stay a row's worth.
            pngs = itertools.chain.from_iterable(
                pool.map(lambda tx, ty=ty, px=px: encode_tile(mosaic(tile_ids(ids, px, ty, tx), pixels, px)), range(t_cols))
                for ty in range(t_rows)
            )
            writer.write_tile_level(root / folder, px, pngs, t_rows * t_cols)
            checkpoint("tile-level")
    return info


def _decode_block(pool: ThreadPoolExecutor, thumbs: ThumbnailStore, ids: np.ndarray, size: int) -> np.ndarray:
    offsets, blob = thumbs.get_many(ids, size)
    jpegs = [blob[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
    return cell_pixels_many(jpegs, CELL_PX, pool.map, parts=os.cpu_count() or 1)


