"""Gridify invariants: a bijection onto distinct cells, input untouched, quality ordering, pinned results."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepviz.core.grid import METHODS, displacement, grid_shape, gridify, neighbourhood_preservation
from deepviz.core.grid.geometry import normalise, squared_cost
from deepviz.core.grid.refine import refine


def _clustered(n: int, seed: int = 0) -> np.ndarray:
    """(n, 2) float64 layout: Gaussian blobs of different sizes, like a t-SNE map."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(8, 2)) * 5
    spread = rng.uniform(0.3, 1.5, size=8)
    label = rng.integers(0, 8, size=n)
    return centres[label] + rng.normal(size=(n, 2)) * spread[label, None]


def _assert_bijection(cells: np.ndarray, n: int, shape: tuple[int, int]) -> None:
    rows, cols = shape
    assert cells.shape == (n, 2)
    assert cells.dtype == np.int32
    assert ((cells[:, 0] >= 0) & (cells[:, 0] < rows)).all()
    assert ((cells[:, 1] >= 0) & (cells[:, 1] < cols)).all()
    flat = cells[:, 0].astype(np.int64) * cols + cells[:, 1]
    assert np.unique(flat).size == n


# ---------------------------------------------------------------- grid_shape


@given(n=st.integers(1, 200_000), aspect=st.floats(0.25, 4.0))
def test_grid_shape_holds_n_with_few_empty_cells(n: int, aspect: float) -> None:
    rows, cols = grid_shape(n, aspect)
    assert rows * cols >= n
    assert rows * cols - n < max(rows, cols)


@given(n=st.integers(400, 200_000), aspect=st.floats(0.25, 4.0))
def test_grid_shape_honours_aspect(n: int, aspect: float) -> None:
    rows, cols = grid_shape(n, aspect)
    assert abs(np.log(cols / rows / aspect)) < 0.15


def test_grid_shape_square_and_edge_cases() -> None:
    assert grid_shape(1024) == (32, 32)
    assert grid_shape(1) == (1, 1)
    assert grid_shape(0) == (0, 0)
    with pytest.raises(ValueError):
        grid_shape(-1)
    with pytest.raises(ValueError):
        grid_shape(10, 0.0)


# ---------------------------------------------------------------- gridify invariants


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 150),
    extra=st.integers(0, 20),
    aspect=st.floats(0.3, 3.0),
    seed=st.integers(0, 2**16),
    dup=st.booleans(),
)
def test_every_method_is_a_bijection_and_leaves_input_alone(
    method: str, n: int, extra: int, aspect: float, seed: int, dup: bool
) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.normal(size=(n, 2)) * rng.uniform(0.1, 10, size=2)
    if dup:  # repeated positions and a collapsed axis must still give distinct cells
        xy[: n // 2] = xy[0]
    before = xy.copy()
    rows, cols = grid_shape(n, aspect)
    shape = (rows, cols + extra)
    cells = gridify(xy, shape, method=method, seed=seed)
    _assert_bijection(cells, n, shape)
    np.testing.assert_array_equal(xy, before)


@pytest.mark.parametrize("method", METHODS)
def test_default_shape_and_large_n(method: str) -> None:
    n = 3000 if method != "optimal" else 400
    xy = _clustered(n).astype(np.float32)
    cells = gridify(xy, method=method, aspect=1.5)
    _assert_bijection(cells, n, grid_shape(n, 1.5))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", [(12, 17), (1, 9), (9, 1)])
def test_points_on_cell_centres_are_kept_exactly(method: str, shape: tuple[int, int]) -> None:
    rows, cols = shape
    r, c = np.divmod(np.arange(rows * cols), cols)
    # arbitrary affine units: gridify normalises the bounding box onto the cell centres
    xy = np.column_stack([3.0 * c - 7.0, 0.5 * r + 100.0])
    order = np.random.default_rng(1).permutation(rows * cols)
    cells = gridify(xy[order], shape, method=method)
    np.testing.assert_array_equal(cells, np.column_stack([r, c])[order])
    assert displacement(xy[order], cells, shape) == pytest.approx(0.0, abs=1e-12)


def test_same_seed_same_result_for_every_method() -> None:
    xy = _clustered(500)
    for method in METHODS:
        np.testing.assert_array_equal(
            gridify(xy, method=method, seed=3), gridify(xy, method=method, seed=3)
        )


# sha256 (first 16 hex digits) of the little-endian int32 cells for _clustered(n, seed=11),
# aspect 1.5, seed 2: recorded before core/grid.py was split into a package, and equal to the
# outputs of the split one. 3000 points take kdsplit's multi-level path. A change here means
# the assignment changed; if that is intended (a better method), record the new digests.
PINNED = {
    (300, "optimal"): "9e494461d4e720dd",
    (300, "greedy"): "61e7c51d9f5967be",
    (300, "kdsplit-fast"): "985a89f49fbfb3bf",
    (300, "kdsplit"): "c505962641a8c6e6",
    (3000, "kdsplit-fast"): "70cfc434cd70257b",
    (3000, "kdsplit"): "a86f3e7a9d859344",
}


@pytest.mark.parametrize(("n", "method"), list(PINNED))
def test_results_are_pinned(n: int, method: str) -> None:
    if method in ("optimal", "kdsplit"):  # kdsplit's coarse warp is an optimal assignment
        pytest.importorskip("lapjv")  # without it, scipy may break ties between equal costs otherwise
    cells = gridify(_clustered(n, seed=11), aspect=1.5, method=method, seed=2)
    digest = hashlib.sha256(cells.astype("<i4").tobytes()).hexdigest()[:16]
    assert digest == PINNED[n, method]


def test_empty_input() -> None:
    assert gridify(np.empty((0, 2))).shape == (0, 2)


# ---------------------------------------------------------------- errors


def test_unknown_method_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match="kdsplit.*greedy.*optimal"):
        gridify(_clustered(10), method="hilbert")


