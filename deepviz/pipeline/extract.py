"""Decode every new image once and turn it into features and thumbnails, chunk by chunk.

Decoding runs in a thread pool (Pillow releases the GIL) one chunk ahead of inference,
so the CPU decodes chunk k+1 while the model embeds chunk k; a model that allows it embeds
several batches at once (``embed_all``), so both keep every core busy. Each decode holds at most
``max_decode_mb`` at once, so the pool is sized to what the machine has free.

While something more urgent shares the cores (a first build's layout, whose preview the user waits
for), decoding can run *behind* it: on threads of the lowest CPU priority, which take only the time
the urgent work leaves idle, until that work is done.
"""
from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from deepviz.features.base import Extractor
from deepviz.filenames import unescape
from deepviz.images.decode import DecodeLimits, ImageRejected, decode_crop, decode_size, pixel_limit, resize_square
from deepviz.images.thumbs import encode_thumbnails, mean_color
from deepviz.storage.chunks import Chunk
from deepviz.storage.thumbs import pack


@dataclass(frozen=True)
class _Decoded:
    """One file after the worker: crops per input size, thumbnails and mean colour, or a reject reason."""

    crops: dict[int, np.ndarray] | None
    thumbs: list[bytes] | None
    color: np.ndarray | None
    width: int
    height: int
    reason: str


def rejected(reason: str) -> _Decoded:
    """A file that gave nothing, and why."""
    return _Decoded(None, None, None, 0, 0, reason)


def decode_one(
    path: Path | IO[bytes], crop_size: int, input_sizes: set[int], thumb_sizes: tuple[int, ...], limits: DecodeLimits,
) -> _Decoded:
    try:
        decoded = decode_crop(path, crop_size, limits=limits)
    except ImageRejected as err:
        return rejected(err.reason)
    crops = {size: resize_square(decoded.crop, size) for size in input_sizes}
    # The crop every thumbnail is made from: its mean is each thumbnail's mean within JPEG's error.
    color = mean_color(decoded.crop)
    return _Decoded(crops, encode_thumbnails(decoded.crop, thumb_sizes), color, decoded.width, decoded.height, "")


