"""Gridify: move every point of a 2-D layout into its own cell of a rows x cols grid."""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree

__all__ = ["METHODS", "displacement", "grid_shape", "gridify", "neighbourhood_preservation"]

# Conventions shared by every function here
# ------------------------------------------
# A layout ``xy`` is (N, 2) float: column 0 is x (grows to the right), column 1 is y.
# x maps to grid columns and y to grid rows, row 0 holding the smallest y. That is
# screen orientation for a "y down" layout; flip y first (``xy * [1, -1]``) for "y up".
#
# Normalisation ("cell units"): each axis is min-max scaled independently so that the
# layout's bounding box spans the outermost cell centres, x -> [0, cols - 1] and
# y -> [0, rows - 1]; cell (r, c) has its centre at (row, col) = (r, c). Per-axis
# scaling (rather than preserving the layout's aspect) makes the points cover the whole
# grid, so no method is forced to push points into a band the layout never reaches. An
# axis with no spread is placed in the middle of the grid.
#
# An assignment ``cells`` is (N, 2) int32 [row, col], one distinct cell per point.

_OPTIMAL_MAX_N = 20_000  # the dense N x M cost matrix (float32) is 1.6 GB and lapjv takes minutes here
_GREEDY_K = 50  # the paper's k nearest cells
_WARP_SAMPLES = 1024  # coarse exact assignment: lapjv solves 1024 points in about a second
_WARP_MIN_SAMPLES = 64  # below this the refinement windows already span much of the grid
_WARP_NEIGHBOURS = 16  # more neighbours smooth the sample's noise, which scrambles neighbourhoods
_MULTILEVEL_MIN_N = 2500  # above this, kdsplit warps level by level (see _multilevel_warp)
_LEVEL_RATIO = 2  # each level's sample holds 1/2 of the level's points
_LEVEL_NEIGHBOURS = 32  # sample motions smoothed over this many nearest sample points
_PRESMOOTH_STEPS = 3  # sample motions averaged over their neighbours this many times first
_INTERP_CHUNK = 65_536  # points interpolated at once: 65536 x 32 neighbours x 2 x 8 B = 32 MB
_REFINE_BLOCK = 8  # side of the refinement windows in cells: 64 x 64 LAPs take ~30 us each
_REFINE_MAX_PASSES = 4
_REFINE_TOL = 1e-4  # stop once a full cycle of window offsets lowers the cost by less than this fraction
_BLOCKS_PER_CHUNK = 1024  # cost matrices built at once: 1024 x 64 x 64 float64 = 32 MB


