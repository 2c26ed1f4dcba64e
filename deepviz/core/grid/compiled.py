"""The refinement's window assignments, compiled by numba (the ``fast`` extra): a whole range of
windows per call, each window's points found from its cells and its cost matrix made in a small
buffer as it is solved.

The numpy path (refine.py) sorts every point by window twice a pass, builds the cost matrices of a
chunk of windows at once and calls scipy's ``linear_sum_assignment`` once a window: with 4 x 4
windows (16 passes) kdsplit at 100k took 3.0 s that way and 1.5 s here, at 1M 14.0 s against 8.5 s
with the fast effort. Here none of that exists. Each window
is a square problem: a window with fewer points than cells gets rows of zero cost for the empty cells
(any cell may stay empty), which leaves the real rows' optimal assignment the rectangular one's.

The solver is the shortest augmenting path method (as scipy's): column reduction
and a first assignment of every row whose cheapest column is still free, then a Dijkstra search on
reduced costs per row left over (no augmenting row reduction: it made 8 x 8 windows slower here).
It is exact; on ties it may choose another optimal assignment than scipy's, with the same cost.

Imported only by :mod:`deepviz.core.grid.refine`, inside a function: compiling takes a few seconds
once per machine (cached on disk, as ``deepviz.core.halfdot``).
"""
from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray


@numba.njit(nogil=True, cache=True)
def _solve_square(c: NDArray[np.float64], n: int, x: NDArray[np.int64], work: NDArray[np.float64],
                  iwork: NDArray[np.int64], used: NDArray[np.bool_]) -> None:  # pragma: no cover - compiled
    """x[i] = the column of row i in a min-cost perfect matching of c[:n, :n] (n >= 1).

    ``work`` (3, n + 1) float64, ``iwork`` (2, n + 1) int64 and ``used`` (n + 1,) are scratch space."""
    u, v, minv = work[0], work[1], work[2]
    p, way = iwork[0], iwork[1]  # column j (1-based) -> its row (1-based, 0: none); the path's previous column
    for j in range(n + 1):
        u[j] = 0.0
        v[j] = 0.0
        p[j] = 0
    for i in range(n):
        x[i] = -1
    # column reduction: v_j = the column's least cost; its row takes it if that row has no column yet
    for j in range(n, 0, -1):
        best = c[0, j - 1]
        row = 0
        for i in range(1, n):
            if c[i, j - 1] < best:
                best = c[i, j - 1]
                row = i
        v[j] = best
        if x[row] < 0:
            x[row] = j - 1
            p[j] = row + 1
    # every assigned row sits on a zero reduced cost, the least of its row: u_i = 0 keeps duals feasible
    for r in range(n):
        if x[r] >= 0:
            continue
        # Dijkstra from row r over reduced costs c - u - v until a free column is reached
        p[0] = r + 1
        j0 = 0
        for j in range(n + 1):
            minv[j] = np.inf
            used[j] = False
        while True:
            used[j0] = True
            i0 = p[j0]
            delta = np.inf
            j1 = 0
            ui = u[i0]
            for j in range(1, n + 1):
                if not used[j]:
                    cur = c[i0 - 1, j - 1] - ui - v[j]
                    if cur < minv[j]:
                        minv[j] = cur
                        way[j] = j0
                    if minv[j] < delta:
                        delta = minv[j]
                        j1 = j
            for j in range(n + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:  # flip the path
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
        x[r] = 0  # assigned; every row's column is read back from p below
    for j in range(1, n + 1):
        x[p[j] - 1] = j - 1


@numba.njit(nogil=True, cache=True)
def refine_windows(pos: NDArray[np.float64], flat: NDArray[np.int64], at_cell: NDArray[np.int64], rows: int, cols: int,
                   block: int, off_r: int, off_c: int, first: int, stop: int) -> None:  # pragma: no cover - compiled
    """Windows ``first`` .. ``stop - 1`` of one tiling of the grid (row-major), each re-solved exactly.

    Window (wr, wc) holds the cells of rows [wr * block - off_r, (wr + 1) * block - off_r) and columns
    [wc * block - off_c, (wc + 1) * block - off_c), cut by the grid's edges (refine.py's tiling). Its
    points, found through ``at_cell`` (flat cell -> point, -1 for an empty cell), are assigned to its
    cells at the least total squared distance; ``flat`` (point -> flat cell) and ``at_cell`` are
    updated in place: windows are disjoint, so threads given disjoint ranges never meet."""
    n_wc = (cols + off_c + block - 1) // block
    width = block * block
    cells = np.empty(width, np.int64)
    pts = np.empty(width, np.int64)
    c = np.empty((width, width))
    x = np.empty(width, np.int64)
    work = np.empty((3, width + 1))
    iwork = np.empty((2, width + 1), np.int64)
    used = np.empty(width + 1, np.bool_)
    for w in range(first, stop):
        wr = w // n_wc
        wc = w % n_wc
        r0 = max(0, wr * block - off_r)
        r1 = min(rows, (wr + 1) * block - off_r)
        c0 = max(0, wc * block - off_c)
        c1 = min(cols, (wc + 1) * block - off_c)
        m = 0
        npt = 0
        for r in range(r0, r1):
            for col in range(c0, c1):
                cell = r * cols + col
                cells[m] = cell
                m += 1
                if at_cell[cell] >= 0:
                    pts[npt] = at_cell[cell]
                    npt += 1
        if npt == 0:
            continue
        # coordinates relative to the window's first cell, so float64 stays exact on any grid
        for i in range(m):
            if i < npt:
                py = pos[pts[i], 0] - r0
                px = pos[pts[i], 1] - c0
                for j in range(m):
                    dy = py - (cells[j] // cols - r0)
                    dx = px - (cells[j] % cols - c0)
                    c[i, j] = dy * dy + dx * dx
            else:  # an empty cell's row: any cell may stay empty
                for j in range(m):
                    c[i, j] = 0.0
        _solve_square(c, m, x, work, iwork, used)
        for j in range(m):
            at_cell[cells[j]] = -1
        for i in range(npt):
            flat[pts[i]] = cells[x[i]]
            at_cell[cells[x[i]]] = pts[i]
