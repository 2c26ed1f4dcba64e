"""Benchmark: the build's decode + features on the local engine vs a local Ray, same folder, same run.

Not a test: prints images/s of the extract step for each engine, the ratio to the local engine
measured in the same process, and Ray's fixed cost (starting a local Ray, measured alone), so the
overhead can be read apart from the per-image cost.
Run: python bench/bench_ray.py IMAGES [--model mobilenet_v2] [--actors 1] [--repeat 1]
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import deepviz


def extract_rate(images: Path, out: Path, model: str, **settings: object) -> tuple[float, float, str]:
    """(images/s of the extract step, its seconds, where it ran) of one fresh build of ``images``."""
    shutil.rmtree(out, ignore_errors=True)
    report = deepviz.build(images, out, models=[model], progress=False, **settings)
    seconds = report.seconds["extract"]
    return (report.n_images + len(report.rejects)) / seconds, seconds, report.ran_on


def ray_start_seconds() -> float:
    import ray

    start = time.perf_counter()
    ray.init(include_dashboard=False, logging_level="WARNING")
    up = time.perf_counter() - start
    ray.shutdown()
    return up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", type=Path)
    parser.add_argument("--model", default="mobilenet_v2")
    parser.add_argument("--actors", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="deepviz-bench-ray-"))
    print(f"{args.images}, model {args.model}, {os.cpu_count()} CPUs, Ray actors {args.actors}")
    try:
        for _ in range(args.repeat):
            base, base_s, _ = extract_rate(args.images, tmp / "local", args.model)
            print(f"  local engine: {base:7.1f} images/s  (extract {base_s:6.1f} s)")
            rate, seconds, where = extract_rate(args.images, tmp / "ray", args.model, engine="ray", ray_actors=args.actors)
            print(f"  ray engine:   {rate:7.1f} images/s  (extract {seconds:6.1f} s, x{rate / base:.2f} vs local)  {where}")
            up = ray_start_seconds()
            n = rate * seconds
            print(f"  local Ray start alone: {up:5.1f} s; the ray engine less that start: {n / max(seconds - up, 1e-9):7.1f} images/s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
