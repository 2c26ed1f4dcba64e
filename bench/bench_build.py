"""Benchmark a whole build on real images: images/s per step, peak memory, grid quality vs optimal.

    python bench/bench_build.py [--images FOLDER] [--limit N] [--model mobilenet_v2] [--serial-embed-first]
    python bench/bench_build.py --n 100000     N tiny PNGs + precomputed 1280-d features: the previous
                                               pipeline (sequential, openTSNE's default schedule) and
                                               the current one (t-SNE beside decoding), stage by stage
    python bench/bench_build.py --n 100000 --atlas /tmp/atlas/bin/embedding-atlas
                                               and Embedding Atlas on the same images and vectors
                                               (installed apart: not a dependency; bench/atlas.py)

Default images: the default demo set (885 Noto emoji PNGs from the npm registry, fetched once by `deepviz demo`).
Prints figures only; every ratio is against a baseline measured in this same process.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import deepviz  # noqa: E402
from deepviz.core import grid as gridmod  # noqa: E402
from deepviz.core.grid.optimal import OPTIMAL_MAX_N  # noqa: E402


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
    with CpuSampler() as cpu:
        report = deepviz.build(images, out, models=[model], workers=workers, progress=False)
    total = time.perf_counter() - t0
    n = report.n_new
    print(f"\n== build of {report.n_scanned} files ({n} images, {len(report.rejects)} rejects), model {model} ==")
    print(f"{'step':<10}{'seconds':>10}{'images/s':>12}{'share':>8}")
    for step, sec in report.seconds.items():
        print(f"{step:<10}{sec:>10.2f}{(n / sec if sec else float('inf')):>12.1f}{sec / total:>8.0%}")
    print(f"{'total':<10}{total:>10.2f}{n / total:>12.1f}{1:>8.0%}")
    print(f"peak RSS {peak_rss_mb():.0f} MB (was {rss0:.0f} MB before the build)")
    print(f"this process used {cpu.process:.2f} cores; each CPU busy (all processes): "
          + ", ".join(f"{b:.0%}" for b in cpu.busy))
    print(f"project on disk: {sum(p.stat().st_size for p in out.rglob('*') if p.is_file()) / 1e6:.1f} MB")
    return out


def bench_grid(xy: np.ndarray, aspect: float) -> None:
    n = len(xy)
    shape = gridmod.grid_shape(n, aspect)
    print(f"\n== gridify the real t-SNE layout: {n} points on {shape[0]} x {shape[1]} ==")
    vs = "vs " + ("optimal" if n <= OPTIMAL_MAX_N else "kd-fast")
    print(f"{'method':<14}{'seconds':>10}{'displacement':>14}{vs:>12}{'10-NN kept':>12}{vs:>12}{'time ' + vs:>17}")
    rows = {}
    # The exact assignment is refused past its limit: the ratios are then against kdsplit-fast.
    methods = ("optimal", "greedy", "kdsplit-fast", "kdsplit") if n <= OPTIMAL_MAX_N else ("kdsplit-fast", "greedy", "kdsplit")
    for method in methods:
        t = time.perf_counter()
        cells = gridmod.gridify(xy, shape, method=method)
        sec = time.perf_counter() - t
        rows[method] = (sec, gridmod.displacement(xy, cells, shape), gridmod.neighbourhood_preservation(xy, cells, k=10))
    base = rows[methods[0]]
    for method, (sec, disp, keep) in rows.items():
        print(f"{method:<14}{sec:>10.3f}{disp:>14.3f}{disp / base[1]:>12.2f}{keep:>12.3f}{keep / base[2]:>12.2f}{sec / base[0]:>17.3f}")


def _tiny_pngs(root: Path, n: int, labels: np.ndarray) -> None:
    """``n`` 48 px PNGs in a folder per label: a disc whose colour follows the label, on a noisy ground."""
    from PIL import Image

    rng = np.random.default_rng(0)
    hues = rng.integers(0, 256, size=(int(labels.max()) + 1, 3))
    yy, xx = np.mgrid[:48, :48]
    disc = ((yy - 24) ** 2 + (xx - 24) ** 2) < 15**2
    for i, label in enumerate(labels):
        img = rng.integers(0, 256, size=(48, 48, 3), dtype=np.uint8) // 4 + 96
        img[disc] = hues[label]
        (root / f"c{label:03d}").mkdir(exist_ok=True)
        Image.fromarray(img).save(root / f"c{label:03d}" / f"{i:06d}.png")


class CpuSampler:
    """Busy share of each CPU (all processes: the machine's other users too) and this process's CPU
    seconds, between ``start`` and ``stop``."""

    @staticmethod
    def _cpus() -> list[tuple[int, int]]:
        rows = [line.split() for line in Path("/proc/stat").read_text().splitlines() if line.startswith("cpu") and line[3] != " "]
        return [(sum(map(int, r[1:])), int(r[4]) + int(r[5])) for r in rows]  # (total, idle + iowait) jiffies

    def __enter__(self) -> CpuSampler:
        self.t0, self.c0, self.p0 = time.perf_counter(), self._cpus(), os.times()
        return self

    def __exit__(self, *_: object) -> None:
        c1, p1 = self._cpus(), os.times()
        self.wall = time.perf_counter() - self.t0
        self.busy = [1 - (i1 - i0) / max(1, t1 - t0) for (t0, i0), (t1, i1) in zip(self.c0, c1)]
        self.process = (p1.user + p1.system - self.p0.user - self.p0.system) / self.wall


def bench_precomputed(
    n: int, d: int, workers: int | None, only: tuple[str, ...] = ("previous", "current"), atlas: str | None = None
) -> None:
    """The issue's case: N images plus a feature file; the previous pipeline, then the current one."""
    from bench.layout_quality import clustered_features
    from deepviz.core import tsne
    from deepviz.pipeline import build as build_module

    with tempfile.TemporaryDirectory() as tmp:
        images = Path(tmp) / "images"
        images.mkdir()
        t = time.perf_counter()
        feats, labels = clustered_features(n, d)
        _tiny_pngs(images, n, labels)
        order = deepviz.scan(images).paths  # the feature file's rows follow the scan order (--list-files)
        row = {f"c{label:03d}/{i:06d}.png": i for i, label in enumerate(labels)}
        np.save(Path(tmp) / "feats.npy", feats[[row[p] for p in order]])
        print(f"== {n} PNGs (48 px) + {n} x {d} precomputed features, made in {time.perf_counter() - t:.0f} s; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (shared: other processes' work counts in 'CPU busy') ==")
        new_schedule, fit_rows = tsne.SCHEDULE, tsne.PCA_FIT_ROWS
        # previous: stages one after another, openTSNE's default schedule, PCA fitted on every row;
        # shared: the current pipeline with decoding and the layout sharing the cores evenly (stop 19's)
        pipelines = {
            "previous": (False, tsne.Schedule(250, 500, 50), 1 << 62, False),
            "shared": (True, new_schedule, fit_rows, False),
            "current": (True, new_schedule, fit_rows, True),
        }
        runs = {}
        peaks: list[float] = []  # this process's peak RSS (GB) after each pipeline
        for name in only:
            build_module.EARLY_LAYOUT, tsne.SCHEDULE, tsne.PCA_FIT_ROWS, build_module.PREVIEW_FIRST = pipelines[name]
            out = Path(tmp) / f"{name}.deepviz"
            with CpuSampler() as cpu:
                report = deepviz.build(images, out, features=Path(tmp) / "feats.npy", workers=workers, progress=False)
            runs[name] = (report, cpu)
            peaks.append(peak_rss_mb() / 1000)
        build_module.EARLY_LAYOUT, tsne.SCHEDULE, tsne.PCA_FIT_ROWS, build_module.PREVIEW_FIRST = pipelines["current"]
        if atlas:
            from bench.atlas import run_atlas, write_parquet

            write_parquet(Path(tmp) / "atlas.parquet", images, order, np.load(Path(tmp) / "feats.npy"))
            got = run_atlas(atlas, Path(tmp) / "atlas.parquet", Path(tmp) / "atlas.log")
    stages = list(dict.fromkeys(k for report, _ in runs.values() for k in report.seconds))
    print(f"{'stage (s)':<34}" + "".join(f"{name:>12}" for name in runs))
    for stage in stages:
        print(f"{stage:<34}" + "".join(f"{r.seconds.get(stage, float('nan')):>12.1f}" for r, _ in runs.values()))
    print(f"{'first usable page':<34}" + "".join(f"{r.preview_at or c.wall:>12.1f}" for r, c in runs.values())
          + "   (the whole map: the preview's, else the commit's; the build's progress is served from the start)")
    base = next(iter(runs))
    ratio = f"   current / {base} = {runs['current'][1].wall / runs[base][1].wall:.2f}" if "current" in runs and base != "current" else ""
    print(f"{'total (thumbnails too)':<34}" + "".join(f"{c.wall:>12.1f}" for _, c in runs.values()) + ratio)
    print(f"{'this process, cores used':<34}" + "".join(f"{c.process:>12.2f}" for _, c in runs.values()))
    for k in range(len(next(iter(runs.values()))[1].busy)):
        print(f"{f'CPU {k} busy':<34}" + "".join(f"{c.busy[k]:>12.0%}" for _, c in runs.values()))
    print(f"{'peak RSS of this process, GB':<34}" + "".join(f"{p:>12.2f}" for p in peaks)
          + "   (cumulative: each pipeline's own peak is at most this)")
    if atlas:
        served = f"{got.seconds:.1f} s" if got.seconds is not None else "not served"
        print(f"Embedding Atlas, same images and vectors: time to a served view {served}, peak RSS {got.peak_rss_gb:.2f} GB"
              + ("" if got.seconds is not None else f"\n{got.log_tail}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, help="synthetic images + precomputed features instead of an image folder")
    parser.add_argument("--d", type=int, default=1280)
    parser.add_argument("--images", type=Path)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--model", default="mobilenet_v2")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--serial-embed-first", action="store_true",
                        help="image folder: first build with one model batch at a time, as a baseline")
    parser.add_argument("--only", nargs="+", choices=("previous", "shared", "current"),
                        help="with --n: run these pipelines only, in this order (shared: decoding not behind the layout)")
    parser.add_argument("--aspect", type=float, default=1.5)
    parser.add_argument("--atlas", metavar="CMD", help="with --n: also time Embedding Atlas (its embedding-atlas executable)")
    args = parser.parse_args()
    if args.n:
        only = tuple(args.only or ("previous", "current"))
        bench_precomputed(args.n, args.d, args.workers, only, args.atlas)
        return
    if args.images is None:
        from deepviz.demo import demo_images

        args.images = demo_images()
    with tempfile.TemporaryDirectory() as tmp:
        images = limited_copy(args.images, Path(tmp), args.limit)
        if args.serial_embed_first:
            from deepviz.features.runtime import BundledImageNetModel

            concurrent = BundledImageNetModel.concurrent_batches
            BundledImageNetModel.concurrent_batches = property(lambda self: 1)  # type: ignore[assignment,method-assign]
            print("\n-- baseline: one batch at a time (the build before concurrent_batches) --")
            shutil.rmtree(bench_build(images, args.model, args.workers).parent)
            BundledImageNetModel.concurrent_batches = concurrent  # type: ignore[method-assign]
            print("\n-- now: one batch per core at once --")
        out = bench_build(images, args.model, args.workers)
        bench_grid(np.asarray(deepviz.open_project(out).layout), args.aspect)
        shutil.rmtree(out.parent)


if __name__ == "__main__":
    main()
