"""Queries by text for CLIP-like feature sets: the model's text tower puts the words in the images' space.

A text query is held like an uploaded image (same key space, same ranking endpoint, same kept
files), so the page and the API treat both alike; its thumbnail is the text itself, drawn.
"""
from __future__ import annotations

import io
import textwrap

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from deepviz.core.normalize import l2_normalize
from deepviz.features.base import TextEmbedder

__all__ = ["MAX_TEXT_CHARS", "TEXT_MARK", "embed_text_query", "text_thumbnail"]

MAX_TEXT_CHARS = 1000
# A kept upload file holding a text query starts with this; no image format does.
TEXT_MARK = b"deepviz-text\0"
_THUMB = 128
_LINE_CHARS = 14


def embed_text_query(text: str, embedder: TextEmbedder) -> tuple[np.ndarray, bytes]:
    """Text -> ((D,) float32 unit vector in the image features' space, 128 px JPEG showing the text).

    Raises ZeroFeatureError when the model gives an all-zero embedding.
    """
    raw = np.asarray(embedder.embed_text([text]), dtype=np.float32).reshape(1, -1)
    return l2_normalize(raw)[0], text_thumbnail(text)


def text_thumbnail(text: str) -> bytes:
    """A 128 px square JPEG with the text on it, wrapped (and cut with an ellipsis after five lines)."""
    tile = Image.new("RGB", (_THUMB, _THUMB), (246, 244, 238))
    lines = textwrap.wrap(" ".join(text.split()), _LINE_CHARS, max_lines=5, placeholder=" …") or [""]
    font = ImageFont.load_default(size=15)
    draw = ImageDraw.Draw(tile)
    draw.multiline_text((_THUMB // 2, _THUMB // 2), "\n".join(lines), fill=(30, 30, 30), font=font, anchor="mm", align="center")
    out = io.BytesIO()
    tile.save(out, format="JPEG", quality=90)
    return out.getvalue()
