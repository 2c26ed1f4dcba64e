"""Local exact refinement: re-solve an assignment inside small windows of cells, never raising its cost."""
from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from types import ModuleType
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment  # no stubs in the venv

from deepviz.core.grid.geometry import Cells, Positions, Shape, squared_cost

T = TypeVar("T")

# Side of the windows in cells (by default: kdsplit's effort names its own, kdsplit.py). A window's
# exact assignment costs up to O(side^6) and a pass N / side^2 of them: O(side^4) a pass.
REFINE_BLOCK = 8
# One full cycle of the four window offsets (8 before the multi-level warp, b7cc0a8). From
# kdsplit-fast's start on 30,000 clustered points, 4 passes cut the cost by 1.8% in 2.4 s and
# 8 by 3.5% in 4.8 s (2 shared cores). REFINE_TOL is checked at the end of a cycle, so at 4
# it never ends refinement early; it matters to callers asking for more passes.
REFINE_MAX_PASSES = 4
# Stop once a full cycle of window offsets lowers the cost by less than this fraction.
REFINE_TOL = 1e-4
# Cost matrices built at once by one thread: 512 windows x 64 x 64 float64 = 16 MB of temporaries.
BLOCKS_PER_CHUNK = 512
# Threads solving chunks of windows at once (scipy's solver releases the GIL). Windows are
# independent, so the result is the same for any count; bench/bench_grid.py sets 1 as its baseline.
REFINE_THREADS = os.cpu_count() or 1
# Windows are solved by the compiled solver (deepviz.core.grid.compiled) when numba is installed,
# else one scipy call each; bench/bench_grid.py turns it off for its baseline in the same process.
COMPILED = True
# Ranges of windows per thread and pass on the compiled path: several, so a thread that draws the
# dense windows does not leave the others waiting.
COMPILED_TASKS_PER_THREAD = 8


def refine(
    pos: Positions,
    cells: Cells,
    shape: Shape,
    block: int = REFINE_BLOCK,
    max_passes: int = REFINE_MAX_PASSES,
) -> Cells:
    """(N, 2) cells -> new (N, 2) cells with lower total squared cost to ``pos``, by exact
    LAPs in block x block windows; ``cells`` is not modified.

    Each pass tiles the grid with windows at one offset and re-solves, exactly, which of
    the window's cells (empty ones included) its points occupy; the current placement is
    one candidate, so no pass can raise the cost. Offsets cycle through (0, 0), (b/2, b/2),
    (0, b/2), (b/2, 0) so that windows straddle the previous pass's borders. Stops after
    ``max_passes`` or when a full cycle gains less than a ``REFINE_TOL`` fraction of the cost.
    """
    rows, cols = shape
    flat = cells[:, 0] * cols + cells[:, 1]
    half = block // 2
    offsets = [(0, 0), (half, half), (0, half), (half, 0)]
    cycle_start = squared_cost(pos, cells)
    for p in range(max_passes):
        flat = _refine_pass(pos, flat, shape, block, offsets[p % len(offsets)])
        if p % len(offsets) == len(offsets) - 1:
            cost = squared_cost(pos, np.column_stack(np.divmod(flat, cols)))
            if cycle_start - cost <= REFINE_TOL * cycle_start:
                break
            cycle_start = cost
    return np.column_stack(np.divmod(flat, cols))


