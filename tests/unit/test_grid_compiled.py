"""The compiled window solver: optimal like scipy's on every window, square or not, and refinement
with it lowers the cost exactly as much as refinement with scipy."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

pytest.importorskip("numba")  # the ``fast`` extra, which CI installs

from deepviz.core.grid import refine as refine_module  # noqa: E402
from deepviz.core.grid.compiled import refine_windows  # noqa: E402
from deepviz.core.grid.geometry import squared_cost  # noqa: E402
from deepviz.core.grid.kdsplit_fast import kdsplit_fast  # noqa: E402


@pytest.mark.parametrize("block", [1, 2, 3, 4, 8])
def test_every_window_of_a_pass_gets_an_optimal_assignment(block: int) -> None:
    rng = np.random.default_rng(block)
    rows, cols, n = 23, 29, 500  # 667 cells: windows with empty cells, windows cut by the edges
    pos = rng.uniform(0, (rows, cols), (n, 2))
    pos[::7] = np.floor(pos[::7])  # points on cell corners: tied costs
    flat = rng.choice(rows * cols, n, replace=False).astype(np.int64)
    r, c = np.divmod(np.arange(rows * cols), cols)
    for off in [(0, 0), (block // 2, block // 2), (0, block // 2)]:
        at_cell = np.full(rows * cols, -1, np.int64)
        at_cell[flat] = np.arange(n)
        new = flat.copy()
        n_wc = (cols + off[1] + block - 1) // block
        n_windows = ((rows + off[0] + block - 1) // block) * n_wc
        refine_windows(pos, new, at_cell, rows, cols, block, off[0], off[1], 0, n_windows)
        assert np.array_equal(at_cell[new], np.arange(n)) and (at_cell >= 0).sum() == n
        window = ((r + off[0]) // block) * n_wc + (c + off[1]) // block
        for w in np.unique(window[flat]):
            pts, cells = np.flatnonzero(window[flat] == w), np.flatnonzero(window == w)
            assert set(new[pts].tolist()) <= set(cells.tolist())
            rc = np.column_stack(np.divmod(cells, cols)).astype(float)
            cost = ((pos[pts][:, None, :] - rc[None]) ** 2).sum(-1)
            i, j = linear_sum_assignment(cost)
            got = ((pos[pts] - np.column_stack(np.divmod(new[pts], cols))) ** 2).sum()
            assert got == pytest.approx(cost[i, j].sum(), rel=1e-12, abs=1e-12)
        flat = new


def test_refinement_costs_the_same_compiled_or_not(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    shape = (37, 41)  # 1517 cells for 1400 points: windows with empty cells, cut by the edges
    pos = np.concatenate([rng.normal((10, 12), 3, (900, 2)), rng.uniform(0, (37, 41), (500, 2))])
    pos = np.clip(pos, 0, (36.999, 40.999))
    start = kdsplit_fast(pos, shape, 0)
    costs = []
    for compiled in (True, False):
        monkeypatch.setattr(refine_module, "COMPILED", compiled)
        cells = refine_module.refine(pos, start, shape)
        assert len({(r, c) for r, c in cells.tolist()}) == len(pos)
        costs.append(squared_cost(pos, cells))
    assert costs[0] < squared_cost(pos, start)
    assert costs[0] == pytest.approx(costs[1], rel=1e-12)
