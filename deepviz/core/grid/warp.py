"""Warps for kdsplit: move a layout so that it spreads nearly evenly over the grid.

kd-split matches quantiles one axis at a time, which is far from the optimal map where
density varies (clusters and gaps). A warp carries each point by the motion that an
assignment of a sample of the points gives to its nearby sample points, so kd-split then
works on nearly uniform positions. Both warps return new (N, 2) positions in cell units.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix  # no stubs in the venv
from scipy.spatial import cKDTree

from deepviz.core.grid.geometry import Positions, Shape, Solver, scaled_to
from deepviz.core.grid.optimal import optimal
from deepviz.core.grid.shape import grid_shape

# ---- the single coarse warp (kdsplit up to MULTILEVEL_MIN_N points)
# Sample size of the exact coarse assignment: lapjv solves 1024 points in about a second.
WARP_SAMPLES = 1024
# The sample is at most 1/4 of the points, so each sample point speaks for a 2 x 2 patch of
# cells or more: the warp stays a coarse correction and the refinement windows do the rest.
WARP_MAX_SHARE = 4
# Below this sample size there is no coarse scale left to correct: the 8 x 8 refinement
# windows already span much of a grid of 4 * 64 = 256 cells.
WARP_MIN_SAMPLES = 64
# Each point moves by the inverse-distance mean of this many nearest sample points' motions:
# enough to smooth out the sample's noise, which would otherwise scramble neighbourhoods.
WARP_NEIGHBOURS = 16
# Added to the distances so that a point which is itself a sample point takes, in effect,
# that point's motion (weight 1e9 against 1 / d for the others) instead of dividing by zero.
INVERSE_DISTANCE_EPS = 1e-9

# ---- the multi-level warp (kdsplit above MULTILEVEL_MIN_N points)
# Each level's sample holds 1 / LEVEL_RATIO of the level's points: at 2, each level adds
# detail only sqrt 2 = 1.4 times finer than the one below, so its cell-sized noise stays
# small, and the levels still cost a geometric series: about the top level's time, twice.
LEVEL_RATIO = 2
# The motion field at a point is the kernel average over this many nearest sample points
# (by default: kdsplit's effort names its own, kdsplit.py).
LEVEL_NEIGHBOURS = 32
# The sample's motions are first averaged over their own neighbours this many times: one
# sparse kernel applied three times reaches as wide as a kernel of many more neighbours,
# which 1M-point blobs need, for far less time and memory.
PRESMOOTH_STEPS = 3
# Height in cells of the bands in which neighbour queries are ordered (``_spatial_order``).
QUERY_BAND = 16
# Points interpolated at once: 65536 x 32 neighbours x 2 x 8 B = 32 MB of temporaries.
INTERP_CHUNK = 65_536
# The kernel's reach sits just beyond the (k+1)-th neighbour, relatively and absolutely, so
# a k-th neighbour tied with the (k+1)-th keeps a weight above 0, and a point whose sources
# all coincide with it gets equal weights rather than 0 / 0.
KERNEL_REACH_REL = 1e-6
KERNEL_REACH_ABS = 1e-12


def coarse_warp(pos: Positions, shape: Shape, seed: int) -> Positions | None:
    """(N, 2) positions moved by an optimal coarse-scale transport, or None if too small.

    kd-split is off at every scale where density varies, and local windows only repair
    the small ones. So an exact assignment of a seeded sample of S points onto an S-cell
    coarse grid gives the large-scale motion; every point moves by the inverse-distance
    mean of its ``WARP_NEIGHBOURS`` nearest sample points' motions.
    """
    rows, cols = shape
    n = pos.shape[0]
    s = min(WARP_SAMPLES, n // WARP_MAX_SHARE)
    if s < WARP_MIN_SAMPLES or rows < 2 or cols < 2:
        return None
    coarse = grid_shape(s, cols / rows)
    if coarse[0] < 2 or coarse[1] < 2:
        return None
    sample = np.random.default_rng(seed).choice(n, s, replace=False)
    scale = scaled_to(shape, coarse)
    q = pos[sample] * scale
    motion = (optimal(q, coarse, seed) - q) / scale  # (S, 2) in fine cell units
    dist: NDArray[np.float64]
    near: NDArray[np.intp]
    dist, near = cKDTree(pos[sample]).query(pos, k=WARP_NEIGHBOURS)
    weight = 1.0 / (dist + INVERSE_DISTANCE_EPS)
    weight /= weight.sum(axis=1, keepdims=True)
    moved: Positions = pos + np.einsum("nk,nkd->nd", weight, motion[near])
    return moved


def multilevel_warp(
    pos: Positions, shape: Shape, seed: int, assign: Solver, neighbours: int = LEVEL_NEIGHBOURS,
    smoothing: int = PRESMOOTH_STEPS,
) -> Positions | None:
    """(N, 2) positions moved so that they spread nearly evenly over the grid, or None.

    A seeded sample of N / 2 points is assigned by ``assign`` (kdsplit itself, so this
    recurses down to ``MULTILEVEL_MIN_N`` points, where one exact coarse assignment ends
    it) to a grid with half as many cells scaled onto this one; its points' motions are
    then carried to every point by a smooth kernel average over nearby sample points (see
    ``smooth_motion``). Each level adds detail at a scale only ~1.4 times finer than the
    one below, so its cell-sized noise is small and smoothed; a single coarse sample
    instead leaves noise of a coarse cell (tens of cells at 1M points), which moves
    neighbours apart. None when the grid is a single row or column.
    """
    rows, cols = shape
    n = pos.shape[0]
    s = n // LEVEL_RATIO
    coarse = grid_shape(s, cols / rows)
    if rows < 2 or cols < 2 or coarse[0] < 2 or coarse[1] < 2:
        return None
    sample = np.sort(np.random.default_rng(seed).choice(n, s, replace=False))
    scale = scaled_to(shape, coarse)
    q = pos[sample] * scale
    motion = (assign(q, coarse, seed) - q) / scale  # (S, 2) in fine cell units
    return pos + smooth_motion(pos[sample], motion, pos, sample, neighbours, smoothing)


def smooth_motion(
    src: Positions, motion: NDArray[np.float64], dst: Positions, src_at: NDArray[np.intp] | None = None,
    neighbours: int = LEVEL_NEIGHBOURS, steps: int = PRESMOOTH_STEPS,
) -> NDArray[np.float64]:
    """(M, 2) motions of points ``src`` (M, 2) -> (N, 2) smoothly interpolated at ``dst``.

    The motions are first averaged ``steps`` times over each source's k = ``neighbours``
    nearest sources (one sparse M x M kernel applied repeatedly), then
    each point of ``dst`` takes the kernel-weighted mean of its k nearest sources' smoothed
    motions. Kernel weights are (1 - (d / d_{k+1})^2)^2, d_{k+1} the distance to the next
    source: they fall to 0 just as a source leaves the neighbour set, so the field is
    continuous, and unlike inverse-distance weights they do not reproduce each source's
    own (noisy) motion.

    ``src_at`` (M,), when given, says that ``src[i]`` is ``dst[src_at[i]]``: those points
    take their value from the presmoothing kernel, whose neighbours were already searched
    (the same search would find the same ones), and only the other points are searched.
    """
    k = min(neighbours, src.shape[0] - 1)
    tree = cKDTree(src)
    weight = np.empty((src.shape[0], k))
    near = np.empty((src.shape[0], k), dtype=np.intp)
    order = _spatial_order(src)
    weight[order], near[order] = _kernel_weights(tree, src[order], k)
    kernel = csr_matrix((weight.ravel(), near.ravel(), np.arange(0, weight.size + 1, k)), shape=(src.shape[0],) * 2)
    for _ in range(steps):
        motion = kernel @ motion
    out = np.empty_like(dst)
    todo: NDArray[np.intp] = np.arange(dst.shape[0])
    if src_at is not None:
        out[src_at] = kernel @ motion
        todo = np.setdiff1d(todo, src_at, assume_unique=True)
    todo = todo[_spatial_order(dst[todo])]
    for start in range(0, todo.size, INTERP_CHUNK):
        part = todo[start : start + INTERP_CHUNK]
        weight, near = _kernel_weights(tree, dst[part], k)
        out[part] = np.einsum("nk,nkd->nd", weight, motion[near])
    return out


def _spatial_order(pts: Positions) -> NDArray[np.intp]:
    """An order of ``pts`` that visits them band by band (``QUERY_BAND`` cells tall), left to right.

    Neighbour queries made in this order reach the tree's nodes in turn, so more of them are served
    from the cache: kdsplit at 1M took 20.9 s instead of 22.2 s (the same cells). Each point's
    neighbours are the same in any order."""
    order: NDArray[np.intp] = np.lexsort((pts[:, 1], np.floor(pts[:, 0] / QUERY_BAND)))
    return order


def _kernel_weights(tree: cKDTree, pts: Positions, k: int) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """(P, k) normalised kernel weights and (P, k) indices of each point's k nearest sources."""
    dist: NDArray[np.float64]
    near: NDArray[np.intp]
    dist, near = tree.query(pts, k=k + 1, workers=-1)
    reach = dist[:, -1:] * (1 + KERNEL_REACH_REL) + KERNEL_REACH_ABS
    weight = (1.0 - (dist[:, :k] / reach) ** 2) ** 2
    weight /= weight.sum(axis=1, keepdims=True)
    return weight, near[:, :k]
