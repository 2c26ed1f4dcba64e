"""kdsplit-fast: recursive proportional halving of the grid, a few O(N) array passes per level."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from deepviz.core.grid.geometry import Cells, Positions, Shape


def kdsplit_fast(pos: Positions, shape: Shape, seed: int) -> Cells:
    """Recursive halving of the grid along its longer side, each half receiving the points
    that lie furthest towards it, in proportion to its cells (see ``gridify``); ``seed`` is
    unused. O(N log N): two sorts, then each level partitions the live points in O(N)."""
    n = pos.shape[0]
    out = np.empty((n, 2), dtype=np.int64)
    live = Regions.whole(shape, pos)
    while live.count.size:
        single = live.height * live.width == 1
        if single.any():
            # a one-cell region holds exactly one point (empty regions are already gone)
            live = live.placing(single, out)
            if not live.count.size:
                break
        live = live.halved()
    return out


@dataclass(frozen=True, eq=False)
class Regions:
    """The live rectangles of one level of the split, and the points they still have to place.

    For G regions, each of the (G,) int64 arrays ``top``, ``left``, ``height`` and ``width``
    gives the rectangle [top, top + height) x [left, left + width) of cells, and ``count``
    (G,) int64 how many points it receives (1 <= count <= height * width). Regions never
    overlap. The live points are listed twice, region after region (``count`` each):
    ``by_row`` (P,) orders each region's points by row position, ``by_col`` (P,) by column
    position, ties by point index. A split along either axis keeps both orders with one
    stable partition each, so no level sorts. ``points`` is N, the number of points in all.
    """

    top: NDArray[np.int64]
    left: NDArray[np.int64]
    height: NDArray[np.int64]
    width: NDArray[np.int64]
    count: NDArray[np.int64]
    by_row: NDArray[np.int64]
    by_col: NDArray[np.int64]
    points: int

    @classmethod
    def whole(cls, shape: Shape, pos: Positions) -> Regions:
        """The whole grid as a single region holding all points of ``pos`` (N, 2)."""
        rows, cols = shape
        return cls(
            top=np.zeros(1, np.int64),
            left=np.zeros(1, np.int64),
            height=np.array([rows], np.int64),
            width=np.array([cols], np.int64),
            count=np.array([pos.shape[0]], np.int64),
            by_row=np.argsort(pos[:, 0], kind="stable").astype(np.int64, copy=False),
            by_col=np.argsort(pos[:, 1], kind="stable").astype(np.int64, copy=False),
            points=pos.shape[0],
        )

    def region(self) -> NDArray[np.int64]:
        """(P,) the region of each entry of ``by_row`` (and of ``by_col``), nondecreasing."""
        return np.repeat(np.arange(self.count.size, dtype=np.int64), self.count)

    def placing(self, single: NDArray[np.bool_], out: Cells) -> Regions:
        """Write the point of each flagged (G,) one-cell region into ``out``; the rest."""
        region = self.region()
        done = single[region]
        out[self.by_row[done], 0] = self.top[region[done]]
        out[self.by_row[done], 1] = self.left[region[done]]
        keep = ~single
        return Regions(
            self.top[keep],
            self.left[keep],
            self.height[keep],
            self.width[keep],
            self.count[keep],
            self.by_row[~done],
            self.by_col[~done],
            self.points,
        )

    def halved(self) -> Regions:
        """Every region halved along its longer side.

        The first half gets floor(side / 2) rows or columns and a proportional share of
        the region's points, those ranked first along the split axis; the share is clipped
        so that neither half receives more points than it has cells. Empty halves are dropped.
        """
        region = self.region()
        by_col = self.width >= self.height
        side = np.where(by_col, self.width, self.height)
        first = side // 2
        other = np.where(by_col, self.height, self.width)
        cells_a, cells_b = first * other, (side - first) * other
        cnt = self.count
        cnt_a = np.rint(cnt * cells_a / (cells_a + cells_b)).astype(np.int64)
        cnt_a = np.clip(cnt_a, np.maximum(cnt - cells_b, 0), np.minimum(cells_a, cnt))
        starts = np.cumsum(cnt) - cnt
        rank = np.arange(region.size) - starts[region]  # place in the region, in either order
        # which points go to the first half: the first cnt_a of each region along its split axis
        in_a = rank < cnt_a[region]
        split_col = by_col[region]
        goes_a = np.empty(self.points, dtype=bool)  # by point; only live points' entries are read
        goes_a[self.by_col[split_col]] = in_a[split_col]
        goes_a[self.by_row[~split_col]] = in_a[~split_col]
        # children interleaved as (a0, b0, a1, b1, ...) = 2 * region + half; empty ones dropped
        count = np.stack([cnt_a, cnt - cnt_a], axis=1).ravel()
        child_start = np.cumsum(count) - count
        keep = count > 0
        r0, c0, h, w = self.top, self.left, self.height, self.width
        top = np.stack([r0, np.where(by_col, r0, r0 + first)], axis=1).ravel()
        left = np.stack([c0, np.where(by_col, c0 + first, c0)], axis=1).ravel()
        height = np.stack([np.where(by_col, h, first), np.where(by_col, h, h - first)], axis=1).ravel()
        width = np.stack([np.where(by_col, first, w), np.where(by_col, w - first, w)], axis=1).ravel()
        return Regions(
            top[keep],
            left[keep],
            height[keep],
            width[keep],
            count[keep],
            _partitioned(self.by_row, goes_a, region, starts, child_start),
            _partitioned(self.by_col, goes_a, region, starts, child_start),
            self.points,
        )


def _partitioned(
    order: NDArray[np.int64],
    goes_a: NDArray[np.bool_],
    region: NDArray[np.int64],
    starts: NDArray[np.int64],
    child_start: NDArray[np.int64],
) -> NDArray[np.int64]:
    """``order`` (P,) stably partitioned in each region: its first-half points, then the rest.

    ``goes_a`` is indexed by point; ``region`` (P,) and ``starts`` (G,) describe the regions'
    runs in ``order``; ``child_start`` (2G,) is where each child's run begins in the result.
    """
    a = goes_a[order]
    a_before: NDArray[np.int64] = np.cumsum(a, dtype=np.int64) - a  # first-half points before each entry, over all regions
    # per region: where its first half's run starts, less the first-half points of earlier regions
    a_base: NDArray[np.int64] = a_before[starts]
    off_a = (child_start[0::2] - a_base)[region]
    off_b = (child_start[1::2] + a_base - starts)[region]
    dest = np.where(a, off_a + a_before, off_b + np.arange(order.size) - a_before)
    out = np.empty_like(order)
    out[dest] = order
    return out