def _refine_pass(
    pos: Positions, flat: NDArray[np.int64], shape: Shape, block: int, offset: tuple[int, int]
) -> NDArray[np.int64]:
    """One tiling of windows: (N,) flat cell per point -> improved (N,) flat cell per point."""
    kernel = _compiled()
    if kernel is not None:
        return _compiled_pass(kernel, pos, flat, shape, block, offset)
    rows, cols = shape
    m = rows * cols
    # window of every cell; windows at the borders are cut short by the grid edge
    n_wc = (cols + offset[1] + block - 1) // block
    r, c = np.divmod(np.arange(m), cols)
    cell_win = ((r + offset[0]) // block) * n_wc + (c + offset[1]) // block
    n_win = int(cell_win.max()) + 1
    cell_list, cell_cnt = _padded_groups(cell_win, n_win, block * block)
    pt_list, pt_cnt = _padded_groups(cell_win[flat], n_win, block * block)
    # windows holding no point have nothing to improve
    todo = np.flatnonzero(pt_cnt > 0)
    new_flat: NDArray[np.int64] = flat.copy()

    def solve(wins: NDArray[np.intp]) -> None:
        # windows are disjoint, so chunks write disjoint entries of new_flat
        cost = _window_costs(pos, cell_list[wins], pt_list[wins], cols)
        for j, win in enumerate(wins.tolist()):
            npt, ncell = pt_cnt[win], cell_cnt[win]
            pr: NDArray[np.intp]
            pc: NDArray[np.intp]
            pr, pc = linear_sum_assignment(cost[j, :npt, :ncell])
            new_flat[pt_list[win, pr]] = cell_list[win, pc]

    # scipy's solver and numpy's array arithmetic release the GIL: one chunk per core at once
    _on_threads(solve, [todo[start : start + BLOCKS_PER_CHUNK] for start in range(0, todo.size, BLOCKS_PER_CHUNK)])
    return new_flat


def _on_threads(task: Callable[[T], None], items: list[T]) -> None:
    """``task`` of every item, on up to ``REFINE_THREADS`` threads at once (in turn on one)."""
    workers = min(len(items), REFINE_THREADS)
    if workers <= 1:
        for item in items:
            task(item)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deepviz-refine") as pool:
        list(pool.map(task, items))  # re-raises a task's error here


def _compiled_pass(
    kernel: ModuleType, pos: Positions, flat: NDArray[np.int64], shape: Shape, block: int, offset: tuple[int, int]
) -> NDArray[np.int64]:
    """``_refine_pass`` by the compiled solver: ranges of windows on ``REFINE_THREADS`` threads at once."""
    rows, cols = shape
    new_flat: NDArray[np.int64] = flat.copy()
    at_cell = np.full(rows * cols, -1, dtype=np.int64)
    at_cell[new_flat] = np.arange(new_flat.size)
    n_windows = ((rows + offset[0] + block - 1) // block) * ((cols + offset[1] + block - 1) // block)
    xy = np.ascontiguousarray(pos, dtype=np.float64)
    step = max(1, -(-n_windows // (REFINE_THREADS * COMPILED_TASKS_PER_THREAD)))
    ranges = [(start, min(n_windows, start + step)) for start in range(0, n_windows, step)]

    def run(span: tuple[int, int]) -> None:
        kernel.refine_windows(xy, new_flat, at_cell, rows, cols, block, offset[0], offset[1], span[0], span[1])

    _on_threads(run, ranges)
    return new_flat


@lru_cache(maxsize=1)
def _compiled_module() -> ModuleType | None:
    try:
        import deepviz.core.grid.compiled as compiled
    except ImportError:  # numba is the ``fast`` extra
        return None
    return compiled


def _compiled() -> ModuleType | None:
    """deepviz.core.grid.compiled when numba is installed and ``COMPILED`` is on, else None (scipy)."""
    return _compiled_module() if COMPILED else None


def _padded_groups(group: NDArray[np.int64], n_groups: int, width: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Members of each group: (n_groups, width) indices padded with 0, and (n_groups,) counts."""
    order = np.argsort(group, kind="stable")
    counts = np.bincount(group, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    g = group[order]
    slot = np.arange(order.size) - starts[g]
    out = np.zeros((n_groups, width), dtype=np.int64)
    out[g, slot] = order
    return out, counts


def _window_costs(
    pos: Positions, cells: NDArray[np.int64], pts: NDArray[np.int64], cols: int
) -> NDArray[np.float64]:
    """(W, P, C) squared distances from each window's points to its cells (padding included).

    Coordinates are taken relative to the window's first cell so float64 stays exact
    however large the grid.
    """
    rc = np.stack(np.divmod(cells, cols), axis=-1).astype(np.float64)  # (W, C, 2)
    origin = rc[:, :1, :]
    p = pos[pts] - origin  # (W, P, 2)
    q = rc - origin
    # per axis: a (W, P, C, 2) array summed over its short last axis is ~2x slower
    costs: NDArray[np.float64] = (p[:, :, None, 0] - q[:, None, :, 0]) ** 2 + (p[:, :, None, 1] - q[:, None, :, 1]) ** 2
    return costs
