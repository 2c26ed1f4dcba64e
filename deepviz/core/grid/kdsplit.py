"""kdsplit, the default method: kd-split of a warped layout, then windowed exact refinement."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from deepviz.core.grid.geometry import Cells, Positions, Shape, squared_cost
from deepviz.core.grid.kdsplit_fast import kdsplit_fast
from deepviz.core.grid.refine import REFINE_BLOCK, REFINE_MAX_PASSES, refine
from deepviz.core.grid.warp import LEVEL_NEIGHBOURS, PRESMOOTH_STEPS, coarse_warp, multilevel_warp

# Up to this many points kdsplit warps once, by an exact coarse assignment of a sample (see
# ``coarse_warp``); above it, level by level, halving the points until this size ends the
# recursion. The single warp leaves the noise of one coarse cell, which grows with N: at
# 20,000 clustered points it kept fewer neighbours than kdsplit-fast (NP@10 0.558 vs 0.572),
# where the multi-level warp keeps more (``test_kdsplit_keeps_neighbours_at_scale``).
MULTILEVEL_MIN_N = 2500


@dataclass(frozen=True)
class Effort:
    """How hard the multi-level kdsplit works: refinement windows (``block`` x ``block`` cells) and
    passes over the final grid (``top_passes``) and over each warp level's sample (``level_passes``),
    and the warp's motion kernel (``neighbours`` applied ``smoothing`` times, ``smooth_motion``)."""

    block: int
    top_passes: int
    level_passes: int
    neighbours: int
    smoothing: int


# Up to THOROUGH_MAX_N points, the defaults of refine and of the warp: 100k in 1.8 s keeping 0.629
# of 10-NN (synthetic t-SNE-like map).
THOROUGH = Effort(REFINE_BLOCK, REFINE_MAX_PASSES, REFINE_MAX_PASSES, LEVEL_NEIGHBOURS, PRESMOOTH_STEPS)
# Above: smaller windows with more passes and a narrower kernel applied more often, at about half
# the time: 1M in 9 s keeping 0.614, where THOROUGH took 19.7 s to keep 0.635 (bench/README.md).
FAST = Effort(block=4, top_passes=8, level_passes=4, neighbours=16, smoothing=6)
THOROUGH_MAX_N = 250_000


def kdsplit(pos: Positions, shape: Shape, seed: int) -> Cells:
    """Warped kd-split (or the plain one, whichever is cheaper) plus local exact refinement.

    Above ``MULTILEVEL_MIN_N`` points, see ``_kdsplit_multilevel``, with ``THOROUGH`` effort up to
    ``THOROUGH_MAX_N`` and ``FAST`` above; up to it, one exact coarse warp (``coarse_warp``) and
    refinement by the original positions. Never worse by the total squared cost than kdsplit-fast:
    the cheaper start is the one refined.
    """
    n = pos.shape[0]
    if n > MULTILEVEL_MIN_N:
        return _kdsplit_multilevel(pos, shape, seed, THOROUGH if n <= THOROUGH_MAX_N else FAST)
    plain = kdsplit_fast(pos, shape, seed)
    best = plain
    warped = coarse_warp(pos, shape, seed)
    if warped is not None:
        candidate = kdsplit_fast(warped, shape, seed)
        # keeping the cheaper start guarantees kdsplit never does worse than kdsplit-fast
        if squared_cost(pos, candidate) < squared_cost(pos, plain):
            best = candidate
    return refine(pos, best, shape)


def _kdsplit_multilevel(pos: Positions, shape: Shape, seed: int, effort: Effort) -> Cells:
    """kdsplit above ``MULTILEVEL_MIN_N`` points: multi-level warp, kd-split, refinement.

    The warp (see ``multilevel_warp``) makes the points nearly uniform over the grid at
    every scale down to a cell or two, so the refinement windows are solved against the
    *warped* positions: in the original ones a cluster squeezed into few cells leaves
    the squared cost nearly blind to how its points are arranged inside a window, and
    the exact solution scrambles neighbours (on 100k-point maps it lowers neighbourhood
    preservation below kdsplit-fast's even as it lowers the displacement). The result
    is kept only if its squared cost by the original positions is below kdsplit-fast's;
    otherwise kdsplit-fast refined in the original positions is returned, so kdsplit is
    never worse than kdsplit-fast by that cost.
    """
    # kdsplit-fast's grid, the one to beat, is made on a thread beside the warp (numpy's array
    # passes and the neighbour searches release the GIL: 0.7 s of 9.4 s saved at 1M)
    with ThreadPoolExecutor(1, thread_name_prefix="deepviz-kdsplit-fast") as pool:
        beside = pool.submit(kdsplit_fast, pos, shape, seed)
        warped = _warp(pos, shape, seed, effort)
        plain = beside.result()
    if warped is not None:
        cells = refine(warped, kdsplit_fast(warped, shape, seed), shape, effort.block, effort.top_passes)
        if squared_cost(pos, cells) < squared_cost(pos, plain):
            return cells
    return refine(pos, plain, shape, effort.block, effort.top_passes)


def _warp(pos: Positions, shape: Shape, seed: int, effort: Effort) -> Positions | None:
    return multilevel_warp(pos, shape, seed, partial(_level, effort=effort), effort.neighbours, effort.smoothing)


def _level(pos: Positions, shape: Shape, seed: int, effort: Effort) -> Cells:
    """The cells of a warp level's sample: kdsplit's own steps, with ``level_passes`` of refinement
    and without the comparison with kdsplit-fast, which only the final grid needs."""
    if pos.shape[0] <= MULTILEVEL_MIN_N:
        return kdsplit(pos, shape, seed)
    warped = _warp(pos, shape, seed, effort)
    start = pos if warped is None else warped
    return refine(start, kdsplit_fast(start, shape, seed), shape, effort.block, effort.level_passes)
