"""kdsplit, the default method: kd-split of a warped layout, then windowed exact refinement."""
from __future__ import annotations

from deepviz.core.grid.geometry import Cells, Positions, Shape, squared_cost
from deepviz.core.grid.kdsplit_fast import kdsplit_fast
from deepviz.core.grid.refine import refine
from deepviz.core.grid.warp import coarse_warp, multilevel_warp

# Up to this many points kdsplit warps once, by an exact coarse assignment of a sample (see
# ``coarse_warp``); above it, level by level, halving the points until this size ends the
# recursion. The single warp leaves the noise of one coarse cell, which grows with N: at
# 20,000 clustered points it kept fewer neighbours than kdsplit-fast (NP@10 0.558 vs 0.572),
# where the multi-level warp keeps more (``test_kdsplit_keeps_neighbours_at_scale``).
MULTILEVEL_MIN_N = 2500


def kdsplit(pos: Positions, shape: Shape, seed: int) -> Cells:
    """Warped kd-split (or the plain one, whichever is cheaper) plus local exact refinement.

    Above ``MULTILEVEL_MIN_N`` points, see ``_kdsplit_multilevel``; up to it, one exact
    coarse warp (``coarse_warp``) and refinement by the original positions. Never worse by
    the total squared cost than kdsplit-fast: the cheaper start is the one refined.
    """
    if pos.shape[0] > MULTILEVEL_MIN_N:
        return _kdsplit_multilevel(pos, shape, seed)
    plain = kdsplit_fast(pos, shape, seed)
    best = plain
    warped = coarse_warp(pos, shape, seed)
    if warped is not None:
        candidate = kdsplit_fast(warped, shape, seed)
        # keeping the cheaper start guarantees kdsplit never does worse than kdsplit-fast
        if squared_cost(pos, candidate) < squared_cost(pos, plain):
            best = candidate
    return refine(pos, best, shape)


def _kdsplit_multilevel(pos: Positions, shape: Shape, seed: int) -> Cells:
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
    plain = kdsplit_fast(pos, shape, seed)
    warped = multilevel_warp(pos, shape, seed, assign=kdsplit)
    if warped is not None:
        cells = refine(warped, kdsplit_fast(warped, shape, seed), shape)
        if squared_cost(pos, cells) < squared_cost(pos, plain):
            return cells
    return refine(pos, plain, shape)
