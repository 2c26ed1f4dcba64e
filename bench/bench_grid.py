"""Benchmark gridify methods: time, displacement and neighbourhood preservation (prints a table).

    python bench/bench_grid.py                  # t-SNE layouts (1k, 5k) + 2-D blobs (100k, 1M)
    python bench/bench_grid.py --xy layout.npy  # a real (N, 2) project layout instead of 1k/5k
    python bench/bench_grid.py --large 100000   # skip the 1M row

Not a test: it asserts nothing and writes nothing.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from deepviz.core.grid import displacement, grid_shape, gridify, neighbourhood_preservation

SMALL_METHODS = ("optimal", "greedy", "kdsplit-fast", "kdsplit")
LARGE_METHODS = ("kdsplit-fast", "kdsplit")


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


def measure(xy: np.ndarray, method: str, k_np: int) -> tuple[float, float, float]:
    shape = grid_shape(xy.shape[0])
    start = time.perf_counter()
    cells = gridify(xy, shape, method=method)
    seconds = time.perf_counter() - start
    return seconds, displacement(xy, cells, shape), neighbourhood_preservation(xy, cells, k_np)


def table(label: str, xy: np.ndarray, methods: tuple[str, ...], k_np: int) -> None:
    n = xy.shape[0]
    rows, cols = grid_shape(n)
    print(f"\n{label}: N={n}, grid {rows} x {cols}")
    print(f"{'method':<14}{'time s':>9}{'displ.':>9}{'NP@10':>8}{'t/opt':>9}{'d/opt':>8}{'NP/opt':>8}")
    ref: tuple[float, float, float] | None = None
    for method in methods:
        t, d, p = measure(xy, method, k_np)
        if method == "optimal":
            ref = (t, d, p)
        ratio = f"{t / ref[0]:>9.4f}{d / ref[1]:>8.3f}{p / ref[2]:>8.3f}" if ref else ""
        print(f"{method:<14}{t:>9.3f}{d:>9.3f}{p:>8.3f}{ratio}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xy", help="(N, 2) .npy layout to use instead of the generated 1k/5k ones")
    ap.add_argument("--small", type=int, nargs="*", default=[1000, 5000])
    ap.add_argument("--large", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--k", type=int, default=10, help="neighbours for neighbourhood preservation")
    args = ap.parse_args()
    if args.xy:
        table(f"layout {args.xy}", np.load(args.xy), SMALL_METHODS, args.k)
    else:
        for n in args.small:
            table("openTSNE layout of 50-D clusters", tsne_layout(n), SMALL_METHODS, args.k)
    for n in args.large:
        table("2-D Gaussian blobs", blobs(n), LARGE_METHODS, args.k)
    print("\ndispl. = mean distance point -> cell centre in cell widths (layout min-max scaled)")
    print("NP@10  = mean share of 10 nearest layout neighbours among the 10 nearest cells")


if __name__ == "__main__":
    main()
