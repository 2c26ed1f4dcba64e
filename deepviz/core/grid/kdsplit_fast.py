"""kdsplit-fast: recursive proportional halving of the grid, one vectorised sort per level."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from deepviz.core.grid.geometry import Cells, Positions, Shape


def kdsplit_fast(pos: Positions, shape: Shape, seed: int) -> Cells:
    """Recursive halving of the grid along its longer side, each half receiving the points
    that lie furthest towards it, in proportion to its cells (see ``gridify``); ``seed`` is
    unused. O(N log N): every level is one argsort over all live points."""
    n = pos.shape[0]
    out = np.empty((n, 2), dtype=np.int64)
    ranks = _ranks(pos)
    live = Regions.whole(shape, n)
    while live.points.size:
        single = live.height * live.width == 1
        if single.any():
            # a one-cell region holds exactly one point (empty regions are already gone)
            done = single[live.region]
            out[live.points[done], 0] = live.top[live.region[done]]
            out[live.points[done], 1] = live.left[live.region[done]]
            live = live.without(single, done)
            if not live.points.size:
                break
        live = live.halved(ranks)
    return out


def _ranks(pos: Positions) -> NDArray[np.int64]:
    """(N, 2) rank of each point along rows and along columns (ties by index).

    Integer ranks turn each level's two-key sort (region, then position) into one argsort
    of unique int64 keys.
    """
    n = pos.shape[0]
    ranks = np.empty((n, 2), dtype=np.int64)
    for axis in (0, 1):
        ranks[np.argsort(pos[:, axis], kind="stable"), axis] = np.arange(n)
    return ranks


@dataclass(frozen=True, eq=False)
class Regions:
    """The live rectangles of one level of the split, and the points they still have to place.

    For G regions, each of the (G,) int64 arrays ``top``, ``left``, ``height`` and ``width``
    gives the rectangle [top, top + height) x [left, left + width) of cells, and ``count``
    (G,) int64 how many points it receives (1 <= count <= height * width). ``points`` (P,)
    lists the live points region by region, P = count.sum(), and ``region`` (P,) int64,
    nondecreasing, names the region of each. Regions never overlap.
    """

    top: NDArray[np.int64]
    left: NDArray[np.int64]
    height: NDArray[np.int64]
    width: NDArray[np.int64]
    count: NDArray[np.int64]
    points: NDArray[np.int64]
    region: NDArray[np.int64]

    @classmethod
    def whole(cls, shape: Shape, n: int) -> Regions:
        """The whole grid as a single region holding all ``n`` points."""
        rows, cols = shape
        return cls(
            top=np.zeros(1, np.int64),
            left=np.zeros(1, np.int64),
            height=np.array([rows], np.int64),
            width=np.array([cols], np.int64),
            count=np.array([n], np.int64),
            points=np.arange(n),
            region=np.zeros(n, np.int64),
        )

    def without(self, regions: NDArray[np.bool_], points: NDArray[np.bool_]) -> Regions:
        """These regions less the (G,) flagged ``regions``, whose (P,) ``points`` are flagged too."""
        keep = ~regions
        remap = np.cumsum(keep) - 1
        return Regions(
            top=self.top[keep],
            left=self.left[keep],
            height=self.height[keep],
            width=self.width[keep],
            count=self.count[keep],
            points=self.points[~points],
            region=remap[self.region[~points]],
        )

    def halved(self, ranks: NDArray[np.int64]) -> Regions:
        """Every region halved along its longer side; ``ranks`` is from ``_ranks``.

        The first half gets floor(side / 2) rows or columns and a proportional share of
        the region's points, those ranked first along the split axis; the share is clipped
        so that neither half receives more points than it has cells. Empty halves are dropped.
        """
        by_col = self.width >= self.height
        # sort each region's points along its split axis; groups stay contiguous and in order
        key = np.where(by_col[self.region], ranks[self.points, 1], ranks[self.points, 0]) + self.region * ranks.shape[0]
        points = self.points[np.argsort(key)]
        starts = np.concatenate([[0], np.cumsum(self.count)[:-1]])
        side = np.where(by_col, self.width, self.height)
        first = side // 2
        other = np.where(by_col, self.height, self.width)
        cells_a, cells_b = first * other, (side - first) * other
        cnt = self.count
        cnt_a = np.rint(cnt * cells_a / (cells_a + cells_b)).astype(np.int64)
        cnt_a = np.clip(cnt_a, np.maximum(cnt - cells_b, 0), np.minimum(cells_a, cnt))
        rank = np.arange(points.size) - starts[self.region]
        child = 2 * self.region + (rank >= cnt_a[self.region])
        r0, c0, h, w = self.top, self.left, self.height, self.width
        # children interleaved as (a0, b0, a1, b1, ...) to match 2 * region + half
        top = np.stack([r0, np.where(by_col, r0, r0 + first)], axis=1).ravel()
        left = np.stack([c0, np.where(by_col, c0 + first, c0)], axis=1).ravel()
        height = np.stack([np.where(by_col, h, first), np.where(by_col, h, h - first)], axis=1).ravel()
        width = np.stack([np.where(by_col, first, w), np.where(by_col, w - first, w)], axis=1).ravel()
        count = np.stack([cnt_a, cnt - cnt_a], axis=1).ravel()
        keep = count > 0
        remap = np.cumsum(keep) - 1
        return Regions(top[keep], left[keep], height[keep], width[keep], count[keep], points, remap[child])