def grid_shape(n: int, aspect: float = 1.0) -> tuple[int, int]:
    """(rows, cols) with rows * cols >= n, cols / rows close to ``aspect`` (width / height).

    Candidates around rows = sqrt(n / aspect) are scored by |log(actual / wanted aspect)|
    plus the fraction of empty cells, so a slightly off aspect is accepted when it saves
    many empty cells but never the other way round. Fewer than ``rows`` cells stay empty.
    ``n == 0`` gives (0, 0).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not (math.isfinite(aspect) and aspect > 0):
        raise ValueError(f"aspect must be a positive width/height ratio, got {aspect}")
    if n == 0:
        return (0, 0)
    ideal = math.sqrt(n / aspect)
    lo = max(1, int(ideal * 0.8))
    hi = min(n, max(lo, int(math.ceil(ideal * 1.25))))
    best: tuple[float, int, int] | None = None
    for rows in range(lo, hi + 1):
        cols = -(-n // rows)
        score = abs(math.log(cols / rows / aspect)) + (rows * cols - n) / n
        if best is None or score < best[0]:
            best = (score, rows, cols)
    assert best is not None
    return (best[1], best[2])


def gridify(
    xy: np.ndarray,
    shape: tuple[int, int] | None = None,
    *,
    aspect: float = 1.0,
    method: str = "kdsplit",
    seed: int = 0,
) -> np.ndarray:
    """(N, 2) float layout [x, y] -> (N, 2) int32 [row, col], a distinct grid cell per point.

    ``shape`` is (rows, cols) with rows * cols >= N; by default ``grid_shape(N, aspect)``.
    x maps to columns, y to rows (row 0 = smallest y): pass a "y up" layout flipped.
    The result is a bijection from points onto a subset of the cells; ``xy`` is not modified.

    Methods (see ``METHODS``):

    ``"optimal"``       exact assignment minimising the total squared distance between the
                        normalised layout and the cell centres (lapjv if installed, else
                        scipy). O(N^3) time, O(N^2) memory: refused above 20,000 points.
    ``"greedy"``        the deepviz paper's method: each point in turn takes the nearest free
                        cell among its 50 nearest cells (any nearest free cell if all are taken).
                        Points are visited in an order shuffled by ``seed`` so that a sorted
                        input does not let its first class take the best cells.
    ``"kdsplit-fast"``  recursive halving of the grid along its longer side, each half
                        receiving the points that lie furthest towards it, in proportion to
                        its cells. O(N log N), ~1.5 s at 1M points; 10-30% more
                        displacement than optimal on clustered layouts.
    ``"kdsplit"``       the default, near optimal and ~35 s at 1M points: kd-split of the
                        layout warped to spread evenly over the grid, then exact assignments
                        inside overlapping 8x8 windows of cells. Up to 2,500 points the warp
                        comes from an exact coarse assignment of a sample and the windows
                        minimise the total squared distance; above, it is built level by
                        level from kdsplit on a half-size sample, and the windows work on
                        the warped positions, which keeps more neighbours together. Either
                        way, should the warped result cost more total squared distance than
                        kdsplit-fast's, kdsplit-fast's result refined is returned, so kdsplit
                        is never worse by it than kdsplit-fast; on 100k-1M-point clustered
                        maps it also keeps more of each point's nearest neighbours together.

    ``seed`` shuffles greedy's visiting order and picks kdsplit's sample; optimal and
    kdsplit-fast ignore it. Every method is deterministic for a given seed.
    """
    solver = _solver(method)
    pts = _check_layout(xy)
    n = pts.shape[0]
    rows, cols = grid_shape(n, aspect) if shape is None else _check_shape(shape, n)
    if n == 0:
        return np.empty((0, 2), dtype=np.int32)
    pos = _normalise(pts, (rows, cols))
    return solver(pos, (rows, cols), seed).astype(np.int32, copy=False)


def displacement(xy: np.ndarray, cells: np.ndarray, shape: tuple[int, int]) -> float:
    """Mean Euclidean distance, in cell widths, from each point to the centre of its cell.

    ``xy`` (N, 2) is the layout and ``cells`` (N, 2) [row, col] its assignment on a
    ``shape`` = (rows, cols) grid; the layout is normalised exactly as ``gridify`` does,
    so 0 means every point already sat on its cell's centre.
    """
    pos, rc = _check_pair(xy, cells, shape)
    if pos.shape[0] == 0:
        return 0.0
    return float(np.sqrt(((pos - rc) ** 2).sum(axis=1)).mean())


def neighbourhood_preservation(xy: np.ndarray, cells: np.ndarray, k: int = 10) -> float:
    """Mean fraction, in [0, 1], of each point's k nearest layout neighbours that are also
    among its k nearest grid neighbours.

    Layout neighbours use Euclidean distance in ``xy`` as given (N, 2). Grid neighbours use
    Euclidean distance between ``cells`` (N, 2) [row, col]; on a grid many cells tie (four
    at distance 1, four at sqrt 2, ...), and cells tied at the same grid distance are
    ordered by their layout distance. That favours the grid only among cells a viewer sees
    as equally close, and keeps the measure deterministic and 1.0 for a slightly jittered
    grid placed back on its own cells. Ties are searched among the 3k + 8 nearest cells.
    """
    pts = _check_layout(xy)
    rc = np.asarray(cells)
    if rc.shape != pts.shape:
        raise ValueError(f"cells must be (N, 2) like xy {pts.shape}, got {rc.shape}")
    n = pts.shape[0]
    k = min(k, n - 1)
    if k < 1:
        return 1.0
    _, layout_nn = cKDTree(pts).query(pts, k=k + 1)
    layout_nn = _drop_self(layout_nn, k)
    grid_nn = _grid_neighbours(pts, rc.astype(np.float64), k)
    hits = (np.sort(layout_nn, axis=1)[:, :, None] == grid_nn[:, None, :]).any(axis=2)
    return float(hits.mean())


# --------------------------------------------------------------------------- checks


def _check_layout(xy: np.ndarray) -> np.ndarray:
    """Validated (N, 2) float64 copy-free view of a layout."""
    pts = np.asarray(xy, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"xy must be an (N, 2) array of [x, y] positions, got shape {pts.shape}")
    if not np.isfinite(pts).all():
        bad = np.flatnonzero(~np.isfinite(pts).all(axis=1))
        raise ValueError(
            f"{bad.size} layout row(s) contain NaN or inf (first: row {bad[0]}); "
            "recompute the layout or drop those points before gridifying"
        )
    return pts


def _check_shape(shape: tuple[int, int], n: int) -> tuple[int, int]:
    """Validated (rows, cols) that can hold ``n`` points."""
    try:
        rows, cols = (int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be (rows, cols), got {shape!r}") from None
    if rows < 0 or cols < 0:
        raise ValueError(f"shape must be non-negative (rows, cols), got {shape!r}")
    if rows * cols < n:
        raise ValueError(
            f"a {rows} x {cols} grid has {rows * cols} cells for {n} points; "
            f"pass a larger shape or shape=None to use grid_shape({n}, aspect)"
        )
    return rows, cols


def _check_pair(
    xy: np.ndarray, cells: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(normalised layout, cells as float) after checking they describe one assignment."""
    pts = _check_layout(xy)
    shape = _check_shape(shape, pts.shape[0])
    rc = np.asarray(cells)
    if rc.shape != pts.shape:
        raise ValueError(f"cells must be (N, 2) like xy {pts.shape}, got {rc.shape}")
    if pts.shape[0] == 0:
        return pts, rc.astype(np.float64)
    return _normalise(pts, shape), rc.astype(np.float64)


