"""The map at a million images: t-SNE of the whole set against the sampled route, time, peak memory, quality.

    python bench/bench_layout.py --n 1000000 [--d 1280] [--sample 250000] [--variants sampled,full] [--keep DIR]

Synthetic clustered features (bench/layout_quality.py, 100 classes in 10 superclasses, labels hidden
from the layout) are written as a float16 .npy, as a project stores them, and each variant runs
``deepviz.core.tsne.tsne_layout`` on its memory map in a fresh process, so that its peak RSS
(ru_maxrss) is its own:

    full      t-SNE of every row (``sample_above=0``): PCA by blocks, Annoy kNN, FFT gradients
    sampled   what a build does past ``--layout-sample``: t-SNE of a seeded sample, the rest placed at
              the median of their 5 nearest sampled rows

Quality, on the same seeded rows for both: the share of a row's 10 nearest neighbours in feature
space (cosine, exact, over all N rows, by blocks of the float16 map) kept among its 10 nearest on the
map (1,000 rows), and the leave-one-out 10-NN label accuracy on the map (5,000 rows). Prints figures
only; asserts nothing. Times depend on what else runs on the machine: the load average is printed.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.layout_quality import clustered_features, knn_label_accuracy  # noqa: E402

BLOCK = 1 << 16


def write_features(folder: Path, n: int, d: int) -> tuple[Path, Path]:
    """features.npy ((n, d) float16 unit rows) and labels.npy, written block by block (never n x d float32)."""
    feats = np.lib.format.open_memmap(folder / "features.npy", mode="w+", dtype=np.float16, shape=(n, d))
    labels = np.empty(n, np.int64)
    for start in range(0, n, BLOCK):
        rows, lab = clustered_features(min(BLOCK, n - start), d, draws_seed=start + 1)
        feats[start:start + len(rows)] = rows
        labels[start:start + len(rows)] = lab
    feats.flush()
    np.save(folder / "labels.npy", labels)
    return folder / "features.npy", folder / "labels.npy"


def run_variant(features: Path, variant: str, sample: int, out: Path) -> None:
    """In this (fresh) process: lay out the map, save it, print times and peak RSS as JSON."""
    from deepviz.core import tsne

    x = np.load(features, mmap_mode="r")
    jobs = os.cpu_count() or 1
    t = time.perf_counter()
    reduced = tsne.reduce_dims(x)
    pca = time.perf_counter() - t
    t = time.perf_counter()
    xy = tsne.tsne_layout(reduced, n_jobs=jobs, sample_above=sample if variant == "sampled" else 0)
    layout = time.perf_counter() - t
    np.save(out, xy)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(json.dumps({"pca_s": pca, "layout_s": layout, "peak_gb": peak}))


def feature_neighbours(x: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """(len(rows), k) exact cosine nearest other rows of each of ``rows``, over all of ``x`` (unit float16 rows)."""
    q = np.asarray(x[rows], np.float32)
    best_s = np.full((len(rows), k + 1), -np.inf, np.float32)
    best_i = np.zeros((len(rows), k + 1), np.int64)
    for start in range(0, len(x), BLOCK):
        sims = q @ np.asarray(x[start:start + BLOCK], np.float32).T
        s = np.concatenate([best_s, sims], axis=1)
        i = np.concatenate([best_i, np.broadcast_to(np.arange(start, start + sims.shape[1]), sims.shape)], axis=1)
        top = np.argpartition(-s, k, axis=1)[:, : k + 1]
        best_s, best_i = np.take_along_axis(s, top, 1), np.take_along_axis(i, top, 1)
    order = np.argsort(-best_s, axis=1)
    ranked = np.take_along_axis(best_i, order, 1)
    return np.array([[j for j in found if j != r][:k] for r, found in zip(rows, ranked)])


def map_neighbours(xy: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    from scipy.spatial import cKDTree

    _, idx = cKDTree(xy).query(xy[rows], k + 1)
    return np.array([[j for j in found if j != r][:k] for r, found in zip(rows, idx)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=1280)
    parser.add_argument("--sample", type=int, default=250_000)
    parser.add_argument("--variants", default="sampled,full")
    parser.add_argument("--keep", type=Path, help="write the features and maps here instead of a temp dir")
    parser.add_argument("--run", help=argparse.SUPPRESS)  # internal: one variant in a fresh process
    parser.add_argument("--features", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_variant(args.features, args.run, args.sample, args.out)
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="deepviz-bench-layout-"))
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    features, labels_file = write_features(folder, args.n, args.d)
    print(f"== {args.n:,} x {args.d} clustered float16 features written in {time.perf_counter() - t:.0f} s; "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    x = np.load(features, mmap_mode="r")
    labels = np.load(labels_file)
    rows = np.sort(np.random.default_rng(0).choice(args.n, size=min(1000, args.n), replace=False))
    t = time.perf_counter()
    truth = feature_neighbours(x, rows, 10)
    print(f"exact feature-space 10-NN of {len(rows)} rows in {time.perf_counter() - t:.0f} s")
    results = []
    for variant in args.variants.split(","):
        out = folder / f"xy-{variant}.npy"
        t = time.perf_counter()
        done = subprocess.run(
            [sys.executable, __file__, "--run", variant, "--features", str(features), "--sample", str(args.sample),
             "--out", str(out)], capture_output=True, text=True, check=True,
        )
        wall = time.perf_counter() - t
        row = {"variant": variant, "wall_s": wall, **json.loads(done.stdout.strip().splitlines()[-1])}
        xy = np.load(out)
        kept = map_neighbours(xy, rows, 10)
        row["nn10"] = float(np.mean([len(np.intersect1d(a, b)) / 10 for a, b in zip(truth, kept)]))
        row["acc"] = knn_label_accuracy(xy, labels)
        row["load"] = os.getloadavg()[0]
        results.append(row)
        print(json.dumps(row))
    print(f"\n{'variant':<10}{'PCA s':>8}{'layout s':>10}{'process s':>11}{'peak GB':>9}{'10-NN kept':>12}{'label acc':>11}{'load':>6}")
    for r in results:
        print(f"{r['variant']:<10}{r['pca_s']:>8.1f}{r['layout_s']:>10.1f}{r['wall_s']:>11.1f}{r['peak_gb']:>9.2f}"
              f"{r['nn10']:>12.3f}{r['acc']:>11.3f}{r['load']:>6.1f}")


if __name__ == "__main__":
    main()
