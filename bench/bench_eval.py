"""Benchmark whole-set evaluation (every labelled image a query, exact AP and precision@10) beside one full ranking.

    python bench/bench_eval.py [--cases 10k,100k] [--dim 1280] [--classes 100] [--queries Q]

Each case is random unit-norm float16 features in a memory-mapped .npy with random labels. The
evaluation is timed once; one full ranking (deepviz.core.similarity.rank of the float16 map, as a
server without a float32 copy does it) is the median of 5, in this same process, and the ratio
says how many rankings the whole evaluation costs. With --queries Q only the first Q queries are
evaluated (each block of queries is independent of the others, so the whole set costs N / Q times
as much) and the whole-set figure is that extrapolation, printed as such. Prints figures only;
asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from deepviz.core.evaluation import evaluate_queries
from deepviz.core.similarity import rank

CASES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}


def features(folder: Path, n: int, d: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    out = np.lib.format.open_memmap(folder / f"f{n}.npy", mode="w+", dtype=np.float16, shape=(n, d))
    for start in range(0, n, 8192):
        block = rng.standard_normal((min(8192, n - start), d)).astype(np.float32)
        out[start : start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    out.flush()
    mapped: np.ndarray = np.load(folder / f"f{n}.npy", mmap_mode="r")
    return mapped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="10k,100k")
    parser.add_argument("--dim", type=int, default=1280)
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--queries", type=int, default=0, help="evaluate only this many queries and extrapolate")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases.split(","):
            n = CASES[case]
            x = features(Path(tmp), n, args.dim)
            labels = np.random.default_rng(1).integers(0, args.classes, n)
            times = []
            for q in range(5):
                t = time.perf_counter()
                rank(x, np.asarray(x[q], dtype=np.float32))
                times.append(time.perf_counter() - t)
            one = statistics.median(times)
            subset = np.arange(min(args.queries, n)) if args.queries else None
            t = time.perf_counter()
            scores = evaluate_queries(x, labels, args.k, queries=subset)
            spent = time.perf_counter() - t
            per_query = spent / len(scores.ids)
            whole = per_query * n
            how = f"extrapolated from {len(scores.ids)} queries in {spent:.1f} s" if subset is not None else "measured"
            print(
                f"{case}: {n} images x {args.dim}-d: whole-set eval {whole:.1f} s ({how}; {per_query * 1e3:.2f} ms/query); "
                f"one full ranking {one * 1e3:.2f} ms; eval = {whole / one:.0f} rankings ({per_query / one:.3f} per query); "
                f"mAP {np.mean(scores.ap):.4f}"
            )


if __name__ == "__main__":
    main()