def _solver(method: str) -> Callable[[np.ndarray, tuple[int, int], int], np.ndarray]:
    try:
        return _SOLVERS[method]
    except KeyError:
        raise ValueError(
            f"unknown gridify method {method!r}; valid methods: {', '.join(METHODS)}"
        ) from None


# --------------------------------------------------------------------------- geometry


def _normalise(pts: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(N, 2) [x, y] layout -> (N, 2) float64 [row, col] in cell units (see module notes)."""
    rows, cols = shape
    out = np.empty_like(pts)
    for axis, extent, dst in ((1, rows, 0), (0, cols, 1)):
        v = pts[:, axis]
        lo, hi = v.min(), v.max()
        if hi > lo:
            out[:, dst] = (v - lo) * ((extent - 1) / (hi - lo))
        else:
            out[:, dst] = (extent - 1) / 2
    return out


def _cell_centres(shape: tuple[int, int]) -> np.ndarray:
    """(rows * cols, 2) float64 [row, col] of every cell, row-major."""
    rows, cols = shape
    r, c = np.divmod(np.arange(rows * cols), cols)
    return np.column_stack([r, c]).astype(np.float64)


def _squared_cost(pos: np.ndarray, cells: np.ndarray) -> float:
    """Total squared distance between (N, 2) normalised positions and (N, 2) cells."""
    return float(((pos - cells) ** 2).sum())


def _drop_self(nn: np.ndarray, k: int) -> np.ndarray:
    """(N, k + 1) neighbour lists that include each point -> (N, k) without it.

    Duplicate points may list a twin before themselves, so self is removed by value.
    """
    n = nn.shape[0]
    is_self = nn == np.arange(n)[:, None]
    # rows where self fell outside the k + 1 results (many duplicates): drop the last one
    missing = ~is_self.any(axis=1)
    is_self[missing, -1] = True
    return nn[~is_self].reshape(n, k)


def _grid_neighbours(pts: np.ndarray, rc: np.ndarray, k: int) -> np.ndarray:
    """(N, k) sorted indices of each point's k nearest cells, ties broken by layout distance."""
    n = pts.shape[0]
    m = min(n, 3 * k + 9)
    grid_d, cand = cKDTree(rc).query(rc, k=m)
    layout_d = np.sqrt(((pts[cand] - pts[:, None, :]) ** 2).sum(axis=2))
    # self has grid distance 0 and layout distance 0: sorted first, then dropped
    order = np.lexsort((layout_d, np.round(grid_d, 6)), axis=1)
    nearest = np.take_along_axis(cand, order, axis=1)[:, 1 : k + 1]
    return np.sort(nearest, axis=1)


# --------------------------------------------------------------------------- methods


def _optimal(pos: np.ndarray, shape: tuple[int, int], seed: int) -> np.ndarray:
    """Exact minimum total squared displacement (see ``gridify``)."""
    n = pos.shape[0]
    if n > _OPTIMAL_MAX_N:
        raise ValueError(
            f"method='optimal' is limited to {_OPTIMAL_MAX_N} points (it needs an N x N cost "
            f"matrix and cubic time), got {n}; use method='kdsplit', which is near optimal"
        )
    centres = _cell_centres(shape)
    m = centres.shape[0]
    # float32 halves the matrix; squared distances in cell units stay exact to ~1e-7 relative
    cost = np.zeros((m, m), dtype=np.float32)
    for start in range(0, n, 1024):
        block = pos[start : start + 1024]
        cost[start : start + block.shape[0]] = ((block[:, None, :] - centres[None, :, :]) ** 2).sum(
            axis=2
        )
    # rows n..m-1 are dummy points (cost 0 everywhere) that absorb the empty cells
    col = _solve_square(cost)[:n]
    return centres[col].astype(np.int64)


def _solve_square(cost: np.ndarray) -> np.ndarray:
    """Column assigned to each row of a square cost matrix, by lapjv when available."""
    try:
        from lapjv import lapjv  # optional: ~10x faster than scipy on large dense problems
    except ImportError:
        return linear_sum_assignment(cost)[1]
    return np.asarray(lapjv(cost)[0], dtype=np.int64)


def _greedy(pos: np.ndarray, shape: tuple[int, int], seed: int) -> np.ndarray:
    """The paper's greedy placement (see ``gridify``)."""
    centres = _cell_centres(shape)
    n, m = pos.shape[0], centres.shape[0]
    tree = cKDTree(centres)
    k = min(_GREEDY_K, m)
    _, near = tree.query(pos, k=k)
    near = near.reshape(n, k)
    taken = np.zeros(m, dtype=bool)
    chosen = np.empty(n, dtype=np.int64)
    for i in np.random.default_rng(seed).permutation(n).tolist():
        cell = _first_free(near[i], taken)
        if cell < 0:
            cell = _nearest_free(tree, pos[i], taken, 2 * k)
        taken[cell] = True
        chosen[i] = cell
    return centres[chosen].astype(np.int64)


def _first_free(candidates: np.ndarray, taken: np.ndarray) -> int:
    free = np.flatnonzero(~taken[candidates])
    return int(candidates[free[0]]) if free.size else -1


def _nearest_free(tree: cKDTree, p: np.ndarray, taken: np.ndarray, k: int) -> int:
    """Nearest free cell to ``p``, widening the search until one turns up."""
    m = taken.size
    while True:
        k = min(k, m)
        _, near = tree.query(p, k=k)
        cell = _first_free(np.atleast_1d(near), taken)
        if cell >= 0:
            return cell
        k *= 2


def _kdsplit_fast(pos: np.ndarray, shape: tuple[int, int], seed: int) -> np.ndarray:
    """Recursive proportional halving, one vectorised sort per tree level."""
    rows, cols = shape
    n = pos.shape[0]
    out = np.empty((n, 2), dtype=np.int64)
    # live regions: rectangles [r0, r0 + h) x [c0, c0 + w) holding cnt points each;
    # ``idx`` lists the points region by region, ``gid`` names each one's region
    r0, c0 = np.zeros(1, np.int64), np.zeros(1, np.int64)
    h, w = np.array([rows], np.int64), np.array([cols], np.int64)
    cnt = np.array([n], np.int64)
    idx, gid = np.arange(n), np.zeros(n, np.int64)
    # integer ranks turn each level's two-key sort into one argsort of unique int64 keys
    ranks = np.empty((n, 2), dtype=np.int64)
    for axis in (0, 1):
        ranks[np.argsort(pos[:, axis], kind="stable"), axis] = np.arange(n)
    while idx.size:
        single = h * w == 1
        if single.any():
            # a one-cell region holds exactly one point (empty regions are already gone)
            done = single[gid]
            out[idx[done], 0] = r0[gid[done]]
            out[idx[done], 1] = c0[gid[done]]
            keep = ~single
            remap = np.cumsum(keep) - 1
            idx, gid = idx[~done], remap[gid[~done]]
            r0, c0, h, w, cnt = r0[keep], c0[keep], h[keep], w[keep], cnt[keep]
            if not idx.size:
                break
        r0, c0, h, w, cnt, idx, gid = _split_level(ranks, r0, c0, h, w, cnt, idx, gid)
    return out


def _split_level(
    ranks: np.ndarray,
    r0: np.ndarray,
    c0: np.ndarray,
    h: np.ndarray,
    w: np.ndarray,
    cnt: np.ndarray,
    idx: np.ndarray,
    gid: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Halve every region (G of them) along its longer side; returns the child regions.

    ``ranks`` (N, 2) is each point's rank along rows and along columns; ``idx`` (P,) lists
    the live points region by region and ``gid`` (P,) their region, nondecreasing.
    """
    by_col = w >= h
    # sort each region's points along its split axis; groups stay contiguous and in order
    key = np.where(by_col[gid], ranks[idx, 1], ranks[idx, 0]) + gid * ranks.shape[0]
    idx = idx[np.argsort(key)]
    starts = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    # first half gets floor(side / 2) rows or columns and a proportional share of points,
    # clipped so that neither half receives more points than it has cells
    side = np.where(by_col, w, h)
    first = side // 2
    other = np.where(by_col, h, w)
    cells_a, cells_b = first * other, (side - first) * other
    cnt_a = np.rint(cnt * cells_a / (cells_a + cells_b)).astype(np.int64)
    cnt_a = np.clip(cnt_a, np.maximum(cnt - cells_b, 0), np.minimum(cells_a, cnt))
    rank = np.arange(idx.size) - starts[gid]
    child = 2 * gid + (rank >= cnt_a[gid])
    # children interleaved as (a0, b0, a1, b1, ...) to match 2 * gid + side
    r0c = np.stack([r0, np.where(by_col, r0, r0 + first)], axis=1).ravel()
    c0c = np.stack([c0, np.where(by_col, c0 + first, c0)], axis=1).ravel()
    hc = np.stack([np.where(by_col, h, first), np.where(by_col, h, h - first)], axis=1).ravel()
    wc = np.stack([np.where(by_col, first, w), np.where(by_col, w - first, w)], axis=1).ravel()
    cntc = np.stack([cnt_a, cnt - cnt_a], axis=1).ravel()
    keep = cntc > 0
    remap = np.cumsum(keep) - 1
    return r0c[keep], c0c[keep], hc[keep], wc[keep], cntc[keep], idx, remap[child]


def _kdsplit(pos: np.ndarray, shape: tuple[int, int], seed: int) -> np.ndarray:
    """Warped kd-split (or the plain one, whichever is cheaper) plus local exact refinement.

    Above ``_MULTILEVEL_MIN_N`` points, see ``_kdsplit_multilevel``; up to it, one exact
    coarse warp (``_coarse_warp``) and refinement by the original positions.
    """
    if pos.shape[0] > _MULTILEVEL_MIN_N:
        return _kdsplit_multilevel(pos, shape, seed)
    plain = _kdsplit_fast(pos, shape, seed)
    best = plain
    warped = _coarse_warp(pos, shape, seed)
    if warped is not None:
        candidate = _kdsplit_fast(warped, shape, seed)
        # keeping the cheaper start guarantees kdsplit never does worse than kdsplit-fast
        if _squared_cost(pos, candidate) < _squared_cost(pos, plain):
            best = candidate
    return _refine(pos, best, shape)


def _kdsplit_multilevel(pos: np.ndarray, shape: tuple[int, int], seed: int) -> np.ndarray:
    """kdsplit above ``_MULTILEVEL_MIN_N`` points: multi-level warp, kd-split, refinement.

    The warp (see ``_multilevel_warp``) makes the points nearly uniform over the grid at
    every scale down to a cell or two, so the refinement windows are solved against the
    *warped* positions: in the original ones a cluster squeezed into few cells leaves
    the squared cost nearly blind to how its points are arranged inside a window, and
    the exact solution scrambles neighbours (on 100k-point maps it lowers neighbourhood
    preservation below kdsplit-fast's even as it lowers the displacement). The result
    is kept only if its squared cost by the original positions is below kdsplit-fast's;
    otherwise kdsplit-fast refined in the original positions is returned, so kdsplit is
    never worse than kdsplit-fast by that cost.
    """
    plain = _kdsplit_fast(pos, shape, seed)
    warped = _multilevel_warp(pos, shape, seed)
    if warped is not None:
        cells = _refine(warped, _kdsplit_fast(warped, shape, seed), shape)
        if _squared_cost(pos, cells) < _squared_cost(pos, plain):
            return cells
    return _refine(pos, plain, shape)


def _multilevel_warp(pos: np.ndarray, shape: tuple[int, int], seed: int) -> np.ndarray | None:
    """(N, 2) positions moved so that they spread nearly evenly over the grid, or None.

    A seeded sample of N / 2 points is assigned (by kdsplit itself, so recursively down
    to ``_MULTILEVEL_MIN_N`` points, where one exact coarse assignment ends it) to a grid
    with half as many cells scaled onto this one; its points' motions are then carried
    to every point by a smooth kernel average over nearby sample points (see
    ``_smooth_motion``). Each level adds detail at a scale only ~1.4 times finer than
    the one below, so its cell-sized noise is small and smoothed; a single coarse
    sample instead leaves noise of a coarse cell (tens of cells at 1M points), which
    moves neighbours apart. None when the grid is a single row or column.
    """
    rows, cols = shape
    n = pos.shape[0]
    s = n // _LEVEL_RATIO
    coarse = grid_shape(s, cols / rows)
    if rows < 2 or cols < 2 or coarse[0] < 2 or coarse[1] < 2:
        return None
    sample = np.sort(np.random.default_rng(seed).choice(n, s, replace=False))
    scale = np.array([(coarse[0] - 1) / (rows - 1), (coarse[1] - 1) / (cols - 1)])
    q = pos[sample] * scale
    motion = (_kdsplit(q, coarse, seed) - q) / scale  # (S, 2) in fine cell units
    return pos + _smooth_motion(pos[sample], motion, pos)


def _smooth_motion(src: np.ndarray, motion: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(M, 2) motions of points ``src`` (M, 2) -> (N, 2) smoothly interpolated at ``dst``.

    The motions are first averaged three times over each source's k = 32 nearest sources
    (one sparse M x M kernel applied three times: a wider, cheaper kernel than more
    neighbours, which 1M-point blobs need), then each point of ``dst`` takes the
    kernel-weighted mean of its 32 nearest sources' smoothed motions. Kernel weights are
    (1 - (d / d_{k+1})^2)^2, d_{k+1} the distance to the next source: they fall to 0 just
    as a source leaves the neighbour set, so the field is continuous, and unlike
    inverse-distance weights they do not reproduce each source's own (noisy) motion.
    """
    k = min(_LEVEL_NEIGHBOURS, src.shape[0] - 1)
    tree = cKDTree(src)
    weight, near = _kernel_weights(tree, src, k)
    kernel = csr_matrix(
        (weight.ravel(), near.ravel(), np.arange(0, weight.size + 1, k)), shape=(src.shape[0],) * 2
    )
    for _ in range(_PRESMOOTH_STEPS):
        motion = kernel @ motion
    out = np.empty_like(dst)
    for start in range(0, dst.shape[0], _INTERP_CHUNK):
        part = dst[start : start + _INTERP_CHUNK]
        weight, near = _kernel_weights(tree, part, k)
        out[start : start + part.shape[0]] = np.einsum("nk,nkd->nd", weight, motion[near])
    return out


def _kernel_weights(tree: cKDTree, pts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(P, k) normalised kernel weights and (P, k) indices of each point's k nearest sources."""
    dist, near = tree.query(pts, k=k + 1, workers=-1)
    reach = dist[:, -1:] * (1 + 1e-6) + 1e-12
    weight = (1.0 - (dist[:, :k] / reach) ** 2) ** 2
    weight /= weight.sum(axis=1, keepdims=True)
    return weight, near[:, :k]


def _coarse_warp(pos: np.ndarray, shape: tuple[int, int], seed: int) -> np.ndarray | None:
    """(N, 2) positions moved by an optimal coarse-scale transport, or None if too small.

    kd-split matches quantiles one axis at a time, which is far from the optimal map where
    density varies (clusters and gaps): it is off at every scale, and local windows only
    repair the small ones. So an exact assignment of a seeded subsample of S points onto
    an S-cell coarse grid gives the large-scale motion; every point moves by the
    inverse-distance mean of its 16 nearest sample points' motions, and kd-split then
    works on nearly uniform positions.
    """
    rows, cols = shape
    n = pos.shape[0]
    s = min(_WARP_SAMPLES, n // 4)
    if s < _WARP_MIN_SAMPLES or rows < 2 or cols < 2:
        return None
    coarse = grid_shape(s, cols / rows)
    if coarse[0] < 2 or coarse[1] < 2:
        return None
    sample = np.random.default_rng(seed).choice(n, s, replace=False)
    scale = np.array([(coarse[0] - 1) / (rows - 1), (coarse[1] - 1) / (cols - 1)])
    q = pos[sample] * scale
    motion = (_optimal(q, coarse, seed) - q) / scale  # (S, 2) in fine cell units
    dist, near = cKDTree(pos[sample]).query(pos, k=_WARP_NEIGHBOURS)
    weight = 1.0 / (dist + 1e-9)
    weight /= weight.sum(axis=1, keepdims=True)
    return pos + np.einsum("nk,nkd->nd", weight, motion[near])


# --------------------------------------------------------------------------- refinement


def _refine(
    pos: np.ndarray,
    cells: np.ndarray,
    shape: tuple[int, int],
    block: int = _REFINE_BLOCK,
    max_passes: int = _REFINE_MAX_PASSES,
) -> np.ndarray:
    """Lower the total squared cost of an assignment by exact LAPs in block x block windows.

    Each pass tiles the grid with windows at one offset and re-solves, exactly, which of
    the window's cells (empty ones included) its points occupy; the current placement is
    one candidate, so no pass can raise the cost. Offsets cycle through (0, 0), (b/2, b/2),
    (0, b/2), (b/2, 0) so that windows straddle the previous pass's borders. Stops after
    ``max_passes`` or when a full cycle gains less than a 1e-4 fraction of the cost.
    """
    rows, cols = shape
    flat = cells[:, 0] * cols + cells[:, 1]
    half = block // 2
    offsets = [(0, 0), (half, half), (0, half), (half, 0)]
    cycle_start = _squared_cost(pos, cells)
    for p in range(max_passes):
        flat = _refine_pass(pos, flat, shape, block, offsets[p % len(offsets)])
        if p % len(offsets) == len(offsets) - 1:
            cost = _squared_cost(pos, np.column_stack(np.divmod(flat, cols)))
            if cycle_start - cost <= _REFINE_TOL * cycle_start:
                break
            cycle_start = cost
    return np.column_stack(np.divmod(flat, cols))


def _refine_pass(
    pos: np.ndarray, flat: np.ndarray, shape: tuple[int, int], block: int, offset: tuple[int, int]
) -> np.ndarray:
    """One tiling of windows: (N,) flat cell per point -> improved (N,) flat cell per point."""
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
    new_flat = flat.copy()
    for start in range(0, todo.size, _BLOCKS_PER_CHUNK):
        wins = todo[start : start + _BLOCKS_PER_CHUNK]
        cost = _window_costs(pos, cell_list[wins], pt_list[wins], cols)
        for j, win in enumerate(wins.tolist()):
            npt, ncell = pt_cnt[win], cell_cnt[win]
            pr, pc = linear_sum_assignment(cost[j, :npt, :ncell])
            new_flat[pt_list[win, pr]] = cell_list[win, pc]
    return new_flat


def _padded_groups(group: np.ndarray, n_groups: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Members of each group: (n_groups, width) indices padded with 0, and (n_groups,) counts."""
    order = np.argsort(group, kind="stable")
    counts = np.bincount(group, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    g = group[order]
    slot = np.arange(order.size) - starts[g]
    out = np.zeros((n_groups, width), dtype=np.int64)
    out[g, slot] = order
    return out, counts


def _window_costs(pos: np.ndarray, cells: np.ndarray, pts: np.ndarray, cols: int) -> np.ndarray:
    """(W, P, C) squared distances from each window's points to its cells (padding included).

    Coordinates are taken relative to the window's first cell so float64 stays exact
    however large the grid.
    """
    rc = np.stack(np.divmod(cells, cols), axis=-1).astype(np.float64)  # (W, C, 2)
    origin = rc[:, :1, :]
    p = pos[pts] - origin  # (W, P, 2)
    q = rc - origin
    # per axis: a (W, P, C, 2) array summed over its short last axis is ~2x slower
    return (p[:, :, None, 0] - q[:, None, :, 0]) ** 2 + (p[:, :, None, 1] - q[:, None, :, 1]) ** 2


_SOLVERS: dict[str, Callable[[np.ndarray, tuple[int, int], int], np.ndarray]] = {
    "kdsplit": _kdsplit,
    "kdsplit-fast": _kdsplit_fast,
    "greedy": _greedy,
    "optimal": _optimal,
}
METHODS: tuple[str, ...] = tuple(_SOLVERS)
