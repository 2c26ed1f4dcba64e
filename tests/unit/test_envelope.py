"""The curve envelope the server sends: every rank in exactly one point's span, each column's two
points the max and the min of its ranks in the full curve, x as the page's rank axis places them."""

from __future__ import annotations

import numpy as np
import pytest

from deepviz.core.envelope import envelope, position_to_x, x_to_position


def sorted_curve(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sims = np.sort(rng.uniform(-1, 1, n).astype(np.float32))[::-1].copy()
    sims[n // 3 : n // 3 + min(50, n // 4)] = sims[n // 3]  # a run of ties
    return sims


@pytest.mark.parametrize("n", [1, 7, 300, 1000, 100_000])
@pytest.mark.parametrize("width", [1, 299.5, 800])
@pytest.mark.parametrize("log", [False, True])
def test_envelope_is_the_min_and_max_of_the_full_curve(n: int, width: float, log: bool) -> None:
    sims = sorted_curve(n, seed=n)
    env = envelope(sims, width, log)
    # The spans tile [0, n): each starts where the previous ended (a column's two points share one).
    starts, ends = [], []
    for k in range(len(env.x)):
        if k and env.first[k] == env.first[k - 1] and env.last[k] == env.last[k - 1] and env.x[k] == env.x[k - 1]:
            continue
        starts.append(int(env.first[k]))
        ends.append(int(env.last[k]))
    assert starts[0] == 0 and ends[-1] == n - 1
    assert all(b + 1 == a for a, b in zip(starts[1:], ends[:-1]))
    for k in range(len(env.x)):
        span = sims[env.first[k] : env.last[k] + 1]
        assert env.sims[k] in (span.max(), span.min())
    columns = env.first != env.last
    if columns.any():
        pairs = np.flatnonzero(columns)[::2]
        for k in pairs:  # a column enters at its max and leaves at its min
            span = sims[env.first[k] : env.last[k] + 1]
            assert env.sims[k] == span.max() and env.sims[k + 1] == span.min() and env.x[k] == env.x[k + 1]
            assert position_to_x(env.first[k], width, n, log) <= env.x[k] + 0.5 + 1e-6
    assert len(env.x) <= 2 * int(np.ceil(width)) + 2 * n  # bounded by the pixels, not by N alone
    if n > 10 * width:
        assert len(env.x) <= 4 * int(np.ceil(width))


def test_axis_round_trip_matches_the_page() -> None:
    # Values computed by web/src/rankScale.ts (positionToX / xToPosition) for n = 1,000,000, 800 px.
    assert position_to_x(1000, 800, 1_000_000, True) == pytest.approx(400.0578480401043, abs=1e-9)
    assert position_to_x(250_000, 800, 1_000_000, False) == 200
    for x in (0, 1, 399.5, 800):
        assert position_to_x(x_to_position(x, 800, 1_000_000, True), 800, 1_000_000, True) == pytest.approx(x, abs=1e-6)
