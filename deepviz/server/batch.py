"""Thumbnail batches: the id list a request names, and the binary body that answers it.

An id list is comma-separated decimal ids and inclusive ranges, in the order wanted, repeats
allowed: ``"7,3,10-12"`` means ids 7, 3, 10, 11, 12. A range keeps a run of consecutive ids
short in the URL; 1,024 ids below ten million take at most 8 KB written out one by one.

The body is little-endian uint32 throughout its header: K, then K + 1 byte offsets starting
at 0, then the K JPEGs back to back; JPEG ``i`` is ``jpegs[offsets[i]:offsets[i + 1]]`` where
``jpegs`` starts after the header, at byte ``4 * (K + 2)``.
"""
from __future__ import annotations

import re

import numpy as np

MAX_IDS = 1024
_TOKEN = re.compile(r"(\d{1,12})(?:-(\d{1,12}))?")


class BadIdList(ValueError):
    """An id list that cannot be read; the message says what to send instead."""


def parse_ids(text: str, limit: int = MAX_IDS) -> np.ndarray:
    """``"7,3,10-12"`` -> (K,) int64 ids in that order; K is at most ``limit``.

    Ranges are counted before they are expanded, so ``0-999999999`` costs nothing to refuse.
    """
    spans: list[tuple[int, int]] = []
    total = 0
    for token in text.split(","):
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise BadIdList(f"cannot read {token!r} in ids; send comma-separated ids and ranges, like ids=7,3,10-12")
        lo = int(match[1])
        hi = lo if match[2] is None else int(match[2])
        if hi < lo:
            raise BadIdList(f"range {token!r} in ids runs backwards; write it low-high, like {hi}-{lo}")
        total += hi - lo + 1
        if total > limit:
            raise BadIdList(f"ids names more than {limit} images; split the request into batches of at most {limit}")
        spans.append((lo, hi))
    return np.concatenate([np.arange(lo, hi + 1, dtype=np.int64) for lo, hi in spans])


def encode_batch(offsets: np.ndarray, jpegs: bytes) -> bytes:
    """(K + 1,) offsets from 0 and the K JPEGs back to back -> the response body (see the module doc)."""
    count = len(offsets) - 1
    header = np.empty(count + 2, dtype="<u4")
    header[0] = count
    header[1:] = offsets
    return header.tobytes() + jpegs
