"""What deepviz.from_arrays costs over deepviz.build: the same images and features, once as arrays and
once as a folder of PNG files with a feature file (the baseline, built in the same run). Prints a table.

    python bench/bench_from_arrays.py            # 2,000 images of 64 x 64
    python bench/bench_from_arrays.py --n 10000 --side 96

Not a test: it asserts nothing; it writes only under a temporary folder.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

import deepviz


def data(n: int, side: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, side, side, 3) uint8 noisy colour squares and (n, 64) float32 features that follow their colour."""
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, (n, 3))
    images = np.clip(colours[:, None, None, :] + rng.integers(-20, 20, (n, side, side, 3)), 0, 255).astype(np.uint8)
    features = np.concatenate([colours / 255.0, rng.normal(size=(n, 61)) * 0.1], axis=1).astype(np.float32)
    return images, features


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--side", type=int, default=64)
    args = parser.parse_args()
    images, features = data(args.n, args.side)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "images"
        folder.mkdir()
        start = time.perf_counter()
        for i, image in enumerate(images):
            Image.fromarray(image).save(folder / f"{i:06d}.png", compress_level=1)
        np.save(root / "features.npy", features)
        written = time.perf_counter() - start
        start = time.perf_counter()
        deepviz.build(folder, root / "baseline.deepviz", features=root / "features.npy", progress=False)
        baseline = time.perf_counter() - start
        start = time.perf_counter()
        deepviz.from_arrays(images=images, features=features, out=root / "arrays.deepviz", progress=False)
        arrays = time.perf_counter() - start
        start = time.perf_counter()
        deepviz.from_arrays(features=features, out=root / "features-only.deepviz", progress=False)
        tiles = time.perf_counter() - start
    n = args.n
    print(f"{n:,} images of {args.side} x {args.side}, 64-d features")
    print(f"{'build (folder + .npy), baseline':40s} {baseline:7.2f} s  {1e3 * baseline / n:6.2f} ms/image  x1.00")
    print(f"{'  writing that folder (not in baseline)':40s} {written:7.2f} s  {1e3 * written / n:6.2f} ms/image")
    print(f"{'from_arrays(images, features)':40s} {arrays:7.2f} s  {1e3 * arrays / n:6.2f} ms/image  x{arrays / baseline:.2f}")
    print(f"{'from_arrays(features only: tiles)':40s} {tiles:7.2f} s  {1e3 * tiles / n:6.2f} ms/image  x{tiles / baseline:.2f}")


if __name__ == "__main__":
    main()
