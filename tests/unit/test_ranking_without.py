"""A server ranking with ids left out (hidden near-duplicates): order kept, ranks of the others re-counted."""

from __future__ import annotations

import numpy as np

from deepviz.core.similarity import rank
from deepviz.server.ranking import Ranking


def test_without_keeps_the_order_and_counts_ranks_among_the_kept() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 6)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    full = Ranking(*rank(x, x[7]))
    left_out = np.zeros(50, dtype=bool)
    left_out[[1, 7, 30]] = True
    kept = full.without(left_out)
    assert kept.order.tolist() == [i for i in full.order.tolist() if i not in (1, 7, 30)]
    assert np.array_equal(kept.sims, full.sims[~left_out[full.order]])
    assert kept.id_count == 50 and len(kept.ranks) == 50
    assert kept.ranks[[1, 7, 30]].tolist() == [-1, -1, -1]
    assert np.array_equal(kept.order[kept.ranks[kept.order]], kept.order)
    assert full.id_count == 50 and np.array_equal(full.ranks[full.order], np.arange(50))
