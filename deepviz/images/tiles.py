"""Pixels for map tiles: thumbnails decoded to each image's cell pixels, and tiles encoded as PNG.

Tiles are PNG, not JPEG like the thumbnails: at one to eight pixels per image a tile is all
edges, which JPEG blurs across neighbouring images, and lossless tiles show exactly the
thumbnails' box-downsampled pixels. They cost ~3 bytes per pixel: 1M images add ~0.3 GB.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from deepviz.core.mosaic import CELL_PX, box_downsample

PNG_LEVEL = 1  # zlib's fastest: the mosaic of photos hardly compresses more at higher levels


def cell_pixels(jpeg: bytes, px: int = CELL_PX) -> np.ndarray:
    """One thumbnail's JPEG bytes -> (px, px, 3) uint8, box-downsampled (a side not a multiple of
    ``px`` is resized with Pillow's box filter instead). An empty or unreadable thumbnail is grey."""
    try:
        with Image.open(io.BytesIO(jpeg)) as img:
            rgb = np.asarray(img.convert("RGB"))
    except (OSError, ValueError):
        return np.full((px, px, 3), 128, np.uint8)  # the map shows a grey cell, as for a missing thumbnail
    side = rgb.shape[0]
    if rgb.shape[0] != rgb.shape[1] or side % px:
        return np.asarray(Image.fromarray(rgb).resize((px, px), Image.Resampling.BOX))
    boxed: np.ndarray = box_downsample(rgb[None], px)[0]
    return boxed


def encode_tile(rgb: np.ndarray) -> bytes:
    """(H, W, 3) uint8 -> PNG bytes."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", compress_level=PNG_LEVEL)
    return buf.getvalue()
