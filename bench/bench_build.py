"""Benchmark a whole build on real images: images/s per step, peak memory, grid quality vs optimal.

    python bench/bench_build.py [--images FOLDER] [--limit N] [--model mobilenet_v2]

Default images: the default demo set (885 Noto emoji PNGs from the npm registry, fetched once by `deepviz demo`).
Prints figures only; every ratio is against a baseline measured in this same process.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

import deepviz
from deepviz.core import grid as gridmod


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def limited_copy(src: Path, dst: Path, limit: int | None) -> Path:
    """A folder with the first ``limit`` images of ``src`` (same relative paths), or ``src`` itself."""
    if limit is None:
        return src
    for rel in deepviz.scan(src).paths[:limit]:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, dst / rel)
    return dst


def bench_build(images: Path, model: str, workers: int | None) -> Path:
    out = Path(tempfile.mkdtemp(prefix="deepviz-bench-")) / "bench.deepviz"
    rss0 = peak_rss_mb()
    t0 = time.perf_counter()
    report = deepviz.build(images, out, models=[model], workers=workers, progress=False)
    total = time.perf_counter() - t0
    n = report.n_new
    print(f"\n== build of {report.n_scanned} files ({n} images, {len(report.rejects)} rejects), model {model} ==")
    print(f"{'step':<10}{'seconds':>10}{'images/s':>12}{'share':>8}")
    for step, sec in report.seconds.items():
        print(f"{step:<10}{sec:>10.2f}{(n / sec if sec else float('inf')):>12.1f}{sec / total:>8.0%}")
    print(f"{'total':<10}{total:>10.2f}{n / total:>12.1f}{1:>8.0%}")
    print(f"peak RSS {peak_rss_mb():.0f} MB (was {rss0:.0f} MB before the build)")
    print(f"project on disk: {sum(p.stat().st_size for p in out.rglob('*') if p.is_file()) / 1e6:.1f} MB")
    return out


def bench_grid(xy: np.ndarray, aspect: float) -> None:
    n = len(xy)
    shape = gridmod.grid_shape(n, aspect)
    print(f"\n== gridify the real t-SNE layout: {n} points on {shape[0]} x {shape[1]} ==")
    print(f"{'method':<14}{'seconds':>10}{'displacement':>14}{'vs optimal':>12}{'10-NN kept':>12}{'vs optimal':>12}{'time vs optimal':>17}")
    rows = {}
    for method in ("optimal", "greedy", "kdsplit-fast", "kdsplit"):
        t = time.perf_counter()
        cells = gridmod.gridify(xy, shape, method=method)
        sec = time.perf_counter() - t
        rows[method] = (sec, gridmod.displacement(xy, cells, shape), gridmod.neighbourhood_preservation(xy, cells, k=10))
    base = rows["optimal"]
    for method, (sec, disp, keep) in rows.items():
        print(f"{method:<14}{sec:>10.3f}{disp:>14.3f}{disp / base[1]:>12.2f}{keep:>12.3f}{keep / base[2]:>12.2f}{sec / base[0]:>17.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=Path)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--model", default="mobilenet_v2")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--aspect", type=float, default=1.5)
    args = parser.parse_args()
    if args.images is None:
        from deepviz.demo import demo_images

        args.images = demo_images()
    with tempfile.TemporaryDirectory() as tmp:
        images = limited_copy(args.images, Path(tmp), args.limit)
        out = bench_build(images, args.model, args.workers)
        bench_grid(np.asarray(deepviz.open_project(out).layout), args.aspect)
        shutil.rmtree(out.parent)


if __name__ == "__main__":
    main()