def default_workers(max_decode_mb: int | None) -> int:
    """Decoding threads when the user names none: one per CPU, but no more than the available
    memory holds at one decode budget each, since every thread may be decoding its biggest image."""
    cpus = os.cpu_count() or 1
    available = available_memory()
    if max_decode_mb is None or available is None:
        return cpus
    return max(1, min(cpus, available // (max_decode_mb << 20)))


def available_memory() -> int | None:
    """Bytes this process could still allocate without swapping: the kernel's MemAvailable, capped
    by the cgroup (container) limit less its usage; None where neither can be read (not Linux)."""
    found = []
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = int(Path("/sys/fs/cgroup/memory.current").read_text())
            found.append(max(0, int(limit) - used))
    except (OSError, ValueError):
        pass
    return min(found) if found else None


# The nice value of decoding threads while they run behind other work: the lowest priority, which the
# kernel's fair scheduler weighs at 15 against a normal thread's 1024 (nice 0).
BEHIND_NICE = 19


def lower_thread_priority() -> bool:
    """Give the calling thread alone (not its process) the lowest CPU priority; False where that cannot
    be done. Linux only: there a thread is a scheduling entity of its own whose id ``setpriority``
    takes, where elsewhere the same call would name a process."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BEHIND_NICE)
    except OSError:
        return False
    return True


def _batched(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def extract_chunks(
    root: Path,
    paths: Sequence[str],
    extractors: Sequence[Extractor],
    *,
    thumb_sizes: tuple[int, ...],
    chunk_size: int = 256,
    batch_size: int = 32,
    workers: int | None = None,
    max_pixels: int | None = None,
    max_decode_mb: int | None = None,
    crop_size: int | None = None,
    behind: threading.Event | None = None,
) -> Iterator[Chunk]:
    """Yield one ``Chunk`` per ``chunk_size`` files of ``paths`` (relative to ``root``, stored text: ``deepviz.filenames``).

    A file that cannot be decoded becomes a reject with its reason; nothing aborts the run.
    ``workers`` None means :func:`default_workers` for ``max_decode_mb`` (None: no memory limit).
    Until ``behind`` is set, chunks are decoded by threads of the lowest priority (``lower_thread_priority``);
    from then on by threads of the caller's; the chunks and their order are the same either way.
    """
    input_sizes = {e.input_size for e in extractors}
    # A caller may pin the decode size (the project's), so models added later see the same crops.
    crop_size = crop_size or decode_size(input_sizes, thumb_sizes)
    limits = DecodeLimits(max_pixels=max_pixels, max_decode_mb=max_decode_mb)
    workers = workers or default_workers(max_decode_mb)
    with ExitStack() as stack:
        stack.enter_context(pixel_limit(max_pixels))
        # Threads start on a pool's first task: the low-priority pool has none once ``behind`` is set.
        pool = stack.enter_context(ThreadPoolExecutor(max(1, workers), thread_name_prefix="deepviz-decode"))
        low = stack.enter_context(ThreadPoolExecutor(
            max(1, workers), thread_name_prefix="deepviz-decode-behind", initializer=lower_thread_priority
        ))

        def submit(batch: Sequence[str]) -> list[Future[_Decoded]]:
            to = low if behind is not None and not behind.is_set() else pool
            # Paths are stored text (deepviz.filenames); the file to open has the name they stand for.
            return [
                to.submit(decode_one, root / unescape(p), crop_size, input_sizes, thumb_sizes, limits)
                for p in batch
            ]

        batches = _batched(paths, chunk_size)
        current = next(batches, None)
        pending = submit(current) if current is not None else []
        while current is not None:
            upcoming = next(batches, None)
            # Queue the next chunk's decoding before this chunk's inference starts.
            decoded = [f.result() for f in pending]
            pending = submit(upcoming) if upcoming is not None else []
            yield _assemble(current, decoded, extractors, thumb_sizes, batch_size)
            current = upcoming


def _assemble(
    paths: Sequence[str],
    decoded: list[_Decoded],
    extractors: Sequence[Extractor],
    thumb_sizes: tuple[int, ...],
    batch_size: int,
) -> Chunk:
    good = [d for d in decoded if d.crops is not None]
    features = {}
    for extractor in extractors:
        crops = [d.crops[extractor.input_size] for d in good]  # type: ignore[index]
        features[extractor.name] = embed_all(extractor, crops, batch_size)
    thumbs = {}
    for i, size in enumerate(thumb_sizes):
        thumbs[size] = pack([d.thumbs[i] for d in good])  # type: ignore[index]
    return Chunk(
        paths=np.array(list(paths), dtype=str),
        ok=np.array([d.crops is not None for d in decoded], dtype=bool),
        reasons=np.array([d.reason for d in decoded], dtype=str),
        width=np.array([d.width for d in decoded], dtype=np.int32),
        height=np.array([d.height for d in decoded], dtype=np.int32),
        features=features,
        thumbs=thumbs,
        colors=np.array([d.color for d in good], dtype=np.uint8).reshape(-1, 3),
    )


def embed_all(extractor: Extractor, crops: list[np.ndarray], batch_size: int) -> np.ndarray:
    """(K,) crops -> (K, D) float32 raw features, in batches the model is comfortable with.

    An extractor whose ``concurrent_batches`` is above 1 (ONNX Runtime's, whose sessions may be run
    from several threads at once) gets that many batches at a time, one thread each: with small
    images the decoder leaves a core idle, and a single-threaded model would leave it so."""
    out = np.empty((len(crops), extractor.dim), dtype=np.float32)
    starts = range(0, len(crops), batch_size)

    def run(start: int) -> None:
        batch = np.stack(crops[start : start + batch_size])
        out[start : start + len(batch)] = extractor.embed(batch)

    threads = min(int(getattr(extractor, "concurrent_batches", 1)), len(starts))
    if threads <= 1:
        for start in starts:
            run(start)
        return out
    with ThreadPoolExecutor(threads, thread_name_prefix="deepviz-embed") as pool:
        for _ in pool.map(run, starts):  # re-raises a batch's error here
            pass
    return out
