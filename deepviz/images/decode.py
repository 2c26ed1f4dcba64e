"""Decode one image file into the centre square the network sees and the user sees, in bounded memory."""
from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from deepviz.settings import DEFAULT_MAX_DECODE_MB, DEFAULT_MAX_PIXELS


class ImageRejected(Exception):
    """The file looked like an image but cannot be used; ``reason`` says why, for the reject list.

    ``over_limit`` is True when the image is fine but over a pixel or memory limit the user can raise.
    """

    def __init__(self, reason: str, *, over_limit: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.over_limit = over_limit


@dataclass(frozen=True)
class Decoded:
    """One decoded image.

    ``crop``    (S, S, 3) uint8 RGB, the centre square of the shortest side resized to S.
    ``width``, ``height``  size of the original after EXIF orientation, in pixels.
    """

    crop: np.ndarray
    width: int
    height: int


@dataclass(frozen=True)
class DecodeLimits:
    """What one decode may cost, and the options that raise each limit (a reject reason names them).

    ``max_pixels``     width × height from the header, the decompression-bomb guard; None = no limit
    ``max_decode_mb``  memory the decode may hold at once, in MB (2**20 bytes); None = no limit
    """

    max_pixels: int | None = DEFAULT_MAX_PIXELS
    max_decode_mb: int | None = DEFAULT_MAX_DECODE_MB
    pixels_option: str = "deepviz build --max-pixels"
    memory_option: str = "deepviz build --max-decode-mb"


def center_square_box(width: int, height: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the centred square whose side is the shortest side."""
    side = min(width, height)
    left = (width - side) // 2
    top = (height - side) // 2
    return left, top, left + side, top + side


_WIDE_GREY = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")
_ALPHA = ("RGBA", "LA", "PA", "RGBa", "La")


def to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB: alpha and palette transparency composited on white,
    16-bit and float greyscale rescaled to 8 bits, CMYK/YCbCr/LAB converted."""
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in _WIDE_GREY:
        img = _wide_grey_to_l(img)
    if img.mode in _ALPHA:
        rgba = img if img.mode == "RGBA" else img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if img.mode != "RGB":
        return img.convert("RGB")
    return img


_BLOCK_PIXELS = 1 << 20  # rows converted at a time: numpy's float64 temporaries stay near 8 MB


def _wide_grey_to_l(img: Image.Image) -> Image.Image:
    """16/32-bit or float greyscale -> 8-bit L. Integer images are scaled by their bit depth
    (a 16-bit PNG keeps its exposure); float images by their own range.

    Converted a block of rows at a time: the whole image as float64 would be 8 bytes a pixel.
    """
    width, height = img.size
    rows = max(1, _BLOCK_PIXELS // max(1, width))
    blocks = [(y, min(height, y + rows)) for y in range(0, height, rows)]

    def block(y0: int, y1: int) -> np.ndarray:
        return np.asarray(img.crop((0, y0, width, y1)))

    out = Image.new("L", img.size)
    if img.mode == "F":
        # fmin/fmax skip NaN as nanmin/nanmax do, without warning about a block that is all NaN.
        lo = float(np.fmin.reduce([np.fmin.reduce(block(*b), axis=None) for b in blocks]))
        hi = float(np.fmax.reduce([np.fmax.reduce(block(*b), axis=None) for b in blocks]))
    else:
        wide = img.mode.startswith("I;16") or any(block(*b).max(initial=0) > 255 for b in blocks)
        lo, hi = 0.0, 65535.0 if wide else 255.0
    for y0, y1 in blocks:
        a = block(y0, y1)
        if img.mode == "F":
            scaled = (a - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(a)
        else:
            scaled = a.astype(np.float64) * (255.0 / hi)
        # NaN (float images only) becomes 0 rather than whatever the cast makes of it.
        pixels = np.nan_to_num(np.clip(np.rint(scaled), 0, 255), nan=0.0).astype(np.uint8)
        out.paste(Image.fromarray(pixels, mode="L"), (0, y0))
    return out


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


_ORIENTATION_TAG = 0x0112
_SWAPS_AXES = {5, 6, 7, 8}  # EXIF orientations that rotate by 90 degrees
# What each EXIF orientation asks of the stored pixels (as ImageOps.exif_transpose does), for an
# image that Image.reduce has made and that no longer carries the file's EXIF block.
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Never reduce the centre square below this many times the crop side before the final bicubic
# resize: from a gap of 3 on, Pillow's docs call the result indistinguishable from a direct resize.
_REDUCING_GAP = 3


def stored_bytes_per_pixel(mode: str) -> int:
    """Bytes a pixel of ``mode`` takes in Pillow's memory: 8-bit multi-band pixels are padded to 4,
    and Pillow decodes 16-bit colour (PNG's RGB;16, RGBA;16) to 8 bits a sample as it reads."""
    if mode in ("1", "L", "P"):
        return 1
    return 2 if mode.startswith("I;16") else 4


def exact_cost(mode: str, transparency: bool, transposed: bool) -> int:
    """Bytes a pixel of the full-size image costs on the exact path (``to_rgb`` on the whole image,
    then one bicubic resize): the full-size buffers alive at once."""
    stored = stored_bytes_per_pixel(mode) * (2 if transposed else 1)  # a rotation copies the image
    if mode == "P":
        return stored + (16 if transparency else 4)  # -> RGBA, white, composite, RGB; or -> RGB
    if mode in _ALPHA:
        return stored + (12 if mode == "RGBA" else 16)  # (-> RGBA), white, composite, RGB
    if mode in _WIDE_GREY:
        return stored + 1 + 4  # -> L -> RGB
    return stored if mode == "RGB" else stored + 4  # -> RGB


def reduced_cost(mode: str) -> int:
    """Bytes a pixel of the full-size image costs on the reduced path: the decoded image, plus the
    full-size 8-bit copy of a 16-bit or float one (its scale depends on all of it); everything
    else is done a band of rows at a time."""
    return stored_bytes_per_pixel(mode) + (1 if mode in _WIDE_GREY else 0)


def decode_crop(
    path: str | Path | IO[bytes],
    size: int,
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    limits: DecodeLimits | None = None,
) -> Decoded:
    """Read ``path`` once and return its centre square resized to ``size`` × ``size``.

    Memory is bounded by ``limits.max_decode_mb``, judged from the header before any pixel is
    decoded: JPEG is decoded at a reduced scale (draft); an image whose exact path (``to_rgb``
    then one bicubic resize, which ordinary images take) fits the budget takes it; a bigger one
    is reduced by an integer factor in its own mode right after decoding, so only the decoded
    buffer is full-size; one whose decoded buffer alone is over the budget is rejected.
    ``max_pixels`` is a shorthand for ``limits.max_pixels`` (``limits`` wins when given).

    Raises ``ImageRejected`` with a one-line reason for anything that cannot become a crop:
    unreadable or truncated data, an unknown format, over the pixel or memory limit.
    """
    limits = limits or DecodeLimits(max_pixels=max_pixels)
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check warns below its hard limit; ours decides instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                return _decode_open(img, size, limits)
    except Image.DecompressionBombError as err:
        raise ImageRejected(_bomb_reason(str(err), limits), over_limit=True) from None
    except UnidentifiedImageError:
        raise ImageRejected("not a format Pillow can decode") from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        # Pillow reports truncated and corrupt data as OSError/SyntaxError/ValueError.
        raise ImageRejected(f"cannot decode: {err}") from None


def _decode_open(img: ImageFile.ImageFile, size: int, limits: DecodeLimits) -> Decoded:
    width, height = img.size
    if limits.max_pixels is not None and width * height > limits.max_pixels:
        raise ImageRejected(_pixels_reason(f"{width}x{height} is {width * height:,} pixels", width * height, limits), over_limit=True)
    if width == 0 or height == 0:
        raise ImageRejected("image has zero width or height")
    # JPEG can decode straight at a reduced scale: far less work and memory for big photos.
    img.draft("RGB", (size, size))
    pixels = img.size[0] * img.size[1]
    budget = None if limits.max_decode_mb is None else limits.max_decode_mb << 20
    # Judged before the EXIF block is read: a PNG's may follow its pixels, so Pillow decodes them to find it.
    if budget is not None and pixels * reduced_cost(img.mode) > budget:
        raise ImageRejected(_memory_reason(img, pixels * reduced_cost(img.mode), limits), over_limit=True)
    orientation = img.getexif().get(_ORIENTATION_TAG)
    if orientation in _SWAPS_AXES:
        width, height = height, width
    transparency = "transparency" in img.info
    if budget is None or pixels * exact_cost(img.mode, transparency, orientation in _TRANSPOSE) <= budget:
        ImageOps.exif_transpose(img, in_place=True)  # in place: no copy when there is nothing to turn
        rgb = to_rgb(img)
    else:
        small = _reduced_centre(img, size)
        img.close()  # frees the full-size buffer before the small image is worked on
        if orientation in _TRANSPOSE:
            small = small.transpose(_TRANSPOSE[orientation])
        rgb = to_rgb(small)
    crop = rgb.resize((size, size), Image.Resampling.BICUBIC, box=center_square_box(*rgb.size))
    return Decoded(np.asarray(crop, dtype=np.uint8), width, height)


def _reduced_centre(img: Image.Image, size: int) -> Image.Image:
    """The centre square (in the stored orientation, which a rotation maps onto the shown one's
    within a pixel) reduced by the largest integer factor that keeps it ≥ ``_REDUCING_GAP`` × ``size``.

    Reduced a band of rows at a time, so the only full-size buffer is the decoded image (and the
    L image of a 16-bit or float one): ``Image.reduce`` itself would premultiply a whole RGBA
    image first, and takes neither palettes nor bilevel images, which are converted band by band.
    """
    if img.mode in _WIDE_GREY:
        img = _wide_grey_to_l(img)
    left, top, right, bottom = center_square_box(*img.size)
    factor = max(1, (right - left) // (_REDUCING_GAP * size))
    rows = factor * max(1, _BLOCK_PIXELS // ((right - left) * factor))  # whole blocks of the reduction
    bands = []
    for y in range(top, bottom, rows):
        band = img.crop((left, y, right, min(bottom, y + rows)))
        if band.mode == "P":
            band = band.convert("RGBA" if "transparency" in band.info else "RGB")
        elif band.mode == "1":
            band = band.convert("L")
        bands.append(band.reduce(factor))
    out = Image.new(bands[0].mode, (bands[0].width, sum(b.height for b in bands)))
    for i, band in enumerate(bands):
        out.paste(band, (0, i * bands[0].height))
    return out


def _pixels_reason(what: str, pixels: int | None, limits: DecodeLimits) -> str:
    raise_to = f" {_round_up(pixels)}" if pixels is not None else " N"
    return (
        f"{what}, over the {limits.max_pixels:,}-pixel limit that guards against decompression bombs; "
        f"if the file is trusted, raise it: {limits.pixels_option}{raise_to}"
    )


def _round_up(value: float) -> int:
    """``value`` rounded up to two significant digits: a limit to suggest that the value fits under."""
    step = 10 ** max(0, len(str(int(value))) - 2)
    return int(-(-value // step) * step)


def _bomb_reason(message: str, limits: DecodeLimits) -> str:
    """Pillow's own refusal (over twice its global limit), told with the limit in force, not Pillow's."""
    found = re.search(r"\((\d+) pixels\)", message)
    pixels = int(found.group(1)) if found else None
    what = f"the image is {pixels:,} pixels" if pixels is not None else "the image"
    if limits.max_pixels is not None and (pixels is None or pixels > limits.max_pixels):
        return _pixels_reason(what, pixels, limits)
    # Only when Pillow's global limit was set below ours outside ``pixel_limit``.
    return f"{what}, over Pillow's limit (PIL.Image.MAX_IMAGE_PIXELS × 2) that guards against decompression bombs"


def _memory_reason(img: Image.Image, need: int, limits: DecodeLimits) -> str:
    w, h = img.size
    return (
        f"{w}x{h} {img.mode} needs {need / 2**20:,.0f} MB to decode even at reduced size, over the "
        f"{limits.max_decode_mb:,} MB limit per image; if the file is trusted, raise it: "
        f"{limits.memory_option} {_round_up(need / 2**20 + 1)}"
    )


def decode_size(input_sizes: Iterable[int], thumb_sizes: Iterable[int]) -> int:
    """Side of the one crop decoded per image: the largest any model or thumbnail needs
    (the others are resized down from it, never up)."""
    return max([*input_sizes, *thumb_sizes])


def resize_square(crop: np.ndarray, size: int) -> np.ndarray:
    """(S, S, 3) uint8 crop -> (size, size, 3) uint8, as the build feeds models of another input size."""
    if crop.shape[0] == size:
        return crop
    return np.asarray(Image.fromarray(crop).resize((size, size), Image.Resampling.BICUBIC))
