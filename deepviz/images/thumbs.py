"""Thumbnails and mean colours, encoded from each image's decoded centre crop (packed by storage/thumbs.py)."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

JPEG_QUALITY = 88


def encode_thumbnails(crop: np.ndarray, sizes: tuple[int, ...]) -> list[bytes]:
    """(S, S, 3) uint8 centre crop -> one JPEG per size in ``sizes`` (each downscaled from S)."""
    img = Image.fromarray(crop)
    out = []
    for size in sizes:
        thumb = img if size == img.width else img.resize((size, size), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        thumb.save(buf, format="JPEG", quality=JPEG_QUALITY)
        out.append(buf.getvalue())
    return out


def mean_color(crop: np.ndarray) -> np.ndarray:
    """(S, S, 3) uint8 crop -> (3,) uint8 mean RGB, rounded."""
    mean: np.ndarray = crop.reshape(-1, 3).mean(axis=0)
    return np.round(mean).astype(np.uint8)
