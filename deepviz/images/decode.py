"""Decode one image file into the centre square the network sees and the user sees."""
from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from deepviz.settings import DEFAULT_MAX_PIXELS  # Pillow's own limit; a bigger image may be a decompression bomb


class ImageRejected(Exception):
    """The file looked like an image but cannot be used; ``reason`` says why, for the reject list."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Decoded:
    """One decoded image.

    ``crop``    (S, S, 3) uint8 RGB, the centre square of the shortest side resized to S.
    ``width``, ``height``  size of the original after EXIF orientation, in pixels.
    """

    crop: np.ndarray
    width: int
    height: int


def center_square_box(width: int, height: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the centred square whose side is the shortest side."""
    side = min(width, height)
    left = (width - side) // 2
    top = (height - side) // 2
    return left, top, left + side, top + side


def to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB: alpha and palette transparency composited on white,
    16-bit and float greyscale rescaled to 8 bits, CMYK/YCbCr/LAB converted."""
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        img = _wide_grey_to_l(img)
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if img.mode != "RGB":
        return img.convert("RGB")
    return img


def _wide_grey_to_l(img: Image.Image) -> Image.Image:
    """16/32-bit or float greyscale -> 8-bit L. Integer images are scaled by their bit depth
    (a 16-bit PNG keeps its exposure); float images by their own range."""
    a = np.asarray(img)
    if a.dtype.kind == "f":
        lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
        scaled = (a - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(a)
    else:
        top = 65535.0 if a.max(initial=0) > 255 or img.mode.startswith("I;16") else 255.0
        scaled = a.astype(np.float64) * (255.0 / top)
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), mode="L")


@contextmanager
def pixel_limit(max_pixels: int | None) -> Iterator[None]:
    """Let Pillow open images up to ``max_pixels`` while the block runs.

    Pillow refuses, on its own, anything over twice its global limit before our check in
    ``decode_crop`` can speak; a user who raises --max-pixels past that must be heard, so
    the global is raised for the duration of a build and restored after.
    """
    previous = Image.MAX_IMAGE_PIXELS
    if max_pixels is None or previous is None or max_pixels > previous:
        Image.MAX_IMAGE_PIXELS = None if max_pixels is None else max_pixels
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


_SWAPS_AXES = {5, 6, 7, 8}  # EXIF orientations that rotate by 90 degrees
_ORIENTATION_TAG = 0x0112


def decode_crop(path: str | Path | IO[bytes], size: int, *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Decoded:
    """Read ``path`` once and return its centre square resized to ``size`` × ``size``.

    Raises ``ImageRejected`` with a one-line reason for anything that cannot become a
    crop: unreadable or truncated data, an unknown format, more than ``max_pixels``
    pixels (checked from the header, before any pixel is decoded).
    """
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check warns below its hard limit; ours decides instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height = img.size
                if max_pixels is not None and width * height > max_pixels:
                    raise ImageRejected(
                        f"{width}x{height} is over the {max_pixels:,}-pixel limit that guards against "
                        "decompression bombs; if the file is trusted, rebuild with a larger --max-pixels"
                    )
                if img.getexif().get(_ORIENTATION_TAG) in _SWAPS_AXES:
                    width, height = height, width
                # JPEG can decode straight at a reduced scale: far less work for big photos.
                img.draft("RGB", (size, size))
                img = ImageOps.exif_transpose(img)
                img.load()
                if width == 0 or height == 0:
                    raise ImageRejected("image has zero width or height")
                rgb = to_rgb(img)
                box = center_square_box(*rgb.size)
                crop = rgb.resize((size, size), Image.Resampling.BICUBIC, box=box)
                return Decoded(np.asarray(crop, dtype=np.uint8), width, height)
    except Image.DecompressionBombError as err:
        raise ImageRejected(f"{err}; if the file is trusted, rebuild with a larger --max-pixels") from None
    except UnidentifiedImageError:
        raise ImageRejected("not a format Pillow can decode") from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        # Pillow reports truncated and corrupt data as OSError/SyntaxError/ValueError.
        raise ImageRejected(f"cannot decode: {err}") from None


def decode_size(input_sizes: Iterable[int], thumb_sizes: Iterable[int]) -> int:
    """Side of the one crop decoded per image: the largest any model or thumbnail needs
    (the others are resized down from it, never up)."""
    return max([*input_sizes, *thumb_sizes])


def resize_square(crop: np.ndarray, size: int) -> np.ndarray:
    """(S, S, 3) uint8 crop -> (size, size, 3) uint8, as the build feeds models of another input size."""
    if crop.shape[0] == size:
        return crop
    return np.asarray(Image.fromarray(crop).resize((size, size), Image.Resampling.BICUBIC))
