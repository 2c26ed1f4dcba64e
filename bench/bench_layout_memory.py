"""Benchmark: the driver's layout steps at N images, their time and peak memory per point, for the README's
"Later steps at larger N" table (what a Ray build still runs on one machine).

Not a test. Each step runs in a child process on synthetic rows made in float16 blocks (no large
temporary), and reports its wall time and its peak RSS (``ru_maxrss``) above the RSS before the call:

- ``pca``:  ``deepviz.core.tsne.reduce_dims`` of N × D random float16 rows (to 50 dimensions), with the
  peak as a multiple of one float32 copy of the features (N × D × 4 B);
- ``tsne``: ``deepviz.core.tsne.tsne_layout`` of N × 50 L2-normalised rows in 100 clusters, with the peak in
  bytes a point. Both are extrapolated linearly to 1M and 10M images.

    python bench/bench_layout_memory.py [--n 100000] [--dim 1280] [--only pca,tsne]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

CHILD = """
import json, resource, sys, time
import numpy as np
from deepviz.core.tsne import reduce_dims, tsne_layout
step, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
x = np.empty((n, d), np.float16 if step == "pca" else np.float32)
centres = rng.normal(size=(100, d))
for i in range(0, n, 10_000):
    k = min(10_000, n - i)
    x[i:i + k] = rng.normal(size=(k, d)) if step == "pca" else centres[rng.integers(0, 100, k)] + 0.3 * rng.normal(size=(k, d))
if step == "tsne":
    x /= np.linalg.norm(x, axis=1, keepdims=True)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
start = time.perf_counter()
reduce_dims(x) if step == "pca" else tsne_layout(x, seed=0)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "above": peak - before, "before": before}))
"""


def run(step: str, n: int, dim: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, step, str(n), str(dim)], capture_output=True, text=True, check=True, cwd=HERE)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=1280, help="feature width for the PCA step")
    parser.add_argument("--only", default="pca,tsne")
    args = parser.parse_args()
    for step in args.only.split(","):
        d = args.dim if step == "pca" else 50
        r = run(step, args.n, d)
        per_point = r["above"] / args.n
        line = f"{step}: {args.n:,} x {d}: {r['seconds']:.1f} s, peak {r['above'] / 2**30:.2f} GiB above the {r['before'] / 2**30:.2f} GiB before"
        if step == "pca":
            line += f" = {r['above'] / (args.n * d * 4):.2f} x one float32 copy (N x D x 4 B)"
        line += f"; {per_point / 1e3:.1f} kB a point -> {per_point * 1e6 / 1e9:.1f} GB at 1M, {per_point * 1e7 / 1e9:.0f} GB at 10M (linear)"
        print(line, flush=True)


if __name__ == "__main__":
    main()