def test_too_small_grid_says_what_to_do() -> None:
    with pytest.raises(ValueError, match="shape=None"):
        gridify(_clustered(10), (3, 3))


@pytest.mark.parametrize("bad", [np.zeros((5, 3)), np.zeros(10), np.zeros((2, 5, 2))])
def test_layout_must_be_n_by_2(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        gridify(bad)


def test_nan_is_refused_with_the_row() -> None:
    xy = _clustered(10)
    xy[4, 1] = np.nan
    with pytest.raises(ValueError, match="row 4"):
        gridify(xy)


def test_optimal_refuses_huge_inputs_and_points_to_kdsplit() -> None:
    with pytest.raises(ValueError, match="kdsplit"):
        gridify(np.zeros((20_001, 2)), method="optimal")


# ---------------------------------------------------------------- quality


def test_quality_ordering_on_clustered_data() -> None:
    xy = _clustered(1200, seed=5)
    shape = grid_shape(1200)
    pos = normalise(xy, shape)
    cost = {m: squared_cost(pos, gridify(xy, shape, method=m)) for m in METHODS}
    # optimal minimises exactly this cost; kdsplit is never worse than kdsplit-fast by it
    assert cost["optimal"] <= cost["kdsplit"] + 1e-6
    assert cost["kdsplit"] <= cost["kdsplit-fast"]
    assert cost["kdsplit"] <= 1.1 * cost["optimal"]
    disp = {m: displacement(xy, gridify(xy, shape, method=m), shape) for m in METHODS}
    assert disp["optimal"] <= 1.02 * disp["kdsplit"] <= 1.02 * disp["kdsplit-fast"]


@pytest.mark.parametrize("effort", ["thorough", "fast"])
def test_kdsplit_keeps_neighbours_at_scale(effort: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # above 2,500 points kdsplit warps level by level and refines in the warped positions;
    # its single coarse warp used to keep fewer neighbours here than kdsplit-fast (0.558 vs 0.572).
    # Its fast effort (above THOROUGH_MAX_N) is tried here too, at a size a test can afford.
    import deepviz.core.grid.kdsplit as kdsplit_module

    if effort == "fast":
        monkeypatch.setattr(kdsplit_module, "THOROUGH_MAX_N", 0)
    n = 20_000
    xy = _clustered(n, seed=0)
    shape = grid_shape(n)
    kd, fast = (gridify(xy, shape, method=m) for m in ("kdsplit", "kdsplit-fast"))
    assert neighbourhood_preservation(xy, kd) >= neighbourhood_preservation(xy, fast) - 0.005
    assert displacement(xy, kd, shape) <= displacement(xy, fast, shape)


@pytest.mark.parametrize("shape", [(1, 5000), (2, 2600), (60, 90), (90, 60)])
def test_multilevel_kdsplit_is_a_deterministic_bijection_no_costlier_than_fast(
    shape: tuple[int, int],
) -> None:
    n = 5000
    xy = _clustered(n, seed=7)
    xy[:300] = xy[0]  # a pile of duplicates
    pos = normalise(xy, shape)
    cells = gridify(xy, shape, method="kdsplit", seed=4)
    _assert_bijection(cells, n, shape)
    np.testing.assert_array_equal(cells, gridify(xy, shape, method="kdsplit", seed=4))
    fast = gridify(xy, shape, method="kdsplit-fast")
    assert squared_cost(pos, cells) <= squared_cost(pos, fast)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(2, 400), extra=st.integers(0, 30), seed=st.integers(0, 2**16))
def test_refinement_never_raises_the_cost(n: int, extra: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.normal(size=(n, 2))
    rows, cols = grid_shape(n)
    shape = (rows, cols + extra)
    pos = normalise(xy, shape)
    start = gridify(xy, shape, method="kdsplit-fast")
    # a deliberately bad start too: a random bijection
    flat = rng.permutation(shape[0] * shape[1])[:n]
    scrambled = np.column_stack(np.divmod(flat, shape[1]))
    for cells in (start, scrambled):
        refined = refine(pos, cells.astype(np.int64), shape)
        _assert_bijection(refined.astype(np.int32), n, shape)
        assert squared_cost(pos, refined) <= squared_cost(pos, cells) + 1e-9


def _kdsplit_reference(pos: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """kdsplit-fast as its docstring defines it, one region at a time (slow, obviously right)."""
    out = np.empty((pos.shape[0], 2), dtype=np.int64)
    stack = [(0, 0, shape[0], shape[1], np.arange(pos.shape[0]))]
    while stack:
        top, left, h, w, pts = stack.pop()
        if h * w == 1:
            out[pts] = (top, left)
            continue
        axis = 1 if w >= h else 0
        side, other = (w, h) if axis == 1 else (h, w)
        first = side // 2
        cells_a, cells_b = first * other, (side - first) * other
        share = int(np.clip(np.rint(pts.size * cells_a / (cells_a + cells_b)), max(pts.size - cells_b, 0), min(cells_a, pts.size)))
        # ranked along the split axis, ties by point index
        ranked = pts[np.lexsort((pts, pos[pts, axis]))]
        halves = [(top, left, h, first) if axis == 1 else (top, left, first, w),
                  (top, left + first, h, w - first) if axis == 1 else (top + first, left, h - first, w)]
        for (t, lft, hh, ww), part in zip(halves, (ranked[:share], ranked[share:])):
            if part.size:
                stack.append((t, lft, hh, ww, part))
    return out


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 3000), extra=st.integers(0, 40), aspect=st.floats(0.2, 5.0), ties=st.booleans(), seed=st.integers(0, 2**16))
def test_kdsplit_fast_matches_its_definition(n: int, extra: int, aspect: float, ties: bool, seed: int) -> None:
    """kdsplit-fast partitions presorted orders level by level; the result is the plain recursion's."""
    from deepviz.core.grid.kdsplit_fast import kdsplit_fast

    rng = np.random.default_rng(seed)
    xy = rng.normal(size=(n, 2))
    if ties:
        xy = np.round(xy, 1)  # many equal coordinates: the order falls back to the point index
    rows, cols = grid_shape(n, aspect)
    shape = (rows, cols + extra)
    pos = normalise(xy, shape)
    np.testing.assert_array_equal(kdsplit_fast(pos, shape, 0), _kdsplit_reference(pos, shape))


def test_refinement_is_the_same_on_any_number_of_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows are solved in chunks on several threads at once; the cells do not depend on it."""
    import deepviz.core.grid.refine as refine_module

    xy = _clustered(6000, seed=3)
    shape = grid_shape(6000)
    pos = normalise(xy, shape)
    start = gridify(xy, shape, method="kdsplit-fast").astype(np.int64)
    monkeypatch.setattr(refine_module, "BLOCKS_PER_CHUNK", 7)  # ~100 windows a pass: many chunks
    monkeypatch.setattr(refine_module, "REFINE_THREADS", 1)
    serial = refine(pos, start, shape)
    monkeypatch.setattr(refine_module, "REFINE_THREADS", 3)
    np.testing.assert_array_equal(refine(pos, start, shape), serial)
    assert squared_cost(pos, serial) < squared_cost(pos, start)


def test_motion_at_the_sources_comes_from_their_own_search() -> None:
    """smooth_motion given where its sources are among the targets searches only the others;
    the field is the one a search of every target gives."""
    from deepviz.core.grid.warp import smooth_motion

    rng = np.random.default_rng(5)
    dst = _clustered(3000, seed=5)
    at = np.sort(rng.choice(3000, 1500, replace=False))
    motion = rng.normal(size=(1500, 2))
    np.testing.assert_allclose(
        smooth_motion(dst[at], motion, dst, at), smooth_motion(dst[at], motion, dst), rtol=0, atol=1e-12
    )


def test_smooth_motion_is_its_plain_definition_point_by_point() -> None:
    """The field smooth_motion computes in spatially ordered batches is, at every point, the kernel
    mean written out one point at a time: presmoothing, then each target's own neighbours."""
    from scipy.spatial import cKDTree

    from deepviz.core.grid import warp

    rng = np.random.default_rng(8)
    src, dst = _clustered(600, seed=8), _clustered(900, seed=9)
    motion = rng.normal(size=(600, 2))
    k = warp.LEVEL_NEIGHBOURS
    tree = cKDTree(src)

    def kernel_mean(p: np.ndarray, values: np.ndarray) -> np.ndarray:
        dist, near = tree.query(p, k=k + 1)
        reach = dist[-1] * (1 + warp.KERNEL_REACH_REL) + warp.KERNEL_REACH_ABS
        w = (1 - (dist[:k] / reach) ** 2) ** 2
        return (w / w.sum()) @ values[near[:k]]

    smoothed = motion
    for _ in range(warp.PRESMOOTH_STEPS):
        smoothed = np.array([kernel_mean(p, smoothed) for p in src])
    expected = np.array([kernel_mean(p, smoothed) for p in dst])
    np.testing.assert_allclose(warp.smooth_motion(src, motion, dst), expected, rtol=0, atol=1e-12)


def test_displacement_in_cell_units() -> None:
    xy = np.array([[0.0, 0.0], [1.0, 1.0]])
    # 2 x 2 grid: the points normalise onto cells (0, 0) and (1, 1)
    assert displacement(xy, np.array([[0, 0], [1, 1]]), (2, 2)) == 0.0
    assert displacement(xy, np.array([[0, 1], [1, 1]]), (2, 2)) == pytest.approx(0.5)


def test_neighbourhood_preservation_range_and_extremes() -> None:
    cols = 10
    r, c = np.divmod(np.arange(100), cols)
    cells = np.column_stack([r, c])
    # jitter breaks the layout's own ties; grid ties then follow the layout exactly
    jitter = np.random.default_rng(2).uniform(-0.01, 0.01, size=(100, 2))
    grid_xy = np.column_stack([c, r]) + jitter
    assert neighbourhood_preservation(grid_xy, cells) == 1.0
    shuffled = cells[np.random.default_rng(0).permutation(100)]
    score = neighbourhood_preservation(grid_xy, shuffled)
    assert 0.0 <= score < 0.3
    xy = _clustered(800)
    good = neighbourhood_preservation(xy, gridify(xy))
    assert 0.0 <= score < good <= 1.0


def test_auto_picks_the_best_affordable_method() -> None:
    from deepviz.core.grid import FITTED_KDSPLIT_MAX, KDSPLIT_AUTO_MAX, auto_method

    assert [auto_method(n) for n in (1, 2500, 2501, KDSPLIT_AUTO_MAX, KDSPLIT_AUTO_MAX + 1)] == [
        "optimal", "optimal", "kdsplit", "kdsplit", "kdsplit-fast",
    ]
    # a build grids a million images with kdsplit; a pane the user is resizing switches sooner
    assert KDSPLIT_AUTO_MAX >= 1_000_000 > FITTED_KDSPLIT_MAX


def test_the_quality_sample_is_not_the_sample_a_grid_method_drew_with_the_same_seed() -> None:
    """A grid that placed well exactly the points default_rng(seed).choice(N, N // 2) drew (kdsplit's
    warp draws so) is estimated like any other: the quality sample is drawn from a stream of its own."""
    side = 40
    r, c = np.divmod(np.arange(side * side), side)
    xy = np.column_stack([c, r]) + np.random.default_rng(1).uniform(-0.01, 0.01, (side * side, 2))
    cells = np.column_stack([r, c])
    drawn = np.random.default_rng(0).choice(side * side, side * side // 2, replace=False)
    rest = np.setdiff1d(np.arange(side * side), drawn)
    cells[rest] = cells[rest][np.random.default_rng(2).permutation(rest.size)]  # the others scrambled
    whole = neighbourhood_preservation(xy, cells)
    # drawn from default_rng(0) itself, a sample of 800 would be the well placed half
    assert abs(neighbourhood_preservation(xy, cells, sample=800, seed=0) - whole) < 4 * 0.5 / np.sqrt(800)


def test_neighbourhood_preservation_of_a_sample_estimates_the_whole() -> None:
    xy = _clustered(20_000, seed=6)
    cells = gridify(xy, method="kdsplit-fast")
    whole = neighbourhood_preservation(xy, cells)
    assert neighbourhood_preservation(xy, cells, sample=20_000) == whole  # no smaller than N: every point
    estimates = [neighbourhood_preservation(xy, cells, sample=4000, seed=s) for s in range(3)]
    assert len(set(estimates)) == 3  # the seed picks the sample
    for estimate in estimates:
        assert abs(estimate - whole) < 4 * 0.5 / np.sqrt(4000)  # four standard errors at most
    assert neighbourhood_preservation(xy, cells, sample=4000, seed=1) == estimates[1]
