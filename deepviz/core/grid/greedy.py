"""The deepviz paper's greedy placement: each point in turn takes the nearest free cell."""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree  # no stubs in the venv

from deepviz.core.grid.geometry import Cells, Positions, Shape, cell_centres

# The paper's k: each point first looks among its 50 nearest cells.
GREEDY_K = 50
# When all k are taken, the search restarts at WIDENING * k cells and grows by that factor
# until a free cell turns up: geometric growth keeps the number of tree queries logarithmic.
WIDENING = 2


def greedy(pos: Positions, shape: Shape, seed: int) -> Cells:
    """The paper's greedy placement (see ``gridify``); ``seed`` shuffles the visiting order."""
    centres = cell_centres(shape)
    n, m = pos.shape[0], centres.shape[0]
    tree = cKDTree(centres)
    k = min(GREEDY_K, m)
    near: NDArray[np.intp] = tree.query(pos, k=k)[1]
    near = near.reshape(n, k)
    taken = np.zeros(m, dtype=bool)
    chosen = np.empty(n, dtype=np.int64)
    for i in np.random.default_rng(seed).permutation(n).tolist():
        cell = _first_free(near[i], taken)
        if cell < 0:
            cell = _nearest_free(tree, pos[i], taken, WIDENING * k)
        taken[cell] = True
        chosen[i] = cell
    return centres[chosen].astype(np.int64)


def _first_free(candidates: NDArray[np.intp], taken: NDArray[np.bool_]) -> int:
    """The first of ``candidates`` (cell indices, nearest first) not yet taken, or -1."""
    free = np.flatnonzero(~taken[candidates])
    return int(candidates[free[0]]) if free.size else -1


def _nearest_free(tree: cKDTree, p: NDArray[np.float64], taken: NDArray[np.bool_], k: int) -> int:
    """Nearest free cell to ``p``, widening the search until one turns up."""
    m = taken.size
    while True:
        k = min(k, m)
        near: NDArray[np.intp] = np.atleast_1d(tree.query(p, k=k)[1])
        cell = _first_free(near, taken)
        if cell >= 0:
            return cell
        k *= WIDENING
