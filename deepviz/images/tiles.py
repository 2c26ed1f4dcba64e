"""Pixels for map tiles: thumbnails decoded to each image's cell pixels, and tiles encoded as PNG.

Tiles are PNG, not JPEG like the thumbnails: at one to eight pixels per image a tile is all
edges, which JPEG blurs across neighbouring images, and lossless tiles show exactly the
thumbnails' box-downsampled pixels. They cost ~3 bytes per pixel: 1M images add ~0.3 GB.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

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


_T = TypeVar("_T")
_R = TypeVar("_R")
Mapper = Callable[[Callable[[_T], _R], Iterable[_T]], Iterable[_R]]


def cell_pixels_many(jpegs: Sequence[bytes], px: int = CELL_PX, mapper: Mapper[Sequence[bytes], list[np.ndarray | None]] = map,
                     parts: int = 1) -> np.ndarray:
    """``cell_pixels`` of many thumbnails at once, (K, px, px, 3) uint8, the same pixels: they are
    decoded in ``parts`` contiguous runs (``mapper`` may run them on threads; Pillow decodes outside
    the GIL), then every square thumbnail whose side is a multiple of ``px`` is box-downsampled in
    one numpy call per side: per image only the decode is left (half of ``cell_pixels``' time)."""
    out = np.empty((len(jpegs), px, px, 3), np.uint8)
    step = -(-len(jpegs) // max(1, parts)) or 1
    runs = [jpegs[s : s + step] for s in range(0, len(jpegs), step)]
    decoded = [rgb for run in mapper(_decode_run, runs) for rgb in run]
    sides: dict[int, list[int]] = {}
    for i, rgb in enumerate(decoded):
        if rgb is not None and rgb.shape[0] == rgb.shape[1] and rgb.shape[0] % px == 0:
            sides.setdefault(rgb.shape[0], []).append(i)
        else:
            out[i] = cell_pixels(jpegs[i], px)  # unreadable, or a side that needs Pillow's box resize
    for rows in sides.values():
        out[rows] = box_downsample(np.stack([decoded[i] for i in rows]), px)  # type: ignore[misc]
    return out


def _decode_run(jpegs: Sequence[bytes]) -> list[np.ndarray | None]:
    return [_decode_rgb(j) for j in jpegs]


def _decode_rgb(jpeg: bytes) -> np.ndarray | None:
    try:
        with Image.open(io.BytesIO(jpeg)) as img:
            return np.asarray(img.convert("RGB"))
    except (OSError, ValueError):
        return None


def encode_tile(rgb: np.ndarray) -> bytes:
    """(H, W, 3) uint8 -> PNG bytes."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", compress_level=PNG_LEVEL)
    return buf.getvalue()
