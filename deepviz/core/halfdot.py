"""float16 rows · a float32 query in one pass over memory: a numba kernel (the ``fast`` extra).

numpy has no float16 arithmetic worth the name (~1 GB/s), so the plain path converts blocks of
rows to float32 first. This kernel reads each float16 as its 16 bits and widens it in a register
with integer operations, so a 1M x 1280 float16 matrix (2.56 GB) is read once, at memory speed.

Imported only by :mod:`deepviz.core.similarity`, inside a function: importing numba takes ~0.3 s
and compiling the kernel ~2 s, paid once per machine because the compiled code is cached on disk
(next to this file, or in the user's cache folder when site-packages is read-only; numba chooses).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numba
import numpy as np
from numpy.typing import NDArray

# float32 bits (h & 0x7fff) << 13 are |x| * 2**-112 for every finite float16 x, subnormals
# included (they become float32 subnormals, still exact), so scaling the query by 2**112 makes
# each product exactly x * q. Infinity and NaN would read as 65536 and 65536..131008: the
# features are checked finite when a project is built.
_SCALE = np.float32(2.0**112)

# Rows per task: a few MB of float16, enough to hide the thread hand-off, small enough to balance.
_TASK_ROWS = 1 << 12


@numba.njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
def _dot_rows(bits: NDArray[np.int16], q_scaled: NDArray[np.float32], start: int, stop: int, out: NDArray[np.float32]) -> None:
    """out[i] = sum_j float16(bits[i, j]) * q[j] for rows start..stop-1, accumulated in float32."""
    d = bits.shape[1]
    for i in range(start, stop):
        s = np.float32(0.0)
        for j in range(d):
            h = np.int32(bits[i, j])
            f = ((h & 0x7FFF) << 13) | ((h & -32768) << 16)
            s += np.int32(f).view(np.float32) * q_scaled[j]
        out[i] = s


def dot_float16(features: NDArray[np.float16], query: NDArray[np.float32], out: NDArray[np.float32]) -> None:
    """(N, D) float16 rows (a memory map is fine) · (D,) float32 -> ``out`` (N,) float32, on every core."""
    bits = features.view(np.int16)
    q_scaled = np.ascontiguousarray(query, dtype=np.float32) * _SCALE
    n = len(bits)
    tasks = [(start, min(n, start + _TASK_ROWS)) for start in range(0, n, _TASK_ROWS)]
    if len(tasks) <= 1:
        _dot_rows(bits, q_scaled, 0, n, out)
        return
    list(_pool().map(lambda t: _dot_rows(bits, q_scaled, t[0], t[1], out), tasks))


def compile_now() -> None:
    """Compile (or load from the disk cache) the kernel, so the first query does not wait for it."""
    _dot_rows(np.zeros((1, 1), np.int16), np.zeros(1, np.float32), 0, 1, np.zeros(1, np.float32))


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    # Threads, not numba's parallel loops: the kernel releases the GIL, and numba's default
    # threading layer must not be entered from two server threads at once.
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="deepviz-halfdot")
