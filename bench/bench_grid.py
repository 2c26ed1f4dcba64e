"""Benchmark gridify methods: time, displacement and neighbourhood preservation (prints a table).

    python bench/bench_grid.py                  # t-SNE layouts (1k, 5k); t-SNE-like maps and
                                                # 2-D blobs (100k, 1M)
    python bench/bench_grid.py --small --large 100000 --layout tsne-like   # one large table
    python bench/bench_grid.py --xy layout.npy  # a real (N, 2) project layout instead of 1k/5k
    python bench/bench_grid.py --large 100000   # skip the 1M row
    python bench/bench_grid.py --small --large 1000000 --layout tsne-like --serial-baseline
                                                # also kdsplit refining on one thread, the baseline
                                                # of refine's threads (the cells are the same)
    python bench/bench_grid.py --large 100000 1000000 --layout tsne-like --previous-baseline
                                                # also kdsplit with its previous settings (thorough
                                                # at every size, scipy's solver): the baseline

Not a test: it asserts nothing and writes nothing.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import deepviz.core.grid.kdsplit as kdsplit_module
import deepviz.core.grid.refine as refine_module
from deepviz.core.grid import displacement, grid_shape, gridify, neighbourhood_preservation

SMALL_METHODS = ("optimal", "greedy", "kdsplit-fast", "kdsplit")
LARGE_METHODS = ("kdsplit-fast", "kdsplit")
SERIAL = " 1 thread"  # a method name ending so refines its windows on one thread
PREVIOUS = " (previous)"  # a method name ending so runs with the previous settings (PREVIOUS_SETTINGS)
# kdsplit's settings before this stop: its thorough effort at every size, windows solved by scipy.
# (Its structure is the current one in both: kdsplit-fast's grid made beside the warp, and the
# levels' samples no longer compared with kdsplit-fast; that only took time.)
PREVIOUS_SETTINGS = {(kdsplit_module, "THOROUGH_MAX_N"): 1 << 62, (refine_module, "COMPILED"): False}


def tsne_layout(n: int, seed: int = 0) -> np.ndarray:
    """(n, 2) openTSNE embedding of 50-D Gaussian clusters of unequal size and spread."""
    from openTSNE import TSNE

    rng = np.random.default_rng(seed)
    k = 20
    centres = rng.normal(size=(k, 50)) * 4
    label = rng.choice(k, size=n, p=rng.dirichlet(np.ones(k)))
    x = centres[label] + rng.normal(size=(n, 50)) * rng.uniform(0.5, 2.0, k)[label, None]
    return np.asarray(TSNE(n_jobs=2, random_state=seed).fit(x))


def blobs(n: int, seed: int = 0) -> np.ndarray:
    """(n, 2) 2-D Gaussian blobs: a t-SNE-like map when t-SNE itself is too slow to run."""
    rng = np.random.default_rng(seed)
    k = 20
    centres = rng.normal(size=(k, 2)) * 5
    label = rng.integers(0, k, size=n)
    return centres[label] + rng.normal(size=(n, 2)) * rng.uniform(0.3, 1.5, k)[label, None]


def tsne_like(n: int, seed: int = 0) -> np.ndarray:
    """(n, 2) synthetic map shaped like a t-SNE one, for sizes t-SNE is too slow to run.

    60 clusters of very unequal size (Dirichlet shares), each a soft-edged disk of nearly
    even density (as t-SNE makes them), stretched and turned; 30% split into 4 satellite
    sub-clusters, 20% drawn out into thin curved filaments; 1% of the points scattered as
    dust over the whole map. Clusters are placed apart, with gaps of varying width, over
    about half of a disk; areas follow sizes within a factor of 3 of density.
    """
    rng = np.random.default_rng(seed)
    k = 60
    share = rng.dirichlet(np.full(k, 0.6))
    n_dust = n // 100
    label = rng.choice(k, size=n - n_dust, p=share)
    # area roughly proportional to size (t-SNE evens out density), within a factor of 3
    radius = np.sqrt(share) * rng.uniform(0.6, 1.7, k) * 17
    # centres in a disk of radius 30, kept apart (a few overlaps slip through)
    centres = np.empty((k, 2))
    placed = 0
    while placed < k:
        c = rng.uniform(-30, 30, 2)
        if np.hypot(*c) > 30:
            continue
        gap = np.hypot(*(centres[:placed] - c).T) - (radius[:placed] + radius[placed]) * 1.1
        if placed and (gap < 0).any() and rng.random() < 0.995:
            continue
        centres[placed] = c
        placed += 1
    kind = rng.choice(3, size=k, p=[0.5, 0.3, 0.2])  # 0 disk, 1 sub-clusters, 2 filament
    m = label.size
    # unit disk, even inside with a soft edge
    u = rng.random(m)
    ang = rng.uniform(0, 2 * np.pi, m)
    r = np.sqrt(u) * (1 + 0.15 * rng.standard_normal(m))
    local = np.column_stack([r * np.cos(ang), r * np.sin(ang)])
    stretch = rng.uniform(0.6, 1.6, k)
    turn = rng.uniform(0, np.pi, k)
    # sub-clusters: each point shrunk into one of its cluster's 4 satellite disks
    sub = rng.integers(0, 4, m)
    sub_offset = rng.uniform(-0.8, 0.8, size=(k, 4, 2))
    sub_scale = rng.uniform(0.25, 0.5, size=(k, 4))
    is_sub = kind[label] == 1
    ls, ss = label[is_sub], sub[is_sub]
    local[is_sub] = local[is_sub] * sub_scale[ls, ss, None] + sub_offset[ls, ss]
    # filaments: a parabolic arc 4.4 radii long and 0.06-0.2 radii thick
    is_fil = kind[label] == 2
    t = rng.uniform(-1, 1, is_fil.sum())
    bend = rng.uniform(-1.5, 1.5, k)[label[is_fil]]
    width = rng.uniform(0.06, 0.2, k)[label[is_fil]]
    local[is_fil] = np.column_stack([2.2 * t, bend * (t**2 - 0.3) + width * rng.standard_normal(t.size)])
    sx, sy = local[:, 0] * stretch[label], local[:, 1] / stretch[label]
    cos, sin = np.cos(turn[label]), np.sin(turn[label])
    out = np.empty((n, 2))
    out[:m] = centres[label] + radius[label, None] * np.column_stack([cos * sx - sin * sy, sin * sx + cos * sy])
    out[m:] = rng.uniform(-35, 35, size=(n_dust, 2))  # dust
    return out[rng.permutation(n)]


def measure(xy: np.ndarray, method: str, k_np: int) -> tuple[float, float, float]:
    shape = grid_shape(xy.shape[0])
    saved = {key: getattr(*key) for key in [(refine_module, "REFINE_THREADS"), *PREVIOUS_SETTINGS]}
    if method.endswith(SERIAL):
        method, refine_module.REFINE_THREADS = method.removesuffix(SERIAL), 1
    if method.endswith(PREVIOUS):
        method = method.removesuffix(PREVIOUS)
        for (module, name), value in PREVIOUS_SETTINGS.items():
            setattr(module, name, value)
    try:
        start = time.perf_counter()
        cells = gridify(xy, shape, method=method)
        seconds = time.perf_counter() - start
    finally:
        for (module, name), value in saved.items():
            setattr(module, name, value)
    return seconds, displacement(xy, cells, shape), neighbourhood_preservation(xy, cells, k_np)


def table(label: str, xy: np.ndarray, methods: tuple[str, ...], k_np: int) -> None:
    n = xy.shape[0]
    rows, cols = grid_shape(n)
    print(f"\n{label}: N={n}, grid {rows} x {cols}")
    print(f"{'method':<18}{'time s':>9}{'displ.':>9}{'NP@10':>8}{'t/opt':>9}{'d/opt':>8}{'NP/opt':>8}")
    ref: tuple[float, float, float] | None = None
    for method in methods:
        t, d, p = measure(xy, method, k_np)
        if method == "optimal":
            ref = (t, d, p)
        ratio = f"{t / ref[0]:>9.4f}{d / ref[1]:>8.3f}{p / ref[2]:>8.3f}" if ref else ""
        print(f"{method:<18}{t:>9.3f}{d:>9.3f}{p:>8.3f}{ratio}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xy", help="(N, 2) .npy layout to use instead of the generated 1k/5k ones")
    ap.add_argument("--small", type=int, nargs="*", default=[1000, 5000])
    ap.add_argument("--large", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument(
        "--layout",
        choices=("tsne-like", "blobs", "both"),
        default="both",
        help="synthetic layout for the --large sizes (default both)",
    )
    ap.add_argument("--k", type=int, default=10, help="neighbours for neighbourhood preservation")
    ap.add_argument("--serial-baseline", action="store_true", help="also time kdsplit refining on one thread")
    ap.add_argument("--previous-baseline", action="store_true",
                    help="also run kdsplit with its previous settings (PREVIOUS_SETTINGS), the baseline")
    args = ap.parse_args()
    extra = (("kdsplit" + SERIAL,) if args.serial_baseline else ()) + (("kdsplit" + PREVIOUS,) if args.previous_baseline else ())
    large = LARGE_METHODS + extra
    small = SMALL_METHODS + (("kdsplit" + PREVIOUS,) if args.previous_baseline else ())
    if args.xy:
        table(f"layout {args.xy}", np.load(args.xy), small, args.k)
    else:
        for n in args.small:
            table("openTSNE layout of 50-D clusters", tsne_layout(n), small, args.k)
    for n in args.large:
        if args.layout in ("tsne-like", "both"):
            table("synthetic t-SNE-like map", tsne_like(n), large, args.k)
        if args.layout in ("blobs", "both"):
            table("2-D Gaussian blobs", blobs(n), large, args.k)
    print("\ndispl. = mean distance point -> cell centre in cell widths (layout min-max scaled)")
    print("NP@10  = mean share of 10 nearest layout neighbours among the 10 nearest cells")


if __name__ == "__main__":
    main()
